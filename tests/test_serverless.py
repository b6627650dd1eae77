"""The RunPod serverless worker (serverless/handler.py) on the tiny random model, offline.

Direct calls of the handlers with fake jobs (contract, formats, seeds, errors, payload limits, streaming), then the
runpod SDK's own local modes as subprocesses: `--test_input` and the `--rp_serve_api` development server.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, EngineSettings
from tests.conftest import REF_TEXT, serverless_worker

REPO = Path(__file__).resolve().parent.parent
HANDLER = REPO / "serverless" / "handler.py"
FAST = {"nfe_step": 4, "seed": 123}  # the fewest steps: the tiny model is random anyway
OUTPUT_KEYS = {"audio_base64", "sample_rate", "duration", "seed", "ref_text", "spoken_text", "ref_notes"}  # a take


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(output: dict) -> tuple[np.ndarray, int]:
    wave, sr = sf.read(io.BytesIO(base64.b64decode(output["audio_base64"])), dtype="float32")
    return wave, sr


@pytest.fixture(scope="module")
def voices_dir(tmp_path_factory: pytest.TempPathFactory, short_ref: Path) -> Path:
    folder = tmp_path_factory.mktemp("serverless-voices")
    shutil.copy(short_ref, folder / "bob.wav")
    (folder / "bob.txt").write_text(REF_TEXT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def worker_env(tiny: dict[str, Path], voices_dir: Path) -> dict[str, str]:
    """The environment a worker subprocess (or EngineSettings.from_env) gets: the tiny model, offline, our voices."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "F5_"))}
    env.update(
        F5_MODEL=str(tiny["yaml"]),
        VOICES_DIR=str(voices_dir),
        HF_HUB_OFFLINE="1",
        F5_DEVICE="cpu",
        PYTHONPATH=str(REPO),
        UVICORN_LOG_LEVEL="warning",
    )
    return env


@pytest.fixture(scope="module")
def worker_engine(worker_env: dict[str, str]) -> Engine:
    return Engine(EngineSettings.from_env(worker_env))


@pytest.fixture
def h(worker_engine: Engine):
    """The serverless worker on the tiny-model engine, with the default payload limits."""
    return serverless_worker(worker_engine)


@pytest.fixture(scope="module")
def ref_b64(short_ref: Path) -> str:
    return b64(short_ref.read_bytes())


def run(h, **inputs) -> dict:
    return h.handler({"id": "test-job", "input": inputs})


