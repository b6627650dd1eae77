"""Where each word of a recording is said: Whisper's word timestamps, and a typed transcript aligned with them.

A typed transcript is trusted for the words, Whisper for the times: the two word lists are matched by their spoken
form (difflib, as in worddiff); matched words take Whisper's times, typed words that Whisper heard differently share
the time of what it heard instead, and typed words it did not hear at all sit at the boundary between their
neighbours. A transcript of which too few words are heard does not belong to this recording: it is refused.

    >>> heard = [Word("Some", 0.0, 0.3), Word("call", 0.3, 0.6), Word("me", 0.6, 0.8), Word("nachur", 0.9, 1.4)]
    >>> align("Some call me nature.", heard)[1][3]
    Word(text='nature.', start=0.9, end=1.4)
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import SAMPLE_RATE
from ..audio.decode import content_hash
from ..errors import InputError, ModelUnavailable
from ..model.asr import Word
from ..text.worddiff import INSERT, WordEdit, check_words, is_cjk, key, split_words

if TYPE_CHECKING:
    from ..engine import Engine

MIN_ALIGNED = 0.6  # of the typed transcript's words, at least this share must be heard in the recording
MAX_GAP_PAD_S = 0.1  # s, an edited span reaches this far at most into the pause on either side of its words
SPANS_HINT = 'or give the spans to change in seconds instead (edits: [{"start": 1.2, "end": 1.8, "text": "..."}]).'


def heard_words(engine: Engine, audio: Any, wave: np.ndarray) -> tuple[Word, ...]:
    """Whisper's words of the recording (decoded `wave` of `audio`), cached by the recording's content hash.
    InputError when none are heard; ModelUnavailable, pointing at explicit spans, when there is no Whisper."""
    digest = content_hash(audio)
    words = engine.recording_words.get(digest)
    if words is None:
        try:
            words = tuple(engine.transcriber.words(wave, SAMPLE_RATE))
        except ModelUnavailable as e:
            raise ModelUnavailable(e.message, f"{e.hint.rstrip('.')}, {SPANS_HINT}") from e
        if not words:
            raise InputError("No words were recognised in the recording.", f"Upload clearer speech, {SPANS_HINT}")
        engine.recording_words.put(digest, words)
    return words


def join_words(words: Sequence[str]) -> str:
    """Words back into text: spaces between words, none between words of scripts written without them.

    >>> join_words(["Some", "call", "me"]), join_words(["对，", "这", "就", "是", "OK"])
    ('Some call me', '对，这就是 OK')
    """
    out = ""
    for word in words:
        if out and not (_no_space(out[-1]) and _no_space(word[0])):
            out += " "
        out += word
    return out


def _no_space(ch: str) -> bool:
    """Whether `ch` is written without spaces around it (CJK and its full-width punctuation)."""
    return is_cjk(ch) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


def align(typed: str, heard: Sequence[Word]) -> tuple[str, list[Word]]:
    """The transcript used and its words with times: Whisper's own words when nothing is typed, else the typed
    words aligned with Whisper's (see the module docstring). InputError when the transcript does not match."""
    heard = _respelled(heard)
    if not typed.strip():
        return join_words([h.text for h in heard]), heard
    words = check_words(split_words(typed), "transcript")
    matcher = difflib.SequenceMatcher(None, [key(w) for w in words], [key(h.text) for h in heard], autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    if matched < MIN_ALIGNED * len(words):
        raise InputError(
            f"The transcript does not match the recording: only {matched} of its {len(words)} words were heard in it.",
            "Correct the transcript, or clear it to use the words heard in the recording, " + SPANS_HINT,
        )
    return typed, timed(words, heard, matcher)


def timed(words: Sequence[str], heard: Sequence[Word], matcher: difflib.SequenceMatcher | None = None) -> list[Word]:
    """`words` with the times of Whisper's `heard` words (not empty), matched by their spoken form: see the module
    docstring. No word is refused here, however few of them were heard."""
    if matcher is None:
        heard = _respelled(heard)
        matcher = difflib.SequenceMatcher(None, [key(w) for w in words], [key(h.text) for h in heard], autojunk=False)
    out: list[Word] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out += [Word(words[i1 + k], heard[j1 + k].start, heard[j1 + k].end) for k in range(i2 - i1)]
        elif tag == "replace":
            out += _spread(words[i1:i2], heard[j1].start, heard[j2 - 1].end)
        elif tag == "delete":  # typed, not heard: at the boundary between the neighbours
            before = heard[j1 - 1].end if j1 > 0 else heard[0].start
            after = heard[j1].start if j1 < len(heard) else heard[-1].end
            out += [Word(w, (before + after) / 2, (before + after) / 2) for w in words[i1:i2]]
    return out


def _respelled(heard: Sequence[Word]) -> list[Word]:
    """Whisper's words split as split_words splits text (a heard 'word' may hold several CJK characters)."""
    out = []
    for h in heard:
        pieces = split_words(h.text)
        out += _spread(pieces, h.start, h.end) if len(pieces) > 1 else [Word(p, h.start, h.end) for p in pieces]
    return out


def _spread(words: Sequence[str], start: float, end: float) -> list[Word]:
    """Words sharing [start, end), each for a time in proportion to its length.

    >>> _spread(["ab", "c"], 0.0, 3.0)
    [Word(text='ab', start=0.0, end=2.0), Word(text='c', start=2.0, end=3.0)]
    """
    total = sum(len(w) for w in words) or 1
    out, at = [], start
    for w in words:
        step = (end - start) * len(w) / total
        out.append(Word(w, round(at, 3), round(at + step, 3)))
        at += step
    return out


def span_of(words: Sequence[Word], edit: WordEdit, duration: float) -> tuple[float, float]:
    """The recording's seconds an edit of the aligned words replaces: from its first word's start to its last word's
    end, reaching up to MAX_GAP_PAD_S (and half the pause) into the pauses around them; an insertion is a point, in
    the middle of the pause between its neighbours.

    >>> ws = [Word("a", 0.0, 0.5), Word("b", 0.6, 1.0), Word("c", 1.5, 2.0)]
    >>> span_of(ws, WordEdit("replace", 1, 2, 1, 2, ("b",), ("x",)), 2.0)
    (0.55, 1.1)
    """
    if edit.kind == INSERT:
        before = words[edit.old_start - 1].end if edit.old_start > 0 else 0.0
        after = words[edit.old_start].start if edit.old_start < len(words) else duration
        point = round((before + after) / 2, 3)
        return point, point
    first, last = words[edit.old_start], words[edit.old_end - 1]
    before = words[edit.old_start - 1].end if edit.old_start > 0 else 0.0
    after = words[edit.old_end].start if edit.old_end < len(words) else duration
    start = first.start - min(MAX_GAP_PAD_S, max(0.0, first.start - before) / 2)
    end = last.end + min(MAX_GAP_PAD_S, max(0.0, after - last.end) / 2)
    return round(start, 3), round(end, 3)
