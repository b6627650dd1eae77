"""Faults: broken weights, a missing vocoder, a read-only or full voices volume, no Whisper, failures and OOM inside a
generation, and clients that go away mid-generation. Each gives a clear message, and the studio recovers without a
restart where that is possible (the fix is picked up by the next request).

Serverless cancellation (documented here, checked below for the streaming worker): runpod 1.12 runs a plain sync
handler inline, so a job that RunPod cancels or times out cannot be interrupted mid-generation; its length is
bounded by F5_MAX_TEXT_CHARS and by the endpoint's execution timeout. The streaming worker's generator is closed
when RunPod stops the job, and closing it cancels the chunks not yet generated.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
import time
from pathlib import Path

import gradio as gr
import httpx
import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InputError, ModelUnavailable, Reference, Studio, SynthesisOptions, SynthesisRequest
from inference.engine import EngineHooks
from tests.badinputs import assert_clear, report_tried, serve, tried  # noqa: F401 - report_tried: autouse
from tests.conftest import REF_TEXT, serverless_worker, wait_until
from tests.live import run_app
from ui.clone import CloneHandlers

LONG_TEXT = " ".join(f"This is sentence number {i}, spoken by the cloned voice." for i in range(80))  # ~13 chunks
VOICE = "faults-alice"


def request(ref: Path, text: str = "Hello there, my friend.", **options) -> SynthesisRequest:
    return SynthesisRequest(text, Reference(ref, REF_TEXT), SynthesisOptions(**{"nfe_step": 4, "seed": 1, **options}))


def ui_error(engine: Engine, ref: Path, text: str = "Hello there.") -> str | None:
    try:
        CloneHandlers(Studio(engine)).synthesize(str(ref), REF_TEXT, text, 1, nfe_step=4)
    except gr.Error as e:
        return e.message
    return None


# ---- weights --------------------------------------------------------------------------------------------------------
def test_garbage_checkpoint_of_the_right_size_is_reported_and_a_fix_needs_no_restart(
    tiny, tiny_settings, tmp_path, short_ref
) -> None:
    ckpt = tmp_path / "model.safetensors"
    size = tiny["ckpt"].stat().st_size
    ckpt.write_bytes(np.random.default_rng(0).integers(0, 256, size, dtype=np.uint8).tobytes())
    tried("engine", "fault", "checkpoint-garbage-right-size")
    e = Engine(tiny_settings.replace(ckpt=str(ckpt)))
    with pytest.raises(ModelUnavailable, match="corrupt or incomplete") as info:
        e.synthesize(request(short_ref))
    assert str(ckpt) in str(info.value) and "download it again" in info.value.hint
    assert e.status().state == "failed"
    message = ui_error(e, short_ref)  # the UI says the same, as a sentence
    assert_clear(message, "corrupt or incomplete")
    shutil.copy(tiny["ckpt"], ckpt)  # the operator puts a good copy in place
    assert e.synthesize(request(short_ref)).duration > 0 and e.load_count == 1


def test_checkpoint_with_a_good_header_and_garbage_tensors_is_reported(
    tiny, tiny_settings, tmp_path, short_ref, monkeypatch
) -> None:
    """Garbage that keeps the header intact loads (only `python app.py download` verifies checksums) and makes NaN
    audio: every adapter refuses that with a message instead of sending silence."""
    import base64
    import struct

    data = bytearray(tiny["ckpt"].read_bytes())
    (header_len,) = struct.unpack("<Q", data[:8])
    start = 8 + header_len
    data[start:] = np.random.default_rng(1).integers(0, 256, len(data) - start, dtype=np.uint8).tobytes()
    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(bytes(data))
    tried("engine", "fault", "checkpoint-garbage-tensors")
    e = Engine(tiny_settings.replace(ckpt=str(ckpt)))
    assert_clear(ui_error(e, short_ref), "invalid audio.*corrupt")
    worker = serverless_worker(e)
    out = worker.handler(
        {
            "id": "f",
            "input": {
                "text": "Hello.",
                "ref_text": REF_TEXT,
                "nfe_step": 4,
                "ref_audio_base64": base64.b64encode(short_ref.read_bytes()).decode(),
            },
        }
    )
    assert_clear(out["error"], "invalid audio.*corrupt")
    shutil.copy(tiny["ckpt"], ckpt)  # a good copy needs a restart here: the broken weights did load


def test_missing_and_garbage_vocab(tiny, tiny_settings, tmp_path, short_ref) -> None:
    missing = tmp_path / "vocab.txt"
    tried("engine", "fault", "vocab-missing")
    e = Engine(tiny_settings.replace(vocab=str(missing)))
    with pytest.raises(ModelUnavailable, match="does not exist") as info:
        e.load()
    assert str(missing) in str(info.value)
    missing.write_bytes(np.random.default_rng(2).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    tried("engine", "fault", "vocab-garbage")
    with pytest.raises(ModelUnavailable) as info:  # garbage: unreadable, or a vocabulary the checkpoint does not fit
        e.load()
    assert_clear(str(info.value))
    shutil.copy(tiny["vocab"], missing)
    assert e.synthesize(request(short_ref)).duration > 0


def test_missing_vocoder_folder_is_reported_and_filling_it_recovers(tiny, tiny_settings, tmp_path, short_ref) -> None:
    folder = tmp_path / "vocos"
    folder.mkdir()
    tried("engine", "fault", "vocoder-empty-folder")
    e = Engine(tiny_settings.replace(vocoder=str(folder)))
    with pytest.raises(ModelUnavailable) as info:
        e.synthesize(request(short_ref))
    assert str(folder) in str(info.value)
    assert_clear(ui_error(e, short_ref), str(folder))
    (folder / "pytorch_model.bin").write_bytes(b"\0" * 1000)  # half-fixed: config still missing, weights junk
    (folder / "config.yaml").write_text((tiny["vocoder"] / "config.yaml").read_text())
    tried("engine", "fault", "vocoder-garbage-weights")
    with pytest.raises(ModelUnavailable, match="could not be loaded|corrupt"):
        e.load()
    shutil.copy(tiny["vocoder"] / "pytorch_model.bin", folder / "pytorch_model.bin")
    assert e.synthesize(request(short_ref)).duration > 0 and e.load_count == 1


# ---- the voices volume ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["under-a-file", "proc"])
def test_unwritable_voices_folder_gives_a_message_and_the_rest_works(
    engine: Engine, tmp_path: Path, short_ref: Path, where: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "voices" if where == "under-a-file" else Path("/proc/studio-voices")
    tried("engine", "fault", f"voices-dir-{where}")
    e = Engine(engine.settings.replace(voices_dir=folder))
    with pytest.raises(InputError, match="cannot be created") as info:
        e.save_voice("Alice", short_ref, REF_TEXT)
    assert "writable" in info.value.hint
    assert e.voices.all() == [] and e.synthesize(request(short_ref)).duration > 0


def test_read_only_volume_through_gradio_client(tiny, tmp_path: Path, short_ref: Path) -> None:
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    tried("gradio_client", "fault", "voices-dir-under-a-file")
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(blocker / "voices")}) as (base, _):
        client = Client(base, verbose=False)
        with pytest.raises(AppError) as info:
            client.predict(handle_file(str(short_ref)), "Alice", REF_TEXT, api_name="/save_voice")
        assert_clear(str(info.value), "voices folder cannot be created")
        assert client.predict(api_name="/list_voices") == []
        audio, *_ = client.predict(
            handle_file(str(short_ref)), REF_TEXT, "Hello there.", 1, nfe_step=7, api_name="/synthesize"
        )
        assert sf.read(audio)[1] == 24000
        assert httpx.get(base + "/v1/voices").json() == {"voices": []}
        assert httpx.get(base + "/health").json()["status"] == "ok"
        client.close()


def test_disk_full_while_saving_through_gradio_client(
    tiny_settings, engine: Engine, tmp_path: Path, short_ref: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app in this process, so the disk can 'fill up' (an injected ENOSPC) while a voice is written."""
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    from app import ServerSettings, create_app
    from inference.voices import VoiceLibrary

    voices = tmp_path / "voices"
    e = Engine(tiny_settings.replace(voices_dir=voices))
    real_write = VoiceLibrary._write_temp
    full = {"on": True}

    def write_temp(self, data: bytes) -> str:
        if full["on"]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data)

    monkeypatch.setattr(VoiceLibrary, "_write_temp", write_temp)
    app, _ = create_app(ServerSettings(), Studio(e))
    tried("gradio_client", "fault", "disk-full-on-save")
    with serve(app) as base:
        client = Client(base, verbose=False)
        with pytest.raises(AppError) as info:
            client.predict(handle_file(str(short_ref)), "Alice", REF_TEXT, api_name="/save_voice")
        assert_clear(str(info.value), "No space left on device")
        assert "nothing was changed" in str(info.value)
        assert not [p for p in voices.iterdir() if p.is_file()]  # nothing half-written
        full["on"] = False  # space freed: the same request now works, no restart
        assert client.predict(handle_file(str(short_ref)), "Alice", REF_TEXT, api_name="/save_voice") == "Alice"
        assert sorted(p.name for p in voices.iterdir()) == ["Alice.txt", "Alice.wav"]
        client.close()


