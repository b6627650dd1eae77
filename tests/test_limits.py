"""Every limit the studio sets, tried at its largest allowed value through the real interfaces (and one past it).

The longest text (F5_MAX_TEXT_CHARS, 5,000 characters by default) goes through the UI's streamed Generate, the
whole `/synthesize`, `/synthesize_dialogue`, the OpenAI endpoint in every format and the serverless worker. Its take
runs past 175 s, where the spectrogram used to be wider than an image may be and `/synthesize` lost the take. To keep
this affordable on a CPU, the reference's transcript is long for its 2.5 s, so the "speaker" talks fast: the same
5,000 characters, in fewer chunks, and still ~230 s of audio.

Also at their limits: an upload of exactly F5_MAX_UPLOAD_MB, a serverless reference of exactly RUNPOD_MAX_PAYLOAD_MB of
base64, a REST body of exactly the size read, a .txt file of exactly the size read, a dialogue of MAX_TURNS turns and
the longest pause.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import threading
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from inference import Engine, EngineSettings, Studio, SynthesisOptions
from inference.studio.dialogue import MAX_PAUSE_S
from inference.text.script import MAX_TURNS
from tests.conftest import serverless_worker
from tests.live import run_app
from ui.handlers import MAX_PICTURE_WIDTH

FAST_TEXT = "Some call me nature, others call me mother nature, too."  # said in 2.5 s: a fast speaker
LIMIT = EngineSettings().max_text_chars
SENTENCE = "The keeper climbed the stairs and lit the lamp for the ships at sea. "
LONGEST = (SENTENCE * (LIMIT // len(SENTENCE) + 1))[: LIMIT - 1].rstrip() + "."
LONGEST = LONGEST + "x" * (LIMIT - len(LONGEST))  # exactly LIMIT characters once cleaned
MIN_SECONDS = 176  # past the ~175 s where the spectrogram used to break /synthesize


def test_the_longest_text_is_exactly_the_limit() -> None:
    from inference.text import validate_text

    assert len(validate_text(LONGEST, LIMIT)) == LIMIT == 5000


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory, short_ref: Path) -> Path:
    folder = tmp_path_factory.mktemp("limit-voices")
    (folder / "quick.wav").write_bytes(short_ref.read_bytes())
    (folder / "quick.txt").write_text(FAST_TEXT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def app(tiny, voices: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("limits-app") / "app.log"
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices)}, log_path=log) as (base, _):
        yield base


@pytest.fixture(scope="module")
def limit_engine(tiny_settings, voices: Path) -> Engine:
    e = Engine(tiny_settings.replace(voices_dir=voices))
    e.load()
    return e


def png_width(path: str) -> int:
    from PIL import Image

    with Image.open(path) as image:
        return image.size[0]


# ---- the longest text ---------------------------------------------------------------------------------------------
def test_longest_text_through_synthesize(app: str) -> None:
    from gradio_client import Client

    client = Client(app, verbose=False)
    audio, picture, seed, ref_text = client.predict(
        None, "", LONGEST, 5, nfe_step=7, voice="quick", api_name="/synthesize"
    )
    assert sf.info(audio).duration >= MIN_SECONDS and seed == 5 and ref_text == FAST_TEXT
    assert picture is not None and 0 < png_width(picture) <= MAX_PICTURE_WIDTH
    with pytest.raises(Exception, match="the limit is 5,000"):
        client.predict(None, "", LONGEST + "y", 5, nfe_step=7, voice="quick", api_name="/synthesize")


def test_longest_text_through_the_streamed_generate(limit_engine: Engine) -> None:
    """The Generate button's handler: live chunks while it generates, then the whole take with its picture."""
    import gradio as gr

    from ui.clone import CloneTab

    with gr.Blocks():
        tab = CloneTab(Studio(limit_engine))
    options = {**SynthesisOptions.defaults(), "nfe_step": 7}  # every control of the tab
    data = {
        tab.ref_audio: None,
        tab.ref_text: "",
        tab.text: LONGEST,
        tab.seed_state: 3,
        tab.voices.dropdown: "quick",
        tab.takes: [],
        tab.captions.words: False,
        **{control: options[name] for name, control in tab.options.items()},
    }
    updates = list(tab.stream(data, progress=lambda *a, **k: None))
    live = [u[tab.live] for u in updates if tab.live in u]
    final = updates[-1]
    wave, rate = sf.read(final[tab.out_audio], dtype="float32")  # the result, as the file a visitor downloads
    assert len(live) > 5 and sum(len(w) for _, w in live) == len(wave)
    assert len(wave) / rate >= MIN_SECONDS
    picture = final[tab.spectrogram]
    assert picture is not None and picture.shape[1] <= MAX_PICTURE_WIDTH
    assert final[tab.seed_used]["value"] == 3


