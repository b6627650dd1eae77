"""The segments job: many short texts (a long-form project's segments) spoken in one job, each with its own seed and
voice, so that a studio can send its segments to a RunPod queue endpoint and let the autoscaler add GPUs. The studio
keeps the project's state; the worker only speaks what it is sent, and a segment sent again comes back the same.

    {"input": {"segments": [{"id": "s1", "text": "Chapter one.", "seed": 11},
                            {"id": "s2", "text": "It was night.", "seed": 12, "voice": "bob"}],
               "ref_audio_base64": "...", "ref_text": "...", "nfe_step": 32, "response_format": "wav"}}
    -> {"sample_rate": 24000,
        "segments": [{"id": "s1", "audio_base64", "duration", "seed", "spoken_text", "check" (with "check": true)},
                     {"id": "s2", "error": "There is no saved voice called 'bob'. ..."}]}

- A segment's voice is its own "voice" (a saved voice), else the job's "voice", else the job's shared recording
  (ref_audio_base64 with ref_text). Its audio is what Studio.synthesize gives for the same text, voice, options and
  seed: byte for byte the same WAV as a local render.
- A bad segment (no text, an unknown voice, a text too long, an unknown key) fails alone: its entry holds "error",
  the others come back. A job whose own keys are wrong fails whole.
- Segments are spoken at the same time, up to the worker's concurrency, so that a GPU batches them; the output keeps
  their order. The streaming worker yields one item per segment, in order, each with "sample_rate".
- RUNPOD_MAX_OUTPUT_MB bounds the whole output: a segment whose audio would take it over, and every one after it,
  comes back with an "error" that says to send it again in another job (or ask for mp3), and is not kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Self

from inference import (
    SAMPLE_RATE,
    InputError,
    Studio,
    StudioError,
    SynthesisOptions,
    SynthesisRequest,
    check_format,
    check_summary,
)

from .job import OPTION_KEYS, Job, base64_audio, in_job_keys, refuse_unknown, text_field
from .limits import MB, WorkerSettings

log = logging.getLogger("serverless")

MAX_SEGMENTS = 1000  # per job: a batch of a book's segments; more go in further jobs
SEGMENT_KEYS = ("id", "text", "seed", "voice")
SHARED_OPTIONS = tuple(k for k in OPTION_KEYS if k != "seed")  # a seed is each segment's own
JOB_KEYS = ("segments", "voice", "ref_audio_base64", "ref_text", *SHARED_OPTIONS, "response_format")
SEGMENT_EXAMPLE = '{"id": "s1", "text": "Hello.", "seed": 7}'
EXAMPLE = f'{{"segments": [{SEGMENT_EXAMPLE}], "voice": "alice"}}'


@dataclass(frozen=True)
class Segment:
    """One segment as sent: its request, or why it cannot be spoken (`error`)."""

    id: Any
    request: SynthesisRequest | None = None
    error: str | None = None


@dataclass(frozen=True)
class SegmentsJob(Job):
    KEY = "segments"

    segments: tuple[Segment, ...]
    response_format: str
    limits: WorkerSettings
    workers: int  # segments spoken at once

    @classmethod
    def parse(cls, raw: dict[str, Any], studio: Studio, limits: WorkerSettings) -> Self:
        refuse_unknown(raw, JOB_KEYS)
        items = raw["segments"]
        if not isinstance(items, list) or not items:
            raise InputError("'segments' must be a non-empty list of objects.", f"Send {EXAMPLE}.")
        if len(items) > MAX_SEGMENTS:
            raise InputError(
                f"A job may hold at most {MAX_SEGMENTS} segments; this one has {len(items)}.",
                "Split them over several jobs.",
            )
        voice = text_field(raw, "voice", "a saved voice's name")
        audio_b64 = text_field(raw, "ref_audio_base64", "the reference recording, base64-encoded")
        ref_text = text_field(raw, "ref_text", "the words spoken in the reference")
        if voice is not None and audio_b64 is not None:
            raise InputError(
                "Both 'voice' and 'ref_audio_base64' were given.",
                "Send one for the job: a saved voice's name, or a recording (with 'ref_text'); a segment may name its "
                "own 'voice'.",
            )
        if ref_text is not None and audio_b64 is None:
            raise InputError(
                "'ref_text' goes with 'ref_audio_base64'; a saved voice has its own transcript.",
                "Leave out 'ref_text', or send the recording it transcribes.",
            )
        fmt = check_format(raw.get("response_format", "wav"), what="response_format")
        options = SynthesisOptions.from_loose({k: raw[k] for k in SHARED_OPTIONS if k in raw})
        shared = _Shared(voice, None if audio_b64 is None else limits.decode(audio_b64), ref_text, options, fmt)
        ids = [item["id"] for item in items if isinstance(item, dict) and "id" in item]
        repeated = sorted({repr(i) for i in ids if ids.count(i) > 1})
        if repeated:
            raise InputError(f"Segment ids must be unique; repeated: {', '.join(repeated)}.", "Give each its own id.")
        segments = tuple(shared.segment(studio, limits, item, i) for i, item in enumerate(items))
        return cls(segments, fmt, limits, max(1, min(len(segments), studio.concurrency())))

    def run(self, studio: Studio) -> dict[str, Any]:
        return {"sample_rate": SAMPLE_RATE, "segments": list(self._rendered(studio))}

    async def stream(self, studio: Studio) -> AsyncIterator[dict[str, Any]]:
        """One item per segment, in order, as soon as it and those before it are spoken."""
        rendered = self._rendered(studio)
        try:
            while (item := await asyncio.to_thread(next, rendered, None)) is not None:
                yield {**item, "sample_rate": SAMPLE_RATE}
        finally:
            rendered.close()  # the segments not started are dropped

    def _rendered(self, studio: Studio) -> Generator[dict[str, Any], None, None]:
        """Each segment's entry, in order; segments are spoken `workers` at a time. Over RUNPOD_MAX_OUTPUT_MB, the
        rest come back with an error saying to send them again."""
        total = 0
        with ThreadPoolExecutor(self.workers, thread_name_prefix="segment") as pool:
            futures = [pool.submit(self._speak, studio, s.id, s.request) if s.request else None for s in self.segments]
            try:
                for i, (segment, future) in enumerate(zip(self.segments, futures, strict=True)):
                    entry = _entry(segment, future)
                    total += len(entry.get("audio_base64", ""))
                    if total > self.limits.max_output_mb * MB:
                        _cancel(futures[i:])
                        yield from (self._over(s) for s in self.segments[i:])
                        return
                    yield entry
            finally:
                _cancel(futures)

    def _speak(self, studio: Studio, seg_id: Any, request: SynthesisRequest) -> dict[str, Any]:
        result = studio.synthesize(request)
        return {
            "id": seg_id,
            "audio_base64": base64_audio(result.wave, result.sample_rate, self.response_format),
            "duration": round(result.duration, 3),
            "seed": result.seed,
            "spoken_text": result.spoken_text,
            **({"check": check_summary(result.checks)} if result.checks else {}),
        }

    def _over(self, segment: Segment) -> dict[str, Any]:
        smaller = " or ask for response_format mp3" if self.response_format in ("wav", "pcm", "flac") else ""
        return {
            "id": segment.id,
            "error": f"Not sent: with it the job's output would exceed {self.limits.max_output_mb:g} MB (RunPod "
            f"returns at most that per job; RUNPOD_MAX_OUTPUT_MB). Send this segment again in another job{smaller}.",
        }


@dataclass(frozen=True)
class _Shared:
    """What every segment of a job shares: the job's voice or recording, the options and the format."""

    voice: str | None
    audio: bytes | None
    ref_text: str | None
    options: SynthesisOptions
    response_format: str

    def segment(self, studio: Studio, limits: WorkerSettings, item: Any, index: int) -> Segment:
        """The segment at `index`, or its error (its own; the job goes on)."""
        if not isinstance(item, dict):
            return Segment(index, error=f"Segment {index} must be an object like {SEGMENT_EXAMPLE}.")
        seg_id = item.get("id")
        if not isinstance(seg_id, (str, int)) or isinstance(seg_id, bool):
            return Segment(index, error=f"Segment {index} needs an 'id': a string or a whole number.")
        try:
            return Segment(seg_id, request=self._request(studio, limits, item))
        except StudioError as e:
            return Segment(seg_id, error=str(e))

    def _request(self, studio: Studio, limits: WorkerSettings, item: dict[str, Any]) -> SynthesisRequest:
        refuse_unknown(item, SEGMENT_KEYS, " in a segment")
        text = text_field(item, "text", "what the voice should say")
        if text is None:
            raise InputError("The segment has no 'text'.", "Add 'text': what the voice should say.")
        voice = text_field(item, "voice", "a saved voice's name") or self.voice
        options = SynthesisOptions.from_loose({"seed": item.get("seed")}, base=self.options)
        seconds, hint = limits.output_seconds(self.response_format)
        with in_job_keys():
            return studio.request(
                text,
                voice=voice,
                audio=None if voice else self.audio,
                ref_text=None if voice else self.ref_text,
                options=options,
                max_seconds=seconds,
                limit_hint=hint,
            )


def _entry(segment: Segment, future: Future | None) -> dict[str, Any]:
    if future is None:
        return {"id": segment.id, "error": segment.error}
    try:
        return future.result()
    except StudioError as e:
        return {"id": segment.id, "error": str(e)}
    except Exception as e:  # a fault of the worker's: this segment alone fails, the job goes on
        log.exception("segment %r failed", segment.id)
        return {
            "id": segment.id,
            "error": f"Generation failed: {type(e).__name__}. The details are in the worker log; send the segment "
            "again, and report it if it keeps failing.",
        }


def _cancel(futures: list[Future | None]) -> None:
    for future in futures:
        if future is not None:
            future.cancel()
