"""The dub job: an SRT or WebVTT file's cues spoken in their slots, on one track (inference's dubbing).

{"input": {"subtitles": "1\\n00:00:01,000 --> 00:00:02,500\\n[Guest] Hello.\\n", "voice": "alice",
           "voices": {"Guest": "bob"}, "max_speedup": 1.5, "clips": true}}
-> {"audio_base64", "sample_rate", "duration", "seed", "cues": [per-cue report], "clips_zip_base64"}
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Self

from inference import (
    DEFAULT_MAX_SPEEDUP,
    InputError,
    Reference,
    Studio,
    SynthesisOptions,
    check_cues,
    check_speedup,
    parse_subtitles,
)

from .job import Job, Speech, base64_audio, in_job_keys
from .limits import WorkerSettings


@dataclass(frozen=True)
class DubJob(Job):
    KEY = "subtitles"

    subtitles: str
    voice: str | None  # a saved voice for the untagged cues
    reference: Reference | None  # or a recording for them
    mapping: Any  # "voices": tags -> saved voice names
    options: SynthesisOptions
    max_speedup: float
    clips: bool
    response_format: str
    limits: WorkerSettings

    @classmethod
    def parse(cls, raw: dict[str, Any], studio: Studio, limits: WorkerSettings) -> Self:
        speech = Speech.parse(raw, limits)
        for key, why in (("captions", "the subtitles are the dub's captions"), ("stream", "a dub comes as one output")):
            if raw.get(key) not in (None, False):
                raise InputError(f"'{key}' does not go with 'subtitles': {why}.", f"Leave out '{key}'.")
        clips = raw.get("clips", False)
        if not isinstance(clips, bool):
            raise InputError(f"'clips' must be true or false, not {clips!r}.", "Send a JSON boolean.")
        speedup = check_speedup(raw.get("max_speedup", DEFAULT_MAX_SPEEDUP))
        subtitles = speech.subtitles or ""
        check_cues(parse_subtitles(subtitles))  # malformed subtitles: refused before the job starts
        upload = None
        if speech.audio is not None:  # without one, a saved voice or the cues' tags say who speaks
            with in_job_keys():
                speech.give_consent(studio)
                upload = studio.reference(voice=speech.voice, audio=speech.audio, text=speech.ref_text)
        fmt, mapping = speech.response_format, raw.get("voices")
        return cls(subtitles, speech.voice, upload, mapping, speech.options, speedup, clips, fmt, limits)

    def run(self, studio: Studio) -> dict[str, Any]:
        """The dubbed track; its length is checked against the output limit before any cue is generated."""
        limit = self.limits.output_seconds(self.response_format)
        result = studio.dub(
            self.subtitles, self.voice, self.reference, self.mapping, self.options, self.max_speedup, max_track=limit
        )
        out: dict[str, Any] = {
            "audio_base64": base64_audio(result.wave, result.sample_rate, self.response_format),
            "sample_rate": result.sample_rate,
            "duration": round(result.duration, 3),
            "seed": result.base_seed,
            "cues": result.table(),
        }
        if self.clips:
            out["clips_zip_base64"] = base64.b64encode(result.zip_bytes()).decode("ascii")
        size = len(out["audio_base64"]) + len(out.get("clips_zip_base64", ""))
        self.limits.check_output(size, result.duration, self.response_format)
        return out
