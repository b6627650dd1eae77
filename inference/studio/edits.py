"""The edits of a recording: spans given in seconds, or found by diffing its words; their new lengths; and what
cannot be edited in context. Plain data and rules, no model (inference/studio/editing.py runs them).

    >>> [e.kind for e in explicit_edits([Span(1.0, 1.5, "hello"), Span(2.0, 2.0, "there"), Span(3, 3.4)], 5.0)]
    ['replace', 'insert', 'delete']
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..audio import SAMPLE_RATE
from ..errors import InputError
from ..model.asr import Word
from ..model.sampling import HOP_LENGTH
from ..text import clean_text
from ..text.chunking import nbytes
from ..text.worddiff import DELETE, INSERT, REPLACE, diff_words, split_words
from .alignment import align, join_words, span_of

MIN_CONTEXT_S = 0.3  # s, of the recording kept before the first edit and after the last one
DELETE_PAUSE_S = 0.2  # s, a deletion closes the gap with a pause this long, generated in context
MIN_SPAN_S = 0.15  # s, the shortest new span with words in it
MAX_SPAN_S = 30.0  # s, the longest new span
MAX_RESULT_S = 85.0  # s, the longest edited take: F5-TTS's text positions stop at 8192 frames (87.4 s)
RATE_BOUNDS = (4.0, 40.0)  # UTF-8 bytes of text per second of speech (English ~15, Chinese ~12)
MIN_KEPT_S = 1.0  # s, the rate is measured on what is kept when at least this much is
MAX_EDITS = 50  # edits in one request
LENGTH_SLACK_S = 0.01  # s, resampling rounds lengths: a span may end this far past the recording's end
SPAN_KEYS = ("start", "end", "text", "duration")
SPANS_EXAMPLE = '[{"start": 1.42, "end": 2.44, "text": "optimist,"}]'


@dataclass(frozen=True)
class Span:
    """An edit given in seconds: the recording from `start` to `end` becomes `text` ('' deletes; start == end
    inserts). `duration`: the new speech's length in seconds (None: from the text at the speaker's rate)."""

    start: float
    end: float
    text: str = ""
    duration: float | None = None


@dataclass(frozen=True)
class Edit:
    """One change: the recording's [start, end) seconds (frame-aligned, as used) become `text`, lasting `seconds`
    and starting at `new_start` in the edited take."""

    kind: str  # replace | insert | delete
    start: float
    end: float
    old: str  # the words it replaces, as transcribed or typed ('' for an insertion or a span given in seconds)
    text: str
    seconds: float = 0.0
    new_start: float = 0.0
    duration: float | None = None  # the length asked for (None: from the text at the speaker's rate)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "old": self.old,
            "text": self.text,
            "new_start": round(self.new_start, 3),
            "new_end": round(self.new_start + self.seconds, 3),
        }


def parse_spans(value: Any, field: str = "edits") -> tuple[Span, ...]:
    """Edits given in seconds, from what a client sent: a list of {"start", "end", "text", "duration"} objects (text
    and duration optional), or that list as JSON text; None, "" and [] mean none. InputError names what is wrong, in
    the words of where it was typed: `field` "edits" (the API parameter) or "spans" (the Edit tab's field).

    >>> parse_spans('[{"start": 1.42, "end": 2.44, "text": "optimist,"}, {"start": 3, "end": 3.5}]')
    (Span(start=1.42, end=2.44, text='optimist,', duration=None), Span(start=3.0, end=3.5, text='', duration=None))
    """
    item_name = field.rstrip("s").capitalize()  # "Edit" or "Span"
    if field == "spans":
        hint = f"Write each change as {{start, end, text}} in seconds, inside [ ], e.g. {SPANS_EXAMPLE}."
    else:
        hint = f"Send {field} as a list such as {SPANS_EXAMPLE}."
    if isinstance(value, str):
        if not value.strip():
            return ()
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            if field == "spans":
                raise InputError(f"The spans could not be read ({e.msg.lower()} at character {e.pos}).", hint) from e
            raise InputError(f"'{field}' is not valid JSON ({e.msg} at character {e.pos}).", hint) from e
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        what = "The spans must be a list in [ ]" if field == "spans" else f"'{field}' must be a list of edits"
        raise InputError(f"{what}, not {_kind(value)}.", hint)
    _check_count(len(value))
    spans = []
    for i, item in enumerate(value, start=1):
        name = f"{item_name} {i}"
        if not isinstance(item, Mapping):
            raise InputError(f"{name} must be an object with a start, an end and a text, not {item!r:.60}.", hint)
        unknown = sorted(str(k) for k in item if k not in SPAN_KEYS)
        if unknown:
            keys = ", ".join(map(repr, unknown))
            raise InputError(f"{name} has unknown keys: {keys}.", f"Keys: {', '.join(SPAN_KEYS)}.")
        text = "" if item.get("text") is None else item["text"]
        if not isinstance(text, str):
            raise InputError(f"{name}'s 'text' must be a string, not {type(text).__name__}.", hint)
        start, end = _required(item, "start", name, hint), _required(item, "end", name, hint)
        spans.append(Span(start, end, text, _seconds(item, "duration", name, hint)))
    return tuple(spans)


def _kind(value: Any) -> str:
    """What a value is, in plain words: 'a number', 'an object ({...})', 'text'."""
    if isinstance(value, Mapping):
        return "a single object ({...})"
    if isinstance(value, (int, float)):
        return "a number"
    return "text" if isinstance(value, str) else type(value).__name__


def _required(item: Mapping[str, Any], key: str, name: str, hint: str) -> float:
    value = _seconds(item, key, name, hint)
    if value is None:
        raise InputError(f"{name} has no '{key}'.", "Give each change its start and end in seconds. " + hint)
    return value


def _seconds(item: Mapping[str, Any], key: str, name: str, hint: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(f"{name}'s '{key}' must be a number of seconds, not {value!r}.", hint)
    return float(value)


def _check_count(n: int) -> None:
    if n > MAX_EDITS:
        raise InputError(f"{n} edits were given; at most {MAX_EDITS} fit in one request.", "Merge some, or send fewer.")


def _where(i: int, e: Edit | Span) -> str:
    return f"edit {i} ({e.start:.2f}-{e.end:.2f} s)"


def explicit_edits(spans: Sequence[Span], duration: float) -> list[Edit]:
    """Spans given in seconds as edits, in order; InputError for a span outside the recording, overlapping spans,
    and a span that changes nothing."""
    _check_count(len(spans))
    edits: list[Edit] = []
    for i, span in enumerate(sorted(spans, key=lambda s: (s.start, s.end)), start=1):
        if not 0 <= span.start <= span.end <= duration + LENGTH_SLACK_S:
            raise InputError(
                f"The {_where(i, span)} is outside the recording, which is {duration:.2f} s long.",
                f"Give each edit a start and an end from 0 to {duration:.2f} s, the start before the end.",
            )
        if edits and span.start < edits[-1].end:
            raise InputError(
                f"The {_where(i - 1, edits[-1])} and the {_where(i, span)} overlap.",
                "Merge them into one edit, or move one of them so that they do not overlap.",
            )
        text = clean_text(span.text)
        if span.start == span.end and not text:
            raise InputError(f"The {_where(i, span)} changes nothing.", "Give it words to insert, or a span to change.")
        kind = INSERT if span.start == span.end else (REPLACE if text else DELETE)
        end = float(min(span.end, duration))
        edits.append(Edit(kind=kind, start=float(span.start), end=end, old="", text=text, duration=span.duration))
    return edits


def planned_edits(typed: str, heard: Sequence[Word], new_text: str, duration: float) -> tuple[str, list[Edit]]:
    """The transcript used (typed, or Whisper's) and the edits that turn it into `new_text`, each with the span of
    the recording it replaces (alignment.span_of). InputError when a typed transcript does not match."""
    transcript, words = align(typed, heard)
    edits = []
    for change in diff_words([w.text for w in words], split_words(new_text)):
        start, end = span_of(words, change, duration)
        old, text = join_words(change.old_words), join_words(change.new_words)
        edits.append(Edit(kind=change.kind, start=start, end=end, old=old, text=text))
    return transcript, edits


def on_frames(edit: Edit) -> Edit:
    """The edit with its span moved to the nearest mel frames (256 samples): what the model can change, and what
    every later step (the rate, the lengths, the splice) reckons with."""
    start, end = (round(t * SAMPLE_RATE / HOP_LENGTH) * HOP_LENGTH / SAMPLE_RATE for t in (edit.start, edit.end))
    return replace(edit, start=start, end=end)


def speaking_rate(new_text: str, edits: Sequence[Edit], duration: float) -> float:
    """The speaker's rate in UTF-8 bytes per second, measured on what is kept: the new text less the edits' words,
    over the recording less the edited spans (the whole text over the whole recording when too little is kept);
    within RATE_BOUNDS.

    >>> speaking_rate("Some call me optimist.", [Edit("replace", 1.0, 2.0, "", "optimist.")], 2.0)
    13.0
    """
    kept_bytes = nbytes(new_text) - sum(nbytes(e.text) for e in edits)
    kept_s = duration - sum(e.end - e.start for e in edits)
    rate = kept_bytes / kept_s if kept_bytes > 0 and kept_s >= MIN_KEPT_S else nbytes(new_text) / duration
    return min(max(rate, RATE_BOUNDS[0]), RATE_BOUNDS[1])


def with_lengths(edits: Sequence[Edit], new_text: str, duration: float, speed: float) -> list[Edit]:
    """Each edit with its new length: the one it asks for, or its text at the speaker's rate (divided by `speed`)
    within MIN_SPAN_S..MAX_SPAN_S; a deletion that asks for none gets DELETE_PAUSE_S."""
    rate = speaking_rate(new_text, edits, duration)
    out = []
    for i, edit in enumerate(edits, start=1):
        given = edit.duration
        if given is not None:
            low = MIN_SPAN_S if edit.text else 0.0
            if not (math.isfinite(given) and low <= given <= MAX_SPAN_S):
                raise InputError(
                    f"The duration {given!r} of the {_where(i, edit)} is out of range.",
                    f"Use {low:g} to {MAX_SPAN_S:g} seconds{'' if edit.text else ' (0 cuts the span out)'}.",
                )
            seconds = float(given)
        elif not edit.text:
            seconds = DELETE_PAUSE_S
        else:
            seconds = min(max(nbytes(edit.text) / rate / speed, MIN_SPAN_S), MAX_SPAN_S)
        out.append(replace(edit, seconds=seconds))
    return out


def nothing_changed() -> InputError:
    return InputError(
        "Nothing changed: the new text says the same words as the recording.",
        "Change, add or remove some words, then Generate. Punctuation and capitals alone do not change the speech.",
    )


def same_words(transcript: str, new_text: str) -> bool:
    """Whether a typed transcript and the new text say the same words (then there is nothing to edit, and no need
    to hear the recording)."""
    return bool(transcript.strip()) and not diff_words(split_words(transcript), split_words(new_text))


def check_edits(edits: Sequence[Edit], duration: float) -> None:
    """Refuse what cannot be edited in context: nothing to change, a span at the very start or end (the new words
    are made from the speech on both sides), or an edited take over MAX_RESULT_S."""
    if not edits:
        raise nothing_changed()
    for i, edit in enumerate(edits, start=1):
        what = f"'{edit.old or edit.text}'" if edit.old or edit.text else _where(i, edit)
        if edit.start < MIN_CONTEXT_S:
            raise InputError(
                f"The edit of {what} is at the very start of the recording (it starts at {edit.start:.2f} s).",
                f"Keep the first {MIN_CONTEXT_S:g} s as recorded: leave the first word unchanged, or upload a "
                "recording that starts a little earlier.",
            )
        if edit.end > duration - MIN_CONTEXT_S:
            raise InputError(
                f"The edit of {what} is at the very end of the recording (it ends {duration - edit.end:.2f} s "
                "before the end).",
                f"Keep the last {MIN_CONTEXT_S:g} s as recorded: leave the last word unchanged, or upload a "
                "recording that goes on a little longer.",
            )
    result_s = duration + sum(e.seconds - (e.end - e.start) for e in edits)
    if result_s > MAX_RESULT_S:
        raise InputError(
            f"The edited recording would last {result_s:.1f} s; at most {MAX_RESULT_S:g} s can be generated.",
            "Insert less text, or edit a shorter recording.",
        )
