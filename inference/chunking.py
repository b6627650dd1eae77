"""Split long text into chunks that F5-TTS can speak one at a time.

Chunks end at sentence boundaries where possible, then at clause punctuation, then between words, and only as a
last resort inside a word. Sizes are counted in UTF-8 bytes, as F5-TTS does (a CJK character weighs 3).

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


def _split_unit(unit: str, max_bytes: int) -> list[str]:
    """Break one over-long sentence into clause-, word- or character-sized units."""
    if nbytes(unit) <= max_bytes:
        return [unit]
    for pattern in (_CLAUSE, _WORD):
        parts = _pieces(unit, pattern)
        if len(parts) > 1:
            return [u for p in parts for u in _split_unit(p.strip(), max_bytes)]
    return _hard_split(unit, max_bytes)


def chunk_text(text: str, max_bytes: int = 135, first_max_bytes: int | None = None) -> list[str]:
    """Greedily pack sentences into chunks of at most `max_bytes` (the first chunk: `first_max_bytes`).

    A short first chunk lets streaming start sooner. Whitespace is normalised; no text is dropped:
    the chunks joined with spaces give back the input's words in order.
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must be at least 4 (one UTF-8 character)")
    units = [u for s in _pieces(text.strip(), _SENTENCE) for u in _split_unit(" ".join(s.split()), max_bytes)]
    chunks: list[str] = []
    cur = ""
    for unit in units:
        limit = first_max_bytes if (first_max_bytes and not chunks) else max_bytes
        candidate = cur + _joiner(cur, unit) + unit if cur else unit
        if cur and nbytes(candidate) > limit:
            chunks.append(cur)
            cur = unit
        else:
            cur = candidate
    if cur:
        chunks.append(cur)
    return chunks


def max_chunk_bytes(ref_text: str, ref_seconds: float, speed: float = 1.0, total_seconds: float = 22.0) -> int:
    """How many text bytes fit one generation, so reference plus output stay under `total_seconds`.

    The speaking rate is taken from the reference (bytes per second), as F5-TTS's own pipeline does:
    max_chunk_bytes("x" * 30, 3.0) -> 190  (10 bytes/s * 19 s remaining).
    """
    rate = nbytes(ref_text) / max(ref_seconds, 0.1)
    return max(20, int(rate * (total_seconds - ref_seconds) * speed))
