"""The OpenAI-compatible API (/v1) of the launched app, through the real `openai` client, on the tiny model."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import numpy as np
import openai
import pytest
import soundfile as sf
from openai import OpenAI

from tests.conftest import REF_TEXT, mark_id_blanked
from tests.live import run_app

CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
TEXT = "Hello there."
EXTRA = {"seed": 1, "nfe_step": 7}


@pytest.fixture(scope="module")
def voices_dir(tmp_path_factory, ref_wav: Path) -> Path:
    root = tmp_path_factory.mktemp("voices")
    shutil.copy(ref_wav, root / "alice.wav")  # copied in by hand, as users may
    (root / "alice.txt").write_text(REF_TEXT, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def base(tiny, voices_dir: Path, tmp_path_factory) -> str:
    log = tmp_path_factory.mktemp("openai-app") / "app.log"
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices_dir)}, log_path=log) as (url, _):
        yield url


@pytest.fixture(scope="module")
def client(base: str) -> OpenAI:
    return OpenAI(base_url=f"{base}/v1", api_key="x", max_retries=0, timeout=120)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def ffmpeg_decode(data: bytes) -> tuple[np.ndarray, int]:
    """Decode with the ffmpeg CLI at the stream's own rate (no resampling)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in", Path(tmp) / "out.wav"
        src.write_bytes(data)
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(src), str(dst)], check=True, timeout=60)
        wave, sr = sf.read(dst, always_2d=True)
    return wave, sr


def decode(fmt: str, data: bytes) -> tuple[float, int, int]:
    """(seconds, sample rate, channels) of an encoded response."""
    if fmt == "pcm":
        assert len(data) % 2 == 0
        return len(np.frombuffer(data, "<i2")) / 24000, 24000, 1
    if fmt in ("wav", "flac"):
        wave, sr = sf.read(io.BytesIO(data), always_2d=True)
    else:
        wave, sr = ffmpeg_decode(data)
    if fmt == "opus":  # Opus always decodes at 48 kHz; the rate it was encoded from is in the OpusHead packet
        assert sr == 48000
        head = data.index(b"OpusHead")
        sr = int.from_bytes(data[head + 12 : head + 16], "little")
        return len(wave) / 48000, sr, wave.shape[1]
    return len(wave) / sr, sr, wave.shape[1]


def speak(client: OpenAI, fmt: str = "pcm", **kwargs) -> openai._legacy_response.HttpxBinaryResponseContent:
    args = {"model": "tts-1", "voice": "alice", "input": TEXT, "response_format": fmt, "extra_body": EXTRA, **kwargs}
    return client.audio.speech.create(**args)


def assert_openai_error(err: openai.APIStatusError, status: int, param: str | None = None) -> dict:
    assert err.status_code == status
    body = err.response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in body["error"]["message"]
    if param:
        assert body["error"]["param"] == param
    return body["error"]


def test_every_format_decodes_to_the_same_speech(client: OpenAI) -> None:
    durations = {}
    for fmt, content_type in CONTENT_TYPES.items():
        response = speak(client, fmt)
        seconds, sr, channels = decode(fmt, response.content)
        assert (sr, channels) == (24000, 1), fmt
        assert seconds > 0.3, fmt
        headers = response.response.headers
        assert headers["content-type"] == content_type
        assert headers["x-seed"] == "1" and headers["x-sample-rate"] == "24000"
        durations[fmt] = seconds
    assert max(durations.values()) - min(durations.values()) < 0.15, durations


@pytest.mark.parametrize("fmt", ["pcm", "wav", "mp3"])
def test_streaming_response(client: OpenAI, fmt: str) -> None:
    whole = speak(client, fmt).content
    with client.audio.speech.with_streaming_response.create(
        model="f5-tts", voice="alice", input=TEXT, response_format=fmt, extra_body=EXTRA
    ) as response:
        assert response.status_code == 200
        data = b"".join(response.iter_bytes())
    assert decode(fmt, data)[0] > 0.3
    if fmt != "mp3":  # pcm and wav are plain samples: the same seed gives the same bytes
        assert mark_id_blanked(data) == mark_id_blanked(whole)  # each request's file carries its own mark id


def test_same_seed_same_bytes_and_default_format_is_mp3(client: OpenAI) -> None:
    assert speak(client, "pcm").content == speak(client, "pcm").content
    default = client.audio.speech.create(model="anything", voice={"id": "alice"}, input=TEXT, extra_body=EXTRA)
    assert default.response.headers["content-type"] == "audio/mpeg"
    assert 0.3 < decode("mp3", default.content)[0]


