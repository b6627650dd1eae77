"""stream_format "sse": OpenAI's speech events over Server-Sent Events (sse-starlette's EventSourceResponse).

    data: {"type": "speech.audio.delta", "audio": "<base64>"}        one per piece of audio, as it is generated
    data: {"type": "speech.captions", "level": "sentence", "srt": "...", "vtt": "...", "cues": [...]}
                                                                      extension: only when the request asks for them
    data: {"type": "speech.check", "checked": true, "worst_wer": 0.0, "retried": 0, "chunks": [...]}
                                                                      extension: only with "check": true
    data: {"type": "speech.audio.done", "usage": {"input_tokens": 12, "output_tokens": 140, "total_tokens": 152}}

The audio is `response_format` as the plain stream sends it, cut into pieces: the deltas, decoded and joined, are
the bytes stream_format "audio" returns for the same request and seed. `usage` counts the input's characters (F5-TTS
reads text character by character) and the mel frames generated. Errors before the first event are answered in
OpenAI's JSON error shape like any other request; one after it ends the stream with
{"type": "error", "error": {"message", "type", "param", "code"}}.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from sse_starlette import EventSourceResponse

from inference import AudioChunk, Studio, caption_level, check_summary, stream_audio

from .protocol import ApiError, ErrorInfo, _SpeechRequest, as_api_error

log = logging.getLogger(__name__)
PING_S = 15  # a comment line this often keeps proxies from closing a quiet stream (a long first chunk)


def _event(kind: str, **fields: Any) -> dict[str, str]:
    return {"data": json.dumps({"type": kind, **fields}, ensure_ascii=False)}


def speech_events(
    studio: Studio, req: _SpeechRequest, cross_fade: float, first: AudioChunk, chunks: Iterator[AudioChunk],
    on_end: Callable[[], None],
) -> Iterator[dict[str, str]]:  # fmt: skip
    """The events of one request whose first chunk is already generated (see the module docstring)."""
    parts = [first]

    def waves() -> Iterator[Any]:
        yield first.wave
        for chunk in chunks:
            parts.append(chunk)
            yield chunk.wave

    try:
        for block in stream_audio(req.response_format, waves(), first.sample_rate, on_end=on_end):
            yield _event("speech.audio.delta", audio=base64.b64encode(block).decode("ascii"))
        level = caption_level(req.captions)
        if level:
            captions = studio.captions(parts, cross_fade, level)
            yield _event(
                "speech.captions", level=captions.level, note=captions.note, srt=captions.srt(), vtt=captions.vtt(),
                cues=captions.table(),
            )  # fmt: skip
        checks = [p.check for p in parts if p.check is not None]
        if checks:  # the per-chunk check was on
            yield _event("speech.check", **check_summary(checks))
        inputs = len(req.input)
        outputs = sum(p.mel.shape[1] for p in parts if p.mel is not None)
        yield _event(
            "speech.audio.done",
            usage={"input_tokens": inputs, "output_tokens": outputs, "total_tokens": inputs + outputs},
        )
    except Exception as e:
        known = as_api_error(e)
        if known is None:
            log.error("unexpected error in an SSE speech stream", exc_info=e)
            known = ApiError(500, "The server had an error while processing your request.", None, "internal_error")
        kind = "invalid_request_error" if known.status < 500 else "server_error"
        yield _event(
            "error", error=ErrorInfo(message=known.message, type=kind, param=known.param, code=known.code).model_dump()
        )


class ClosingEventSourceResponse(EventSourceResponse):
    """An SSE response that, however sending ends (finished, failed, or the client went away), closes its events
    and calls `on_end` at once, so that a client that hangs up stops the generation."""

    def __init__(self, content: Iterator[dict[str, str]], on_end: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, ping=PING_S, **kwargs)
        self.content, self.on_end = content, on_end

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                self.content.close()  # type: ignore[attr-defined]
            except ValueError:  # still running in its thread: it stops at its next event
                pass
            self.on_end()