# ---- ASR -------------------------------------------------------------------------------------------------------------
def test_no_whisper_asks_for_the_transcript(tiny, tmp_path: Path, short_ref: Path) -> None:
    """A fresh HF_HOME with the TTS weights at explicit paths and no Whisper anywhere, offline."""
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    env = {
        "F5_MODEL": str(tiny["yaml"]),
        "F5_CKPT": str(tiny["ckpt"]),
        "F5_VOCAB": str(tiny["vocab"]),
        "F5_VOCODER": str(tiny["vocoder"]),
        "HF_HOME": str(tmp_path / "empty-hf"),
        "HF_HUB_OFFLINE": "1",
    }
    tried("gradio_client", "fault", "no-whisper")
    with run_app(env=env) as (base, _):
        client = Client(base, verbose=False)
        for args, api in [
            ((handle_file(str(short_ref)), "", "Hello there.", 1), "/synthesize"),
            ((handle_file(str(short_ref)),), "/transcribe"),
            ((handle_file(str(short_ref)), "Alice", ""), "/save_voice"),
        ]:
            with pytest.raises(AppError) as info:
                client.predict(*args, api_name=api)
            assert_clear(str(info.value), "transcription is unavailable.*Type the reference transcript"), api
        audio, _, _, used = client.predict(
            handle_file(str(short_ref)), REF_TEXT, "Hello there.", 1, nfe_step=7, api_name="/synthesize"
        )  # typed: works
        assert used == REF_TEXT and sf.read(audio)[1] == 24000
        assert httpx.get(base + "/health").json()["model"] == "ready"
        client.close()


