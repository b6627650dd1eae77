"""Splice regenerated spans into an original recording: everything outside the spans stays the original samples.

An edited take is a list of pieces, in order: stretches of the original recording and stretches of the generated
audio. The generated audio covers the whole edited timeline (the model re-vocodes everything, kept parts included),
so piece i of the output is taken from its source at its own offset, and each boundary is cross-faded over `fade`
samples centred on it: the piece before runs on past its end into the fade, the piece after starts that much
early. Outside those fades every sample of an original piece is the recording's own, bit for bit.

    >>> original = np.ones(10, np.float32)
    >>> generated = np.full(12, 5.0, np.float32)
    >>> pieces = [Piece(False, 0, 4), Piece(True, 4, 4), Piece(False, 6, 4)]
    >>> splice(original, generated, pieces, fade=2).tolist()
    [1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 5.0, 5.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .postprocess import cross_fade_weights


@dataclass(frozen=True)
class Piece:
    """`length` samples from the generated timeline (generated=True) or from the original, from sample `start`."""

    generated: bool
    start: int
    length: int


def fade_halves(pieces: Sequence[Piece], fade: int) -> list[int]:
    """Half the cross-fade at each boundary: fade // 2, or less where a piece is shorter than a fade, so that the
    two fades of one piece never overlap.

    >>> fade_halves([Piece(False, 0, 100), Piece(True, 100, 6), Piece(False, 90, 100)], fade=20)
    [3, 3]
    """
    return [min(fade // 2, a.length // 2, b.length // 2) for a, b in zip(pieces, pieces[1:], strict=False)]


def _take(source: np.ndarray, start: int, length: int) -> np.ndarray:
    """source[start : start + length], with zeros where that runs outside the array."""
    out = np.zeros(max(0, length), dtype=np.float32)
    lo, hi = max(0, start), min(len(source), start + length)
    if hi > lo:
        out[lo - start : hi - start] = source[lo:hi]
    return out


def splice(original: np.ndarray, generated: np.ndarray, pieces: Sequence[Piece], fade: int) -> np.ndarray:
    """The pieces joined in order, each boundary cross-faded (see the module docstring); float32."""
    pieces = [p for p in pieces if p.length > 0]
    halves = fade_halves(pieces, fade)
    out: list[np.ndarray] = []
    for i, piece in enumerate(pieces):
        source = generated if piece.generated else original
        lead = halves[i - 1] if i > 0 else 0
        tail = halves[i] if i < len(halves) else 0
        out.append(_take(source, piece.start + lead, piece.length - lead - tail))
        if tail:
            after = pieces[i + 1]
            fade_out, fade_in = cross_fade_weights(2 * tail)
            ending = _take(source, piece.start + piece.length - tail, 2 * tail)
            starting = _take(generated if after.generated else original, after.start - tail, 2 * tail)
            out.append((ending * fade_out + starting * fade_in).astype(np.float32))
    return np.concatenate(out) if out else np.zeros(0, np.float32)
