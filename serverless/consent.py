"""The consent_phrase job: a phrase made up now for the owner of a voice to read (F5_REQUIRE_CONSENT).

    {"input": {"consent_phrase": true}}  ->  {"token": "...", "phrase": "Blue river, golden tiger, seventy two. ..."}

The owner reads the phrase; a speak or dub job then sends the recording as "consent_audio_base64" and the token as
"consent_token" beside "ref_audio_base64". The token is checked by any worker sharing the volume (VOICES_DIR).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from inference import InputError, Studio

from .job import Job
from .limits import WorkerSettings


@dataclass(frozen=True)
class ConsentPhraseJob(Job):
    KEY = "consent_phrase"

    @classmethod
    def parse(cls, raw: dict[str, Any], studio: Studio, limits: WorkerSettings) -> Self:
        if raw != {"consent_phrase": True}:
            raise InputError(
                "A consent_phrase job holds only 'consent_phrase': true.",
                'Send {"input": {"consent_phrase": true}}.',
            )
        return cls()

    def run(self, studio: Studio) -> dict[str, Any]:
        token, phrase = studio.consent_phrase()
        return {"token": token, "phrase": phrase}
