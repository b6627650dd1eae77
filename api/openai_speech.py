"""OpenAI-compatible speech API: point any OpenAI client at http://<host>:<port>/v1.

    POST /v1/audio/speech   {"model": "tts-1", "input": "Hello.", "voice": "alice", "response_format": "mp3"}
    GET  /v1/models         f5-tts, with tts-1 and tts-1-hd as aliases (`model` is accepted and otherwise ignored)
    GET  /v1/voices         the saved voices: `voice` is a saved voice's name (or {"id": name})

Extensions to OpenAI's schema: `seed`, `nfe_step`, `cfg_strength`; the seed used comes back in `X-Seed`.
`speed` takes OpenAI's 0.25-4.0 and is clamped to the model's 0.3-3. Other unknown fields (`instructions`...) are
ignored. pcm, wav, mp3, opus and aac are streamed chunk by chunk (a streamed WAV header has unknown sizes, as
OpenAI's); flac comes whole. Everything that can fail before the first byte (validation, voice, model load, the
first chunk) is answered in OpenAI's error JSON: {"error": {"message", "type", "param", "code"}}.

Bounds: at most F5_QUEUE_MAX speech requests are in progress at once (more get 429 "busy, try again"), and a request
body may be at most about six bytes per allowed text character (F5_MAX_TEXT_CHARS) plus 64 KiB (more get 413, before
the body is read whole).
"""

from __future__ import annotations

import functools
import io
import logging
import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from itertools import chain
from typing import Any, Literal

import numpy as np
import soundfile as sf
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException  # FastAPI raises these too (body errors)

from inference import Engine, InputError, ModelUnavailable, StudioError, SynthesisOptions, SynthesisRequest
from inference.engine import validate_text
from inference.voices import VoiceNotFound

log = logging.getLogger(__name__)

SAMPLE_RATE = 24000
MODELS = ("f5-tts", "tts-1", "tts-1-hd")
OWNER = "f5-voice-studio"
CREATED = int(time.time())
SPEED_RANGE = (0.3, 3.0)  # what the model takes; OpenAI's 0.25-4.0 is clamped into it
AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac",
                 "wav": "audio/wav", "pcm": "audio/pcm"}
FFMPEG_OUT = {"mp3": ["-c:a", "libmp3lame", "-b:a", "96k", "-f", "mp3"],
              "opus": ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"],
              "aac": ["-c:a", "aac", "-b:a", "96k", "-f", "adts"]}
# 16-bit mono WAV header for a stream of unknown length: RIFF and data sizes 0xFFFFFFFF
WAV_HEADER = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 0xFFFFFFFF, b"WAVE", b"fmt ", 16, 1, 1, SAMPLE_RATE,
                         SAMPLE_RATE * 2, 2, 16, b"data", 0xFFFFFFFF)


class VoiceId(BaseModel):
    id: str


class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field("f5-tts", description="Accepted and ignored: there is one model (any name works).")
    input: str = Field(description="The text to speak.")
    voice: str | VoiceId = Field(description="A saved voice's name (see GET /v1/voices).")
    response_format: AudioFormat = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0, description="OpenAI's range; clamped to 0.3-3.")
    stream_format: Literal["audio", "sse"] = Field("audio", description="Only 'audio' is supported.")
    seed: int | None = Field(None, description="Extension: 0..2**31-1; the same seed gives the same audio.")
    nfe_step: int | None = Field(None, description="Extension: sampling steps, 4..64 (default 32).")
    cfg_strength: float | None = Field(None, description="Extension: guidance strength, 0..10 (default 2).")


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = CREATED
    owned_by: str = OWNER


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class VoiceInfo(BaseModel):
    name: str
    has_transcript: bool


class VoiceList(BaseModel):
    voices: list[VoiceInfo]


