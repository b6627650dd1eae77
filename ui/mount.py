"""Mounting the Blocks on the FastAPI app, with the Gradio-specific guards that go with it."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import gradio as gr

from inference import RETRY_AFTER_S

from .unread import CancelUnreadCalls

log = logging.getLogger(__name__)
NOT_UPLOADED = (
    "That file was not uploaded by a user of this studio, so it cannot be used. Upload the file itself (with "
    "gradio_client, pass handle_file(path) for a file on your machine)."
)
QUEUE_FULL = "The studio is busy: its queue of generations is full. Try again in {s} seconds."


def mount(
    app: Any,
    demo: gr.Blocks,
    *,
    auth: tuple[str, str] | None,
    max_file_size: int,
    mcp: bool,
    allow_remote_urls: bool,
    credentials: dict[str, str] | None = None,
) -> Any:
    """Mount `demo` at '/' of `app` (returns the app). Uploads are capped at `max_file_size` bytes, no run history is
    kept (voices are personal data), and server files and URLs are never read where a client names a file.
    `credentials` (an Authorization header) is what the MCP server's calls back into the app carry."""
    if auth is not None:
        app.add_middleware(HideApiInfoFromAnonymous)
    app.add_middleware(QueueFullRetryAfter)
    app.add_middleware(CancelUnreadCalls, demo=demo)  # a /call result nobody asks for stops its work
    app = gr.mount_gradio_app(
        app,
        demo,
        path="/",
        ssr_mode=False,
        show_error=True,
        auth=auth,
        max_file_size=max_file_size,
        mcp_server=mcp,
        run_history=False,
    )
    # Gradio refuses a file path a client names (/etc/passwd...) unless it was uploaded, but only once the Blocks
    # "has launched", which a mounted app never does: without this flag any server file could be read.
    demo.has_launched = True
    if demo.mcp_server_obj is not None and (auth or credentials):
        mcp_calls_back_with_credentials(demo.mcp_server_obj, auth, credentials or {})
    if not allow_remote_urls:
        refuse_remote_files()
    refuse_files_not_uploaded()
    return app


def mcp_calls_back_with_credentials(server: Any, auth: tuple[str, str] | None, headers: dict[str, str]) -> None:
    """Gradio's MCP server runs a queued tool by calling the app back over HTTP with a gradio_client of its own,
    which knows no credentials: behind a login or a token every tool that takes inputs failed. Its client is made
    here instead, the same way, logged in (Gradio's login) and carrying the studio's own Authorization header (the
    token). Only this process holds it: the caller was already let in by api/auth.py to reach the MCP server."""
    from gradio import route_utils
    from gradio_client import Client

    def client() -> Client:
        if server._client_instance is None:
            request = server.mcp_server.request_context.request
            root_url = route_utils.get_root_url(
                request=request, route_path=server.get_route_path(request), root_path=server.root_path
            )
            server._client_instance = Client(
                server.local_url or root_url,
                auth=auth,
                download_files=False,
                verbose=False,
                analytics_enabled=False,
                ssl_verify=False,
                _skip_components=False,
                headers={"x-gradio-user": "mcp", **headers},
            )
        return server._client_instance

    server._get_or_create_client = client


def end_sessions(demo: gr.Blocks) -> None:
    """End the Blocks' open heartbeat streams (one per browser tab or gradio_client session), as Gradio's own launch
    does when it closes; a server stopping would otherwise wait for them forever."""
    served = getattr(getattr(demo, "_queue", None), "server_app", None)  # the Gradio app mounted on ours
    if served is not None:
        served.stop_event.set()


def queue_depth(demo: gr.Blocks) -> int:
    """Generations waiting in the Blocks' queue for a turn (0 before the queue starts)."""
    queue = getattr(demo, "_queue", None)
    try:
        return int(queue.get_status().queue_size) if queue is not None else 0
    except Exception:  # a Gradio without get_status: the gauge reads 0 rather than breaking /metrics
        return 0


def refuse_remote_files() -> None:
    """Never fetch a URL given where a file is expected (gradio_client's handle_file(url)): the server would
    otherwise download it (Gradio blocks private addresses, not the rest). F5_ALLOW_REMOTE_URLS=1 keeps Gradio's
    behaviour."""
    from gradio import processing_utils

    async def refused(url: str, cache_dir: str) -> str:
        raise gr.Error(
            "This server does not fetch files from URLs: upload the file itself (with gradio_client, "
            "download it first and pass handle_file(local_path))."
        )

    processing_utils.async_ssrf_protected_download = refused


def refuse_files_not_uploaded() -> None:
    """A client that names a file it did not upload (a server path, a relative one, one with a null byte) is told so
    in a plain sentence. Gradio's own refusal shows the absolute path, and with it the server's working directory,
    or a bare "embedded null byte", and prints a traceback for each."""
    from gradio import processing_utils

    check = processing_utils._check_allowed
    if getattr(check, "plain_refusal", False):
        return

    def checked(path: Any, check_in_upload_folder: bool) -> None:
        try:
            check(path, check_in_upload_folder)
        except (ValueError, OSError) as e:  # InvalidPathError is a ValueError; so is a null byte
            if not check_in_upload_folder:  # our own outputs: a real error, not the client's
                raise
            log.info("refused a file that was not uploaded: %.200r", str(path))
            raise gr.Error(NOT_UPLOADED, print_exception=False) from e

    checked.plain_refusal = True  # type: ignore[attr-defined]
    processing_utils._check_allowed = checked


def _joins_queue(path: str) -> bool:
    """The routes where a request joins Gradio's queue: the browser's and gradio_client's, and the /call API's."""
    return path.endswith("/queue/join") or "/call/" in path


class QueueFullRetryAfter:
    """ASGI middleware. When Gradio's queue is full it answers 503 with its own text ("Queue is full. Max size is
    32 and size is 32.") and no Retry-After: this keeps the 503 (gradio_client reads it) and says what to do, with
    Retry-After as the REST API's 429 has."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not _joins_queue(scope["path"]):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        held: list[bytes] = []

        async def rewrite(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] == 503:
                start.update(message)  # held until the body shows whether it is the full queue
                return
            if not start or message["type"] != "http.response.body":
                await send(message)
                return
            held.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body, headers = b"".join(held), start.get("headers", [])
            if b"Queue is full" in body:
                body = json.dumps({"detail": QUEUE_FULL.format(s=RETRY_AFTER_S)}).encode()
                headers = [(b"content-type", b"application/json"), (b"retry-after", str(RETRY_AFTER_S).encode())]
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)


class HideApiInfoFromAnonymous:
    """ASGI middleware. Gradio embeds its API description in the login page too, with example values taken from the
    components (the saved voices' names among them): a visitor who has not logged in gets the page without it."""

    LOGIN_PAGE = b'"auth_required":true'
    API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.DOTALL)

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope["path"] != "/":
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def rewrite(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if self.LOGIN_PAGE in body:
                body = self.API_INFO.sub(b"window.gradio_api_info = {};</script>", body, count=1)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, rewrite)