def test_extension_fields_and_speed(client: OpenAI) -> None:
    normal = decode("pcm", speak(client).content)[0]
    fast = speak(client, speed=4.0, instructions="ignored", extra_body={"seed": 3, "nfe_step": 4, "cfg_strength": 1})
    assert fast.response.headers["x-seed"] == "3"
    assert decode("pcm", fast.content)[0] < normal  # 4.0 is clamped to the model's 3.0


def test_unknown_voice_is_404(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        speak(client, voice="nobody")
    error = assert_openai_error(info.value, 404, "voice")
    assert "nobody" in error["message"] and "alice" in error["message"]  # names the voice and the saved ones


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"response_format": "ogg"}, "response_format"),
        ({"speed": 100}, "speed"),
        ({"input": ""}, "input"),
        ({"input": "   "}, "input"),
        ({"voice": openai.omit}, "voice"),
        ({"voice": ""}, "voice"),
        ({"extra_body": {"nfe_step": 1000}}, "nfe_step"),
        ({"extra_body": {"seed": -2}}, "seed"),
        ({"extra_body": {"cfg_strength": "lots"}}, "cfg_strength"),
        ({"stream_format": "websocket"}, "stream_format"),  # "sse" works: tests/test_openai_sse.py
    ],
)
def test_bad_fields_are_400(client: OpenAI, kwargs: dict, param: str) -> None:
    args = {"model": "tts-1", "voice": "alice", "input": TEXT, "extra_body": EXTRA, **kwargs}
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.speech.create(**args)
    error = assert_openai_error(info.value, 400, param)
    assert error["type"] == "invalid_request_error"
    if kwargs == {"voice": openai.omit}:
        assert "voice" in error["message"]


def test_body_that_is_not_json_is_400(base: str) -> None:
    request = urllib.request.Request(
        f"{base}/v1/audio/speech", data=b"{not json", method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request)
    assert info.value.code == 400
    assert set(json.load(info.value)["error"]) == {"message", "type", "param", "code"}


def test_models_and_voices(base: str, client: OpenAI) -> None:
    models = get_json(f"{base}/v1/models")
    assert models["object"] == "list"
    assert {m["id"] for m in models["data"]} == {"f5-tts", "tts-1", "tts-1-hd"}
    for m in models["data"]:
        assert m["object"] == "model" and m["owned_by"] == "f5-voice-studio" and isinstance(m["created"], int)
    assert [m.id for m in client.models.list()] == [m["id"] for m in models["data"]]
    assert get_json(f"{base}/v1/voices") == {"voices": [{"name": "alice", "has_transcript": True}]}
    assert "/v1/audio/speech" in get_json(f"{base}/openapi.json")["paths"]


def test_still_healthy_after_errors(base: str, client: OpenAI) -> None:
    for bad in ({"voice": "nobody"}, {"speed": 100}):
        with pytest.raises(openai.APIStatusError):
            speak(client, **bad)
    assert get_json(f"{base}/health")["status"] == "ok"
    assert decode("pcm", speak(client).content)[0] > 0.3


def test_model_unavailable_is_503(tiny, voices_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.safetensors"
    env = {"F5_MODEL": str(tiny["yaml"]), "VOICES_DIR": str(voices_dir), "F5_CKPT": str(missing)}
    with run_app(env=env) as (url, _):
        broken = OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0, timeout=60)
        with pytest.raises(openai.InternalServerError) as info:
            speak(broken, "wav")
        error = assert_openai_error(info.value, 503)
        assert str(missing) in error["message"] and error["type"] == "server_error"
        assert get_json(f"{url}/health")["status"] == "ok"
        assert [v["name"] for v in get_json(f"{url}/v1/voices")["voices"]] == ["alice"]


def test_unexpected_errors_are_500_without_details() -> None:
    from api.openai.protocol import to_error_response

    response = to_error_response(RuntimeError("secret /internal/path"))
    assert response.status_code == 500
    assert b"secret" not in response.body and json.loads(response.body)["error"]["type"] == "server_error"


def test_openai_error_shape_is_only_on_v1_routes() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from pydantic import BaseModel

    from api.openai import openai_router
    from inference import Engine, EngineSettings, Studio

    class Body(BaseModel):
        x: int

    app = FastAPI()
    app.include_router(openai_router(Studio(Engine(EngineSettings())), max_in_progress=4))  # nothing loads

    @app.post("/other")
    def other(body: Body) -> dict:
        return {}

    http = TestClient(app)
    assert http.post("/other", json={}).status_code == 422  # FastAPI's own shape, untouched
    assert set(http.post("/other", json={}).json()) == {"detail"}
    response = http.post("/v1/audio/speech", json={"input": "Hi."})
    assert response.status_code == 400 and response.json()["error"]["param"] == "voice"
