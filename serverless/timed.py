"""The worker's timed-speech inputs: `captions` on a synthesis job, and `subtitles` (a dubbing job).

    {"input": {"text": "Hello. Goodbye.", "voice": "alice", "captions": true}}
    -> {..., "srt": "1\\n00:00:00,000 --> ...", "vtt": "WEBVTT\\n\\n...", "cues": [{"start", "end", "text"}, ...]}
    {"input": {"subtitles": "1\\n00:00:01,000 --> 00:00:02,500\\n[Guest] Hello.\\n", "voice": "alice",
               "voices": {"Guest": "bob"}, "max_speedup": 1.5, "clips": true}}
    -> {"audio_base64", "sample_rate", "duration", "seed", "cues": [per-cue report], "clips_zip_base64"}

serverless/handler.py checks the job's keys (its docstring lists them) and calls these.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from inference import Engine, InputError, Reference, SynthesisOptions
from inference.audio.encode import encode_audio
from inference.studio import dubbing
from inference.studio.captions import Captions, caption_level

DUB_KEYS = ("voices", "max_speedup", "clips")  # only with "subtitles"


@dataclass(frozen=True)
class DubJob:
    subtitles: str
    voice: str | None
    reference: Reference | None
    mapping: Any
    options: SynthesisOptions
    max_speedup: float
    clips: bool


def check_keys(raw: dict[str, Any], dubbing_job: bool) -> str | None:
    """Keys that go with one kind of job only; returns the captions level asked for (None: none)."""
    if not dubbing_job:
        given = [k for k in DUB_KEYS if k in raw]
        if given:
            names = ", ".join(map(repr, given))
            raise InputError(
                f"{names} go{'es' if len(given) == 1 else ''} with 'subtitles'.", "Add 'subtitles' or leave them out."
            )
        return caption_level(raw.get("captions"))
    for key, why in (("captions", "the subtitles are the dub's captions"), ("stream", "a dub comes as one output")):
        if raw.get(key) not in (None, False):
            raise InputError(f"'{key}' does not go with 'subtitles': {why}.", f"Leave out '{key}'.")
    return None


def dub_job(
    raw: dict[str, Any], subtitles: str, voice: str | None, reference: Reference | None, options: SynthesisOptions
) -> DubJob:
    clips = raw.get("clips", False)
    if not isinstance(clips, bool):
        raise InputError(f"'clips' must be true or false, not {clips!r}.", "Send a JSON boolean.")
    speedup = dubbing.check_speedup(raw.get("max_speedup", dubbing.DEFAULT_MAX_SPEEDUP))
    dubbing.check_cues(dubbing.parse_subtitles(subtitles))  # malformed subtitles: refused before the job starts
    return DubJob(subtitles, voice, reference, raw.get("voices"), options, speedup, clips)


def dub_output(
    engine: Engine, job: DubJob, fmt: str, limit: tuple[float, str] | None = None
) -> tuple[dict[str, Any], int, float]:
    """The job's output, and its base64 size and seconds (for the worker's output limit). `limit`: the most seconds
    the output can carry and what to do beyond, checked before generating."""
    result = dubbing.dub(
        engine, job.subtitles, job.voice, job.reference, job.mapping, job.options, job.max_speedup, max_track=limit
    )  # fmt: skip
    audio = base64.b64encode(encode_audio(result.wave, result.sample_rate, fmt)).decode("ascii")
    out: dict[str, Any] = {
        "audio_base64": audio,
        "sample_rate": result.sample_rate,
        "duration": round(result.duration, 3),
        "seed": result.base_seed,
        "cues": result.table(),
    }
    if job.clips:
        out["clips_zip_base64"] = base64.b64encode(result.zip_bytes()).decode("ascii")
    return out, len(audio) + len(out.get("clips_zip_base64", "")), result.duration


def captions_output(captions: Captions) -> dict[str, Any]:
    out = {"srt": captions.srt(), "vtt": captions.vtt(), "cues": captions.table()}
    return {**out, "captions_note": captions.note} if captions.note else out
