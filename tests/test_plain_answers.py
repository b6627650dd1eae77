"""What a client meets at the edges, each through the interface where it showed: plain, bounded answers.

| where | what a client sends or meets | what it gets |
|---|---|---|
| REST | `cfg_strength: NaN`, `speed: true`, `speed: "2"`, `nfe_step: true` | 400 naming the field and its range |
| REST | more speech requests than F5_QUEUE_MAX | 429 typed as OpenAI's rate limits, with Retry-After |
| REST | an unknown voice, with 40 saved | 404 naming at most 10 voices and how many more |
| REST | the per-chunk check on a long text (Chinese at the text limit) | X-Check at most CHECK_HEADER_MAX bytes |
| Gradio | a file path it did not upload (relative, with a null byte) | one plain sentence: no server path, no cwd |
| Gradio | a full queue | 503 with Retry-After and what to do (gradio_client still reads the 503) |
| UI | downloads from two studios on one host | each writes, prunes and removes only its own folder |
| log | each refused input | one line, no traceback |
| engine | a voices folder that cannot be created | the reason, without the folder's path |
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from inference import Engine, EngineSettings, InputError, Studio
from inference.types import ChunkCheck
from tests.badinputs import assert_clear, serve
from tests.conftest import REF_TEXT
from tests.live import REPO, run_app

# ---- REST ---------------------------------------------------------------------------------------------------------


def rest_app(voices: Path, max_in_progress: int = 4, engine: Engine | None = None) -> httpx.Client:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.openai import openai_router

    app = FastAPI()
    engine = engine or Engine(EngineSettings(voices_dir=voices))
    app.include_router(openai_router(Studio(engine), max_in_progress=max_in_progress))
    return TestClient(app)


def post_raw(http: httpx.Client, fields: str) -> httpx.Response:
    """A speech request whose extra fields are written as JSON text (NaN as JavaScript's literal)."""
    body = '{"voice": "nobody", "input": "Hello there.", ' + fields + "}"
    return http.post("/v1/audio/speech", content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("fields", "param", "says"),
    [
        ('"cfg_strength": NaN', "cfg_strength", "from 0 to 10, not nan"),
        ('"cfg_strength": Infinity', "cfg_strength", "from 0 to 10, not inf"),
        ('"speed": true', "speed", "speed must be a number from 0.25 to 4"),
        ('"speed": NaN', "speed", "speed must be a number from 0.25 to 4"),
        ('"speed": "2"', "speed", "speed must be a number"),
        ('"nfe_step": true', "nfe_step", "whole number from 4 to 64"),
        ('"check": 1', "check", "true or false"),
    ],
)
def test_rest_refuses_non_numbers_with_the_fields_range(tmp_path: Path, fields: str, param: str, says: str) -> None:
    response = post_raw(rest_app(tmp_path), fields)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error", error
    assert says in assert_clear(error["message"]) and "should be" not in error["message"], error


def test_rest_still_takes_whole_floats_and_seed_minus_one(tmp_path: Path) -> None:
    """Lenient where every interface is: 16.0 steps, seed -1 (pick one); they reach the voice lookup (404)."""
    response = post_raw(rest_app(tmp_path), '"nfe_step": 16.0, "seed": -1, "speed": 4')
    assert response.status_code == 404, response.text


def test_rest_busy_is_typed_as_openai_rate_limits(tmp_path: Path) -> None:
    import openai

    response = post_raw(rest_app(tmp_path, max_in_progress=0), '"seed": 1')  # no room at all: every POST is busy
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["type"] == "requests" and error["code"] == "rate_limit_exceeded", error
    assert_clear(error["message"], "busy.*[Tt]ry again")
    assert response.headers["retry-after"].isdigit()
    client = openai.OpenAI(
        base_url="http://testserver/v1", api_key="x", max_retries=0, http_client=response_client(response)
    )
    with pytest.raises(openai.RateLimitError):
        client.audio.speech.create(model="tts-1", voice="alice", input="Hi.")


def response_client(response: httpx.Response) -> httpx.Client:
    """An httpx client that answers every request with `response`: what the openai client makes of it."""
    return httpx.Client(
        transport=httpx.MockTransport(
            lambda _: httpx.Response(response.status_code, headers=response.headers, content=response.content)
        )
    )


def test_rest_unknown_voice_names_a_bounded_few(tmp_path: Path) -> None:
    names = [f"voice{i:02d}" for i in range(40)]
    for name in names:
        (tmp_path / f"{name}.wav").write_bytes(b"")  # listed by name: nothing is read
    response = post_raw(rest_app(tmp_path), '"seed": 1')
    assert response.status_code == 404
    message = assert_clear(response.json()["error"]["message"])
    assert "nobody" in message and "voice00" in message and "voice09" in message
    assert "voice10" not in message and "30 more" in message, message
    huge = post_raw(rest_app(tmp_path), '"voice": "' + "x" * 5000 + '"')  # the last "voice" wins
    # a name longer than any voice's is refused as such (400), and not echoed whole
    assert huge.status_code == 400 and len(huge.json()["error"]["message"]) < 500


def chunk_checks(chunks: int, chars: int) -> list[ChunkCheck]:
    text = "我有三个苹果。" * (chars // 7)
    return [ChunkCheck(i, text, text, 0.1, 1000 + i, 2, (0.3, 0.1)) for i in range(chunks)]


def test_x_check_stays_small_at_the_text_limit() -> None:
    """The longest text (F5_MAX_TEXT_CHARS of Chinese, ~135 characters a chunk) was ~80 KB of X-Check."""
    from api.openai.serving import CHECK_HEADER_MAX, check_header
    from inference import check_summary

    short = chunk_checks(2, 14)
    assert json.loads(check_header(short)) == check_summary(short)  # a short take: the whole report, as before
    limit = EngineSettings().max_text_chars
    for chunks in (5, limit // 135, limit):  # scores fit; then only the totals do
        checks = chunk_checks(chunks, limit // chunks)
        header = check_header(checks)
        assert len(header) <= CHECK_HEADER_MAX and header.isascii(), (chunks, len(header))
        report = json.loads(header)
        assert report["worst_wer"] == 0.1 and report["retried"] == chunks and "sse" in report["details"]
        if isinstance(report["chunks"], list):
            assert [c["seed"] for c in report["chunks"]] == [c.seed for c in checks]
            assert all("text" not in c for c in report["chunks"])
        else:
            assert report["chunks"] == chunks


def test_rest_x_check_header_at_the_text_limit(tmp_path: Path, short_ref: Path, monkeypatch) -> None:
    """Through REST: Chinese text at F5_MAX_TEXT_CHARS with the check on. The engine's take is stood in for (its
    chunks of ~135 characters, each checked: what the engine returns), so that only the header is measured."""
    from types import SimpleNamespace

    import numpy as np

    from api.openai.serving import CHECK_HEADER_MAX

    (tmp_path / "alice.wav").write_bytes(short_ref.read_bytes())
    (tmp_path / "alice.txt").write_text(REF_TEXT, encoding="utf-8")
    engine = Engine(EngineSettings(voices_dir=tmp_path))

    def synthesize(request, progress=None):  # Engine.synthesize's signature
        chunks = [request.text[i : i + 135] for i in range(0, len(request.text), 135)]
        checks = tuple(ChunkCheck(i, c, c, 0.1, 7 + i, 2, (0.3, 0.1)) for i, c in enumerate(chunks))
        return SimpleNamespace(wave=np.zeros(2400, np.float32), sample_rate=24000, seed=7, checks=checks, ref_notes=())

    monkeypatch.setattr(engine, "synthesize", synthesize)
    text = ("我有三个苹果。" * engine.settings.max_text_chars)[: engine.settings.max_text_chars]
    body = {"voice": "alice", "input": text, "check": True, "response_format": "wav", "seed": 7}
    response = rest_app(tmp_path, engine=engine).post("/v1/audio/speech", json=body)
    assert response.status_code == 200, response.text
    header = response.headers["x-check"]
    assert len(header) <= CHECK_HEADER_MAX, len(header)
    report, chunks = json.loads(header), -(-len(text) // 135)
    assert report["checked"] and report["retried"] == chunks and "speech.check" in report["details"]
    assert [c["seed"] for c in report["chunks"]] == [7 + i for i in range(chunks)]  # every chunk's scores still fit


# ---- the engine -----------------------------------------------------------------------------------------------------


def test_voice_errors_keep_server_paths_to_the_log(tmp_path: Path, short_ref: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    engine = Engine(EngineSettings(voices_dir=blocker / "voices"))
    with pytest.raises(InputError) as info:
        engine.save_voice("bob", str(short_ref), REF_TEXT)
    assert str(tmp_path) not in str(info.value) and "cannot be created" in str(info.value), info.value


# ---- Gradio, the log, downloads -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live(tiny, tmp_path_factory, short_ref: Path):
    work = tmp_path_factory.mktemp("plain")
    voices = work / "voices"
    voices.mkdir()
    (voices / "alice.wav").write_bytes(short_ref.read_bytes())
    (voices / "alice.txt").write_text(REF_TEXT, encoding="utf-8")
    log = work / "app.log"
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices)}, log_path=log) as (base, _):
        yield {"base": base, "log": log}


def gradio_call(base: str, api: str, data: list) -> str:
    """Gradio's /call API: the error message of a call that fails (the test fails if it succeeds)."""
    start = httpx.post(f"{base}/gradio_api/call/{api}", json={"data": data}, timeout=30)
    assert start.status_code == 200, start.text
    events = httpx.get(f"{base}/gradio_api/call/{api}/{start.json()['event_id']}", timeout=60).text
    assert "event: error" in events, events[:500]
    return json.loads(events.split("data: ")[-1].strip())["error"]


def wait_for_lines(log: Path, count: int, timeout: float = 30) -> list[str]:
    """The log's lines once it has at least `count` (it is written by another process)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = log.read_text(errors="replace").splitlines()
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.mark.e2e
def test_gradio_refuses_files_it_did_not_upload_in_plain_words(live: dict) -> None:
    for path in ("voice.wav", "../voice.wav", "voice\x00.wav", "/etc/passwd\x00.wav"):
        message = gradio_call(live["base"], "transcribe", [{"path": path, "meta": {"_type": "gradio.FileData"}}])
        assert_clear(message, "not uploaded by a user")
        assert str(REPO) not in message and "null byte" not in message and "gradio cache" not in message, message


@pytest.mark.e2e
def test_each_refused_input_is_one_log_line(live: dict) -> None:
    refusals = {
        "path": ("transcribe", [{"path": "voice.wav", "meta": {"_type": "gradio.FileData"}}]),
        "voice": ("delete_voice", ["nobody"]),
        "option": ("normalize_text", ["Hi.", "", "maybe"]),
    }
    for name, (api, data) in refusals.items():
        before = len(live["log"].read_text(errors="replace").splitlines())
        assert_clear(gradio_call(live["base"], api, data))
        added = wait_for_lines(live["log"], before + 1)[before:]
        assert len(added) == 1 and "refused" in added[0], (name, added)


@pytest.mark.e2e
def test_a_full_gradio_queue_says_when_to_try_again() -> None:
    """One generation at a time, one waiting: the third is refused by Gradio's queue, as a 503 that says what to do
    and when (Retry-After). The generation is held on an event, so the queue is full exactly then."""
    import gradio as gr
    from fastapi import FastAPI

    from ui.mount import mount

    started, release = threading.Event(), threading.Event()

    def slow(text: str) -> str:
        started.set()
        release.wait(30)
        return text

    with gr.Blocks() as demo:
        box = gr.Textbox()
        box.submit(slow, box, box, api_name="slow")
    demo.queue(default_concurrency_limit=1, max_size=1)
    app = mount(FastAPI(), demo, auth=None, max_file_size=1 << 20, mcp=False, allow_remote_urls=False)
    try:
        with serve(app) as base:
            join = lambda: httpx.post(f"{base}/gradio_api/call/slow", json={"data": ["hi"]}, timeout=30)  # noqa: E731
            assert join().status_code == 200
            assert started.wait(30)  # the first is running; the second waits in the queue
            assert join().status_code == 200
            full = join()
            assert full.status_code == 503, full.text
            assert full.headers["retry-after"].isdigit()
            assert_clear(full.json()["detail"], "busy.*[Tt]ry again")
    finally:
        release.set()


def test_two_studios_on_one_host_keep_their_own_downloads(tmp_path: Path) -> None:
    code = (
        "import sys; from ui import history; "
        "p = history.export_file('take-1.wav', b'x'); print(p.parent.parent); sys.stdout.flush(); sys.stdin.readline()"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    studios = [
        subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    folders = [Path(s.stdout.readline().decode().strip()) for s in studios]  # both have exported: both still run
    assert folders[0] != folders[1] and all(f.parent == tmp_path and f.is_dir() for f in folders), folders
    assert all(len(list(f.iterdir())) == 1 for f in folders)
    studios[0].communicate(b"\n", timeout=60)  # the first exits: its folder goes, the other's stays
    assert not folders[0].exists() and len(list(folders[1].iterdir())) == 1
    studios[1].communicate(b"\n", timeout=60)
    assert not folders[1].exists()


def test_the_speech_text_is_checked_once(engine: Engine, short_ref: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The OpenAI path checks `input` once (the studio, as the generation starts), not once per layer."""
    import inference.engine
    import inference.text

    calls: list[str] = []

    def counted(text: str, limit: int) -> str:
        calls.append(text)
        return inference.text.validate_text(text, limit)

    monkeypatch.setattr(inference.engine, "validate_text", counted)
    engine.voices.save("checked-once", short_ref.read_bytes(), REF_TEXT, overwrite=True)
    try:
        body = {"model": "f5-tts", "voice": "checked-once", "input": "Hello there.", "response_format": "wav"}
        response = rest_app(short_ref.parent, engine=engine).post("/v1/audio/speech", json=body)
    finally:
        engine.voices.delete("checked-once")
    assert response.status_code == 200, response.text
    assert calls == ["Hello there."]
