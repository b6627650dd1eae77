"""From the words as spoken back to the words as typed, so that captions show what the visitor wrote.

Normalization and the pronunciation dictionary turn typed text into spoken text ("1,250" -> "one thousand two
hundred fifty", "Dr." -> "Doctor"). The two word lists are matched by their spoken form (difflib, as in worddiff):
matched words map one to one; a run of typed words that was spoken differently maps to the run of spoken words it
became; typed words not spoken at all (a lone symbol) join their neighbour, and spoken words that were not typed
belong to the typed word before them.

    >>> [(s.spoken_start, s.spoken_end, s.typed) for s in typed_spans("It costs 1,250 dollars.",
    ...     "It costs one thousand two hundred fifty dollars.".split())]
    [(0, 1, ('It',)), (1, 2, ('costs',)), (2, 7, ('1,250',)), (7, 8, ('dollars.',))]
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from .worddiff import key, split_words


@dataclass(frozen=True)
class Span:
    """Spoken words [spoken_start, spoken_end) say the typed words `typed`."""

    spoken_start: int
    spoken_end: int
    typed: tuple[str, ...]


def typed_spans(typed: str, spoken: Sequence[str]) -> list[Span]:
    """The spoken words (as split_words splits them) grouped by the typed word or words they came from, in order;
    every spoken word is in exactly one span and every typed word in exactly one span's text.

    >>> [(s.spoken_start, s.spoken_end, s.typed) for s in typed_spans("Call Dr. Nguyen!", ["Call", "Doctor", "Win!"])]
    [(0, 1, ('Call',)), (1, 2, ('Dr.',)), (2, 3, ('Nguyen!',))]
    """
    words = split_words(typed)
    matcher = difflib.SequenceMatcher(None, [key(w) for w in words], [key(s) for s in spoken], autojunk=False)
    spans: list[tuple[int, int, list[str]]] = []  # (spoken start, spoken end, typed words)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spans += [(j1 + k, j1 + k + 1, [words[i1 + k]]) for k in range(i2 - i1)]
        elif tag == "replace":
            spans += _replaced(words, spoken, i1, i2, j1, j2)
        elif tag == "insert":  # spoken, not typed: part of the typed word before (or, at the start, after)
            spans.append((j1, j2, []))
        else:  # typed, not spoken: with the word before (or, at the start, after)
            spans.append((j1, j1, list(words[i1:i2])))
    return _merged(spans)


def _replaced(
    words: Sequence[str], spoken: Sequence[str], i1: int, i2: int, j1: int, j2: int
) -> list[tuple[int, int, list[str]]]:
    """Typed words [i1, i2) spoken as [j1, j2): word for word when the counts agree, else cut after the words that
    end in the same punctuation on both sides, in order ("1,250. Dr." / "... fifty. Doctor"), one span per piece."""
    if i2 - i1 == j2 - j1:  # word for word (e.g. each number read as one word)
        return [(j1 + k, j1 + k + 1, [words[i1 + k]]) for k in range(i2 - i1)]
    typed_ends = [i + 1 for i in range(i1, i2 - 1) if _end(words[i])]
    spoken_ends = [j + 1 for j in range(j1, j2 - 1) if _end(spoken[j])]
    marks = difflib.SequenceMatcher(
        None, [_end(words[i - 1]) for i in typed_ends], [_end(spoken[j - 1]) for j in spoken_ends], autojunk=False
    )
    pairs = [(typed_ends[a + k], spoken_ends[b + k]) for a, b, n in marks.get_matching_blocks() for k in range(n)]
    if not pairs:
        return [(j1, j2, list(words[i1:i2]))]
    starts, ends = [(i1, j1), *pairs], [*pairs, (i2, j2)]
    return [span for (a, c), (b, d) in zip(starts, ends, strict=True) for span in _replaced(words, spoken, a, b, c, d)]


def _end(word: str) -> str:
    """The punctuation a word ends with ('' for none): 'fifty.' -> '.'."""
    return word[-1] if word and word[-1] in ".,;:!?。，；：！？" else ""


def _merged(spans: list[tuple[int, int, list[str]]]) -> list[Span]:
    """Spans without typed words, or without spoken words, joined to the one before (the first ones: after)."""
    out: list[tuple[int, int, list[str]]] = []
    for start, end, typed in spans:
        if out and (not typed or start == end or not out[-1][2] or out[-1][0] == out[-1][1]):
            before = out.pop()
            out.append((before[0], max(before[1], end), before[2] + typed))
        else:
            out.append((start, end, typed))
    return [Span(start, end, tuple(typed)) for start, end, typed in out]
