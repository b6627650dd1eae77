"""Every output of every interface carries the mark (inference/audio/watermark.py), on the tiny model (its audio is
noise, which Perth marks and finds as well as speech); with the operator's F5_WATERMARK=0 the same output is not
marked; no visitor can turn it off.

| what a user gets                                      | through                        | mark on | F5_WATERMARK=0 |
|-------------------------------------------------------|--------------------------------|---------|----------------|
| a take                                                | Studio.synthesize              | found   | not found      |
| one chunk from the middle of a stream                 | Studio.stream                  | found   | not found      |
| the middle third of an OpenAI stream (pcm)            | POST /v1/audio/speech          | found   | not found      |
| an OpenAI file (wav), asking `watermark: false`       | POST /v1/audio/speech          | found: unknown keys ignored |
| a serverless take                                     | serverless handler, in process | found   | not found      |
| a serverless job asking `watermark: false`            | serverless handler             | refused: unknown input key |
| each variation                                        | Studio.variations              | found   | not found      |
| a dialogue (turns and pauses)                         | Studio.dialogue                | found   | not found      |
| a dubbed track (cues paced, silences, two mixed)      | Studio.dub                     | found   | not found      |
| an edited recording (its own samples kept around)     | Studio.edit                    | found   | not found      |
| a rendered project, exported as wav                   | Studio.export                  | found   | not found      |
| a project segment fixed in place (an edit of its take) | Studio.edit_segment           | found   | not found      |
| a UI take, whole and its middle third                 | gradio_client /synthesize      | found   | not found      |

And the mark itself (`mark`): the length and dtype kept, silence kept silent, samples within [-1, 1], audio under
0.1 s as it is; `marker(False)` is the wave as it is; a server marking takes of every length all day keeps its memory
flat (100 marks and checks of 0.5-8 s grow it by less than 100 MB: a pass that kept its graph left 7 MB each).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, Studio
from inference.audio.watermark import detect, mark, marker
from inference.studio.editing import EditRequest
from inference.studio.edits import Span
from tests.conftest import REF_TEXT, serverless_worker, wait_until

SR = 24000
FAST = {"nfe_step": 4, "seed": 7}
LONG = " ".join(["This is one sentence of a text long enough to be spoken in several chunks."] * 10)
ON_OFF = pytest.mark.parametrize("on", [True, False], ids=["marked", "F5_WATERMARK=0"])


def marked(wave: np.ndarray, sr: int = SR) -> bool:
    return detect(np.asarray(wave, dtype=np.float32), sr).watermarked


# ---- the mark itself ----------------------------------------------------------------------------------------------
def test_mark_keeps_the_length_and_the_type() -> None:
    wave = (np.random.default_rng(0).standard_normal(SR * 2 + 123) * 0.1).astype(np.float32)  # not whole frames
    out = mark(wave, SR)
    assert out.dtype == np.float32 and out.shape == wave.shape and not np.array_equal(out, wave)
    assert marked(out) and not marked(wave)


def test_mark_keeps_silence_and_full_scale() -> None:
    assert not np.any(mark(np.zeros(SR, np.float32), SR))
    loud = np.sign(np.random.default_rng(1).standard_normal(SR)).astype(np.float32)  # every sample at full scale
    out = mark(loud, SR)
    assert np.abs(out).max() <= 1.0
    gapped = np.concatenate([np.zeros(SR, np.float32), loud * 0.1, np.zeros(SR, np.float32)])
    assert np.abs(mark(gapped, SR)[: SR - 2400]).max() < 1e-4  # the silence before speech stays (near) silent


def test_mark_leaves_audio_too_short_for_one_frame() -> None:
    short = np.full(SR // 20, 0.1, np.float32)
    assert np.array_equal(mark(short, SR), short)


def test_the_setting_chooses_the_marker() -> None:
    wave = np.full(SR, 0.1, np.float32)
    assert marker(False)(wave, SR) is wave
    on = marker(True, "cpu")
    assert on.func is mark and on.keywords == {"device": "cpu"}  # type: ignore[attr-defined]


def test_marking_many_takes_keeps_the_memory_flat() -> None:
    import psutil

    rng = np.random.default_rng(0)
    takes = [rng.normal(0, 0.1, int(rng.uniform(0.5, 8) * SR)).astype(np.float32) for _ in range(160)]
    for take in takes[:60]:  # the network and the allocator's pools warm up
        detect(mark(take, SR), SR)
    before = psutil.Process().memory_info().rss
    for take in takes[60:]:
        detect(mark(take, SR), SR)
    grown = psutil.Process().memory_info().rss - before
    assert grown < 100 * 2**20, f"{grown / 2**20:.0f} MB more after 100 takes"


def test_a_device_the_network_cannot_load_on_marks_on_the_cpu(caplog: pytest.LogCaptureFixture) -> None:
    """F5_DEVICE=cuda:7 where there is no such GPU (a misconfigured pod): the take is still marked, on the CPU, and
    the log says so."""
    wave = np.sin(np.arange(2 * SR) * 2 * np.pi * 200 / SR).astype(np.float32) * 0.3
    with caplog.at_level("WARNING"):
        marked = marker(True, "cuda:7")(wave, SR)
    np.testing.assert_array_equal(marked, mark(wave, SR, "cpu"))
    assert "could not load on cuda:7" in caplog.text and "marks on the CPU" in caplog.text


# ---- every operation, with the mark on and off ---------------------------------------------------------------------
def two_studios(tiny_settings, folders: pytest.TempPathFactory, short_ref: Path, name: str, **engine_args):
    """The production default (mark on) and the operator's F5_WATERMARK=0, each with a saved voice "narrator" and a
    project folder; the project services closed afterwards."""
    out = {}
    for on in (True, False):
        root = folders.mktemp(f"{name}-{on}")
        engine = Engine(tiny_settings.replace(voices_dir=root / "voices", watermark=on), **engine_args)
        engine.save_voice("narrator", short_ref, REF_TEXT)
        engine.load()
        studio = Studio(engine)
        studio.start_projects(root / "projects")
        out[on] = studio
    yield out
    for studio in out.values():
        studio._project_service.close()


@pytest.fixture(scope="module")
def studios(tiny_settings, tmp_path_factory: pytest.TempPathFactory, short_ref: Path) -> Iterator[dict[bool, Studio]]:
    """Two studios on the tiny model, mark on and off."""
    yield from two_studios(tiny_settings, tmp_path_factory, short_ref, "mark")


@ON_OFF
def test_a_take_and_a_chunk_from_the_middle_of_its_stream(studios: dict[bool, Studio], on: bool) -> None:
    studio = studios[on]
    request = studio.request(LONG, voice="narrator", options={**FAST, "cross_fade": 0.0})
    chunks = list(studio.stream(request))
    assert len(chunks) >= 3
    middle = chunks[len(chunks) // 2].wave
    assert len(middle) >= SR // 2 and marked(middle) is on
    assert marked(studio.synthesize(request).wave) is on


@ON_OFF
def test_each_variation(studios: dict[bool, Studio], on: bool) -> None:
    studio = studios[on]
    takes = studio.variations(studio.request("Two takes of one line.", voice="narrator", options=FAST), 2)
    assert len(takes) == 2 and all(marked(t.wave) is on for t in takes)


@ON_OFF
def test_a_dialogue(studios: dict[bool, Studio], on: bool) -> None:
    result = studios[on].dialogue("[A] It was late. [B] Hello there?", {"A": "narrator", "B": "narrator"}, pause_s=1.0)
    assert marked(result.wave) is on


SUBTITLES = """1
00:00:00,500 --> 00:00:02,000
A first cue.