def test_no_whisper_in_the_handler_and_the_worker(engine: Engine, short_ref: Path, monkeypatch) -> None:
    from inference.model.asr import Transcriber

    e = Engine(engine.settings, transcriber=Transcriber("nobody/whisper-not-cached", device="cpu"))
    tried("ui-handler", "fault", "no-whisper")
    with pytest.raises(gr.Error) as info:
        CloneHandlers(Studio(e)).synthesize(str(short_ref), "", "Hello there.", 1, nfe_step=4)
    assert_clear(info.value.message, "Type the reference transcript")
    worker = serverless_worker(e)
    tried("serverless", "fault", "no-whisper")
    import base64

    out = worker.handler(
        {
            "id": "f",
            "input": {
                "text": "Hello.",
                "ref_audio_base64": base64.b64encode(short_ref.read_bytes()).decode(),
                "nfe_step": 4,
            },
        }
    )
    assert_clear(out["error"], "Type the reference transcript")


# ---- failures inside a generation ------------------------------------------------------------------------------------
@pytest.fixture
def faulty(engine_hooks):
    """Set the shared engine's fault hook for one test; always removed."""

    def set_fault(hook) -> None:
        engine_hooks.fault = hook

    yield set_fault
    engine_hooks.fault = None


def oom(_item) -> None:
    import torch

    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB (secret internals)")


def boom(_item) -> None:
    raise RuntimeError("simulated failure with secret internals /srv/private")


def test_failures_inside_a_generation_through_the_ui_handler(engine: Engine, faulty, short_ref: Path) -> None:
    tried("ui-handler", "fault", "cuda-oom")
    faulty(oom)
    message = ui_error(engine, short_ref)
    assert_clear(message, "ran out of memory") and "shorter text" in message and "secret" not in message
    tried("ui-handler", "fault", "exception-in-generation")
    faulty(boom)
    message = ui_error(engine, short_ref)
    assert message and "Something went wrong on the server (RuntimeError)" in message and "try again" in message
    assert "secret" not in message and "Traceback" not in message
    faulty(None)
    assert ui_error(engine, short_ref) is None and engine.status().state == "ready"


