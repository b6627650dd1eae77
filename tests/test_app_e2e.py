"""The launched app end to end, through gradio_client and plain HTTP, on the tiny model."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import REF_TEXT
from tests.live import run_app
from ui import API_NAMES


@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def health(app_url: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(app_url + "/health") as r:
        return json.load(r)


def ping(app_url: str) -> int:
    import urllib.request

    with urllib.request.urlopen(app_url + "/ping") as r:
        return r.status


def test_named_endpoints_are_pinned(client) -> None:
    info = client.view_api(return_format="dict", print_info=False)
    assert sorted(info["named_endpoints"]) == sorted(API_NAMES)
    assert not info["unnamed_endpoints"]
    params = [p["parameter_name"] for p in info["named_endpoints"]["/synthesize"]["parameters"]]
    assert params[:4] == ["ref_audio", "ref_text", "text", "seed"]
    optional = {
        p["parameter_name"] for p in info["named_endpoints"]["/synthesize"]["parameters"] if p["parameter_has_default"]
    }
    assert {"nfe_step", "speed", "cross_fade", "cfg_strength", "remove_silence"} <= optional
    tail = ["voice", "normalize", "check", "min_duration", "check_threshold", "check_tries", "volume_db"]  # new: last
    assert params[-len(tail) :] == tail


def test_synthesize_through_gradio_client(app_url: str, client, ref_wav: Path) -> None:
    from gradio_client import handle_file

    assert health(app_url)["model"] == "not_loaded"  # nothing loaded until someone generates
    assert ping(app_url) == 204  # RunPod's load balancer: not ready yet
    start = time.perf_counter()
    audio, image, seed, ref_text = client.predict(
        handle_file(str(ref_wav)), REF_TEXT, "Hello from the client.", 42, nfe_step=7, api_name="/synthesize"
    )
    first = time.perf_counter() - start
    wave, sr = sf.read(audio)
    assert sr == 24000 and wave.ndim == 1 and len(wave) > 0
    assert seed == 42 and ref_text == REF_TEXT and Path(image).exists()
    assert health(app_url)["model"] == "ready" and ping(app_url) == 200
    start = time.perf_counter()
    again, *_ = client.predict(
        handle_file(str(ref_wav)), REF_TEXT, "Hello from the client.", 42, nfe_step=7, api_name="/synthesize"
    )
    second = time.perf_counter() - start
    np.testing.assert_allclose(sf.read(again)[0], wave, atol=1e-4)  # same seed, same audio (16-bit WAV)
    print(f"\nfirst Generate {first:.2f} s, second {second:.2f} s")


def test_empty_transcript_is_transcribed_and_returned(client, ref_wav: Path) -> None:
    from gradio_client import handle_file

    _, _, _, ref_text = client.predict(handle_file(str(ref_wav)), "", "Hello.", 1, nfe_step=7, api_name="/synthesize")
    assert isinstance(ref_text, str) and ref_text.strip()
    assert client.predict(handle_file(str(ref_wav)), api_name="/transcribe") == ref_text


@pytest.mark.parametrize(
    ("text", "ref", "words"),
    [
        ("", "ok", "no text"),
        ("Hello.", None, "No reference"),
        ("Hello.", "empty", "empty"),
        ("Hello.", "notaudio", "could not read"),
        ("Hello.", "silent", "silent"),
    ],
)
def test_errors_reach_the_client_as_sentences(client, app_url, ref_wav, tmp_path, text, ref, words) -> None:
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    files = {"ok": ref_wav, "empty": tmp_path / "e.wav", "notaudio": tmp_path / "n.wav", "silent": tmp_path / "s.wav"}
    files["empty"].write_bytes(b"")
    files["notaudio"].write_text("not audio " * 50)
    sf.write(files["silent"], np.zeros(48000, dtype=np.float32), 24000)
    arg = handle_file(str(files[ref])) if ref else None
    with pytest.raises(AppError) as info:
        client.predict(arg, "", text, 1, nfe_step=7, api_name="/synthesize")
    assert words.lower() in str(info.value).lower()
    assert "Traceback" not in str(info.value)
    assert health(app_url)["status"] == "ok"  # still serving


def test_text_over_the_limit(tiny, ref_wav: Path) -> None:
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "F5_MAX_TEXT_CHARS": "20"}) as (base, _):
        with pytest.raises(AppError, match="limit is 20"):
            Client(base, verbose=False).predict(
                handle_file(str(ref_wav)), REF_TEXT, "word " * 10, 1, api_name="/synthesize"
            )


def test_an_idle_connection_outlives_the_pools_of_clients(app_url: str) -> None:
    """HTTP clients keep a connection about 5 s for the next request (httpx, urllib3, aiohttp): a server that closes
    it at that moment makes the client's next request fail with "Server disconnected without sending a response".
    One connection, idle 6 s (the idle time is what is tested), still answers."""
    host, port = app_url.removeprefix("http://").split(":")
    request = f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        replies = []
        for pause in (0, 6):
            time.sleep(pause)
            sock.sendall(request)
            head = b""
            while b"\r\n\r\n" not in head:
                data = sock.recv(65536)
                assert data, f"the server closed the connection after {pause} s idle"
                head += data
            header, _, body = head.partition(b"\r\n\r\n")
            length = int(
                next(
                    line.split(b":")[1] for line in header.split(b"\r\n") if line.lower().startswith(b"content-length")
                )
            )
            while len(body) < length:
                body += sock.recv(65536)
            replies.append(header.split(b"\r\n")[0])
    assert replies == [b"HTTP/1.1 200 OK"] * 2
