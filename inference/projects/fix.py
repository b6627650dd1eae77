"""Fix in place: a small change inside a long segment regenerates only the changed words.

When a rendered segment's text is edited and the change is small inside a long segment (`small_change`), the edit
records the kept take to fix (`segments.fix_from`). The renderer then runs the speech-editing path
(inference/studio/editing.py) on that take's audio, with the take's text as its transcript and the segment's new
text, instead of rendering the whole segment again: outside the changed words the new take is the old take's own
samples (spliced with short cross-fades). The new take is a take like any other; the old one stays and can be kept
again once the text is edited back.

A whole render instead when: the caller asks for one (`whole`), the voice or the seed changes too, the segment has
no take of its own to fix (or a stale one: a pronunciation changed since), or the edit path fails (the words cannot
be aligned, the take is longer than editing.MAX_RECORDING_S, ...: the reason is logged). Each take's scores say
which path made it: `"made"` is `"edit"` or `"render"`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import CancelledError
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import SAMPLE_RATE
from ..text.worddiff import MAX_WORDS, diff_words, split_words
from ..types import SynthesisRequest, SynthesisResult, Timings
from .schema import SegmentRow

if TYPE_CHECKING:
    from .store import ProjectStore

log = logging.getLogger(__name__)
MIN_WORDS = 8  # a segment of fewer words renders whole: an edit would save little and has little voice around it
MAX_CHANGED = 1 / 3  # at most this share of the segment's words may change (replaced, removed or added)
MADE_EDIT, MADE_RENDER = "edit", "render"  # a take's scores["made"]
# The speech-editing path, which the Studio hands its renderer (it stands above this package): (the take's audio,
# what it says as typed, the new text as typed, the segment's request: its voice and options) -> (the edited take at
# SAMPLE_RATE, its seed, the new text as spoken, the edits)
EditPath = Callable[[Path, str, str, SynthesisRequest], tuple[np.ndarray, int, str, list[dict[str, Any]]]]


def small_change(old: str, new: str) -> bool:
    """True when `new` differs from `old` in a few words of a long text: `old` has at least MIN_WORDS words and
    the words changed (each edit counts its longer side) are at most MAX_CHANGED of them.
    small_change("one two three four five six seven eight", "one two three four five six seven ate") -> True"""
    old_words, new_words = split_words(old), split_words(new)
    if len(old_words) < MIN_WORDS or max(len(old_words), len(new_words)) > MAX_WORDS:
        return False
    changed = sum(max(e.old_end - e.old_start, e.new_end - e.new_start) for e in diff_words(old_words, new_words))
    return 0 < changed <= MAX_CHANGED * len(old_words)


def fix_source(
    store: ProjectStore, seg: SegmentRow, text: str | None, voice: str | None, seed: int | None, whole: bool
) -> int | None:
    """The kept take an edit of `seg` (the new text, voice, seed as given to the store's edit) should fix in
    place, or None for a whole render."""
    if whole or text is None or seg.audio is None:
        return None
    if (voice is not None and (str(voice).strip() or None) != seg.voice) or (seed is not None and seed != seg.seed):
        return None
    if seg.state != "done" and seg.fix_from is None:  # a stale take says a word the old way; a failed or pending
        return None  # segment's kept take may be of another voice or seed
    kept = next((t for t in store.takes(seg.id) if t.kept), None)
    if kept is None or not small_change(kept.text, text):
        return None
    return kept.id


def fixed_takes(
    edit: EditPath | None, store: ProjectStore, seg: SegmentRow, request: SynthesisRequest,
    score: Callable[[SynthesisResult], dict[str, Any]],
) -> list[tuple[SynthesisResult, dict[str, Any]]] | None:  # fmt: skip
    """The segment's take made by editing its `fix_from` take (one take, scored like a render's), or None when it
    is to be rendered whole (no fix recorded, no edit path, or the edit path failed: the reason is logged)."""
    take = next((t for t in store.takes(seg.id) if t.id == seg.fix_from), None) if seg.fix_from else None
    if take is None or edit is None:
        return None
    try:
        wave, seed, spoken, edits = edit(take.audio, take.text, seg.text, request)
    except CancelledError:
        raise
    except Exception as e:
        log.warning("project %s, segment %s: fixing in place failed (%s); it renders whole", seg.project, seg.id, e)
        return None
    result = SynthesisResult(
        wave=wave, sample_rate=SAMPLE_RATE, seed=seed, ref_text=take.text, chunks=(seg.text,), timings=Timings(),
        spoken_text=spoken, typed_text=seg.text,
    )  # fmt: skip
    return [(result, {**score(result), "made": MADE_EDIT, "from_take": take.id, "edits": edits})]
