"""The serverless job kinds, chosen by the input's keys, and their input documentation.

    KINDS       the kinds, in the order their marking key is looked for: the first the input holds picks the kind
    kind_for    the kind of one input object (a speak job when none marks it: it says what is missing)
    INPUT_DOC   every kind's input and output, with each option's range and default from inference/options.py
                (`python -m serverless.jobs` prints it)

A new kind is one module beside these (a frozen dataclass with KEY, parse, run and, if it streams, stream, see
serverless/job.py), one line in KINDS and its section in INPUT_DOC.
"""

from __future__ import annotations

import json
from typing import Any

from inference import (
    DEFAULT_MAX_SPEEDUP,
    EDIT_OPTION_NAMES,
    FORMATS,
    MAX_CUES,
    MAX_DUB_SECONDS,
    MAX_RECORDING_S,
    MAX_SPEEDUP,
    SynthesisOptions,
)

from .consent import ConsentPhraseJob
from .dub import DubJob
from .edit import EditJob
from .job import Job
from .segments import MAX_SEGMENTS, SegmentsJob
from .speak import SpeakJob

# "consent_phrase", "edit", "segments", "subtitles", "text"
KINDS: tuple[type[Job], ...] = (ConsentPhraseJob, EditJob, SegmentsJob, DubJob, SpeakJob)


def kind_for(raw: dict[str, Any]) -> type[Job]:
    """The kind of job an input object asks for, by the first key of KINDS it holds."""
    return next((kind for kind in KINDS if kind.KEY in raw), SpeakJob)


def options_doc() -> str:
    """The input keys of every synthesis option, from their one definition (inference/options.py)."""
    defaults = SynthesisOptions.defaults()
    lines = []
    for name, spec in SynthesisOptions.specs().items():
        default = "random" if name == "seed" else json.dumps(defaults[name])
        lines.append(f"    {name:<17} {spec.describe()}: {spec.help} (default {default})")
    return "\n".join(lines)


INPUT_DOC = f"""\
Input (the job's "input" object; any other key is refused):
    text              str, required: what to say (at most F5_MAX_TEXT_CHARS characters; long text is split in chunks)
    voice             str: the name of a saved voice in VOICES_DIR (<name>.wav + <name>.txt)        }} exactly
    ref_audio_base64  str: a reference recording (wav, mp3, flac, ogg, m4a...), base64; a            }} one of
                      "data:audio/...;base64," prefix is accepted                                    }} these two
    ref_text          str: what is said in ref_audio_base64; "" or absent = transcribed with Whisper (only with
                      ref_audio_base64: a saved voice carries its own transcript)
    consent_audio_base64
                      str: with consent required (F5_REQUIRE_CONSENT), the owner of ref_audio_base64's voice reading
                      the phrase of a consent_phrase job, base64 (once per recording: its proof is kept on the volume)
    consent_token     str: with consent_audio_base64, that consent_phrase job's token
{options_doc()}
    response_format   {", ".join(FORMATS)} (default wav; wav and flac are 16-bit, pcm is raw 16-bit mono)
    stream            bool: see "Streaming" (serverless/handler.py)
    captions          true (or "sentence"), "word" (word times from Whisper), false: adds "srt", "vtt" and "cues"
                      ([{{"start", "end", "text"}}], seconds) to the output (streaming: to the last item)
    subtitles         str, instead of text: an SRT or WebVTT file's text to dub (see "Dubbing"); with it:
    voices            tags -> saved voice names for [Tag] cues, e.g. {{"Guest": "bob"}} (the voice given speaks
                      the rest)
    max_speedup       1 to {MAX_SPEEDUP:g} (default {DEFAULT_MAX_SPEEDUP:g}): how much faster than natural a cue may be
                      spoken to fit its slot
    clips             bool: adds "clips_zip_base64", a ZIP of one WAV per cue and report.json

Output:
    {{"audio_base64": str, "sample_rate": 24000, "duration": seconds, "seed": int, "ref_text": str,
     "spoken_text": str (the text as spoken: normalized, pronunciations applied),
     "ref_notes": [str] (what preparing the reference did or found: clipped, trimmed, short, volume raised, noisy),
     "check": {{"checked", "worst_wer", "retried", "chunks": [{{"chunk", "text", "heard", "wer", "seed", "tries",
               "scores"}}], "note"}} (only with "check": true)}}

Dubbing: each cue is spoken in its own slot (its duration given to the model, at most max_speedup faster) and placed
at its start time on one silent track as long as the subtitles; the output is
    {{"audio_base64", "sample_rate", "duration", "seed", "cues": [{{"cue", "line", "start", "end", "text", "speaker",
     "voice", "seed", "spoken", "speed", "overflow", "overlap", "note"}}], "clips_zip_base64" (with clips)}}
Limits: {MAX_CUES} cues, the last ending within {MAX_DUB_SECONDS / 60:g} minutes.
Malformed subtitles are refused naming the line.

Edit job: change, add or remove words in a recording, regenerating only what changes (the UI's "Edit a recording",
gradio_client's /edit_speech). The input holds one key, "edit", an object with (any other key is refused):
    audio_base64      str, required: the recording (at most {MAX_RECORDING_S:g} s; wav, mp3, flac, ogg, m4a...), base64
    new_text          str, required: everything the edited recording should say
    transcript        str: what the recording says; "" or absent = transcribed (Whisper, word timestamps)
    edits             list: spans to change given in seconds instead of found from the words, e.g.
                      [{{"start": 1.42, "end": 2.44, "text": "optimist,"}}] (optional "duration": the new length in
                      seconds; start == end inserts; an empty text deletes)
    {", ".join(("seed", *EDIT_OPTION_NAMES))}: as above
    response_format   as above
  Output: {{"audio_base64", "sample_rate", "duration", "seed", "transcript", "edits": [{{"kind", "start", "end",
  "old", "text", "new_start", "new_end"}}]}}; the streaming worker yields it as its one item.
  Sample: {{"input": {{"edit": {{"audio_base64": "...", "new_text": "Some call me optimist.", "seed": 42}}}}}}

Consent phrase job: {{"input": {{"consent_phrase": true}}}} -> {{"token": str, "phrase": str}}: a phrase made up now
for the owner of a voice to read aloud, good for ten minutes and one consent (see consent_audio_base64 above).

Segments job: many short texts (a long-form project's segments) in one job, each with its own id, seed and voice,
spoken at the same time up to the worker's concurrency (see serverless/segments.py). Keys (any other is refused):
    segments          list, required: at most {MAX_SEGMENTS} objects {{"id": str or int (unique), "text": str,
                      "seed": int (absent: picked, and returned), "voice": a saved voice (absent: the job's)}}
    voice, ref_audio_base64, ref_text: the job's voice for segments without their own, as above
    every option above but seed, and response_format: shared by all the segments
  Output: {{"sample_rate": 24000, "segments": [{{"id", "audio_base64", "duration", "seed", "spoken_text", "check"
  (with "check": true)}} or {{"id", "error"}}]}}, in the order sent. A bad segment fails alone; the others come
  back. The whole output is bounded by RUNPOD_MAX_OUTPUT_MB: the segment that would take it over, and those after
  it, come back with an "error" saying to send them again in another job (or to ask for mp3). The streaming worker
  yields one item per segment, in order: that segment's entry with "sample_rate".
  Sample: {{"input": {{"segments": [{{"id": "s1", "text": "Chapter one.", "seed": 11}}], "voice": "alice"}}}}
"""

if __name__ == "__main__":
    print(INPUT_DOC)
