"""What every serverless job kind is: a small frozen dataclass that checks its input (`parse`), runs over the studio
(`run`: one output object) and, for the streaming worker, yields its items (`stream`: by default the whole output as
the one item). serverless/jobs.py lists the kinds; the keys of speak and dub jobs are checked here, once for both.
"""

from __future__ import annotations

import asyncio
import base64
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from inference import InputError, Studio, SynthesisOptions, check_format, encode_audio

from .limits import WorkerSettings

OPTION_KEYS = tuple(SynthesisOptions.specs())
CONSENT_KEYS = ("consent_audio_base64", "consent_token")  # the owner reading a phrase (F5_REQUIRE_CONSENT)
VOICE_KEYS = ("voice", "ref_audio_base64", "ref_text", *CONSENT_KEYS)
DUB_KEYS = ("voices", "max_speedup", "clips")  # only with "subtitles"
SPEECH_KEYS = ("text", *VOICE_KEYS, *OPTION_KEYS, "response_format", "stream", "captions", "subtitles", *DUB_KEYS)


class Job(ABC):
    """One kind of job. `KEY`: the input key that marks it (serverless/jobs.py's table)."""

    KEY: ClassVar[str]

    @classmethod
    @abstractmethod
    def parse(cls, raw: dict[str, Any], studio: Studio, limits: WorkerSettings) -> Self:
        """The job, from its input object; InputError names whatever is wrong."""

    @abstractmethod
    def run(self, studio: Studio) -> dict[str, Any]:
        """The job's one output object."""

    async def stream(self, studio: Studio) -> AsyncIterator[dict[str, Any]]:
        """The streaming worker's items: the whole output, as one item."""
        yield await asyncio.to_thread(self.run, studio)

    def asks_to_stream(self) -> bool:
        """Whether the input asks for items as they are generated ("stream": true)."""
        return False


def base64_audio(wave: np.ndarray, sample_rate: int, fmt: str) -> str:
    return base64.b64encode(encode_audio(wave, sample_rate, fmt)).decode("ascii")


def text_field(data: dict[str, Any], key: str, what: str, hint: str = "") -> str | None:
    """The string at `key` (None: absent); anything else is refused, saying `what` it holds."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        hint = hint or f"Send {what} as text."
        raise InputError(f"'{key}' must be a string ({what}), not {type(value).__name__}.", hint)
    return value


def refuse_unknown(raw: dict[str, Any], allowed: tuple[str, ...], where: str = "") -> None:
    """Refuse keys outside `allowed`, listing them; `where` names the object they are in (" in 'edit'")."""
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise InputError(
            f"Unknown {'key' if where else 'input key'}{'s' if len(unknown) > 1 else ''}{where}: "
            f"{', '.join(map(repr, unknown))}.",
            f"Allowed keys: {', '.join(allowed)}.",
        )


# The Studio owns the rule "a saved voice or a recording, not both" (Studio.reference); a job only words its two
# refusals in the job's own keys.
IN_JOB_KEYS = {
    "Both a saved voice and a recording were given.": (
        "Both 'voice' and 'ref_audio_base64' were given.",
        "Send one: a saved voice's name, or a reference recording (with 'ref_text').",
    ),
    "No reference voice was given.": (
        "No voice was given.",
        "Add 'voice' (a saved voice's name) or 'ref_audio_base64' (a recording, with 'ref_text').",
    ),
}


@contextmanager
def in_job_keys() -> Iterator[None]:
    """The Studio's refusals of a voice, in the job's keys (IN_JOB_KEYS); any other error as it is."""
    try:
        yield
    except InputError as e:
        worded = IN_JOB_KEYS.get(e.message)
        if worded is None:
            raise
        raise InputError(*worded) from e


def consent_of(raw: dict[str, Any], limits: WorkerSettings, audio: bytes | None) -> tuple[bytes, str] | None:
    """The consent keys of a job: both or neither, and only with a recording."""
    recording = text_field(raw, "consent_audio_base64", "the owner reading the phrase, base64-encoded")
    token = text_field(raw, "consent_token", "the phrase's token from a consent_phrase job")
    if recording is None and token is None:
        return None
    if recording is None or not token:
        raise InputError(
            "'consent_audio_base64' and 'consent_token' go together.",
            "Send both: the owner reading the phrase, and the token of a consent_phrase job.",
        )
    if audio is None:
        raise InputError(
            "Consent goes with 'ref_audio_base64': a saved voice needs none.", "Leave out the consent keys."
        )
    return limits.decode(recording, "consent_audio_base64"), token


@dataclass(frozen=True)
class Speech:
    """What a speak or a dub job says (text or subtitles, exactly one), in whose voice, with which options: the keys
    both kinds take, checked. `audio`: the reference recording's bytes, decoded."""

    text: str | None
    subtitles: str | None
    voice: str | None
    audio: bytes | None
    ref_text: str | None
    options: SynthesisOptions
    response_format: str
    stream: bool | None  # None: not given
    consent: tuple[bytes, str] | None = None  # the reference's owner reading a phrase, and its token

    def give_consent(self, studio: Studio) -> None:
        """With consent required: the reference's owner's consent, given in this job (the studio refuses a recording
        without one, saying what to do)."""
        if self.audio is not None and self.consent is not None:
            studio.require_consent(self.audio, self.consent)

    @classmethod
    def parse(cls, raw: dict[str, Any], limits: WorkerSettings) -> Speech:
        refuse_unknown(raw, SPEECH_KEYS)
        text = text_field(raw, "text", "what the voice should say")
        subtitles = text_field(raw, "subtitles", "an SRT or WebVTT file's text")
        if text is None and subtitles is None:
            raise InputError("The input has no 'text'.", "Add 'text': what the voice should say (or 'subtitles').")
        if text is not None and subtitles is not None:
            raise InputError("Both 'text' and 'subtitles' were given.", "Send one: text to say, or subtitles to dub.")
        voice = text_field(raw, "voice", "a saved voice's name")
        audio_b64 = text_field(raw, "ref_audio_base64", "the reference recording, base64-encoded")
        ref_text = text_field(raw, "ref_text", "the words spoken in the reference")
        if voice is not None and ref_text is not None and audio_b64 is None:  # with a recording: the studio refuses
            raise InputError(
                "'ref_text' goes with 'ref_audio_base64'; a saved voice has its own transcript.",
                "Leave out 'ref_text' when using 'voice'.",
            )
        fmt = check_format(raw.get("response_format", "wav"), what="response_format")
        stream = raw.get("stream")
        if stream is not None and not isinstance(stream, bool):
            raise InputError(f"'stream' must be true or false, not {stream!r}.", "Send a JSON boolean.")
        options = SynthesisOptions.from_loose({k: raw[k] for k in OPTION_KEYS if k in raw})
        audio = None if audio_b64 is None else limits.decode(audio_b64)
        return cls(text, subtitles, voice, audio, ref_text, options, fmt, stream, consent_of(raw, limits, audio))
