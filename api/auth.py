"""Who may use the REST API. The UI and /gradio_api/* are guarded by Gradio's own login (STUDIO_AUTH).

REST accepts `Authorization: Bearer <STUDIO_API_TOKEN>` or HTTP Basic with the UI's user:password. With neither
configured the studio is open (and app.py warns loudly when it is also public).
"""

from __future__ import annotations

import base64
import hmac

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from inference import Settings

# Gradio's MCP server (--mcp) lists its tools without asking Gradio's login: guarded here like REST
PROTECTED_PREFIXES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/gradio_api/mcp")


def authorized(settings: Settings, header: str | None) -> bool:
    """True when auth is off, or the Authorization header carries the token or the UI credentials."""
    if not settings.protected:
        return True
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() == "bearer" and settings.api_token:
        return hmac.compare_digest(value.strip().encode(), settings.api_token.encode())
    if scheme.lower() == "basic" and settings.auth:
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), settings.auth[0].encode()) & hmac.compare_digest(
            password.encode(), settings.auth[1].encode())
    return False


class RestAuth:
    """ASGI middleware: refuses protected REST paths without credentials, with an OpenAI-style 401 body."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PROTECTED_PREFIXES):
            headers = dict(scope.get("headers") or [])
            header = headers.get(b"authorization", b"").decode("latin-1")
            if not authorized(self.settings, header):
                body = {"error": {"message": "Authentication required: send 'Authorization: Bearer <token>' "
                                             "(STUDIO_API_TOKEN) or HTTP Basic with the studio's user and password.",
                                  "type": "authentication_error", "param": None, "code": "unauthorized"}}
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)
