"""The voice library: sanitised names, atomic saves, hand-copied voices, and its gradio_client endpoints."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InputError
from inference.names import MAX_NAME_BYTES, VOICE_SUFFIX, sanitize_name
from inference.voices import AUDIO_EXTS, VoiceLibrary, VoiceNotFound, decode_transcript
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
        ("x" * 64, "x" * 64),
        ("𠀀" * 50, "𠀀" * 50),  # 200 bytes: the most a name may take
        ("x" * 65, None),  # too long: refused, never cut short
        ("x" * 200, None),
        ("𠀀" * 51, None),  # 51 letters, 204 bytes
        ("  spaced   out  ", "spaced out"),
        ("name\x00evil", "name evil"),
        ("..", None),
        ("", None),
        ("   ", None),
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


@pytest.mark.parametrize("empty", ["", "   ", "\t"])
def test_an_empty_name_asks_for_one(empty: str, tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Alice", WAV, "hi")
    for action in (lambda: lib.save(empty, WAV, "x"), lambda: lib.rename("Alice", empty), lambda: lib.delete(empty)):
        with pytest.raises(InputError, match="^Type a name for the voice"):
            action()


def test_every_file_named_after_the_longest_name_fits(tmp_path: Path) -> None:
    longest = "𠀀" * (MAX_NAME_BYTES // 4)
    assert sanitize_name(longest) == longest and len(longest.encode()) == MAX_NAME_BYTES
    for suffix in (*AUDIO_EXTS, ".txt", VOICE_SUFFIX):
        (tmp_path / f"{longest}{suffix}").write_bytes(b"")  # the file system takes it (255 bytes at most)


def test_a_name_too_long_in_bytes_is_refused_without_a_path(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    for name in ("𠀀" * 64, "𠀀" * 60):  # 256 bytes (the audio file would fail), 240 (the pronunciations would)
        with pytest.raises(InputError, match="too long to be a file name") as info:
            lib.save(name, WAV, "hi")
        assert str(tmp_path) not in str(info.value)
        with pytest.raises(InputError, match="too long"):
            lib.get(name)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("data", "text", "encoding"),
    [
        ("Zoë's café".encode(), "Zoë's café", "utf-8"),
        (b"\xef\xbb\xbf" + "Zoë's café".encode(), "Zoë's café", "utf-8-sig"),
        ("Zoë’s café".encode("cp1252"), "Zoë’s café", "cp1252"),  # what a Windows editor writes
        (b"caf\xe9 \x81", "café \x81", "latin-1"),  # 0x81 is no cp1252 character
        (b"", "", "utf-8"),
    ],
)
def test_transcripts_are_read_in_any_encoding(data: bytes, text: str, encoding: str) -> None:
    assert decode_transcript(data) == (text, encoding)


def test_a_latin1_transcript_is_listed_and_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "Zoe.wav").write_bytes(WAV)
    (tmp_path / "Zoe.txt").write_bytes("Voilà, ça marche.".encode("latin-1"))
    lib = VoiceLibrary(tmp_path)
    with caplog.at_level(logging.WARNING, "inference.voices"):
        assert [v.text for v in lib.all()] == ["Voilà, ça marche."]
        assert lib.get("Zoe").text == "Voilà, ça marche."
    assert [r.getMessage() for r in caplog.records] == [
        f"voices: transcript {tmp_path / 'Zoe.txt'} is not plain UTF-8; read it as cp1252"
    ]


def test_names_are_one_voice_whatever_their_case(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Alice", WAV, "first")
    assert lib.get("alice").name == "Alice" and lib.get("ALICE").text == "first"
    with pytest.raises(InputError, match="A voice called 'Alice' already exists"):
        lib.save("alice", WAV, "second")
    assert lib.save("alice", b"new", "second", overwrite=True).name == "Alice"  # the saved spelling stays
    assert lib.names() == ["Alice"] and lib.get("alice").text == "second"
    lib.save("Bob", WAV, "bob")
    with pytest.raises(InputError, match="A voice called 'Bob' already exists"):
        lib.rename("alice", "BOB")
    assert lib.rename("alice", "ALICE").name == "ALICE"  # a change of case is a rename
    assert lib.names() == ["ALICE", "Bob"] and lib.get("Alice").text == "second"
    assert lib.delete("bob").name == "Bob"  # the saved spelling
    assert lib.names() == ["ALICE"]


def test_hand_copied_names_in_two_cases_list_once(tmp_path: Path) -> None:
    (tmp_path / "Carol.wav").write_bytes(WAV)
    (tmp_path / "carol.flac").write_bytes(WAV)
    lib = VoiceLibrary(tmp_path)
    assert lib.names() == ["Carol"] and lib.get("carol").audio.name == "carol.flac"  # its exact spelling first


@pytest.mark.parametrize("failing", [VOICE_SUFFIX, ".wav"])
def test_a_failed_rename_puts_every_file_back(failing: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Alice", WAV, "kept")
    (tmp_path / f"Alice{VOICE_SUFFIX}").write_text("Worcester = wuster\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    real_replace = os.replace

    def failing_replace(src, dst):
        if str(dst).endswith(f"Bob{failing}"):
            raise OSError(errno.ENAMETOOLONG, "File name too long", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(InputError, match=r"could not be renamed \(File name too long\)") as info:
        lib.rename("Alice", "Bob")
    assert str(tmp_path) not in str(info.value)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert lib.get("Alice").text == "kept"


def test_a_rename_never_overwrites_a_stray_file(tmp_path: Path) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Alice", WAV, "kept")
    (tmp_path / "Bob.txt").write_text("my notes")
    with pytest.raises(InputError, match="already has a file called 'Bob.txt'"):
        lib.rename("Alice", "Bob")
    assert (tmp_path / "Bob.txt").read_text() == "my notes" and lib.names() == ["Alice"]


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES])
def test_a_read_only_folder_says_so(code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Alice", WAV, "kept")

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(tmp_path / "x"))

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    monkeypatch.setattr(os, "replace", refuse)
    monkeypatch.setattr(Path, "unlink", refuse)
    for action in (lambda: lib.save("Bob", WAV, "x"), lambda: lib.rename("Alice", "Bob"), lambda: lib.delete("Alice")):
        with pytest.raises(InputError, match="^The voices folder is read-only") as info:
            action()
        assert str(tmp_path) not in str(info.value) and "VOICES_DIR writable" in str(info.value)
    monkeypatch.undo()
    assert lib.names() == ["Alice"]


def test_an_unreadable_folder_lists_no_voices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = VoiceLibrary(tmp_path)
    lib.save("Alice", WAV, "kept")

    def refuse(self):
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", refuse)
    assert lib.all() == []  # /v1/voices answers an empty list, not 500
    assert lib.get("Alice").name == "Alice"  # its exact spelling is still found


def test_temporaries_of_a_killed_save_are_removed_at_start(tmp_path: Path) -> None:
    stale, fresh = tmp_path / ".tmp-abc123.part", tmp_path / ".tmp-def456.part"
    stale.write_bytes(b"half a voice")
    fresh.write_bytes(b"a save in progress")
    old = time.time() - 120
    os.utime(stale, (old, old))
    lib = VoiceLibrary(tmp_path)
    assert not stale.exists() and fresh.exists()  # a save may be running in another process
    assert lib.names() == []


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


def _post_json(url: str, body: dict) -> tuple[int, dict | bytes]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def test_bad_files_and_names_through_every_interface(tiny, tmp_path: Path, ref_wav: Path) -> None:
    """The app starts with a Latin-1 transcript and a killed save's temporary in its folder; names are checked the
    same way through gradio_client and /v1, and no message shows the server's folder."""
    import json
    import urllib.request

    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    voices, log = tmp_path / "voices", tmp_path / "app.log"
    voices.mkdir()
    shutil.copy(ref_wav, voices / "Zoe.wav")
    (voices / "Zoe.txt").write_bytes("Voilà, ça marche.".encode("latin-1"))  # what a Windows editor writes
    stale = voices / ".tmp-killed.part"
    stale.write_bytes(b"half a voice")
    os.utime(stale, (time.time() - 600, time.time() - 600))
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices)}, log_path=log) as (base, _):
        assert "is not plain UTF-8; read it as cp1252" in log.read_text() and not stale.exists()
        with urllib.request.urlopen(f"{base}/v1/voices") as r:
            assert json.load(r)["voices"] == [{"name": "Zoe", "has_transcript": True}]
        client = Client(base, verbose=False)
        assert client.predict(api_name="/list_voices") == [{"name": "Zoe", "transcript": "Voilà, ça marche."}]
        for args, endpoint in ((("",), "/delete_voice"), (("Zoe", ""), "/rename_voice")):
            with pytest.raises(AppError, match="Type a name for the voice"):
                client.predict(*args, api_name=endpoint)
        recording = handle_file(str(ref_wav))
        with pytest.raises(AppError, match="Type a name for the voice"):
            client.predict(recording, "", REF_TEXT, api_name="/save_voice")
        with pytest.raises(AppError, match="A voice called 'Zoe' already exists"):
            client.predict(recording, "zoe", REF_TEXT, api_name="/save_voice")
        with pytest.raises(AppError, match="too long to be a file name") as info:
            client.predict(recording, "𠀀" * 60, REF_TEXT, api_name="/save_voice")
        assert str(voices) not in str(info.value)

        status, body = _post_json(f"{base}/v1/audio/speech", {"input": "Hi.", "voice": "𠀀" * 64})
        assert status == 400 and body["error"]["param"] == "voice" and str(voices) not in body["error"]["message"]
        status, body = _post_json(f"{base}/v1/audio/speech", {"input": "Hi.", "voice": "a" * 64})
        assert status == 404 and "no saved voice" in body["error"]["message"]
        status, body = _post_json(
            f"{base}/v1/audio/speech", {"input": "Hi.", "voice": "ZOE", "response_format": "wav", "nfe_step": 7}
        )
        assert status == 200 and body[:4] == b"RIFF"  # any case finds the saved voice
        assert client.predict("zoe", api_name="/delete_voice") == "Zoe"  # deleted as saved
        assert client.predict(api_name="/list_voices") == []
