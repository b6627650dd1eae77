"""Auth on and off, public-exposure warnings, the offline share link, the busy queue, MCP."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REF_TEXT
from tests.live import run_app

USER, PASSWORD, TOKEN = "studio-user", "pw-Secr3t-xyz", "tok-Secr3t-abc"


def get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture(scope="module")
def protected(tiny, tmp_path_factory):
    log = tmp_path_factory.mktemp("auth") / "app.log"
    env = {"F5_MODEL": str(tiny["yaml"]), "STUDIO_AUTH": f"{USER}:{PASSWORD}", "STUDIO_API_TOKEN": TOKEN}
    with run_app(env=env, log_path=log) as (base, _):
        yield base, log


def test_rest_needs_credentials(protected) -> None:
    base, _ = protected
    status, body = get(base + "/v1/models")
    assert status == 401 and json.loads(body)["error"]["type"] == "authentication_error"
    assert get(base + "/v1/models", {"Authorization": "Bearer wrong"})[0] == 401
    assert get(base + "/v1/models", basic(USER, "wrong"))[0] == 401
    assert get(base + "/v1/models", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert get(base + "/v1/models", basic(USER, PASSWORD))[0] == 200
    assert get(base + "/openapi.json")[0] == 401


def test_health_details_need_credentials_liveness_does_not(protected) -> None:
    base, _ = protected
    status, body = get(base + "/health")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    details = json.loads(get(base + "/health", {"Authorization": f"Bearer {TOKEN}"})[1])
    assert details["model"] == "not_loaded" and "device" in details


def test_ui_api_and_files_need_the_login(protected, ref_wav: Path) -> None:
    from gradio_client import Client, handle_file

    base, _ = protected
    assert get(base + "/gradio_api/info")[0] in (401, 403)
    assert get(base + "/config")[0] in (401, 403)
    assert get(base + f"/gradio_api/file={ref_wav}")[0] in (401, 403)
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; gradio_client raises on the 401
        Client(base, verbose=False).predict(api_name="/list_voices")
    client = Client(base, auth=(USER, PASSWORD), verbose=False)
    assert client.predict(api_name="/list_voices") == []
    audio, *_ = client.predict(handle_file(str(ref_wav)), REF_TEXT, "Hello.", 1, nfe_step=7, api_name="/synthesize")
    assert Path(audio).stat().st_size > 0


def test_no_secret_in_logs_or_health(protected) -> None:
    base, log = protected
    bodies = [get(base + "/health", {"Authorization": f"Bearer {TOKEN}"})[1], get(base + "/health")[1]]
    text = log.read_text(errors="replace") + b"".join(bodies).decode()
    assert PASSWORD not in text and TOKEN not in text


def test_auth_off_means_open_rest(tiny) -> None:
    with run_app(env={"F5_MODEL": str(tiny["yaml"])}) as (base, _):
        assert get(base + "/v1/models")[0] == 200
        assert "model" in json.loads(get(base + "/health")[1])


def test_share_offline_still_serves_locally_with_a_warning(tiny, tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    with run_app(["--share"], env={"F5_MODEL": str(tiny["yaml"])}, log_path=log) as (base, _):
        assert get(base + "/")[0] == 200
        deadline = time.time() + 60
        while "share link" not in log.read_text() and time.time() < deadline:
            time.sleep(0.5)
        text = log.read_text()
        assert "Could not create a share link" in text and "still serving locally" in text
        assert "PUBLICLY REACHABLE WITHOUT A LOGIN" in text
        assert get(base + "/health")[0] == 200


def test_busy_queue_says_try_again(tiny, ref_wav: Path, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    copies = []
    for i in range(5):  # one recording per visitor, as in real use
        copies.append(tmp_path / f"ref{i}.wav")
        copies[-1].write_bytes(ref_wav.read_bytes() + bytes(2 * i))
    # one generation at a time and one waiting: the other visitors are told the studio is busy
    with run_app(env={"F5_MODEL": str(tiny["yaml"]), "F5_QUEUE_MAX": "1", "F5_CONCURRENCY": "1"}) as (base, _):
        outcomes: list[str] = []

        def call(ref: Path) -> None:
            try:
                Client(base, verbose=False).predict(
                    handle_file(str(ref)), REF_TEXT, "Hello there. " * 3, 1, nfe_step=16, api_name="/synthesize"
                )
                outcomes.append("ok")
            except Exception as e:
                outcomes.append(str(e))

        threads = [threading.Thread(target=call, args=(ref,)) for ref in copies]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert "ok" in outcomes
        refused = [o for o in outcomes if o != "ok"]
        assert refused and all("try again" in o.lower() for o in refused)
        assert get(base + "/health")[0] == 200


def test_mcp_exposes_synthesis_with_described_arguments(tiny) -> None:
    with run_app(["--mcp"], env={"F5_MODEL": str(tiny["yaml"])}) as (base, _):
        status, body = get(base + "/gradio_api/mcp/schema")
        assert status == 200
        tools = {t["name"]: t for t in json.loads(body)}
        synth = tools["synthesize"]
        assert "Speak `text` in the voice of `ref_audio`" in synth["description"]
        props = synth["inputSchema"]["properties"]
        for arg in ("ref_audio", "ref_text", "text", "seed", "nfe_step", "voice"):
            assert props[arg]["description"], arg
        edit = tools["edit_speech"]
        assert "Change, add or remove words in a recording" in edit["description"]
        for arg in ("audio", "transcript", "new_text", "edits", "seed", "nfe_step"):
            assert edit["inputSchema"]["properties"][arg]["description"], arg
    with run_app(env={"F5_MODEL": str(tiny["yaml"])}) as (base, _):
        assert get(base + "/gradio_api/mcp/schema")[0] == 404  # off unless asked for