# ---- import and environment -------------------------------------------------------------------------------------
def test_importing_the_handler_builds_nothing_and_loads_no_model_code() -> None:
    code = (
        "import os, sys; before = dict(os.environ); import serverless.handler as h; "
        "assert dict(os.environ) == before and not any(isinstance(v, h.Engine) for v in vars(h).values()); "
        "w = h.worker_from_env(); assert w.studio.status().state == 'not_loaded'; "
        "print(sorted(m for m in ('torch', 'f5_tts', 'transformers', 'vocos', 'runpod') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_runpod_volume_is_used_only_when_mounted_and_never_over_set_values(tmp_path: Path) -> None:
    from serverless.handler import use_runpod_volume

    volume = tmp_path / "runpod-volume"
    env: dict[str, str] = {}
    use_runpod_volume(env, volume)
    assert env == {}  # not mounted: nothing changes
    volume.mkdir()
    env = {"HF_HOME": ""}
    use_runpod_volume(env, volume)
    assert env == {"HF_HOME": str(volume / "hf"), "VOICES_DIR": str(volume / "voices")}
    env = {"HF_HOME": "/models", "VOICES_DIR": "/data/voices"}
    use_runpod_volume(env, volume)
    assert env == {"HF_HOME": "/models", "VOICES_DIR": "/data/voices"}


# ---- the contract -----------------------------------------------------------------------------------------------
def test_reference_audio_gives_audio_with_the_declared_rate_and_duration(h, ref_b64: str) -> None:
    out = run(h, text="Hello world, this is a test.", ref_audio_base64=ref_b64, ref_text=REF_TEXT, **FAST)
    assert set(out) == OUTPUT_KEYS, out.get("error")
    wave, sr = decode(out)
    assert sr == out["sample_rate"] == 24000
    assert wave.ndim == 1 and len(wave) > 0
    assert out["duration"] == pytest.approx(len(wave) / sr, abs=1e-3)
    assert (out["seed"], out["ref_text"]) == (123, REF_TEXT)


def test_saved_voice_matches_the_same_reference_sent_inline(h, ref_b64: str) -> None:
    by_name = run(h, text="Hello world, this is a test.", voice="bob", **FAST)
    assert "error" not in by_name, by_name
    assert by_name["ref_text"] == REF_TEXT  # the saved transcript
    inline = run(h, text="Hello world, this is a test.", ref_audio_base64=ref_b64, ref_text=REF_TEXT, **FAST)
    assert np.array_equal(decode(by_name)[0], decode(inline)[0])  # the same audio (each file has its own mark id)


def test_same_seed_same_audio_and_a_random_seed_is_returned(h) -> None:
    a = run(h, text="Seeds make it repeatable.", voice="bob", **FAST)
    b = run(h, text="Seeds make it repeatable.", voice="bob", **FAST)
    c = run(h, text="Seeds make it repeatable.", voice="bob", nfe_step=4)  # no seed: a random one, returned
    wa, wb, wc = (decode(o)[0] for o in (a, b, c))  # the audio: each file's tags hold its own mark id
    assert np.array_equal(wa, wb) and not (wa.shape == wc.shape and np.array_equal(wa, wc))
    assert isinstance(c["seed"], int) and 0 <= c["seed"] <= 2**31 - 1 and c["seed"] != 123


@pytest.mark.parametrize(
    ("fmt", "magic"),
    [("mp3", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xe3")), ("flac", (b"fLaC",)), ("WAV", (b"RIFF",))],
)
def test_response_formats(h, fmt: str, magic: tuple[bytes, ...]) -> None:
    out = run(h, text="Hello world, this is a test.", voice="bob", response_format=fmt, **FAST)
    assert "error" not in out, out
    assert base64.b64decode(out["audio_base64"]).startswith(magic)
    wave, sr = decode(out)
    assert sr == out["sample_rate"] == 24000
    assert len(wave) / sr == pytest.approx(out["duration"], abs=0.08)  # mp3 frames pad the end a little


def test_mp3_falls_back_to_ffmpeg_without_libsndfile_mp3(h, monkeypatch: pytest.MonkeyPatch) -> None:
    import inference.audio.encode as encode

    assert shutil.which("ffmpeg"), "ffmpeg is required (make test installs it)"
    monkeypatch.setattr(encode.sf, "available_formats", lambda: {"WAV": "", "FLAC": ""})
    tone = (0.3 * np.sin(np.arange(24000) * 0.05)).astype(np.float32)
    wave, sr = sf.read(io.BytesIO(encode.encode_audio(tone, 24000, "mp3")))
    assert sr == 24000 and abs(len(wave) / sr - 1.0) < 0.1


def test_empty_ref_text_is_transcribed(h, worker_engine: Engine, ref_b64: str, monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeWhisper:
        def transcribe(self, wave: np.ndarray, sample_rate: int, language: str | None = None) -> str:
            return "Words heard by the fake Whisper."

    monkeypatch.setattr(worker_engine, "transcriber", FakeWhisper())
    monkeypatch.setattr(worker_engine, "_transcripts", type(worker_engine._transcripts)(4))  # nothing cached
    # A data: URL prefix and line-wrapped base64 (as `base64` writes it) are accepted too.
    wrapped = "data:audio/wav;base64," + "\n".join(ref_b64[i : i + 76] for i in range(0, len(ref_b64), 76))
    out = run(h, text="Hello.", ref_audio_base64=wrapped, ref_text="", **FAST)
    assert out.get("ref_text") == "Words heard by the fake Whisper.", out


# ---- errors -----------------------------------------------------------------------------------------------------
BAD_INPUTS = [
    ("not an object", "must be a JSON object"),
    (None, "must be a JSON object"),
    ({"text": "Hi.", "voice": "bob", "foo": 1, "bar": 2}, "Unknown input keys: 'bar', 'foo'"),
    ({"voice": "bob"}, "no 'text'"),
    ({"text": 5, "voice": "bob"}, "'text' must be a string"),
    ({"text": "", "voice": "bob"}, "There is no text to speak"),
    ({"text": "Hi.", "voice": 3}, "'voice' must be a string"),
    ({"text": "Hi.", "voice": "bob", "ref_audio_base64": "UklGRg=="}, "Both 'voice' and 'ref_audio_base64'"),
    ({"text": "Hi."}, "No voice was given"),
    ({"text": "Hi.", "ref_text": "words"}, "No voice was given"),
    ({"text": "Hi.", "voice": "bob", "ref_text": "words"}, "'ref_text' goes with 'ref_audio_base64'"),
    ({"text": "Hi.", "voice": "nobody"}, "no saved voice called 'nobody'. Saved voices: bob"),
    ({"text": "Hi.", "ref_audio_base64": "not base64!!", "ref_text": "x"}, "not valid base64"),
    ({"text": "Hi.", "ref_audio_base64": "", "ref_text": "x"}, "'ref_audio_base64' is empty"),
    ({"text": "Hi.", "ref_audio_base64": b64(b"junk" * 100), "ref_text": "x"}, "could not read this file as audio"),
    ({"text": "Hi.", "ref_audio_base64": ["UklGRg=="]}, "'ref_audio_base64' must be a string"),
    (
        {"text": "Hi.", "voice": "bob", "response_format": "ogg"},
        "Unknown response_format 'ogg'. Use one of: mp3, opus, aac, flac, wav, pcm",
    ),
    ({"text": "Hi.", "voice": "bob", "response_format": 3}, "Unknown response_format 3"),
    ({"text": "Hi.", "voice": "bob", "nfe_step": "fast"}, "nfe_step must be a whole number from 4 to 64"),
    ({"text": "Hi.", "voice": "bob", "speed": 10}, "speed=10 is out of range"),
    ({"text": "Hi.", "voice": "bob", "seed": 2**31}, "seed=2147483648 is out of range"),
    ({"text": "Hi.", "voice": "bob", "seed": True}, "seed must be a whole number"),
    ({"text": "Hi.", "voice": "bob", "cfg_strength": "2"}, "cfg_strength must be a number"),
    ({"text": "Hi.", "voice": "bob", "remove_silence": "yes"}, "remove_silence must be true or false"),
    ({"text": "Hi.", "voice": "bob", "nfe_step": 7.5}, "nfe_step must be a whole number from 4 to 64, not 7.5"),
    ({"text": "Hi.", "voice": "bob", "speed": float("nan")}, "speed must be a number from 0.3 to 3, not nan"),
    ({"text": "Hi.", "voice": "bob", "stream": "yes"}, "'stream' must be true or false"),
    ({"text": "Hi.", "voice": "bob", "stream": True}, "does not stream"),
]


@pytest.mark.parametrize(("inputs", "message"), BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_input_is_an_error_message_not_a_crash(h, inputs: object, message: str) -> None:
    out = h.handler({"id": "bad", "input": inputs})
    assert set(out) == {"error"} and message in out["error"], out


def test_a_job_without_input_is_an_error(h) -> None:
    assert "must be a JSON object" in h.handler({"id": "x"})["error"]
    assert "must be a JSON object" in h.handler("junk")["error"]  # type: ignore[arg-type]


def test_unexpected_failure_is_reported_by_type_and_logged(h, worker_engine: Engine, monkeypatch, caplog) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(worker_engine, "synthesize", boom)
    out = run(h, text="Hi.", voice="bob")
    assert out["error"].startswith("Generation failed: RuntimeError.") and "secret" not in out["error"]
    assert "job test-job failed" in caplog.text and "secret internals" in caplog.text  # with the traceback


def test_model_unavailable_and_bad_settings_are_messages(worker_env, tmp_path: Path) -> None:
    from serverless.handler import worker_from_env

    missing = tmp_path / "missing.safetensors"
    w = serverless_worker(Engine(EngineSettings.from_env({**worker_env, "F5_CKPT": str(missing)})))
    out = run(w, text="Hi.", voice="bob", **FAST)
    assert set(out) == {"error"} and str(missing) in out["error"] and "does not exist" in out["error"]
    for var, value, words in [
        ("F5_DEVICE", "gpu", "F5_DEVICE='gpu' is not a device"),
        ("RUNPOD_MAX_PAYLOAD_MB", "ten", "RUNPOD_MAX_PAYLOAD_MB='ten' is not a number"),
    ]:
        misconfigured = serverless_worker(None)
        misconfigured.worker = worker_from_env({**worker_env, var: value})
        assert f"worker is misconfigured: {words}" in run(misconfigured, text="Hi.", voice="bob")["error"]


# ---- payload limits ---------------------------------------------------------------------------------------------
def test_reference_over_the_payload_limit_is_refused(worker_engine: Engine, ref_b64: str) -> None:
    w = serverless_worker(worker_engine, max_payload_mb=0.05)  # the reference is ~0.16 MB as base64
    out = run(w, text="Hi.", ref_audio_base64=ref_b64, ref_text=REF_TEXT, **FAST)
    assert "a request may carry at most 0.05 MB (RunPod: 10 MB for /run, 20 MB for /runsync)" in out["error"]
    assert "5 to 12 seconds" in out["error"]


def test_default_payload_limit_is_10_mb(h) -> None:
    too_big = "A" * (10 * 1_000_000 + 4)
    assert "at most 10 MB" in run(h, text="Hi.", ref_audio_base64=too_big)["error"]


def test_output_over_the_limit_suggests_a_smaller_format(worker_engine: Engine) -> None:
    h = serverless_worker(worker_engine, max_output_mb=0.001)
    out = run(h, text="Hello world, this is a test.", voice="bob", **FAST)
    assert set(out) == {"error"} and "RunPod returns at most 0.001 MB per job" in out["error"]
    assert "response_format mp3" in out["error"] and "shorter text" in out["error"]


# ---- streaming --------------------------------------------------------------------------------------------------
def test_stream_handler_yields_one_item_per_chunk_that_join_into_the_whole(h, monkeypatch) -> None:
    from inference.text import chunking

    text = "One two three four. Five six seven eight. Nine ten eleven twelve."
    expected = len(chunking.chunk_text(text, 20))
    monkeypatch.setattr(chunking, "max_chunk_bytes", lambda *args, **kwargs: 20)  # short text, several chunks
    items = h.stream_handler({"id": "s", "input": {"text": text, "voice": "bob", **FAST}})
    assert all("error" not in item for item in items), items[-1]
    assert len(items) == expected > 1
    assert [i["index"] for i in items] == list(range(len(items))) and {i["total"] for i in items} == {len(items)}
    assert all(
        set(i) == {"index", "total", "audio_base64", "sample_rate", "duration", "seed", "ref_text", "text", "ref_notes"}
        for i in items
    )
    assert {(i["seed"], i["ref_text"], i["sample_rate"]) for i in items} == {(123, REF_TEXT, 24000)}
    json.dumps(items)  # what RunPod sends back must be plain JSON
    pieces = [decode(i)[0] for i in items]
    assert all(decode(i)[1] == 24000 for i in items)
    whole, _ = decode(run(h, text=text, voice="bob", **FAST))
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


def test_stream_handler_without_streaming_and_with_errors(h, worker_engine: Engine) -> None:
    (single,) = h.stream_handler({"id": "s", "input": {"text": "Hi there.", "voice": "bob", "stream": False, **FAST}})
    assert set(single) == OUTPUT_KEYS
    assert h.stream_handler({"id": "s", "input": {"text": "Hi.", "voice": "nobody"}}) == [
        {"error": "There is no saved voice called 'nobody'. Saved voices: bob."}
    ]
    small = serverless_worker(worker_engine, max_output_mb=0.001)
    items = small.stream_handler({"id": "s", "input": {"text": "Hi there.", "voice": "bob", **FAST}})
    # refused before anything is generated or streamed: the output could not carry it (test_bounds.py has more)
    assert len(items) == 1 and set(items[0]) == {"error"} and "send shorter text" in items[0]["error"], items


# ---- the runpod SDK's local modes, as subprocesses ----------------------------------------------------------------
def _worker(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HANDLER), *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sdk_test_input_mode(worker_env: dict[str, str]) -> None:
    job = {"input": {"text": "Hello from the command line.", "voice": "bob", **FAST}}
    good = _worker(worker_env, "--test_input", json.dumps(job))  # both at once: they mostly wait on imports
    bad = _worker(worker_env, "--test_input", json.dumps({"input": {"text": "Hi."}}))
    out, bad_out = good.communicate(timeout=180)[0], bad.communicate(timeout=180)[0]
    assert good.returncode == 0, out[-3000:]
    assert "completed successfully" in out and "'audio_base64': 'UklGR" in out  # a WAV, base64
    assert "'sample_rate': 24000" in out and "'seed': 123" in out
    assert bad.returncode == 1 and "failed with error: No voice was given" in bad_out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, payload: dict | None = None) -> dict:
    body = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _wait_until_serving(proc: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/openapi.json", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the API server did not start:\n{proc.communicate(timeout=10)[0][-3000:]}")
            time.sleep(0.3)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_sdk_local_api_server(worker_env: dict[str, str]) -> None:
    """`--rp_serve_api`: RunPod's development server, for the plain worker and (F5_SERVERLESS_STREAM=1) the
    streaming one. Both start at once; only the plain one generates (the streaming path is covered above)."""
    plain_port, stream_port = _free_port(), _free_port()
    serve = ("--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port")
    plain = _worker({**worker_env, "F5_SERVERLESS_STREAM": "0"}, *serve, str(plain_port))
    streaming = _worker({**worker_env, "F5_SERVERLESS_STREAM": "1"}, *serve, str(stream_port))
    try:
        base = f"http://127.0.0.1:{plain_port}"
        _wait_until_serving(plain, base)
        good = _post(f"{base}/runsync", {"input": {"text": "Hello over HTTP.", "voice": "bob", **FAST}})
        assert good["status"] == "COMPLETED", good
        assert set(good["output"]) == OUTPUT_KEYS
        wave, sr = decode(good["output"])
        assert sr == 24000 and len(wave) / sr == pytest.approx(good["output"]["duration"], abs=1e-3)
        bad = _post(f"{base}/runsync", {"input": {"text": "Hello.", "voice": "bob", "colour": "blue"}})
        assert bad["status"] == "FAILED" and bad["error"].startswith("Unknown input key: 'colour'."), bad

        base = f"http://127.0.0.1:{stream_port}"
        _wait_until_serving(streaming, base)
        # A generator handler: the output is the list of yielded items. The dev server passes an error item through
        # as output (RunPod itself marks such a job FAILED with that message).
        bad = _post(f"{base}/runsync", {"input": {"text": "Hello.", "voice": "nobody"}})
        assert bad["output"] == [{"error": "There is no saved voice called 'nobody'. Saved voices: bob."}], bad
        queued = _post(f"{base}/run", {"input": {"text": "Hello.", "voice": "bob", "stream": "yes"}})
        streamed = _post(f"{base}/stream/{queued['id']}")
        assert streamed["stream"] == [
            {"output": {"error": "'stream' must be true or false, not 'yes'. Send a JSON boolean."}}
        ], streamed
    finally:
        _stop(plain)
        _stop(streaming)
