"""Who may use the REST API. The UI and /gradio_api/* are guarded by Gradio's own login (STUDIO_AUTH).

REST accepts `Authorization: Bearer <STUDIO_API_TOKEN>` or HTTP Basic with the UI's user:password. With neither
configured the studio is open (and app.py warns loudly when it is also public).
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass, field

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# Gradio's MCP server (--mcp) lists its tools without asking Gradio's login: guarded here like REST
PROTECTED_PREFIXES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/gradio_api/mcp", "/metrics")


@dataclass(frozen=True)
class Access:
    """Who may come in: the UI's user and password (also HTTP Basic on REST) and a bearer token; never printed."""

    auth: tuple[str, str] | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)

    @property
    def protected(self) -> bool:
        return self.auth is not None or self.api_token is not None


def authorized(access: Access, header: str | None) -> bool:
    """True when auth is off, or the Authorization header carries the token or the UI credentials."""
    if not access.protected:
        return True
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() == "bearer" and access.api_token:
        return hmac.compare_digest(value.strip().encode(), access.api_token.encode())
    if scheme.lower() == "basic" and access.auth:
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(user.encode(), access.auth[0].encode()) & hmac.compare_digest(
            password.encode(), access.auth[1].encode()
        )
    return False


class RestAuth:
    """ASGI middleware: refuses protected REST paths without credentials, with an OpenAI-style 401 body."""

    def __init__(self, app: ASGIApp, access: Access) -> None:
        self.app, self.access = app, access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PROTECTED_PREFIXES):
            headers = dict(scope.get("headers") or [])
            header = headers.get(b"authorization", b"").decode("latin-1")
            if not authorized(self.access, header):
                body = {
                    "error": {
                        "message": "Authentication required: send 'Authorization: Bearer <token>' "
                        "(STUDIO_API_TOKEN) or HTTP Basic with the studio's user and password.",
                        "type": "authentication_error",
                        "param": None,
                        "code": "unauthorized",
                    }
                }
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
                return
        await self.app(scope, receive, send)
