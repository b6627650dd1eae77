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

from inference import Engine, Settings
from tests.conftest import REF_TEXT

REPO = Path(__file__).resolve().parent.parent
HANDLER = REPO / "serverless" / "handler.py"
FAST = {"nfe_step": 7, "seed": 123}
LONG_TEXT = " ".join(["This sentence is here to make the text long enough to be split into several chunks."] * 6)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(output: dict) -> tuple[np.ndarray, int]:
    wave, sr = sf.read(io.BytesIO(base64.b64decode(output["audio_base64"])), dtype="float32")
    return wave, sr


@pytest.fixture(scope="module")
def voices_dir(tmp_path_factory: pytest.TempPathFactory, ref_wav: Path) -> Path:
    folder = tmp_path_factory.mktemp("serverless-voices")
    shutil.copy(ref_wav, folder / "bob.wav")
    (folder / "bob.txt").write_text(REF_TEXT, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def worker_env(tiny: dict[str, Path], voices_dir: Path) -> dict[str, str]:
    """The environment a worker subprocess (or Settings.from_env) gets: the tiny model, offline, our voices."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "F5_"))}
    env.update(F5_MODEL=str(tiny["yaml"]), VOICES_DIR=str(voices_dir), HF_HUB_OFFLINE="1", F5_DEVICE="cpu",
               PYTHONPATH=str(REPO), UVICORN_LOG_LEVEL="warning")
    return env


@pytest.fixture(scope="module")
def worker_engine(worker_env: dict[str, str]) -> Engine:
    return Engine(Settings.from_env(worker_env))


@pytest.fixture
def h(worker_engine: Engine, monkeypatch: pytest.MonkeyPatch):
    """serverless.handler, using the tiny-model engine, with the default payload limits."""
    import serverless.handler as module

    monkeypatch.setattr(module, "ENGINE", worker_engine)
    for var in ("RUNPOD_MAX_PAYLOAD_MB", "RUNPOD_MAX_OUTPUT_MB"):
        monkeypatch.delenv(var, raising=False)
    return module


@pytest.fixture(scope="module")
def ref_b64(ref_wav: Path) -> str:
    return b64(ref_wav.read_bytes())


def run(h, **inputs) -> dict:
    return h.handler({"id": "test-job", "input": inputs})


# ---- import and environment -------------------------------------------------------------------------------------
def test_importing_the_handler_loads_no_model_code_and_no_runpod() -> None:
    code = ("import serverless.handler as h, sys; assert h.ENGINE is not None and h.ENGINE.status().state == "
            "'not_loaded'; print(sorted(m for m in ('torch', 'f5_tts', 'transformers', 'vocos', 'runpod') "
            "if m in sys.modules))")
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
    assert set(out) == {"audio_base64", "sample_rate", "duration", "seed", "ref_text"}, out.get("error")
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
    assert by_name["audio_base64"] == inline["audio_base64"]


def test_same_seed_same_audio_and_a_random_seed_is_returned(h) -> None:
    a = run(h, text="Seeds make it repeatable.", voice="bob", **FAST)
    b = run(h, text="Seeds make it repeatable.", voice="bob", **FAST)
    c = run(h, text="Seeds make it repeatable.", voice="bob", nfe_step=7, seed=124)
    assert a["audio_base64"] == b["audio_base64"] != c["audio_base64"]
    d = run(h, text="Seeds make it repeatable.", voice="bob", nfe_step=7)
    assert isinstance(d["seed"], int) and 0 <= d["seed"] <= 2**31 - 1
    assert run(h, text="Seeds make it repeatable.", voice="bob", nfe_step=7, seed=d["seed"])["audio_base64"] == \
        d["audio_base64"]


@pytest.mark.parametrize(("fmt", "magic"), [("mp3", (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xe3")),
                                            ("flac", (b"fLaC",)), ("WAV", (b"RIFF",))])
def test_response_formats(h, fmt: str, magic: tuple[bytes, ...]) -> None:
    out = run(h, text="Hello world, this is a test.", voice="bob", response_format=fmt, **FAST)
    assert "error" not in out, out
    assert base64.b64decode(out["audio_base64"]).startswith(magic)
    wave, sr = decode(out)
    assert sr == out["sample_rate"] == 24000
    assert len(wave) / sr == pytest.approx(out["duration"], abs=0.08)  # mp3 frames pad the end a little


def test_mp3_falls_back_to_ffmpeg_without_libsndfile_mp3(h, monkeypatch: pytest.MonkeyPatch) -> None:
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    monkeypatch.setattr(h.sf, "available_formats", lambda: {"WAV": "", "FLAC": ""})
    tone = (0.3 * np.sin(np.arange(24000) * 0.05)).astype(np.float32)
    wave, sr = sf.read(io.BytesIO(h.encode_audio(tone, 24000, "mp3")))
    assert sr == 24000 and abs(len(wave) / sr - 1.0) < 0.1


def test_empty_ref_text_is_transcribed(h, worker_engine: Engine, ref_b64: str, monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeWhisper:
        def transcribe(self, wave: np.ndarray, sample_rate: int, language: str | None = None) -> str:
            return "Words heard by the fake Whisper."

    monkeypatch.setattr(worker_engine, "transcriber", FakeWhisper())
    monkeypatch.setattr(worker_engine, "_transcripts", type(worker_engine._transcripts)(4))  # nothing cached
    # A data: URL prefix and line-wrapped base64 (as `base64` writes it) are accepted too.
    wrapped = "data:audio/wav;base64," + "\n".join(ref_b64[i:i + 76] for i in range(0, len(ref_b64), 76))
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
    ({"text": "Hi.", "voice": "bob", "response_format": "ogg"}, "Unknown response_format 'ogg'. Use one of: wav"),
    ({"text": "Hi.", "voice": "bob", "response_format": 3}, "Unknown response_format 3"),
    ({"text": "Hi.", "voice": "bob", "nfe_step": "fast"}, "nfe_step must be a whole number from 4 to 64"),
    ({"text": "Hi.", "voice": "bob", "speed": 10}, "speed=10 is out of range"),
    ({"text": "Hi.", "voice": "bob", "seed": -1}, "seed=-1 is out of range"),
    ({"text": "Hi.", "voice": "bob", "seed": True}, "seed must be a whole number"),
    ({"text": "Hi.", "voice": "bob", "cfg_strength": "2"}, "cfg_strength must be a number"),
    ({"text": "Hi.", "voice": "bob", "remove_silence": "yes"}, "'remove_silence' must be true or false"),
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


def test_model_unavailable_and_bad_settings_are_messages(h, worker_env, tmp_path: Path, monkeypatch) -> None:
    missing = tmp_path / "missing.safetensors"
    monkeypatch.setattr(h, "ENGINE", Engine(Settings.from_env({**worker_env, "F5_CKPT": str(missing)})))
    out = run(h, text="Hi.", voice="bob", **FAST)
    assert set(out) == {"error"} and str(missing) in out["error"] and "does not exist" in out["error"]
    monkeypatch.setattr(h, "ENGINE", None)
    monkeypatch.setattr(h, "CONFIG_ERROR", "F5_DEVICE='gpu' is not a device.")
    assert "worker is misconfigured: F5_DEVICE='gpu'" in run(h, text="Hi.", voice="bob")["error"]


# ---- payload limits ---------------------------------------------------------------------------------------------
def test_reference_over_the_payload_limit_is_refused(h, ref_b64: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNPOD_MAX_PAYLOAD_MB", "0.05")  # the example reference is ~0.4 MB as base64
    out = run(h, text="Hi.", ref_audio_base64=ref_b64, ref_text=REF_TEXT, **FAST)
    assert "a request may carry at most 0.05 MB (RunPod: 10 MB for /run, 20 MB for /runsync)" in out["error"]
    assert "5 to 12 seconds" in out["error"]
    monkeypatch.setenv("RUNPOD_MAX_PAYLOAD_MB", "ten")
    assert "RUNPOD_MAX_PAYLOAD_MB='ten' is not a positive number" in run(h, text="Hi.", ref_audio_base64=ref_b64)[
        "error"]


def test_default_payload_limit_is_10_mb(h) -> None:
    too_big = "A" * (10 * 1_000_000 + 4)
    assert "at most 10 MB" in run(h, text="Hi.", ref_audio_base64=too_big)["error"]


def test_output_over_the_limit_suggests_a_smaller_format(h, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNPOD_MAX_OUTPUT_MB", "0.001")
    out = run(h, text="Hello world, this is a test.", voice="bob", **FAST)
    assert set(out) == {"error"} and "RunPod returns at most 0.001 MB per job" in out["error"]
    assert "response_format mp3" in out["error"] and "shorter text" in out["error"]


# ---- streaming --------------------------------------------------------------------------------------------------
def test_stream_handler_yields_one_item_per_chunk_that_join_into_the_whole(h) -> None:
    items = list(h.stream_handler({"id": "s", "input": {"text": LONG_TEXT, "voice": "bob", **FAST}}))
    assert all("error" not in item for item in items), items[-1]
    assert len(items) > 1
    assert [i["index"] for i in items] == list(range(len(items))) and {i["total"] for i in items} == {len(items)}
    assert all(set(i) == {"index", "total", "audio_base64", "sample_rate", "duration", "seed", "ref_text"}
               for i in items)
    assert {(i["seed"], i["ref_text"], i["sample_rate"]) for i in items} == {(123, REF_TEXT, 24000)}
    pieces = [decode(i)[0] for i in items]
    assert all(decode(i)[1] == 24000 for i in items)
    whole, _ = decode(run(h, text=LONG_TEXT, voice="bob", **FAST))
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


def test_stream_handler_without_streaming_and_with_errors(h, monkeypatch: pytest.MonkeyPatch) -> None:
    (single,) = h.stream_handler({"id": "s", "input": {"text": "Hi there.", "voice": "bob", "stream": False, **FAST}})
    assert set(single) == {"audio_base64", "sample_rate", "duration", "seed", "ref_text"}
    assert list(h.stream_handler({"id": "s", "input": {"text": "Hi.", "voice": "nobody"}})) == [
        {"error": "There is no saved voice called 'nobody'. Saved voices: bob."}]
    monkeypatch.setenv("RUNPOD_MAX_OUTPUT_MB", "0.001")
    items = list(h.stream_handler({"id": "s", "input": {"text": "Hi there.", "voice": "bob", **FAST}}))
    assert set(items[-1]) == {"error"} and "The streamed audio so far" in items[-1]["error"]


# ---- the runpod SDK's local modes, as subprocesses ----------------------------------------------------------------
def test_sdk_test_input_mode(worker_env: dict[str, str]) -> None:
    job = {"input": {"text": "Hello from the command line.", "voice": "bob", **FAST}}
    ok = subprocess.run([sys.executable, str(HANDLER), "--test_input", json.dumps(job)], env=worker_env, cwd=REPO,
                        capture_output=True, text=True, timeout=180)
    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
    assert "completed successfully" in ok.stdout and "'audio_base64': 'UklGR" in ok.stdout  # a WAV, base64
    assert "'sample_rate': 24000" in ok.stdout and "'seed': 123" in ok.stdout
    bad = subprocess.run([sys.executable, str(HANDLER), "--test_input", json.dumps({"input": {"text": "Hi."}})],
                         env=worker_env, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert bad.returncode == 1 and "No voice was given" in bad.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("streaming", [False, True], ids=["plain", "streaming"])
def test_sdk_local_api_server(worker_env: dict[str, str], streaming: bool) -> None:
    port = _free_port()
    env = {**worker_env, "F5_SERVERLESS_STREAM": "1" if streaming else "0"}
    proc = subprocess.Popen([sys.executable, str(HANDLER), "--rp_serve_api", "--rp_api_host", "127.0.0.1",
                             "--rp_api_port", str(port)], env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/openapi.json", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the API server did not start:\n{proc.communicate(timeout=10)[0][-3000:]}")
                time.sleep(0.3)
        good = _post(f"{base}/runsync", {"input": {"text": "Hello over HTTP.", "voice": "bob", **FAST}})
        assert good["status"] == "COMPLETED", good
        items = good["output"] if streaming else [good["output"]]  # a streaming worker's output is its item list
        assert len(items) >= 1 and all(decode(i)[1] == 24000 and i["seed"] == 123 for i in items)
        bad = _post(f"{base}/runsync", {"input": {"text": "Hello.", "voice": "bob", "colour": "blue"}})
        if streaming:  # the dev server passes a generator's error item through as output; RunPod marks it FAILED
            assert bad["output"] == [{"error": bad["output"][0]["error"]}]
            error = bad["output"][0]["error"]
        else:
            assert bad["status"] == "FAILED", bad
            error = bad["error"]
        assert "Unknown input key: 'colour'" in error
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
