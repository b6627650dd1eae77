"""The edit job: change, add or remove words in a recording, regenerating only what changes (inference's editing;
the UI's "Edit a recording", gradio_client's /edit_speech).

    {"input": {"edit": {"audio_base64": "<the recording>", "new_text": "Some call me optimist.", "seed": 42}}}
    -> {"audio_base64", "sample_rate", "duration", "seed", "transcript", "edits"}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from inference import (
    EDIT_OPTION_NAMES,
    MAX_RECORDING_S,
    EditRequest,
    InputError,
    Studio,
    SynthesisOptions,
    check_format,
    parse_spans,
)

from .job import Job, base64_audio, refuse_unknown, text_field
from .limits import WorkerSettings

EDIT_KEYS = ("audio_base64", "new_text", "transcript", "edits", "seed", *EDIT_OPTION_NAMES, "response_format")
EXAMPLE = '{"input": {"edit": {"audio_base64": "...", "new_text": "...", "transcript": ""}}}'
TOO_LARGE_HINT = (
    f"Send a shorter or compressed recording (at most {MAX_RECORDING_S:g} s can be edited; a minute of 24 kHz WAV is "
    "about 2.9 MB, MP3 much less)."
)


@dataclass(frozen=True)
class EditJob(Job):
    KEY = "edit"

    request: EditRequest
    response_format: str
    limits: WorkerSettings

    @classmethod
    def parse(cls, raw: dict[str, Any], studio: Studio, limits: WorkerSettings) -> Self:
        """The input's one key, "edit", an object with EDIT_KEYS."""
        if len(raw) > 1:
            others = ", ".join(repr(k) for k in raw if k != "edit")
            raise InputError(f"An edit job holds only 'edit'; it also has {others}.", "Put every field inside 'edit'.")
        edit = raw["edit"]
        if not isinstance(edit, dict):
            raise InputError(f"'edit' must be a JSON object, not {type(edit).__name__}.", f"Send {EXAMPLE}.")
        refuse_unknown(edit, EDIT_KEYS, " in 'edit'")
        audio_b64, new_text, transcript = (
            text_field(edit, key, what, f"Send {what}.")
            for key, what in (
                ("audio_base64", "the recording, base64-encoded"),
                ("new_text", "everything the edited recording should say"),
                ("transcript", "what the recording says ('' = transcribed)"),
            )
        )
        if audio_b64 is None:
            raise InputError("The edit has no 'audio_base64'.", "Add 'audio_base64': the recording, base64-encoded.")
        if new_text is None:
            raise InputError(
                "The edit has no 'new_text'.", "Add 'new_text': everything the edited recording should say."
            )
        fmt = check_format(edit.get("response_format", "wav"), what="response_format")
        options = SynthesisOptions.from_loose({k: edit[k] for k in (*EDIT_OPTION_NAMES, "seed") if k in edit})
        spans = parse_spans(edit.get("edits"))
        audio = limits.decode(audio_b64, "audio_base64", TOO_LARGE_HINT)
        return cls(EditRequest(audio, new_text, transcript or "", spans, options), fmt, limits)

    def run(self, studio: Studio) -> dict[str, Any]:
        result = studio.edit(self.request)
        audio, duration = base64_audio(result.wave, result.sample_rate, self.response_format), round(result.duration, 3)
        self.limits.check_output(len(audio), duration, self.response_format)
        return {
            "audio_base64": audio,
            "sample_rate": result.sample_rate,
            "duration": duration,
            "seed": result.seed,
            "transcript": result.transcript,
            "edits": result.table(),
        }
