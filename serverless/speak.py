"""The speak job: text spoken in a saved voice or a recording's, whole or (streaming worker) chunk by chunk, with
captions on request.

    {"input": {"text": "Hello. Goodbye.", "voice": "alice", "seed": 42, "captions": true}}
    -> {"audio_base64", "sample_rate", "duration", "seed", "ref_text", "spoken_text", "ref_notes",
        "srt", "vtt", "cues" (with captions), "check" (with "check": true)}
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Self

from inference import AudioChunk, Captions, InputError, Studio, SynthesisRequest, caption_level, check_summary

from .job import DUB_KEYS, Job, Speech, base64_audio, in_job_keys
from .limits import WorkerSettings


@dataclass(frozen=True)
class SpeakJob(Job):
    KEY = "text"

    request: SynthesisRequest
    response_format: str
    limits: WorkerSettings
    streaming: bool | None = None  # "stream" as given (None: not given)
    captions: str | None = None  # "sentence" or "word": captions asked for

    @classmethod
    def parse(cls, raw: dict[str, Any], studio: Studio, limits: WorkerSettings) -> Self:
        speech = Speech.parse(raw, limits)
        given = [k for k in DUB_KEYS if k in raw]
        if given:
            names = ", ".join(map(repr, given))
            raise InputError(
                f"{names} go{'es' if len(given) == 1 else ''} with 'subtitles'.", "Add 'subtitles' or leave them out."
            )
        captions = caption_level(raw.get("captions"))
        seconds, hint = limits.output_seconds(speech.response_format)
        with in_job_keys():
            speech.give_consent(studio)
            request = studio.request(
                speech.text or "",
                voice=speech.voice,
                audio=speech.audio,
                ref_text=speech.ref_text,
                options=speech.options,
                max_seconds=seconds,
                limit_hint=hint,
            )
        return cls(request, speech.response_format, limits, speech.stream, captions)

    def asks_to_stream(self) -> bool:
        return bool(self.streaming)

    def run(self, studio: Studio) -> dict[str, Any]:
        if self.captions:
            result, captions = studio.synthesize_with_captions(self.request, self.captions)
        else:
            result, captions = studio.synthesize(self.request), None
        audio = base64_audio(result.wave, result.sample_rate, self.response_format)
        self.limits.check_output(len(audio), result.duration, self.response_format)
        out = {
            "audio_base64": audio,
            "sample_rate": result.sample_rate,
            "duration": round(result.duration, 3),
            "seed": result.seed,
            "ref_text": result.ref_text,
            "spoken_text": result.spoken_text,
            "ref_notes": list(result.ref_notes),
            **({"check": check_summary(result.checks)} if result.checks else {}),
        }
        return {**out, **captions_output(captions)} if captions else out

    async def stream(self, studio: Studio) -> AsyncIterator[dict[str, Any]]:
        """One item per text chunk as it is generated; "stream": false, one item: the whole output."""
        if self.streaming is False:
            yield await asyncio.to_thread(self.run, studio)
            return
        chunks = await asyncio.to_thread(studio.stream, self.request)
        done: list[AudioChunk] = []
        total_chars, total_seconds = 0, 0.0
        try:
            while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
                done.append(chunk)
                item = self._item(chunk)
                total_chars += len(item["audio_base64"])
                total_seconds += len(chunk.wave) / chunk.sample_rate
                self.limits.check_output(total_chars, total_seconds, self.response_format, streamed=True)
                if self.captions and chunk.index == chunk.total - 1:  # the last item carries the take's captions
                    fade = self.request.options.cross_fade
                    found = await asyncio.to_thread(studio.captions, done, fade, self.captions)
                    item |= captions_output(found)
                yield item
        finally:
            chunks.close()  # the chunks not generated yet are cancelled

    def _item(self, chunk: AudioChunk) -> dict[str, Any]:
        return {
            "index": chunk.index,
            "total": chunk.total,
            "audio_base64": base64_audio(chunk.wave, chunk.sample_rate, self.response_format),
            "sample_rate": chunk.sample_rate,
            "duration": round(len(chunk.wave) / chunk.sample_rate, 3),
            "seed": chunk.seed,
            "ref_text": chunk.ref_text,
            "text": chunk.text,
            "ref_notes": list(chunk.ref_notes),
            **({"check": chunk.check.as_dict()} if chunk.check else {}),
        }


def captions_output(captions: Captions) -> dict[str, Any]:
    out = {"srt": captions.srt(), "vtt": captions.vtt(), "cues": captions.table()}
    return {**out, "captions_note": captions.note} if captions.note else out