class ErrorInfo(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorInfo


class ApiError(Exception):
    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def error_response(status: int, message: str, param: str | None = None, code: str | None = None) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = ErrorResponse(error=ErrorInfo(message=message, type=kind, param=param, code=code))
    return JSONResponse(body.model_dump(), status_code=status)


def _validation_response(e: RequestValidationError) -> JSONResponse:
    first = (e.errors() or [{}])[0]
    names = [p for p in first.get("loc", ())[1:] if isinstance(p, str)]
    param = names[0] if names else None
    if param and first.get("type") == "missing":
        return error_response(400, f"Missing required parameter: '{param}'.", param, "missing_required_parameter")
    where = f"Invalid value for '{param}'" if param else "Invalid request body"
    return error_response(400, f"{where}: {first.get('msg', 'not understood')}.", param, "invalid_value")


# Errors users can cause (or fix), as (status, code); VoiceNotFound first: it is an InputError too. Any other
# StudioError (e.g. the GPU ran out of memory) says what happened and what to do: a 503, its message kept.
STUDIO_ERRORS = ((VoiceNotFound, 404, "voice_not_found"), (InputError, 400, "invalid_value"),
                 (ModelUnavailable, 503, "model_unavailable"), (StudioError, 503, "generation_failed"))


def as_api_error(e: Exception, param: str | None = None) -> ApiError | None:
    for kind, status, code in STUDIO_ERRORS:
        if isinstance(e, kind):
            return ApiError(status, str(e), param or ("voice" if kind is VoiceNotFound else None), code)
    return None


def to_error_response(e: Exception) -> JSONResponse:
    """Any failure on a /v1 route as OpenAI's error JSON; unexpected ones are logged, never shown."""
    if isinstance(e, RequestValidationError):
        return _validation_response(e)
    if isinstance(e, StarletteHTTPException):
        return error_response(e.status_code, str(e.detail))
    known = e if isinstance(e, ApiError) else as_api_error(e)
    if known:
        return error_response(known.status, known.message, known.param, known.code)
    log.error("unexpected error in the OpenAI API", exc_info=e)
    return error_response(500, "The server had an error while processing your request.", None, "internal_error")


def body_limit(max_text_chars: int) -> int:
    """The largest request body worth reading: the longest allowed text, every character JSON-escaped as \\uXXXX
    (6 bytes), plus room for the other fields."""
    return 6 * max_text_chars + 64 * 1024


def _too_large(size: int, limit: int) -> HTTPException:
    return HTTPException(413, f"The request body is too large ({size:,} bytes; this server reads at most "
                              f"{limit:,}). Send shorter text: the limit is set by F5_MAX_TEXT_CHARS.")


def _limited(request: Request, limit: int) -> Request:
    """The request, refused (413) as soon as its body is known to exceed `limit`: by its Content-Length, or while
    a chunked body streams in, so an oversized body is never read into memory whole."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    received = 0

    async def receive() -> Any:
        nonlocal received
        message = await request.receive()
        if message.get("type") == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _too_large(received, limit)
        return message

    return Request(request.scope, receive)


class Admission:
    """At most `limit` speech requests in progress (waiting or generating). Beyond it, a request is answered at once
    with 429 instead of queueing without bound: each waiting request holds one of the server's worker threads, and
    once they are all taken even /health stops answering."""

    def __init__(self, limit: int) -> None:
        self.limit, self.active, self._lock = limit, 0, threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self.active >= self.limit:
                return False
            self.active += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.active -= 1


class _ReleaseWhenSent:
    """A response that frees its admission slot once it has been sent, failed, or its client has gone away."""

    def __init__(self, response: Response, release: Callable[[], None]) -> None:
        self.response, self.release = response, release

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.response(scope, receive, send)
        finally:
            self.release()


class OpenAIRoute(APIRoute):
    """A route whose errors, request validation included, come back in OpenAI's shape (only these routes)."""

    max_body: int | None = None  # bytes; set per router (see openai_router)
    admission: Admission | None = None  # bounds POST requests (speech); set per router

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            admitted = False
            try:
                if self.max_body is not None and request.method in ("POST", "PUT", "PATCH"):
                    request = _limited(request, self.max_body)
                if self.admission is not None and request.method == "POST":
                    if not self.admission.enter():
                        return error_response(429, f"The studio is busy: {self.admission.limit} speech requests are "
                                                   "already in progress. Try again in a few seconds.", None, "busy")
                    admitted = True
                response = await handler(request)
            except Exception as e:
                if isinstance(e.__cause__, StarletteHTTPException) and e.__cause__.status_code == 413:
                    e = e.__cause__  # FastAPI wraps errors raised while it reads the body
                response = to_error_response(e)
            return _ReleaseWhenSent(response, self.admission.leave) if admitted else response  # type: ignore

        return guarded


def _checked(param: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call fn; an InputError becomes a 400 (a VoiceNotFound a 404) naming `param`."""
    try:
        return fn(*args, **kwargs)
    except InputError as e:
        raise as_api_error(e, param) from e  # type: ignore[misc]


def _options(req: SpeechRequest) -> SynthesisOptions:
    speed = min(max(req.speed, SPEED_RANGE[0]), SPEED_RANGE[1])
    given = {"speed": speed, "seed": req.seed, "nfe_step": req.nfe_step, "cfg_strength": req.cfg_strength}
    given = {k: v for k, v in given.items() if v is not None}
    for name, value in given.items():  # one at a time, so the error names its field
        _checked(name, SynthesisOptions, **{name: value})
    return SynthesisOptions(**given)


def build_request(engine: Engine, req: SpeechRequest) -> SynthesisRequest:
    """Validate everything and resolve the voice, before any audio is made (blocking: run in a thread)."""
    if req.stream_format != "audio":
        raise ApiError(400, "Only stream_format='audio' is supported.", "stream_format", "unsupported_value")
    if req.response_format in FFMPEG_OUT and shutil.which("ffmpeg") is None:
        raise ApiError(400, f"{req.response_format} needs ffmpeg, which this server lacks. Use wav, flac or pcm.",
                       "response_format", "unsupported_value")
    options = _options(req)
    text = _checked("input", validate_text, req.input, engine.settings.max_text_chars)
    name = req.voice.id if isinstance(req.voice, VoiceId) else req.voice
    return SynthesisRequest(text, _checked("voice", engine.voice_reference, name), options)


def pcm16(wave: np.ndarray) -> bytes:
    return np.rint(np.clip(np.nan_to_num(wave), -1.0, 1.0) * 32767).astype("<i2").tobytes()


def pcm_stream(waves: Iterator[np.ndarray], header: bytes = b"") -> Iterator[bytes]:
    yield from chain([header] if header else [], map(pcm16, waves))


def flac_bytes(waves: Iterator[np.ndarray]) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.concatenate(list(waves)), SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def ffmpeg_stream(fmt: str, waves: Iterator[np.ndarray], on_end: Callable[[], None] = lambda: None) -> Iterator[bytes]:
    """Encode with one ffmpeg process: a thread feeds it raw PCM as chunks are generated, we pass on its output.
    `on_end` is called by the feeding thread once it stops (finished, failed, or ffmpeg was stopped)."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0",
           *FFMPEG_OUT[fmt], "-flush_packets", "1", "pipe:1"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    failures: list[Exception] = []
    threading.Thread(target=_feed, args=(proc, waves, failures, on_end), name="ffmpeg-feed", daemon=True).start()
    try:
        while block := proc.stdout.read1(1 << 16):  # type: ignore[union-attr]
            yield block
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed: {proc.stderr.read().decode(errors='replace')[-500:]}")  # type: ignore
        if failures:
            raise failures[0]
    finally:
        if proc.poll() is None:  # the client went away: stop encoding (the feeder then stops too)
            proc.kill()
            proc.wait()


def _feed(proc: subprocess.Popen, waves: Iterator[np.ndarray], failures: list[Exception],
          on_end: Callable[[], None]) -> None:
    try:
        for wave in waves:
            proc.stdin.write(pcm16(wave))  # type: ignore[union-attr]
    except (BrokenPipeError, ValueError):
        pass  # ffmpeg was stopped
    except Exception as e:  # synthesis failed mid-stream: re-raised by the reader, so the body ends in an error
        failures.append(e)
    finally:
        try:
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        on_end()


def _close(generator: Any) -> None:
    """Close a generator now (its `finally` runs: the engine's cancels the chunks not generated yet). One running in
    another thread cannot be closed from here; that thread closes it when it stops (see _feed)."""
    try:
        generator.close()
    except ValueError:  # "generator already executing"
        pass


class ClosingStreamingResponse(StreamingResponse):
    """A streaming response that, however sending ends (finished, failed, or the client went away), closes its body
    and calls `on_end` at once, instead of whenever the garbage collector gets to them. So a client that hangs up
    stops the generation after the chunk in progress."""

    def __init__(self, content: Iterator[bytes], on_end: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.content, self.on_end = content, on_end

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            _close(self.content)
            self.on_end()


async def speech_response(engine: Engine, req: SpeechRequest) -> Response:
    synthesis = await run_in_threadpool(build_request, engine, req)
    chunks = engine.stream(synthesis)
    try:
        first = await run_in_threadpool(next, chunks, None)  # loads the model: failures still get a JSON error
        if first is None:
            raise ApiError(500, "No audio was generated.", None, "internal_error")
        fmt, waves = req.response_format, chain([first.wave], (chunk.wave for chunk in chunks))
        headers = {"X-Seed": str(first.seed), "X-Sample-Rate": str(SAMPLE_RATE)}
        if fmt == "flac":
            return Response(await run_in_threadpool(flac_bytes, waves), media_type=CONTENT_TYPES[fmt], headers=headers)
    except BaseException:
        _close(chunks)  # nothing will be sent: cancel the chunks already queued
        raise
    stop = functools.partial(_close, chunks)
    if fmt in FFMPEG_OUT:
        body = ffmpeg_stream(fmt, waves, on_end=stop)
    else:
        body = pcm_stream(waves, WAV_HEADER if fmt == "wav" else b"")
    return ClosingStreamingResponse(body, on_end=stop, media_type=CONTENT_TYPES[fmt], headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (400, 404, 413, 429, 500, 503)}


def openai_router(engine: Engine) -> APIRouter:
    route_class = type("OpenAIRoute", (OpenAIRoute,), {"max_body": body_limit(engine.settings.max_text_chars),
                                                       "admission": Admission(engine.settings.queue_max)})
    router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"], route_class=route_class, responses=ERRORS)

    @router.post("/audio/speech", response_class=Response, responses={
        200: {"description": "The audio", "content": {t: {} for t in sorted(set(CONTENT_TYPES.values()))}}})
    async def speech(req: SpeechRequest) -> Response:
        """Speak `input` in a saved voice, in OpenAI's request and error format."""
        return await speech_response(engine, req)

    @router.get("/models")
    def models() -> ModelList:
        """f5-tts, and the OpenAI names clients default to; all are the same model."""
        return ModelList(data=[ModelCard(id=m) for m in MODELS])

    @router.get("/voices")
    def voices() -> VoiceList:
        """The saved voices usable as `voice`."""
        return VoiceList(voices=[VoiceInfo(name=v.name, has_transcript=bool(v.text)) for v in engine.voices.list()])

    return router