2
00:00:04,000 --> 00:00:05,000
[Music]

3
00:00:06,000 --> 00:00:09,000
A cue slowed into its long slot.

4
00:00:09,200 --> 00:00:09,600
A cue far too long for its slot, mixed into the next one.

5
00:00:09,800 --> 00:00:11,000
The last cue.
"""


@ON_OFF
def test_a_dubbed_track(studios: dict[bool, Studio], on: bool) -> None:
    from inference import SynthesisOptions

    result = studios[on].dub(SUBTITLES, voice="narrator", options=SynthesisOptions(nfe_step=4, seed=3))
    assert result.cues[3].overlap > 0  # mixed with the next cue
    assert result.duration > 11 and marked(result.wave) is on
    assert marked(result.wave[int(9.2 * SR) : int(11 * SR)]) is on  # the mixed stretch alone


@ON_OFF
def test_an_edited_recording(studios: dict[bool, Studio], on: bool, ref_wav: Path) -> None:
    from inference import SynthesisOptions

    request = EditRequest(
        ref_wav, "Some call me optimist, others call me mother nature.", REF_TEXT, (Span(1.42, 2.44, "optimist,"),)
    )
    result = studios[on].edit(EditRequest(**{**request.__dict__, "options": SynthesisOptions(nfe_step=4, seed=1)}))
    assert marked(result.wave) is on
    assert not marked(result.original)  # the recording itself never was


@ON_OFF
def test_a_project_export(studios: dict[bool, Studio], on: bool) -> None:
    studio = studios[on]
    pid = studio.create_project(f"Book {on}", "Chapter 1\nA line of the book is here.", "narrator", None, FAST)
    status = wait_until(lambda: (s := studio.project(pid)).status in ("done", "failed") and s, 120)
    assert status and status.status == "done", status
    wave, sr = sf.read(io.BytesIO(b"".join(studio.export(pid, "wav").chunks)), dtype="float32")
    assert marked(wave, sr) is on


# ---- the OpenAI endpoint and the serverless worker -----------------------------------------------------------------
def openai_http(studio: Studio):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.openai import openai_router

    app = FastAPI()
    app.include_router(openai_router(studio, max_in_progress=4))
    return TestClient(app)


@ON_OFF
def test_the_middle_of_an_openai_stream(studios: dict[bool, Studio], on: bool) -> None:
    body = {"input": LONG, "voice": "narrator", "response_format": "pcm", **FAST}
    response = openai_http(studios[on]).post("/v1/audio/speech", json=body)
    assert response.status_code == 200, response.text
    wave = np.frombuffer(response.content, "<i2").astype(np.float32) / 32767
    third = len(wave) // 3
    assert third >= SR // 2 and marked(wave[third : 2 * third]) is on


def test_a_visitor_cannot_turn_the_mark_off_through_openai(studios: dict[bool, Studio]) -> None:
    body = {"input": "A short line.", "voice": "narrator", "response_format": "wav", "watermark": False, **FAST}
    response = openai_http(studios[True]).post("/v1/audio/speech", json=body)
    assert response.status_code == 200, response.text
    data = response.content
    at = data.index(b"data", 36)  # a streamed WAV: the samples follow the data chunk's header
    wave = np.frombuffer(data[at + 8 :], "<i2").astype(np.float32) / 32767
    assert marked(wave)


def serverless_take(studio: Studio, **extra) -> dict:
    job = {"text": LONG, "voice": "narrator", **FAST, **extra}
    return serverless_worker(studio.engine).handler({"id": "j", "input": job})


@ON_OFF
def test_a_serverless_take(studios: dict[bool, Studio], on: bool) -> None:
    out = serverless_take(studios[on])
    wave, sr = sf.read(io.BytesIO(base64.b64decode(out["audio_base64"])), dtype="float32")
    assert marked(wave, sr) is on


def test_a_visitor_cannot_turn_the_mark_off_through_serverless(studios: dict[bool, Studio]) -> None:
    out = serverless_take(studios[True], watermark=False)
    assert set(out) == {"error"} and "Unknown input key: 'watermark'" in out["error"], out


# ---- the UI through gradio_client, on the launched app --------------------------------------------------------------
@pytest.fixture(scope="module", params=[True, False], ids=["marked", "F5_WATERMARK=0"])
def ui(request: pytest.FixtureRequest, tiny, tmp_path_factory, short_ref: Path) -> Iterator[tuple[bool, object]]:
    from gradio_client import Client

    from tests.live import run_app

    on = request.param
    root = tmp_path_factory.mktemp(f"ui-mark-{on}")
    env = {"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(root / "voices"), "F5_WATERMARK": "1" if on else "0"}
    with run_app(env=env, log_path=root / "app.log") as (base, _):
        client = Client(base, verbose=False)
        yield on, client
        client.close()


@pytest.mark.e2e
@pytest.mark.slow
def test_a_ui_take(ui, short_ref: Path) -> None:
    """The UI's take (the Clone tab's /synthesize, over the engine's stream): marked whole and in its middle third."""
    from gradio_client import handle_file

    on, client = ui
    named = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert "watermark" not in [p["parameter_name"] for p in named["/synthesize"]["parameters"]]  # no field for it
    audio, *_ = client.predict(handle_file(str(short_ref)), REF_TEXT, LONG, 7, nfe_step=7, api_name="/synthesize")
    wave, sr = sf.read(audio, dtype="float32")
    third = len(wave) // 3
    assert marked(wave, sr) is on and marked(wave[third : 2 * third], sr) is on


