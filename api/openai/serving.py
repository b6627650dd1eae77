"""Serving speech: validate a request into a studio request, admit it, and stream its audio.

pcm, wav, mp3, opus and aac are streamed chunk by chunk (a streamed WAV header has unknown sizes, as OpenAI's); flac
comes whole, and so does every format when the per-chunk check is on (`"check": true`): its scores come in the
`X-Check` header (JSON: checked, worst_wer, retried, and per chunk its text, what was heard, wer, seed, tries; at most
CHECK_HEADER_MAX bytes: a longer report keeps the scores and leaves out the texts, see check_header).
Every answer has `X-Reference-Notes`: what preparing the reference did or found, as a JSON list of sentences
(ASCII, at most NOTES_HEADER_MAX characters), e.g. ["short reference (2.9 s); 5 to 12 s of speech gives ..."].
stream_format "sse" sends the same bytes as OpenAI's speech events (sse.py), with captions and the check's scores
as extension events on request.
Everything that can fail before the first byte (validation, voice, model load, the first chunk) is answered in
OpenAI's error JSON.

Bounds: at most `max_in_progress` (F5_QUEUE_MAX) speech requests are in progress at once (more get 429 "busy, try
again" with Retry-After, typed as OpenAI types its rate limits), and a request body may be at most about six bytes
per allowed text character (F5_MAX_TEXT_CHARS) plus 64 KiB (more get 413, before the body is read whole).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from typing import Any, TypeVar

from fastapi import HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from inference import (
    CONTENT_TYPES,
    InputError,
    Stop,
    Studio,
    SynthesisOptions,
    SynthesisRequest,
    caption_level,
    check_format,
    check_summary,
    encode_audio,
    stopping,
    stream_audio,
)

from .protocol import ApiError, VoiceId, _SpeechRequest, as_api_error

log = logging.getLogger(__name__)

INTERFACE = "openai"  # how the metrics name this way in
CHECK_HEADER_MAX = 2048  # bytes: X-Check stays far below proxies' limits on all headers together (nginx: 4-8 KiB)
CHECK_DETAILS = "Shortened to fit a header: stream_format 'sse' sends the whole report as its speech.check event."
NOTES_HEADER_MAX = 1024  # characters, X-Reference-Notes at most (proxies refuse headers of a few KiB)
T = TypeVar("T")


def body_limit(max_text_chars: int) -> int:
    """The largest request body worth reading: the longest allowed text, every character JSON-escaped as \\uXXXX
    (6 bytes), plus room for the other fields."""
    return 6 * max_text_chars + 64 * 1024


def _too_large(size: int, limit: int) -> HTTPException:
    log.info("request body refused: %s bytes, over %s (6 x F5_MAX_TEXT_CHARS + 64 KiB)", f"{size:,}", f"{limit:,}")
    return HTTPException(
        413,
        f"The request body is too large ({size:,} bytes; this server reads at most "
        f"{limit:,}). Send shorter text, in parts one after another.",
    )


def limited(request: Request, limit: int) -> Request:
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


class ReleaseWhenSent:
    """A response that frees its admission slot once it has been sent, failed, or its client has gone away."""

    def __init__(self, response: Response, release: Callable[[], None]) -> None:
        self.response, self.release = response, release

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.response(scope, receive, send)
        finally:
            self.release()


def _checked_error(e: InputError, param: str) -> ApiError:
    """The InputError as a 400 (a VoiceNotFound as a 404) naming `param`."""
    return as_api_error(e, param) or ApiError(400, str(e), param, "invalid_value")  # as_api_error knows them all


def _checked(param: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call fn; an InputError becomes a 400 (a VoiceNotFound a 404) naming `param`."""
    try:
        return fn(*args, **kwargs)
    except InputError as e:
        raise _checked_error(e, param) from e


def build_request(studio: Studio, req: _SpeechRequest) -> SynthesisRequest:
    """Validate the fields and resolve the voice, before any audio is made (blocking: run in a thread). The text is
    checked once, by the studio as the generation starts (see speech_response)."""
    if _checked("captions", caption_level, req.captions) and req.stream_format != "sse":
        raise ApiError(
            400,
            "Captions come as an event of the SSE stream: set stream_format to 'sse'.",
            "captions",
            "unsupported_value",
        )
    _checked("response_format", check_format, req.response_format)
    given = {k: v for k, v in req.options().items() if v is not None}
    for name, value in given.items():  # one at a time, so the error names its field
        _checked(name, SynthesisOptions.from_loose, {name: value})
    options = SynthesisOptions.from_loose(given)
    name = req.voice.id if isinstance(req.voice, VoiceId) else req.voice
    return _checked("voice", studio.request, req.input, voice=name, options=options)


