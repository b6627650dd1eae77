"""Abandoned non-streamed work stops (#21): a dropped OpenAI request for a whole file (flac, or `check`), and a
gradio_client `job.cancel()` on /synthesize, cancel the engine's chunks instead of running the take to the end, and
the slot they held is free at once for the next visitor (with F5_QUEUE_MAX=1: no 429)."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from inference import Engine
from tests.badinputs import serve
from tests.conftest import REF_TEXT
from tests.test_faults import ChunkCounter

LONG_TEXT = " ".join(f"This is sentence number {i}, spoken by the cloned voice." for i in range(80))  # ~13 chunks
VOICE = "abandoned-alice"


class Chunks(ChunkCounter):
    """ChunkCounter (counts generated chunks, slows each) that also says when the first one started."""

    def __init__(self) -> None:
        super().__init__(delay=0.3)
        self.started = threading.Event()

    def __call__(self, item) -> None:
        self.started.set()
        super().__call__(item)


def perfect(wave, sample_rate, text):  # a check that passes every chunk at once (no Whisper needed)
    return 0.0, text


@pytest.fixture
def counted(engine: Engine):
    engine.fault_hook, engine.check_scorer = (chunks := Chunks()), perfect
    yield chunks
    engine.fault_hook, engine.check_scorer = None, None


@pytest.fixture(scope="module")
def rest(engine: Engine, short_ref: Path):
    """The REST routes in this process on the shared engine, one speech request in progress at a time."""
    from fastapi import FastAPI

    from api.openai import openai_router

    engine.voices.save(VOICE, short_ref.read_bytes(), REF_TEXT, overwrite=True)
    app = FastAPI()
    app.include_router(openai_router(engine, max_in_progress=1))
    with serve(app) as base:
        yield base
    engine.voices.delete(VOICE)


def drop_after_first_chunk(base: str, body: dict, chunks: Chunks) -> None:
    """Send a speech request, wait until its first chunk is being generated, then hang up."""
    payload = json.dumps(body).encode()
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(
            b"POST /v1/audio/speech HTTP/1.1\r\nHost: studio\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        assert chunks.started.wait(60)


@pytest.mark.parametrize(
    "fields", [{"response_format": "flac"}, {"response_format": "wav", "check": True}], ids=["flac", "check"]
)
def test_a_dropped_whole_file_request_stops_and_frees_its_slot(rest: str, counted: Chunks, fields: dict) -> None:
    body = {"voice": VOICE, "input": LONG_TEXT, "nfe_step": 4, "seed": 1, **fields}
    drop_after_first_chunk(rest, body, counted)
    stopped_at = counted.settle()
    assert stopped_at <= 3, f"{stopped_at} chunks were generated after the client left (about 13 in the text)"
    start = time.perf_counter()
    short = {**body, "input": "Hello there."}
    r = httpx.post(f"{rest}/v1/audio/speech", json=short, timeout=60)
    assert r.status_code == 200, r.text  # the slot was freed: not 429 busy
    print(
        f"\n{fields}: {stopped_at} chunks generated after the client left; "
        f"next request {time.perf_counter() - start:.1f} s"
    )