# ---- a project's fix in place (the speech-editing path on a kept take) ----------------------------------------------
@pytest.fixture(scope="module")
def fixers(tiny_settings, tmp_path_factory: pytest.TempPathFactory, short_ref: Path) -> Iterator[dict[bool, Studio]]:
    """Studios whose Whisper hears a take as the segment's words (tests/test_projects_fix.py's `Hears`)."""
    from tests.test_projects_fix import LONG as SEGMENT
    from tests.test_projects_fix import Hears

    hears = Hears()
    hears.text = SEGMENT
    yield from two_studios(tiny_settings, tmp_path_factory, short_ref, "fix-mark", transcriber=hears)


@ON_OFF
def test_a_segment_fixed_in_place(fixers: dict[bool, Studio], on: bool) -> None:
    from tests.test_projects_fix import FIXED
    from tests.test_projects_fix import LONG as SEGMENT

    studio = fixers[on]
    pid = studio.create_project("Fixed", SEGMENT, "narrator", None, {"nfe_step": 4})
    assert wait_until(lambda: studio.project(pid).status == "done", 120), studio.project(pid)
    (segment,) = studio.segments(pid)
    studio.edit_segment(pid, segment.id, text=FIXED)
    assert wait_until(lambda: studio.project(pid).status == "done" and studio.segments(pid)[0].text == FIXED, 120)
    take = next(t for t in studio.takes(pid, segment.id) if t.kept)
    assert take.scores and take.scores["made"] == "edit", take.scores
    wave, sr = sf.read(take.audio, dtype="float32")
    assert marked(wave, sr) is on