def test_a_picture_that_cannot_be_drawn_never_loses_the_take(monkeypatch: pytest.MonkeyPatch) -> None:
    from ui import handlers

    def broken(*args, **kwargs):
        raise MemoryError("no room for the picture")

    mel = np.random.default_rng(0).standard_normal((100, 30_000)).astype(np.float32)  # 320 s of frames
    picture = handlers.spectrogram_image(mel)
    assert picture.shape == (200, 3750, 3)  # 8 frames to a pixel: at most MAX_PICTURE_WIDTH wide
    monkeypatch.setattr(handlers.np, "percentile", broken)
    assert handlers.spectrogram_image(mel) is None  # logged and left out: the audio goes back as it is


def test_longest_dialogue_with_the_longest_pause(app: str) -> None:
    from gradio_client import Client

    turns = [LONGEST[i : i + 1000] for i in range(0, LIMIT, 1000)]
    script = " ".join(f"[quick] {t.strip()}" for t in turns)
    spoken = sum(len(" ".join(t.split())) for t in turns)
    assert spoken <= LIMIT
    audio, table, base = Client(app, verbose=False).predict(
        script, None, pause=MAX_PAUSE_S, nfe_step=7, seed=2, api_name="/synthesize_dialogue"
    )
    assert len(table) == 5 and base == 2
    gaps = [b["start"] - (a["start"] + a["duration"]) for a, b in zip(table, table[1:], strict=False)]
    assert all(abs(g - MAX_PAUSE_S) < 0.01 for g in gaps)
    assert sf.info(audio).duration >= MIN_SECONDS + 4 * MAX_PAUSE_S - 5


def test_the_most_turns_a_dialogue_may_have(limit_engine: Engine) -> None:
    from inference.studio.dialogue import synthesize_script

    script = " ".join(f"[quick] Turn {i}." for i in range(MAX_TURNS))
    from inference import SynthesisOptions

    result = synthesize_script(limit_engine, script, pause_s=0.0, options=SynthesisOptions(nfe_step=4, seed=1))
    assert len(result.turns) == MAX_TURNS and result.turns[-1].seed == 1 + MAX_TURNS - 1


FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")


def seconds_of(fmt: str, data: bytes) -> float:
    """How long the audio is, decoded as a player would (ffmpeg for the compressed formats)."""
    if fmt == "pcm":
        return len(data) / 2 / 24000
    if fmt == "wav":  # a streamed header of unknown length: the samples follow it
        return len(data[44:]) / 2 / 24000
    if fmt == "flac":
        return sf.info(io.BytesIO(data)).duration
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", "24000", "pipe:1"],
        input=data,
        capture_output=True,
        timeout=120,
        check=True,
    )
    return len(decoded.stdout) / 2 / 24000


