"""The voice library: sanitised names, atomic saves, hand-copied voices, and its gradio_client endpoints."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InputError
from inference.studio.voices import VoiceLibrary, VoiceNotFound, sanitize_name
from tests.conftest import REF_TEXT
from tests.live import run_app

WAV = b"RIFF....fake wav bytes"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Alice", "Alice"),
        ("My Voice!", "My Voice"),
        ("../../etc/passwd", "etc passwd"),
        (".hidden", "hidden"),
        ("a/b\\c", "a b c"),
        ("Zoë", "Zoë"),
        ("你好", "你好"),
        ("x" * 200, "x" * 64),
        ("  spaced   out  ", "spaced out"),
        ("name\x00evil", "name evil"),
        ("..", None),
        ("", None),
        ("/", None),
        ("...", None),
        ("💥", None),
    ],
)
def test_sanitize_keeps_names_inside_the_folder(raw: str, safe: str | None) -> None:
    if safe is None:
        with pytest.raises(InputError):
            sanitize_name(raw)
    else:
        assert sanitize_name(raw) == safe
        assert "/" not in safe and not safe.startswith(".")


def test_save_get_rename_delete(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path / "voices")
    assert lib.all() == []
    voice = lib.save("../Alice", WAV, " Hello there. ")
    assert voice.name == "Alice" and voice.audio == tmp_path / "voices" / "Alice.wav"
    assert (tmp_path / "voices" / "Alice.txt").read_text() == "Hello there."
    assert not list((tmp_path / "voices").glob(".tmp-*"))  # no temporaries left
    assert lib.get("Alice").text == "Hello there."
    with pytest.raises(InputError, match="already exists"):
        lib.save("Alice", WAV, "again")
    renamed = lib.rename("Alice", "Bob")
    assert renamed.name == "Bob" and lib.names() == ["Bob"] and lib.get("Bob").text == "Hello there."
    lib.delete("Bob")
    assert lib.names() == [] and not any((tmp_path / "voices").iterdir())
    with pytest.raises(VoiceNotFound, match="no saved voice called 'Bob'"):
        lib.get("Bob")


def test_hand_copied_voices_are_listed(tmp_path: Path, ref_wav: Path) -> None:
    shutil.copy(ref_wav, tmp_path / "nature.wav")
    (tmp_path / "nature.txt").write_text(REF_TEXT)
    shutil.copy(ref_wav, tmp_path / "untranscribed.flac")
    (tmp_path / ".secret.wav").write_bytes(WAV)
    (tmp_path / "notes.txt").write_text("not a voice")
    lib = VoiceLibrary(tmp_path)
    assert lib.names() == ["nature", "untranscribed"]
    assert lib.get("nature").text == REF_TEXT and lib.get("untranscribed").text == ""


def test_failed_save_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Keep", WAV, "kept")
    real_replace = os.replace

    def failing_replace(src, dst):  # the disk fills up as the audio is moved into place
        if str(dst).endswith(".wav"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(InputError, match="No space left"):
        lib.save("New", WAV, "new")
    with pytest.raises(InputError):
        lib.save("Keep", b"other", "changed", overwrite=True)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Keep.txt", "Keep.wav"]  # nothing half-written
    assert (tmp_path / "Keep.wav").read_bytes() == WAV


def test_concurrent_saves_of_the_same_name(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def save(i: int) -> None:
        barrier.wait()
        try:
            lib.save("Same", WAV + bytes([i]), f"take {i}")
            outcomes.append("saved")
        except InputError:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["saved"]
    voice = lib.get("Same")
    assert voice.text == f"take {voice.audio.read_bytes()[-1]}"  # audio and transcript belong together


def test_engine_saves_a_prepared_voice_and_generates_with_it(engine: Engine, ref_wav: Path) -> None:
    from inference import SynthesisOptions, SynthesisRequest

    voice = engine.save_voice("Nature test", ref_wav, REF_TEXT, overwrite=True)
    wave, sr = sf.read(voice.audio)
    assert sr == 24000 and wave.ndim == 1 and len(wave) / sr <= 12.5
    result = engine.synthesize(
        SynthesisRequest("Hello there.", engine.reference(voice="Nature test"), SynthesisOptions(nfe_step=7, seed=3))
    )
    assert result.ref_text == REF_TEXT and result.duration > 0
    engine.voices.delete("Nature test")


def test_voice_endpoints_through_gradio_client(tiny, tmp_path: Path, ref_wav: Path) -> None:
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    voices = tmp_path / "voices"
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices)}) as (base, _):
        client = Client(base, verbose=False)
        assert client.predict(api_name="/list_voices") == []
        name = client.predict(handle_file(str(ref_wav)), "../Narrator!", REF_TEXT, api_name="/save_voice")
        assert name == "Narrator" and (voices / "Narrator.wav").is_file()
        assert client.predict(api_name="/list_voices") == [{"name": "Narrator", "transcript": REF_TEXT}]
        audio, _, seed, used = client.predict(
            None, "", "Hello from a saved voice.", 5, nfe_step=7, voice="Narrator", api_name="/synthesize"
        )
        assert seed == 5 and used == REF_TEXT and sf.read(audio)[1] == 24000
        assert client.predict("Narrator", "Storyteller", api_name="/rename_voice") == "Storyteller"
        with pytest.raises(AppError, match="no saved voice called 'Narrator'"):
            client.predict(None, "", "Hello.", 5, voice="Narrator", api_name="/synthesize")
        assert client.predict("Storyteller", api_name="/delete_voice") == "Storyteller"
        assert client.predict(api_name="/list_voices") == [] and not list(voices.iterdir())
        with pytest.raises(AppError, match="cannot be used as a voice name"):
            client.predict(handle_file(str(ref_wav)), "../..", REF_TEXT, api_name="/save_voice")
        assert not np.any([p.name.startswith(".") for p in tmp_path.rglob("*")])