def test_failures_inside_a_generation_through_serverless(engine: Engine, faulty, short_ref: Path, monkeypatch) -> None:
    import base64

    worker = serverless_worker(engine)
    inputs = {
        "text": "Hello there.",
        "ref_audio_base64": base64.b64encode(short_ref.read_bytes()).decode(),
        "ref_text": REF_TEXT,
        "nfe_step": 4,
        "seed": 1,
    }
    tried("serverless", "fault", "cuda-oom")
    faulty(oom)
    assert_clear(worker.handler({"id": "f", "input": inputs})["error"], "ran out of memory")
    tried("serverless", "fault", "exception-in-generation")
    faulty(boom)
    error = worker.handler({"id": "f", "input": inputs})["error"]
    assert error.startswith("Generation failed: RuntimeError.") and "secret" not in error
    faulty(None)
    assert "audio_base64" in worker.handler({"id": "f", "input": inputs})


@pytest.fixture(scope="module")
def rest(engine: Engine, short_ref: Path):
    """The REST routes in this process, on the shared engine (so faults can be injected and chunks counted)."""
    from fastapi import FastAPI

    from api.auth import Access
    from api.health import health_router
    from api.openai import openai_router

    engine.settings.voices_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(short_ref, engine.settings.voices_dir / f"{VOICE}.wav")
    (engine.settings.voices_dir / f"{VOICE}.txt").write_text(REF_TEXT, encoding="utf-8")
    app = FastAPI()
    app.include_router(health_router(Studio(engine), Access()))
    app.include_router(openai_router(Studio(engine), max_in_progress=32))
    with serve(app) as base:
        yield base
    for ext in (".wav", ".txt"):
        (engine.settings.voices_dir / f"{VOICE}{ext}").unlink(missing_ok=True)


def speech(base: str, text: str = "Hello there.", fmt: str = "pcm", **fields) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/audio/speech",
        timeout=60,
        json={"voice": VOICE, "input": text, "response_format": fmt, "nfe_step": 4, "seed": 1, **fields},
    )


def test_failures_inside_a_generation_through_rest(rest: str, faulty) -> None:
    tried("rest", "fault", "cuda-oom")
    faulty(oom)
    response = speech(rest)
    assert response.status_code == 503
    error = response.json()["error"]
    assert_clear(error["message"], "ran out of memory") and "secret" not in error["message"]
    assert error["type"] == "server_error"
    tried("rest", "fault", "exception-in-generation")
    faulty(boom)
    response = speech(rest)
    assert response.status_code == 500 and "secret" not in response.text
    assert response.json()["error"]["message"] == "The server had an error while processing your request."
    faulty(None)
    assert speech(rest).status_code == 200


def test_failure_mid_stream_ends_the_body_in_an_error(rest: str, faulty) -> None:
    """Once audio has started, a failure cannot become a status code: the stream is cut, so the client knows the
    audio is incomplete (never a short file that looks whole)."""
    calls = []

    def second_chunk_fails(_item) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("failure in chunk 2")

    tried("rest", "fault", "exception-mid-stream")
    faulty(second_chunk_fails)
    with pytest.raises(httpx.HTTPError):
        with httpx.stream(
            "POST",
            f"{rest}/v1/audio/speech",
            timeout=60,
            json={"voice": VOICE, "input": LONG_TEXT[:1500], "response_format": "pcm", "nfe_step": 4, "seed": 1},
        ) as r:
            assert r.status_code == 200
            for _ in r.iter_bytes():
                pass
    faulty(None)
    assert speech(rest).status_code == 200


class ChunkCounter:
    """A fault hook that only counts generated chunks (and slows each a little, so a stop is measurable)."""

    def __init__(self, delay: float) -> None:
        self.calls, self.delay, self.lock = 0, delay, threading.Lock()

    def __call__(self, _item) -> None:
        with self.lock:
            self.calls += 1
        time.sleep(self.delay)

    def settle(self, quiet: float = 1.5, limit: float = 30) -> int:
        """Wait until no chunk has started for `quiet` seconds; the count then."""
        deadline = time.monotonic() + limit
        last, since = self.calls, time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            if self.calls != last:
                last, since = self.calls, time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return last


