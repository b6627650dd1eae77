"""Split long text into chunks that F5-TTS can speak one at a time.

Every chunk is generated together with the whole reference clip, so each extra chunk costs a reference's worth of
compute: the text goes into as few chunks as fit (as few as F5-TTS's own chunker makes, which packs clause by clause,
often fewer). Among the ways to do it in that many chunks, the chosen one ends chunks at sentence boundaries where
possible, then at clause punctuation, then between words, and only as a last resort inside a word. Sizes are counted
in UTF-8 bytes, as F5-TTS does (a CJK character weighs 3).

>>> chunk_text("Hello there. How are you? Fine.", max_bytes=20)
['Hello there.', 'How are you? Fine.']
>>> chunk_text("", max_bytes=20)
[]
"""

from __future__ import annotations

import re

# A sentence ends after . ! ? ; : (Latin, followed by space) or after a CJK full stop (no space needed).
_SENTENCE = re.compile(r"(?<=[.!?;:。！？；：…])\s+|(?<=[。！？；：])")
_CLAUSE = re.compile(r"(?<=[,，、—])\s*")
_WORD = re.compile(r"\s+")


def nbytes(text: str) -> int:
    """UTF-8 length: nbytes("ab") -> 2, nbytes("你") -> 3."""
    return len(text.encode("utf-8"))


def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [p for p in pattern.split(text) if p and not p.isspace()]


def sentences(text: str) -> list[str]:
    """The sentences of a text, whitespace collapsed: sentences("Hi.  How are\nyou? Fine") -> ['Hi.', 'How are you?',
    'Fine']."""
    return [" ".join(s.split()) for s in _pieces(text.strip(), _SENTENCE)]


def _hard_split(word: str, max_bytes: int) -> list[str]:
    """Split one word into pieces of at most max_bytes, never inside a character."""
    out, cur = [], ""
    for ch in word:
        if cur and nbytes(cur + ch) > max_bytes:
            out.append(cur)
            cur = ""
        cur += ch
    return out + ([cur] if cur else [])


def _joiner(left: str, right: str) -> str:
    """Latin text joins with a space; CJK text joins with nothing: 'a.' + 'b' -> ' ', '。' + '你' -> ''."""
    return "" if (left and nbytes(left[-1]) > 1) or (right and nbytes(right[0]) > 1) else " "


# What a chunk boundary after a unit costs: the fewest chunks always win, then the best places to cut.
_END, _CLAUSE_END, _WORD_END, _MID_WORD = 0, 1, 4, 16


def _units(sentence: str, max_bytes: int) -> list[tuple[str, int]]:
    """A sentence as clause-sized (or, when over max_bytes, word- or character-sized) units, each with the cost of
    cutting after it."""
    out: list[tuple[str, int]] = []
    clauses = _pieces(sentence, _CLAUSE)
    for ci, clause in enumerate(clauses):
        clause_cost = _END if ci == len(clauses) - 1 else _CLAUSE_END
        if nbytes(clause.strip()) <= max_bytes:
            out.append((clause.strip(), clause_cost))
            continue
        words = _pieces(clause, _WORD)
        for wi, word in enumerate(words):
            word_cost = clause_cost if wi == len(words) - 1 else _WORD_END
            parts = _hard_split(word, max_bytes) if nbytes(word) > max_bytes else [word]
            out += [(part, word_cost if pi == len(parts) - 1 else _MID_WORD) for pi, part in enumerate(parts)]
    return out


def chunk_text(text: str, max_bytes: int = 135, first_max_bytes: int | None = None) -> list[str]:
    """Pack the text into the fewest chunks of at most `max_bytes` (the first: `first_max_bytes`), cut at the best
    places (see the module's docstring).

    A short first chunk lets streaming start sooner. Whitespace is normalised; no text is dropped: the chunks
    joined with spaces give back the input's words in order.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must be at least 4 (one UTF-8 character)")
    units = [u for s in _pieces(text.strip(), _SENTENCE) for u in _units(" ".join(s.split()), max_bytes)]
    n = len(units)
    if not n:
        return []
    # prefix[k]: bytes of units[0:k] joined; a chunk units[j:i] weighs prefix[i] - prefix[j] - before[j], before[j]
    # being the joiner (a space or nothing) between units j-1 and j.
    prefix, before = [0], []
    for k, (unit, _) in enumerate(units):
        before.append(nbytes(_joiner(units[k - 1][0], unit)) if k else 0)
        prefix.append(prefix[-1] + before[k] + nbytes(unit))
    # best[i] = (chunks, cut cost) for units[0:i]; the fewest chunks first, then the cheapest cuts.
    inf = (n + 1, 0)
    best: list[tuple[int, int]] = [(0, 0)] + [inf] * n
    back = [0] * (n + 1)
    for i in range(1, n + 1):
        cut = 0 if i == n else units[i - 1][1]
        for j in range(i - 1, -1, -1):
            limit = first_max_bytes if (first_max_bytes and j == 0) else max_bytes
            size = prefix[i] - prefix[j] - before[j]
            if size > limit and j < i - 1:  # a single unit may exceed the short first limit, never more
                break
            if best[j] == inf:
                continue
            cand = (best[j][0] + 1, best[j][1] + cut)
            if cand < best[i]:
                best[i], back[i] = cand, j
    chunks: list[str] = []
    i = n
    while i:
        j = back[i]
        piece = ""
        for unit, _ in units[j:i]:
            piece = piece + _joiner(piece, unit) + unit if piece else unit
        chunks.append(piece)
        i = j
    return chunks[::-1]


def max_chunk_bytes(ref_text: str, ref_seconds: float, speed: float = 1.0, total_seconds: float = 22.0) -> int:
    """How many text bytes fit one generation, so reference plus output stay under `total_seconds`.

    The speaking rate is taken from the reference (bytes per second), as F5-TTS's own pipeline does:
    max_chunk_bytes("x" * 30, 3.0) -> 190  (10 bytes/s * 19 s remaining).
    """
    rate = nbytes(ref_text) / max(ref_seconds, 0.1)
    return max(20, int(rate * (total_seconds - ref_seconds) * speed))
