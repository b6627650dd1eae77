"""Bad input for speech editing on every surface: the tab's handler, the serverless `edit` job and gradio_client's
/edit_speech on the launched app. Each gets a clear message (no traceback, no bare "Error"), and every limit is
tried at its largest allowed value through the real interfaces (a 60 s recording edited into an 85 s take; 50
edits) as well as beyond it (tests/badinputs.py's BAD_EDITS).

The engine here hears with the tiny random Whisper, so a typed transcript never matches the recording: that is the
"transcript-mismatch" case, and the successful edits give their spans in seconds.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest
import soundfile as sf

from inference import Engine, Studio
from tests.badinputs import (
    BAD_EDITS,
    EDIT_SPAN,
    EDIT_TEXT,
    BadAudio,
    assert_clear,
    bad_audio,
    edit_recordings,
    rate_channel_audio,
    report_tried,  # noqa: F401 - autouse: prints the running total of bad inputs tried
    tried,
)
from tests.conftest import serverless_worker
from tests.test_bad_input import FEW_RATES, judge
from ui.edit import EditHandlers

NEEDS_A_MODEL = {"transcript-mismatch", "text-too-long-for-its-span"}
LIMITS = {  # the largest allowed: a 60 s recording with a 25 s insertion is an 85 s take; 50 edits in one request
    "60s-recording-85s-take": ("60s", [{"start": 30.0, "end": 30.0, "text": "and so on,", "duration": 25.0}], 85.0),
    "50-edits": ("example", [{"start": 0.4 + i * 0.09, "end": 0.4 + i * 0.09, "text": "a"} for i in range(50)], None),
}


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory, ref_wav: Path) -> dict[str, Path]:
    return edit_recordings(ref_wav, tmp_path_factory.mktemp("edit-recordings"))


def no_progress(*args, **kwargs) -> None:
    return None


def ui_outcome(engine: Engine, audio: Path | None, fields: dict, nfe_step: int = 4) -> tuple[bool, str | None, float]:
    """(succeeded, the message, the take's seconds) through the tab's handler, as the UI calls it."""
    try:
        take, _, _ = EditHandlers(Studio(engine)).edit_speech(
            str(audio) if audio else None,
            fields.get("transcript", ""),
            fields.get("new_text", ""),
            fields.get("edits"),
            1,
            nfe_step,
            progress=no_progress,
        )
    except gr.Error as e:
        return False, e.message, 0.0
    wave, sr = sf.read(take, dtype="float32")
    assert sr == 24000 and np.isfinite(wave).all()
    return True, None, len(wave) / sr


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def serverless_outcome(worker, audio: Path | None, fields: dict) -> tuple[bool, str | None, float]:
    edit = {"audio_base64": b64(audio) if audio else "", "nfe_step": 4, "seed": 1, **fields}
    out = worker.handler({"id": "bad-edit", "input": {"edit": edit}})
    return "audio_base64" in out, out.get("error"), out.get("duration", 0.0)


# ---- the tab's handler ---------------------------------------------------------------------------------------------
def test_bad_edits_through_the_ui_handler(engine: Engine, recordings: dict[str, Path]) -> None:
    for name, (recording, fields, words) in BAD_EDITS.items():
        tried("ui-handler", "edit", name)
        ok, message, _ = ui_outcome(engine, recordings.get(recording), fields)
        assert not ok and assert_clear(message or "", words), (name, message)


def test_bad_edits_are_refused_before_anything_loads(tiny_settings, recordings: dict[str, Path]) -> None:
    """Only a mismatched transcript needs Whisper, and only a text too long for its frames the model: everything
    else is refused before either loads."""
    fresh = Engine(tiny_settings)
    for name, (recording, fields, words) in BAD_EDITS.items():
        if name not in NEEDS_A_MODEL:
            ok, message, _ = ui_outcome(fresh, recordings.get(recording), fields)
            assert not ok and assert_clear(message or "", words), (name, message)
    assert fresh.load_count == 0 and not fresh.transcriber.loaded


def test_limits_at_their_largest_through_the_ui_handler(engine: Engine, recordings: dict[str, Path]) -> None:
    for name, (recording, edits, take_s) in LIMITS.items():
        tried("ui-handler", "edit", f"limit-{name}")
        ok, message, seconds = ui_outcome(engine, recordings[recording], {"new_text": EDIT_TEXT, "edits": edits})
        assert ok, (name, message)
        if take_s:
            assert seconds == pytest.approx(take_s, abs=0.02)


def test_bad_recordings_through_the_ui_handler(engine: Engine, ref_wav: Path, tmp_path: Path) -> None:
    """The bad audio every surface is tried with, as the recording to edit (with a span in seconds)."""
    problems = []
    for audio in bad_audio(ref_wav, tmp_path) + rate_channel_audio(ref_wav, FEW_RATES):
        tried("ui-handler", "edit-audio", audio.name)
        if audio.name in ("claims-4gb-has-40ms.wav", "0.2s.wav"):
            audio = BadAudio(audio.name, audio.data, "too short to edit")
        ok, message, _ = ui_outcome(engine, audio.write(tmp_path), {"new_text": EDIT_TEXT, "edits": EDIT_SPAN})
        problems.append(judge(audio, ok, message))
    assert not [p for p in problems if p], "\n".join(p for p in problems if p)


# ---- serverless ----------------------------------------------------------------------------------------------------
def test_bad_edits_through_serverless(engine: Engine, recordings: dict[str, Path]) -> None:
    worker = serverless_worker(engine)
    for name, (recording, fields, words) in BAD_EDITS.items():
        tried("serverless", "edit", name)
        audio = recordings.get(recording)
        ok, message, _ = serverless_outcome(worker, audio, fields)
        expected = "'audio_base64' is empty" if audio is None else words
        assert not ok and assert_clear(message or "", expected), (name, message)
    for name, fields in {
        "transcript-number": {"new_text": EDIT_TEXT, "transcript": 5},
        "edits-nan": {"new_text": EDIT_TEXT, "edits": [{"start": float("nan"), "end": 2.0}]},
        "seed-text": {"new_text": EDIT_TEXT, "seed": "lucky"},
        "format-unknown": {"new_text": EDIT_TEXT, "response_format": "midi"},
    }.items():
        tried("serverless", "edit", name)
        ok, message, _ = serverless_outcome(worker, recordings["example"], fields)
        assert not ok and assert_clear(message or ""), (name, message)
    good = {"new_text": EDIT_TEXT, "edits": EDIT_SPAN}
    ok, message, seconds = serverless_outcome(worker, recordings["example"], good)
    assert ok and seconds > 5, message


# ---- gradio_client, on the launched app ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    yield client
    client.close()


def gradio_outcome(client, audio: Path | None, fields: dict) -> tuple[bool, str | None, float]:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    try:
        path, _, _ = client.predict(
            handle_file(str(audio)) if audio else None,
            fields.get("transcript", ""),
            fields.get("new_text", ""),
            fields.get("edits"),
            1,
            nfe_step=7,
            api_name="/edit_speech",
        )
    except AppError as e:
        return False, str(e), 0.0
    wave, sr = sf.read(path, dtype="float32")
    return True, None, len(wave) / sr


def test_bad_edits_through_gradio_client(app_url: str, client, recordings: dict[str, Path]) -> None:
    for name, (recording, fields, words) in BAD_EDITS.items():
        tried("gradio_client", "edit", name)
        ok, message, _ = gradio_outcome(client, recordings.get(recording), fields)
        assert not ok and assert_clear(message or "", words), (name, message)
    assert httpx.get(app_url + "/health", timeout=10).json()["status"] == "ok"


def test_limits_at_their_largest_through_gradio_client(client, recordings: dict[str, Path]) -> None:
    for name, (recording, edits, take_s) in LIMITS.items():
        tried("gradio_client", "edit", f"limit-{name}")
        start = time.perf_counter()
        ok, message, seconds = gradio_outcome(client, recordings[recording], {"new_text": EDIT_TEXT, "edits": edits})
        assert ok, (name, message)
        if take_s:
            assert seconds == pytest.approx(take_s, abs=0.02)
        print(f"\n{name}: {time.perf_counter() - start:.1f} s through gradio_client (tiny model, 7 steps)")
