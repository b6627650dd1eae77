"""The routes: point any OpenAI client at http://<host>:<port>/v1.

    POST /v1/audio/speech   {"model": "tts-1", "input": "Hello.", "voice": "alice", "response_format": "mp3"}
    GET  /v1/models         f5-tts, with tts-1 and tts-1-hd as aliases (`model` is accepted and otherwise ignored)
    `voice` is a saved voice's name (or {"id": name}): GET, POST and DELETE /v1/voices are in api/voices.py

The seed used comes back in `X-Seed`; with `"check": true`, the per-chunk check in `X-Check` (JSON). Other unknown
fields (`instructions`...) are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from inference import CONTENT_TYPES, RETRY_AFTER_S, Busy, Studio

from .protocol import (
    ERRORS,
    MODELS,
    ModelCard,
    ModelList,
    SpeechRequest,
    error_response,
    to_error_response,
)
from .serving import INTERFACE, Admission, ReleaseWhenSent, body_limit, limited, speech_response


class OpenAIRoute(APIRoute):
    """A route whose errors, request validation included, come back in OpenAI's shape (only these routes)."""

    max_body: int | None = None  # bytes; set per router (see openai_router)
    admission: Admission | None = None  # bounds POST requests (speech); set per router
    studio: Studio  # set per router

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            admitted = False
            try:
                if self.max_body is not None and request.method in ("POST", "PUT", "PATCH"):
                    request = limited(request, self.max_body)
                if self.admission is not None and request.method == "POST":
                    if not self.admission.enter():
                        self.studio.metrics.count(INTERFACE, Busy("busy"))
                        return error_response(
                            429,
                            f"The studio is busy: {self.admission.limit} speech requests are "
                            f"already in progress. Try again in {RETRY_AFTER_S} seconds.",
                            None,
                            "rate_limit_exceeded",
                            headers={"Retry-After": str(RETRY_AFTER_S)},
                        )
                    admitted = True
                response = await handler(request)
            except Exception as e:
                if isinstance(e.__cause__, StarletteHTTPException) and e.__cause__.status_code == 413:
                    e = e.__cause__  # FastAPI wraps errors raised while it reads the body
                response = to_error_response(e)
            return ReleaseWhenSent(response, self.admission.leave) if admitted else response  # type: ignore

        return guarded


def openai_router(studio: Studio, max_in_progress: int) -> APIRouter:
    route_class = type(
        "OpenAIRoute",
        (OpenAIRoute,),
        {
            "max_body": body_limit(studio.settings.max_text_chars),
            "admission": Admission(max_in_progress),
            "studio": studio,
        },
    )
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], route_class=route_class, responses=ERRORS)

    @router.post(
        "/audio/speech",
        response_class=Response,
        responses={200: {"description": "The audio", "content": {t: {} for t in sorted(set(CONTENT_TYPES.values()))}}},
    )
    async def speech(req: SpeechRequest, request: Request) -> Response:
        """Speak `input` in a saved voice, in OpenAI's request and error format."""
        return await speech_response(studio, req, request)

    @router.get("/models")
    def models() -> ModelList:
        """f5-tts, and the OpenAI names clients default to; all are the same model."""
        return ModelList(data=[ModelCard(id=m) for m in MODELS])

    return router
