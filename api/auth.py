"""Who may come in, by every way in: one credential guards the UI, /gradio_api/*, MCP and REST alike.

| configured                  | UI and /gradio_api/*                    | REST (/v1, /docs, /metrics) and MCP         |
|-----------------------------|-----------------------------------------|---------------------------------------------|
| nothing                     | open (app.py warns when public)         | open                                        |
| STUDIO_AUTH only            | Gradio's login                          | HTTP Basic with the same user:password      |
| STUDIO_API_TOKEN only       | `Authorization: Bearer <token>`         | `Authorization: Bearer <token>`             |
| both                        | Gradio's login                          | Bearer token or HTTP Basic                  |

With a token alone there is no login form: a browser gets a 401 that says to set STUDIO_AUTH for one. /health and
/ping stay open (bare liveness). Failed attempts (the login form, Basic, Bearer) are throttled per client address and
per account (api/throttle.py).
"""

from __future__ import annotations

import base64
import hmac
import logging
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.throttle import Throttle
from inference import acting

log = logging.getLogger(__name__)

# Gradio's MCP server (--mcp) lists its tools without asking Gradio's login: guarded here like REST
PROTECTED_PREFIXES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/gradio_api/mcp", "/metrics")
ALWAYS_OPEN = ("/health", "/ping")  # bare liveness for load balancers (api/health.py says no more to anonymous callers)
LOGIN_PATHS = ("/login", "/login/")  # Gradio's login form posts here
OPENAI_PREFIX = "/v1/audio/"  # the OpenAI-compatible routes (api/openai/); the other /v1/ routes are the studio's own


@dataclass(frozen=True)
class Access:
    """Who may come in: the UI's user and password (also HTTP Basic on REST) and a bearer token; never printed."""

    auth: tuple[str, str] | None = field(default=None, repr=False)
    api_token: str | None = field(default=None, repr=False)

    @property
    def protected(self) -> bool:
        return self.auth is not None or self.api_token is not None

    @property
    def token_only(self) -> bool:
        """A token and no login: Gradio has no login of its own, so the token guards the UI and its API too."""
        return self.auth is None and self.api_token is not None

    def header(self) -> dict[str, str]:
        """An Authorization header that opens every door (for the studio's own calls back into itself)."""
        if self.api_token:
            return {"Authorization": f"Bearer {self.api_token}"}
        if self.auth:
            pair = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {}


def account_of(header: str | None) -> str | None:
    """The account an Authorization header claims: the Basic user, "token" for Bearer, None for neither."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return "token"
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode("utf-8").partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    return None


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


def _error(message: str, kind: str, code: str) -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


UNAUTHORIZED = (
    "Authentication required: send 'Authorization: Bearer <token>' (STUDIO_API_TOKEN) or HTTP Basic with the "
    "studio's user and password."
)
TOKEN_ONLY = (
    "This studio is locked with an API token (STUDIO_API_TOKEN) and has no login form: send 'Authorization: Bearer "
    "<token>' (gradio_client: Client(url, headers={'Authorization': 'Bearer <token>'})). For a browser login, the "
    "studio's owner sets STUDIO_AUTH=user:password."
)


class RestAuth:
    """ASGI middleware: refuses requests without credentials where credentials are needed (see the table above),
    with an OpenAI-style 401 body, and answers 429 with Retry-After to a client or account that failed too often."""

    def __init__(self, app: ASGIApp, access: Access, throttle: Throttle | None = None) -> None:
        self.app, self.access, self.throttle = app, access, throttle or Throttle()

    def needs_credentials(self, path: str) -> bool:
        if not self.access.protected or path.startswith(ALWAYS_OPEN):
            return False
        return self.access.token_only or path.startswith(PROTECTED_PREFIXES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.access.protected:
            await self._as_caller(scope, receive, send, None)
            return
        path, client = scope["path"], (scope.get("client") or ("unknown", 0))[0]
        if path in LOGIN_PATHS and scope.get("method") == "POST" and self.access.auth:
            await self._login(scope, receive, send, client)
            return
        if not self.needs_credentials(path):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        account = account_of(header)
        if account is not None and await self._throttled(scope, receive, send, client, account):
            return
        if not authorized(self.access, header):
            if account is not None:
                self.throttle.failed(client, account)
            message = TOKEN_ONLY if self.access.token_only and not path.startswith(PROTECTED_PREFIXES) else UNAUTHORIZED
            body = _error(message, "authentication_error", "unauthorized")
            await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        await self._as_caller(scope, receive, send, account)

    async def _as_caller(self, scope: Scope, receive: Receive, send: Send, account: str | None) -> None:
        """The REST routes run as their caller (inference.acting: the audit log's user and interface): the Basic
        user, "token" for the bearer token, None without a login. Gradio's own routes set theirs (ui/handlers.py)."""
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        with acting(account, "openai" if path.startswith(OPENAI_PREFIX) else "rest"):
            await self.app(scope, receive, send)

    async def _throttled(self, scope: Scope, receive: Receive, send: Send, client: str, account: str) -> bool:
        wait_s = self.throttle.wait(client, account)
        if wait_s <= 0:
            return False
        message = f"Too many failed sign-in attempts: wait {wait_s} s, then try again with the right credentials."
        body = _error(message, "rate_limit_error", "too_many_attempts")
        await JSONResponse(body, status_code=429, headers={"Retry-After": str(wait_s)})(scope, receive, send)
        return True

    async def _login(self, scope: Scope, receive: Receive, send: Send, client: str) -> None:
        """Gradio's login form: refused while throttled; a refusal by Gradio (400) counts as a failure."""
        body, messages = b"", []
        while True:  # the form is small: read it whole to learn the account, then hand it on unchanged
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        account = (parse_qs(body.decode("latin-1")).get("username") or [""])[0].strip()
        if await self._throttled(scope, receive, send, client, account):
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, replay, watch)
        if status and status[0] == 400:
            self.throttle.failed(client, account)