def _close(generator: Any) -> None:
    """Close a generator now (its `finally` runs: the engine's cancels the chunks not generated yet). One running in
    another thread cannot be closed from here; that thread closes it when it stops (see encode._feed)."""
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


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone away (its body was read already: the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def unless_gone(request: Request | None, work: Callable[[], T]) -> T:
    """Run blocking engine work in a worker thread; if the client goes away first, cancel the work (its chunks leave
    the scheduler at once, inference/cancel.py) and answer 499, so that a dropped request frees its admission slot
    and the engine instead of running its whole take for nobody."""
    if request is None:
        return await run_in_threadpool(work)
    stop = Stop()

    def stoppable() -> T:
        with stopping(stop):
            return work()

    job = asyncio.ensure_future(run_in_threadpool(stoppable))
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({job, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not job.done():
        stop.cancel()
        await asyncio.wait({job})  # ends within a sampling step: its chunks were cancelled
        job.exception()  # retrieved: nobody is left to tell
        raise ApiError(499, "The client went away before the audio was ready.", None, "client_closed")
    return job.result()


async def speech_response(studio: Studio, req: _SpeechRequest, request: Request | None = None) -> Response:
    """The audio for one request; counted in the studio's metrics by its outcome (a streamed one once it ends).
    With `request`, a whole-file answer (flac, or `check`) is cancelled when its client goes away."""
    try:
        synthesis = await run_in_threadpool(build_request, studio, req)
        try:
            return await _speech_response(studio, req, synthesis, request)
        except InputError as e:
            # Every other field is checked (build_request names each): what the studio refuses as the generation
            # starts, before the first audio, is the text, which it checks once.
            raise _checked_error(e, "input") from e
    except Exception as e:
        studio.metrics.count(INTERFACE, e)
        raise


def _counted(studio: Studio, body: Iterator[T]) -> Iterator[T]:
    with studio.metrics.track(INTERFACE):
        yield from body


def _compact(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=True, separators=(",", ":"))


def notes_header(notes: Sequence[str], limit: int = NOTES_HEADER_MAX) -> str:
    """The reference's notes as the X-Reference-Notes header: a compact JSON list, ASCII only (non-ASCII text as \\u
    escapes), at most `limit` characters (the last notes are left out, and "..." says so, when they do not fit).

    >>> notes_header(["short reference (2.9 s)", "raised the volume by 14 dB"])
    '["short reference (2.9 s)","raised the volume by 14 dB"]'
    """
    kept = list(notes)
    while True:
        value = json.dumps(kept + (["..."] if len(kept) < len(notes) else []), ensure_ascii=True, separators=(",", ":"))
        if len(value) <= limit or not kept:
            return value
        kept.pop()


def speech_headers(seed: int, sample_rate: int, notes: Sequence[str]) -> dict[str, str]:
    return {"X-Seed": str(seed), "X-Sample-Rate": str(sample_rate), "X-Reference-Notes": notes_header(notes)}


def check_header(checks: Any) -> str:
    """The per-chunk check as the X-Check header: compact JSON, ASCII only (non-ASCII text as \\u escapes), at most
    CHECK_HEADER_MAX bytes. A report that does not fit (63 KB of escaped Chinese at the text limit) keeps each
    chunk's error rate, seed and tries without its texts (1.8 KB there), or, past that, the totals alone, with
    `"details"` saying where the whole report is (the SSE stream's speech.check event)."""
    report = check_summary(checks)
    whole = _compact(report)
    if len(whole) <= CHECK_HEADER_MAX:
        return whole
    report["details"] = CHECK_DETAILS
    report["chunks"] = [{k: c[k] for k in ("chunk", "wer", "seed", "tries")} for c in report["chunks"]]
    scores = _compact(report)
    if len(scores) <= CHECK_HEADER_MAX:
        return scores
    report["chunks"] = len(report["chunks"])
    return _compact(report)


async def _checked_response(studio: Studio, synthesis: SynthesisRequest, fmt: str, request: Request | None) -> Response:
    """With the per-chunk check on, the audio comes whole, so that X-Check can carry every chunk's score."""
    result = await unless_gone(request, functools.partial(studio.synthesize, synthesis))
    audio = await run_in_threadpool(encode_audio, result.wave, result.sample_rate, fmt)
    headers = speech_headers(result.seed, result.sample_rate, result.ref_notes)
    headers["X-Check"] = check_header(result.checks)
    studio.metrics.count(INTERFACE)
    return Response(audio, media_type=CONTENT_TYPES[fmt], headers=headers)


async def _whole_flac(studio: Studio, synthesis: SynthesisRequest, request: Request | None) -> Response:
    """FLAC comes whole: its header needs the length."""
    result = await unless_gone(request, functools.partial(studio.synthesize, synthesis))
    audio = await run_in_threadpool(encode_audio, result.wave, result.sample_rate, "flac")
    studio.metrics.count(INTERFACE)
    headers = {"X-Seed": str(result.seed), "X-Sample-Rate": str(result.sample_rate)}
    return Response(audio, media_type=CONTENT_TYPES["flac"], headers=headers)


async def _speech_response(
    studio: Studio, req: _SpeechRequest, synthesis: SynthesisRequest, request: Request | None
) -> Response:
    if synthesis.options.check and req.stream_format != "sse":  # SSE carries the scores as an event instead
        return await _checked_response(studio, synthesis, req.response_format, request)
    if req.response_format == "flac" and req.stream_format != "sse":  # whole: its header needs the length
        return await _whole_flac(studio, synthesis, request)
    chunks = studio.stream(synthesis)
    try:
        first = await run_in_threadpool(next, chunks, None)  # loads the model: failures still get a JSON error
        if first is None:
            raise ApiError(500, "No audio was generated.", None, "internal_error")
        fmt, rate, waves = req.response_format, first.sample_rate, chain([first.wave], (c.wave for c in chunks))
        headers = speech_headers(first.seed, rate, first.ref_notes)
        if req.stream_format == "sse":  # OpenAI's speech events (api/openai/sse.py)
            from .sse import ClosingEventSourceResponse, speech_events

            stop = functools.partial(_close, chunks)
            events = speech_events(studio, req, synthesis.options.cross_fade, first, chunks, on_end=stop)
            return ClosingEventSourceResponse(_counted(studio, events), on_end=stop, headers=headers)
    except BaseException:
        _close(chunks)  # nothing will be sent: cancel the chunks already queued
        raise
    stop = functools.partial(_close, chunks)
    body = _counted(studio, stream_audio(fmt, waves, rate, on_end=stop))
    return ClosingStreamingResponse(body, on_end=stop, media_type=CONTENT_TYPES[fmt], headers=headers)
