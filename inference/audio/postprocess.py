"""Small pure functions on generated audio (numpy in, numpy out)."""

from __future__ import annotations

import numpy as np

FRAME_S = 0.01  # analysis frame, seconds
SILENCE_DBFS = -50.0  # frames quieter than this count as silence (as F5-TTS's own remove_silence)


def cross_fade_weights(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Linear fade-out and fade-in of n samples: cross_fade_weights(3) -> ([1, .5, 0], [0, .5, 1])."""
    return np.linspace(1.0, 0.0, n), np.linspace(0.0, 1.0, n)


class CrossFader:
    """Joins streamed pieces with a linear cross-fade of `fade` samples: each piece's tail is held back until the
    next piece arrives, so what is handed out never changes afterwards. Joined, the outputs equal the whole take.

        fader = CrossFader(2); fader.add(a, last=False) + ...; fader.add(z, last=True)
    """

    def __init__(self, fade: int) -> None:
        self.fade = fade
        self.held = np.zeros(0, dtype=np.float32)  # tail of the previous piece, waiting to be cross-faded

    def add(self, wave: np.ndarray, last: bool) -> np.ndarray:
        """This piece, faded into the held tail, less its own tail (unless it is the last)."""
        n = min(self.fade, len(self.held), len(wave))
        if n:
            fade_out, fade_in = cross_fade_weights(n)
            wave = np.concatenate([self.held[:-n], self.held[-n:] * fade_out + wave[:n] * fade_in, wave[n:]])
        else:
            wave = np.concatenate([self.held, wave])
        keep = 0 if last else min(self.fade, len(wave))
        out, self.held = wave[: len(wave) - keep].astype(np.float32), wave[len(wave) - keep :]
        return out


def gain(wave: np.ndarray, db: float) -> np.ndarray:
    """`wave` louder (or quieter) by `db` decibels, its peaks held within full scale; 0 dB leaves it as it is."""
    return np.clip(wave * np.float32(10 ** (db / 20)), -1.0, 1.0) if db else wave


def shorten_silences(wave: np.ndarray, sr: int, max_pause_s: float = 1.0, keep_s: float = 0.5) -> np.ndarray:
    """Cut every pause longer than `max_pause_s` down to `keep_s` (half kept at each edge); speech is untouched.

    A 3 s pause between two words becomes 0.5 s; a 0.8 s pause stays as it is.
    """
    frame = max(1, int(sr * FRAME_S))
    n = len(wave) // frame
    if n == 0:
        return wave
    rms = np.sqrt(np.mean(wave[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    silent = rms < 10 ** (SILENCE_DBFS / 20)
    keep = np.ones(len(wave), dtype=bool)
    edge = int(keep_s * sr / 2)
    start = None
    for i, s in enumerate(np.append(silent, False)):
        if s and start is None:
            start = i
        elif not s and start is not None:
            a, b = start * frame, i * frame
            if b - a > max_pause_s * sr:
                keep[a + edge : b - edge] = False
            start = None
    return wave[keep]
