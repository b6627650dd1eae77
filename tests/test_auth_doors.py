"""One credential guards every way in (#21): a token alone locks the UI and /gradio_api too, and MCP tools that take
inputs work behind a login or a token (Gradio's MCP server calls the app back with the studio's credentials)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from tests.live import run_app

pytestmark = pytest.mark.e2e
USER, PASSWORD, TOKEN = "studio-user", "pw-Secr3t-xyz", "tok-Secr3t-abc"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
GRADIO_DOORS = [  # (method, path, body): what an anonymous caller used to reach with only a token set
    ("GET", "/", None),
    ("GET", "/config", None),
    ("GET", "/gradio_api/info", None),
    ("POST", "/gradio_api/queue/join", {"data": ["Hi.", None, True], "fn_index": 0, "session_hash": "abc"}),
    ("POST", "/gradio_api/call/set_pronunciation", {"data": ["GIF", "jif", False, ""]}),
    ("POST", "/gradio_api/call/delete_voice", {"data": ["alice"]}),
    ("POST", "/gradio_api/upload", None),
]


@pytest.fixture(scope="module")
def token_only(tiny, tmp_path_factory):
    work = tmp_path_factory.mktemp("token_only")
    env = {"F5_MODEL": str(tiny["yaml"]), "STUDIO_API_TOKEN": TOKEN, "VOICES_DIR": str(work / "voices")}
    with run_app(["--mcp"], env=env, log_path=work / "app.log") as (base, _):
        yield base


def test_a_token_alone_locks_the_gradio_api(token_only: str) -> None:
    for method, path, body in GRADIO_DOORS:
        r = httpx.request(method, token_only + path, json=body, timeout=30)
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        assert "Authorization: Bearer" in r.json()["error"]["message"]
        assert "STUDIO_AUTH" in r.json()["error"]["message"]  # how to get a browser login
    assert httpx.get(token_only + "/health").status_code == 200  # liveness stays open
    assert httpx.get(token_only + "/ping").status_code in (200, 204)


def test_gradio_client_needs_the_token_and_works_with_it(token_only: str) -> None:
    from gradio_client import Client

    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; gradio_client raises on the 401
        Client(token_only, verbose=False)
    client = Client(token_only, headers=BEARER, verbose=False)
    entries = client.predict("GIF", "jif", False, "", api_name="/set_pronunciation")
    assert "GIF" in str(entries)
    client.close()


def call_tool(base: str, headers: dict, name: str, arguments: dict) -> str:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    async def run() -> str:
        async with streamablehttp_client(base + "/gradio_api/mcp/", headers=headers) as (read, write, _):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool(name, arguments)
                text = " ".join(getattr(c, "text", "") for c in result.content)
                assert not result.isError, text
                return text

    return asyncio.run(run())


def test_mcp_tool_with_inputs_works_with_a_token_alone(token_only: str) -> None:
    assert "jif" in call_tool(token_only, BEARER, "set_pronunciation", {"word": "GIF", "spoken": "jif"})


def test_mcp_tool_with_inputs_works_behind_a_login(tiny, tmp_path) -> None:
    env = {"F5_MODEL": str(tiny["yaml"]), "STUDIO_AUTH": f"{USER}:{PASSWORD}", "VOICES_DIR": str(tmp_path / "v")}
    with run_app(["--mcp"], env=env) as (base, _):
        basic = httpx.BasicAuth(USER, PASSWORD)._auth_header
        assert "Dr." not in call_tool(base, {"Authorization": basic}, "normalize_text", {"text": "Dr. Smith is 3."})
        assert httpx.post(base + "/gradio_api/mcp/", json={}).status_code == 401  # the caller still needs it


def test_public_token_only_says_browsers_need_a_login(caplog) -> None:
    from app import ServerSettings, warn_if_public

    with caplog.at_level(logging.WARNING, logger="studio"):
        warn_if_public(ServerSettings(host="0.0.0.0", api_token=TOKEN))
    assert "STUDIO_AUTH" in caplog.text and "WITHOUT A LOGIN" not in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="studio"):
        warn_if_public(ServerSettings(host="0.0.0.0"))
    assert "WITHOUT A LOGIN" in caplog.text
