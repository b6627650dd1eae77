"""No tax at the door: what an interface adds to a request beyond the engine's work stays out (bench/door.py measures
the time; these tests pin the mechanism, without timing).

| who                                  | what they do                   | what must hold                               |
|--------------------------------------|--------------------------------|----------------------------------------------|
| a gradio_client caller, a UI visitor | /synthesize, Generate          | the spectrogram goes into Gradio's cache as  |
|                                      |                                | PNG (webp, the default, ~3x the encoding)    |
| a gradio_client caller               | /synthesize                    | one picture per answer, from the take's mel  |
| a UI visitor                         | Generate                       | the take's WAV (named for download) is       |
|                                      |                                | served as it is: no ffprobe process per take |
|                                      |                                | (~0.1 s)                                     |
| a serverless client, 4 jobs at once  | the worker's handler, gathered | all four in the engine at the same time      |
|                                      |                                | (no job's work on the event loop)            |
| RunPod's job scaler                  | asks how many jobs to take     | the studio's concurrency (4 on a CPU), not 1 |
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import numpy as np
import soundfile as sf

from inference import Engine, EngineSettings, Studio
from tests.conftest import REF_TEXT

SHORT = "Thank you, that is all for today."


def synthesize_event(demo):
    return next(f for f in demo.fns.values() if f.api_name == "synthesize")


def test_the_spectrogram_is_written_as_png() -> None:
    from ui import build_ui
    from ui.handlers import spectrogram_image

    demo = build_ui(Studio(Engine(EngineSettings())))
    picture = synthesize_event(demo).outputs[1]
    mel = np.random.default_rng(0).standard_normal((100, 300)).astype(np.float32)
    written = picture.postprocess(spectrogram_image(mel))
    assert Path(written.path).suffix == ".png", written.path


def test_synthesize_draws_one_picture_from_the_takes_mel(engine, ref_wav: Path, monkeypatch) -> None:
    import ui.clone_api as clone_api

    drawn: list = []
    draw = clone_api.spectrogram_image
    monkeypatch.setattr(clone_api, "spectrogram_image", lambda mel: drawn.append(mel) or draw(mel))
    take, picture, _, _ = clone_api.CloneHandlers(Studio(engine)).synthesize(
        str(ref_wav), REF_TEXT, SHORT, 3, nfe_step=7
    )
    wave = sf.read(take)[0]
    assert len(drawn) == 1 and drawn[0].ndim == 2 and picture is not None and len(wave) > 0


def test_the_take_is_served_without_probing_it(monkeypatch, tmp_path: Path) -> None:
    import gradio as gr
    from gradio import processing_utils

    from ui import history

    probed: list[str] = []
    monkeypatch.setattr(processing_utils, "audio_is_playable", lambda path: probed.append(path) or True)
    with gr.Blocks():
        player = history.served_as_is(gr.Audio(type="numpy", format="wav", interactive=False))
    wave = np.zeros(2400, dtype=np.float32)
    named = history.named_result(wave, 24000, "alice", "Hello there.", 7)
    served = player.postprocess(named)
    assert served.path == named and served.orig_name == Path(named).name and not probed
    other = tmp_path / "elsewhere.wav"  # anything else is gr.Audio's own business
    other.write_bytes(Path(named).read_bytes())
    player.postprocess(str(other))
    assert probed == [str(other)]


def test_the_clone_tabs_result_is_served_without_probing_it(monkeypatch) -> None:
    from gradio import processing_utils

    from ui import build_ui
    from ui.history import export_wave

    probed: list[str] = []
    monkeypatch.setattr(processing_utils, "audio_is_playable", lambda path: probed.append(path) or True)
    demo = build_ui(Studio(Engine(EngineSettings())))
    result = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "result")
    take = export_wave(np.zeros(2400, dtype=np.float32), 24000, "wav", "take")
    assert result.postprocess(str(take)).path == str(take) and not probed


def test_four_serverless_jobs_are_in_the_engine_at_once(engine, ref_wav: Path) -> None:
    """Each job waits at a barrier of four inside the studio's synthesize: run one after another (the event loop
    blocked by one job's work), the first would wait alone until the barrier breaks."""
    import base64

    from serverless.handler import Worker

    studio = Studio(engine)
    barrier = threading.Barrier(4, timeout=60)
    alone = studio.synthesize

    def together(request, progress=None):
        barrier.wait()
        return alone(request, progress)

    studio.synthesize = together  # type: ignore[method-assign]
    worker = Worker(studio)
    ref = base64.b64encode(ref_wav.read_bytes()).decode()
    jobs = [
        {"id": str(k), "input": {"text": SHORT, "ref_audio_base64": ref, "ref_text": REF_TEXT, "seed": k}}
        for k in range(4)
    ]

    async def gathered() -> list:
        return await asyncio.gather(*(worker.handler(job) for job in jobs))

    out = asyncio.run(gathered())
    assert all("audio_base64" in r for r in out), out


def test_the_job_scaler_is_told_the_studios_concurrency() -> None:
    from serverless.handler import Worker

    studio = Studio(Engine(EngineSettings(device="cpu")))
    assert Worker(studio).concurrency(1) == studio.concurrency() >= 4
