"""One bound on every request body, whatever the route (REST, /gradio_api/*, the UI's uploads): 413 beyond it.

Uploads (multipart/form-data) may carry a file of F5_MAX_UPLOAD_MB plus the form's own bytes; every other body
(JSON above all) is text and parameters, and may be at most F5_MAX_BODY_KB. A declared Content-Length over the bound
is answered before anything is read; a chunked body is counted as it streams in, and cut off at the bound, so an
oversized body is never held in memory whole. Routes may have tighter bounds of their own (/v1: api/openai). Under
/v1 the refusal is in OpenAI's error JSON, as every other /v1 error; elsewhere it is {"detail": ...}.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from inference import over_limit

from .openai.protocol import error_response

FORM_OVERHEAD = 1024 * 1024  # bytes a multipart form adds around its file (boundaries, headers, other fields)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    def limit(self, scope: Scope) -> int:
        """The bound for this request: uploads (multipart) get room for a whole file, other bodies much less."""
        headers = dict(scope.get("headers") or [])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        return self.max_upload + FORM_OVERHEAD if multipart else self.max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, int(declared), limit, scope["path"])
            return
        received, over, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    return {"type": "http.disconnect"}  # the app stops reading; nothing more is taken in
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if over and not started:  # the app's answer to a body cut off: ours replaces it
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except Exception:
            if not over:
                raise
        if over and not started:
            await _refuse(send, received, limit, scope["path"])


async def _refuse(send: Send, size: int, limit: int, path: str) -> None:
    message = f"The request body is too large ({size:,} bytes or more; this server reads at most {limit:,})."
    refusal = over_limit(
        message, "Send less: a shorter text, or a smaller file.", "F5_MAX_BODY_KB or F5_MAX_UPLOAD_MB", limit
    )
    if path.startswith("/v1/"):
        body = bytes(error_response(413, str(refusal), None, "request_too_large").body)
    else:
        body = json.dumps({"detail": str(refusal)}).encode()
    headers: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
