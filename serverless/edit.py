"""The serverless worker's `edit` job: change, add or remove words in a recording (inference/studio/editing.py).

    {"input": {"edit": {"audio_base64": "<the recording>", "new_text": "Some call me optimist.", "seed": 42}}}

The keys are /edit_speech's, with the recording as base64 (see serverless/handler.py's docstring, "Edit job").
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inference import Engine, InputError, SynthesisOptions
from inference.audio.encode import check_format, encode_audio
from inference.studio.editing import MAX_RECORDING_S, OPTION_NAMES, EditRequest, edit_recording
from inference.studio.edits import parse_spans

EDIT_KEYS = ("audio_base64", "new_text", "transcript", "edits", "seed", *OPTION_NAMES, "response_format")
EXAMPLE = '{"input": {"edit": {"audio_base64": "...", "new_text": "...", "transcript": ""}}}'
TOO_LARGE_HINT = (
    f"Send a shorter or compressed recording (at most {MAX_RECORDING_S:g} s can be edited; a minute of 24 kHz WAV is "
    "about 2.9 MB, MP3 much less)."
)
Decode = Callable[[str, str, str], bytes]  # (base64 text, its key, what to do when it is too large) -> bytes


@dataclass(frozen=True)
class EditJob:
    request: EditRequest
    response_format: str


def parse_edit(raw: Any, decode: Decode) -> EditJob:
    """An edit job's "edit" object as an EditRequest; InputError names whatever is wrong."""
    if not isinstance(raw, dict):
        raise InputError(f"'edit' must be a JSON object, not {type(raw).__name__}.", f"Send {EXAMPLE}.")
    unknown = sorted(str(k) for k in raw if k not in EDIT_KEYS)
    if unknown:
        raise InputError(
            f"Unknown key{'s' if len(unknown) > 1 else ''} in 'edit': {', '.join(map(repr, unknown))}.",
            f"Allowed keys: {', '.join(EDIT_KEYS)}.",
        )
    texts = {}
    for key, what in (
        ("audio_base64", "the recording, base64-encoded"),
        ("new_text", "everything the edited recording should say"),
        ("transcript", "what the recording says ('' = transcribed)"),
    ):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"'{key}' must be a string ({what}), not {type(value).__name__}.", f"Send {what}.")
        texts[key] = value
    if texts["audio_base64"] is None:
        raise InputError("The edit has no 'audio_base64'.", "Add 'audio_base64': the recording, base64-encoded.")
    if texts["new_text"] is None:
        raise InputError("The edit has no 'new_text'.", "Add 'new_text': everything the edited recording should say.")
    fmt = check_format(raw.get("response_format", "wav"), what="response_format")
    options = SynthesisOptions.from_loose({k: raw[k] for k in (*OPTION_NAMES, "seed") if k in raw})
    spans = parse_spans(raw.get("edits"))
    audio = decode(texts["audio_base64"], "audio_base64", TOO_LARGE_HINT)
    return EditJob(EditRequest(audio, texts["new_text"], texts["transcript"] or "", spans, options), fmt)


def run_edit(engine: Engine, job: EditJob) -> dict[str, Any]:
    """The edited recording, encoded: {"audio_base64", "sample_rate", "duration", "seed", "transcript", "edits"}."""
    result = edit_recording(engine, job.request)
    audio = base64.b64encode(encode_audio(result.wave, result.sample_rate, job.response_format)).decode("ascii")
    return {
        "audio_base64": audio,
        "sample_rate": result.sample_rate,
        "duration": round(result.duration, 3),
        "seed": result.seed,
        "transcript": result.transcript,
        "edits": result.table(),
    }