def test_longest_text_through_openai_in_every_format(app: str) -> None:
    """All six at once (they take turns in the engine): each decodes to the whole take."""
    out: dict[str, httpx.Response] = {}

    def ask(fmt: str) -> None:
        out[fmt] = httpx.post(
            f"{app}/v1/audio/speech",
            timeout=600,
            json={
                "model": "tts-1",
                "voice": "quick",
                "input": LONGEST,
                "response_format": fmt,
                "seed": 9,
                "nfe_step": 4,
            },
        )

    threads = [threading.Thread(target=ask, args=(fmt,)) for fmt in FORMATS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    lengths = {}
    for fmt in FORMATS:
        assert out[fmt].status_code == 200, (fmt, out[fmt].text[:300])
        lengths[fmt] = seconds_of(fmt, out[fmt].content)
    assert min(lengths.values()) >= MIN_SECONDS, lengths
    assert max(lengths.values()) - min(lengths.values()) < 0.2, lengths  # the whole take in every format
    over = httpx.post(f"{app}/v1/audio/speech", timeout=60, json={"voice": "quick", "input": LONGEST + "y"})
    assert over.status_code == 400 and "the limit is 5,000" in over.json()["error"]["message"]


def test_longest_text_through_serverless(limit_engine: Engine) -> None:
    worker = serverless_worker(limit_engine)
    out = worker.handler(
        {"id": "long", "input": {"text": LONGEST, "voice": "quick", "nfe_step": 4, "seed": 4, "response_format": "wav"}}
    )
    assert "error" not in out, out.get("error")
    wave, sr = sf.read(io.BytesIO(base64.b64decode(out["audio_base64"])))
    assert len(wave) / sr >= MIN_SECONDS and out["duration"] == pytest.approx(len(wave) / sr, abs=1e-3)
    assert len(out["audio_base64"]) <= 20_000_000  # within what RunPod returns
    over = worker.handler({"id": "over", "input": {"text": LONGEST + "y", "voice": "quick"}})
    assert "the limit is 5,000" in over["error"]


# ---- the other limits ---------------------------------------------------------------------------------------------
def test_an_upload_of_exactly_the_size_limit_is_accepted(app: str, short_ref: Path, tmp_path: Path) -> None:
    """F5_MAX_UPLOAD_MB (50) of WAV, through gradio_client: accepted, clipped to a reference, generated from."""
    from gradio_client import Client, handle_file

    limit = EngineSettings().max_upload_mb * 1024 * 1024
    speech, sr = sf.read(short_ref, dtype="int16")
    frames = (limit - 44) // 2
    wave = np.resize(speech, frames)
    big = tmp_path / "big.wav"
    sf.write(big, wave, sr, subtype="PCM_16")
    assert big.stat().st_size == limit
    audio, _, _, _ = Client(app, verbose=False).predict(
        handle_file(str(big)), FAST_TEXT, "Hello there.", 1, nfe_step=7, api_name="/synthesize"
    )
    assert sf.info(audio).duration > 0.2


def test_a_serverless_reference_of_exactly_the_payload_limit_is_accepted(limit_engine: Engine, short_ref: Path) -> None:
    worker = serverless_worker(limit_engine)
    limit = int(worker.settings.max_payload_mb * 1_000_000)
    speech, sr = sf.read(short_ref, dtype="int16")
    buf = io.BytesIO()
    sf.write(buf, np.resize(speech, (limit // 4 * 3 - 44) // 2), sr, format="WAV", subtype="PCM_16")
    encoded = base64.b64encode(buf.getvalue()).decode()
    encoded = encoded + " " * (limit - len(encoded))  # whitespace is allowed in base64: exactly the limit
    assert len(encoded) == limit
    out = worker.handler(
        {
            "id": "max",
            "input": {"text": "Hello.", "ref_audio_base64": encoded, "ref_text": FAST_TEXT, "nfe_step": 4, "seed": 1},
        }
    )
    assert "audio_base64" in out, out.get("error")
    refused = worker.handler({"id": "over", "input": {"text": "Hello.", "ref_audio_base64": encoded + "A"}})
    assert "a request may carry at most 10 MB" in refused["error"]


def test_a_rest_body_of_exactly_the_size_read_is_read(app: str) -> None:
    from api.openai.serving import body_limit

    limit = body_limit(LIMIT)
    body = json.dumps({"voice": "nobody", "input": "Hello."}).encode()
    body = body + b" " * (limit - len(body))
    r = httpx.post(f"{app}/v1/audio/speech", content=body, headers={"Content-Type": "application/json"}, timeout=60)
    assert r.status_code == 404 and r.json()["error"]["param"] == "voice"  # read and understood
    r = httpx.post(
        f"{app}/v1/audio/speech", content=body + b" ", headers={"Content-Type": "application/json"}, timeout=60
    )
    assert r.status_code == 413


def test_a_text_file_of_exactly_the_size_read(limit_engine: Engine, tmp_path: Path) -> None:
    import gradio as gr

    from ui.clone import MAX_TEXT_FILE_BYTES, CloneHandlers

    h = CloneHandlers(Studio(limit_engine))
    exact = tmp_path / "exact.txt"
    exact.write_bytes(b"a" * MAX_TEXT_FILE_BYTES)
    assert len(h.read_text_file(str(exact))) == MAX_TEXT_FILE_BYTES
    exact.write_bytes(b"a" * (MAX_TEXT_FILE_BYTES + 1))
    with pytest.raises(gr.Error, match="too large"):
        h.read_text_file(str(exact))