@pytest.mark.parametrize("fmt", ["pcm", "mp3"])
def test_client_disconnect_stops_the_generation(rest: str, engine: Engine, faulty, short_ref: Path, fmt: str) -> None:
    from inference.model.sampling import ref_text_for_model
    from inference.text import chunking

    limit = chunking.max_chunk_bytes(ref_text_for_model(REF_TEXT), engine.prepare(short_ref)[1].seconds)
    total = len(chunking.chunk_text(LONG_TEXT, limit, first_max_bytes=min(limit, engine.settings.first_chunk_bytes)))
    assert total >= 8
    counter = ChunkCounter(delay=0.3)
    faulty(counter)
    tried("rest", "fault", f"client-disconnect-{fmt}")
    with httpx.Client(timeout=60) as http:
        with http.stream(
            "POST",
            f"{rest}/v1/audio/speech",
            json={"voice": VOICE, "input": LONG_TEXT, "response_format": fmt, "nfe_step": 4, "seed": 1},
        ) as r:
            assert r.status_code == 200
            next(r.iter_raw(1024))  # the first audio arrived: now hang up
    stopped_at = counter.settle()
    assert stopped_at <= 4 < total, f"{stopped_at} of {total} chunks were generated after the client left"
    start = time.perf_counter()
    assert speech(rest).status_code == 200  # the engine is free: the next request is served at once
    assert time.perf_counter() - start < 10
    assert httpx.get(f"{rest}/health").json()["model"] == "ready"
    print(f"\n{fmt}: client left after the first audio; {stopped_at} of {total} chunks generated")


def test_closing_the_streaming_worker_stops_the_generation(
    engine: Engine, faulty, short_ref: Path, monkeypatch
) -> None:
    """What RunPod does when it cancels a streaming job: it stops iterating and closes the (async) generator."""
    import asyncio
    import base64

    from serverless.handler import Worker

    counter = ChunkCounter(delay=0.3)
    faulty(counter)
    tried("serverless", "fault", "stream-cancelled")

    async def first_then_close() -> dict:
        items = Worker(Studio(engine)).stream_handler(
            {
                "id": "s",
                "input": {
                    "text": LONG_TEXT,
                    "ref_audio_base64": base64.b64encode(short_ref.read_bytes()).decode(),
                    "ref_text": REF_TEXT,
                    "nfe_step": 4,
                    "seed": 1,
                },
            }
        )
        first = await anext(items)
        await items.aclose()
        return first

    first = asyncio.run(first_then_close())
    assert "audio_base64" in first and first["total"] >= 8
    stopped_at = counter.settle()
    assert stopped_at <= 3 < first["total"], f"{stopped_at} of {first['total']} chunks generated after the close"


def test_rest_overload_is_refused_as_busy_and_health_keeps_answering(
    tiny_settings, engine: Engine, short_ref: Path
) -> None:
    """More speech requests than F5_QUEUE_MAX: the extra ones get 429 at once; /health never waits for them."""
    from fastapi import FastAPI

    from api.auth import Access
    from api.health import health_router
    from api.openai import openai_router

    voices = engine.settings.voices_dir
    slow = ChunkCounter(delay=0.5)  # each generation takes a while: requests pile up
    e = Engine(tiny_settings.replace(voices_dir=voices), hooks=EngineHooks(fault=slow))
    voices.mkdir(parents=True, exist_ok=True)
    shutil.copy(short_ref, voices / f"{VOICE}.wav")
    (voices / f"{VOICE}.txt").write_text(REF_TEXT, encoding="utf-8")
    app = FastAPI()
    app.include_router(health_router(Studio(e), Access()))
    app.include_router(openai_router(Studio(e), max_in_progress=2))
    tried("rest", "fault", "overload")
    statuses: list[int] = []
    health_s: list[float] = []
    with serve(app) as base:
        assert speech(base).status_code == 200  # loaded

        def client() -> None:
            response = speech(base)
            if response.status_code == 429:
                assert_clear(response.json()["error"]["message"], "busy.*try again")
                assert response.json()["error"]["code"] == "rate_limit_exceeded"  # as OpenAI's rate limits
                assert response.json()["error"]["type"] == "requests"
                assert response.headers["retry-after"].isdigit()  # when to try again
            statuses.append(response.status_code)

        threads = [threading.Thread(target=client) for _ in range(8)]
        for t in threads:
            t.start()
        assert wait_until(lambda: e.active == 2), "two generations never ran at once"  # the others are refused
        for _ in range(3):
            start = time.perf_counter()
            assert httpx.get(f"{base}/health", timeout=10).status_code == 200
            health_s.append(time.perf_counter() - start)
        for t in threads:
            t.join(timeout=120)
        assert speech(base).status_code == 200  # slots were given back
    assert sorted(set(statuses)) == [200, 429] and statuses.count(200) >= 2, statuses
    assert max(health_s) < 1.0, health_s
