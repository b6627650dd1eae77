"""Old words against new words: the replacements, insertions and deletions that turn one into the other.

Words are compared by their spoken form (`key`: case, width and surrounding punctuation set aside), so "Nature,"
and "nature." are the same word, and a change of punctuation or capitals alone is no edit: it would not change what
is heard. Edits are found with difflib's SequenceMatcher (the standard library's longest-matching-block diff, the
one behind `difflib.ndiff`), so that untouched words are never part of an edit.

    >>> old = split_words("Some call me nature, others call me mother nature.")
    >>> new = split_words("Some call me optimist, others call me realist.")
    >>> [(e.kind, e.old_words, e.new_words) for e in diff_words(old, new)]
    [('replace', ('nature,',), ('optimist,',)), ('replace', ('mother', 'nature.'), ('realist.',))]
    >>> [w for w in apply_edits(old, diff_words(old, new))] == new
    True
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError

REPLACE, INSERT, DELETE = "replace", "insert", "delete"
# words a side of a diff may have: what speech editing can use (a recording of at most 60 s holds ~300 words, even
# spoken fast or in Chinese, one word a character; its longest edited take, 85 s, ~450), with room. The diff's cost
# grows with the product of the sides (worst, many repeated words: 600 x 600 in ~0.1 s, 16,000 x 16,000 in minutes),
# so longer sides are refused before diffing.
MAX_WORDS = 600
ADDED, REMOVED = "+", "-"  # the categories of diff_markup's pieces


@dataclass(frozen=True)
class WordEdit:
    """Old words [old_start, old_end) become new words [new_start, new_end) (indices into the two word lists)."""

    kind: str  # replace | insert | delete
    old_start: int
    old_end: int
    new_start: int
    new_end: int
    old_words: tuple[str, ...]
    new_words: tuple[str, ...]

    @property
    def old_text(self) -> str:
        return " ".join(self.old_words)

    @property
    def new_text(self) -> str:
        return " ".join(self.new_words)


def is_cjk(ch: str) -> bool:
    """Characters of scripts written without spaces between words (CJK ideographs, kana): each one is a word.

    >>> is_cjk("你"), is_cjk("カ"), is_cjk("a"), is_cjk("，")
    (True, True, False, False)
    """
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH", "HIRAGANA", "KATAKANA"))


def split_words(text: str) -> list[str]:
    """Words as they are written: split at whitespace; in scripts without spaces, one word per character, with the
    punctuation that follows it.

    >>> split_words("  Hello,  world! ")
    ['Hello,', 'world!']
    >>> split_words("对，这就是我。OK")
    ['对，', '这', '就', '是', '我。', 'OK']
    """
    words: list[str] = []
    for token in str(text or "").split():
        piece = ""
        for ch in token:
            if is_cjk(ch):
                if piece:
                    words.append(piece)
                piece = ch
            elif piece and is_cjk(piece[0]) and ch.isalnum():
                words.append(piece)
                piece = ch
            else:
                piece += ch
        if piece:
            words.append(piece)
    return words


def key(word: str) -> str:
    """How a word sounds, for comparison: NFKC, case folded, punctuation and symbols at either end dropped (a word
    of punctuation alone keeps it).

    >>> key("Nature,"), key("«ÉTÉ»"), key("—")
    ('nature', 'été', '—')
    """
    norm = unicodedata.normalize("NFKC", word).casefold()
    stripped = norm.strip("".join({ch for ch in norm if not ch.isalnum()}))
    return stripped or norm


def check_words(words: Sequence[str], side: str) -> Sequence[str]:
    """`words`, or InputError when there are more than MAX_WORDS of them to compare (`side` names them)."""
    if len(words) > MAX_WORDS:
        raise InputError(
            f"The {side} has {len(words):,} words; speech editing compares at most {MAX_WORDS} (a recording to "
            "edit lasts at most a minute).",
            "Keep only the part of the recording, and of its text, that you change.",
        )
    return words


def diff_words(old: Sequence[str], new: Sequence[str]) -> list[WordEdit]:
    """The edits that turn `old` into `new` (compared by `key`), in order; [] when they say the same words.
    InputError when a side has more than MAX_WORDS words.

    >>> [(e.kind, e.old_start, e.old_end, e.new_words) for e in diff_words(["a", "b", "c"], ["a", "x", "y", "c"])]
    [('replace', 1, 2, ('x', 'y'))]
    >>> [(e.kind, e.old_start, e.old_end) for e in diff_words(["a", "b", "c"], ["a", "c"])]
    [('delete', 1, 2)]
    """
    check_words(old, "transcript")
    check_words(new, "new text")
    matcher = difflib.SequenceMatcher(None, [key(w) for w in old], [key(w) for w in new], autojunk=False)
    return [
        WordEdit(
            kind=tag,
            old_start=i1,
            old_end=i2,
            new_start=j1,
            new_end=j2,
            old_words=tuple(old[i1:i2]),
            new_words=tuple(new[j1:j2]),
        )
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def apply_edits(old: Sequence[str], edits: Sequence[WordEdit]) -> list[str]:
    """`old` with each edit's old words replaced by its new words (edits in order, not overlapping).

    >>> apply_edits(["a", "b", "c"], diff_words(["a", "b", "c"], ["x", "b"]))
    ['x', 'b']
    """
    out: list[str] = []
    at = 0
    for edit in edits:
        out += old[at : edit.old_start]
        out += edit.new_words
        at = edit.old_end
    return out + list(old[at:])


def diff_markup(old: Sequence[str], new: Sequence[str]) -> list[tuple[str, str | None]]:
    """The word diff as pieces of text for display: unchanged words (None), removed (REMOVED) and added (ADDED),
    each removal shown before its replacement.

    >>> diff_markup(["Some", "call", "me", "nature."], ["Some", "call", "me", "an", "optimist."])
    [('Some call me', None), ('nature.', '-'), ('an optimist.', '+')]
    """
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for edit in diff_words(old, new):
        if edit.old_start > at:
            pieces.append((" ".join(old[at : edit.old_start]), None))
        if edit.old_words:
            pieces.append((edit.old_text, REMOVED))
        if edit.new_words:
            pieces.append((edit.new_text, ADDED))
        at = edit.old_end
    if at < len(old):
        pieces.append((" ".join(old[at:]), None))
    return pieces
