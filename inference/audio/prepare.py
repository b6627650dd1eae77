"""Turn whatever the user uploaded into a clean F5-TTS reference: 24 kHz mono float32, at most ~12 s, no long silences.

Decoding is decode.py's; here the decoded audio is measured (frame energies, pauses, noise), clipped at a pause, trimmed
and levelled. Every failure a user can cause becomes an `InputError` with a plain-language hint.

Loudness convention: like F5-TTS's `target_rms`, quiet audio is raised to an RMS of 0.1 and louder audio is left
alone; peaks are then scaled down (never hard-clipped) to at most 0.99.

>>> prepared = prepare_reference("voice.m4a")          # doctest: +SKIP
>>> prepared.sample_rate, prepared.seconds, prepared.notes  # doctest: +SKIP
(24000, 11.45, ('clipped from 30.2 s to 11.4 s at a pause',))
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, ModelUnavailable
from . import SAMPLE_RATE, TARGET_RMS
from .decode import DECODE_MAX_S, decode_audio

HOP_S = 0.010  # s, analysis frame hop for energy measurements
SMOOTH_FRAMES = 3  # frames, moving average over the frame energies (3 x 10 ms = 30 ms window)
LOUD_PERCENTILE = 95  # the frame RMS at this percentile is the clip's "loud" level
QUIET_DB = -40.0  # dB relative to the loud level: frames below are pauses/silence ...
NOISE_MARGIN_DB = 6.0  # dB ... or below the noise floor (10th percentile frame) plus this margin ...
QUIET_CAP_DB = -25.0  # dB ... but never above this, relative to the loud level
SILENT_PEAK_DB = -50.0  # dBFS, a recording whose peak stays below this is treated as silent
LONG_PAUSE_S = 0.30  # s, preferred pause length to cut at (a sentence boundary)
SHORT_PAUSE_S = 0.10  # s, fallback pause length to cut at (a breath between words)
MIN_CLIP_S = 4.0  # s, never cut at a pause earlier than this (unless max_seconds is smaller)
EDGE_MARGIN_S = 0.05  # s, silence kept before the first and after the last loud frame
TRIM_NOTE_S = 0.25  # s, trimming less than this in total is not worth a note
MIN_SPEECH_S = 0.3  # s, shorter than this after trimming is refused
SHORT_SPEECH_S = 3.0  # s, shorter than this gets a note suggesting a longer recording
PEAK_LIMIT = 0.99  # linear, peaks are scaled down to at most this
GAIN_NOTE_DB = 1.0  # dB, smaller volume changes are not worth a note
NOISY_SNR_DB = 20.0  # dB, a loud level less than this above the noise floor (10th percentile frame) is noisy
TAIL_SILENCE_S = 0.05  # s, silence appended at the end, as F5-TTS's own preprocessing does


@dataclass(frozen=True)
class PreparedAudio:
    wave: np.ndarray  # float32, mono, 1-D, at SAMPLE_RATE, peak <= 1
    sample_rate: int  # always SAMPLE_RATE
    notes: tuple[str, ...]  # what was done, e.g. "clipped from 30.2 s to 11.4 s at a pause"

    @property
    def seconds(self) -> float:
        return len(self.wave) / self.sample_rate


def _hop(sr: int) -> int:
    return max(1, round(HOP_S * sr))


def frame_rms(wave: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """RMS per 10 ms hop (the lower of the frame and its 30 ms neighbourhood); the last frame is zero-padded.

    >>> frame_rms(np.ones(480, dtype=np.float32), 24000).round(3).tolist()
    [1.0, 1.0]
    """
    hop = _hop(sr)
    n = -(-len(wave) // hop)
    padded = np.zeros(n * hop, dtype=np.float64)
    padded[: len(wave)] = wave
    energy = (padded.reshape(n, hop) ** 2).mean(axis=1)
    if n >= SMOOTH_FRAMES:
        kernel = np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES
        smoothed = np.convolve(energy, kernel, mode="same")
        energy = np.minimum(energy, smoothed)  # bridges 10 ms blips in a pause, keeps pause edges sharp
    return np.sqrt(energy)


def quiet_frames(rms: np.ndarray) -> np.ndarray:
    """Boolean mask of frames quieter than the pause threshold (see QUIET_DB, NOISE_MARGIN_DB, QUIET_CAP_DB).

    >>> quiet_frames(np.array([1.0, 1.0, 0.001, 1.0])).tolist()
    [False, False, True, False]
    """
    if len(rms) == 0:
        return np.zeros(0, dtype=bool)
    loud = float(np.percentile(rms, LOUD_PERCENTILE)) or float(rms.max())
    floor = float(np.percentile(rms, 10))
    threshold = max(loud * 10 ** (QUIET_DB / 20), floor * 10 ** (NOISE_MARGIN_DB / 20))
    threshold = min(threshold, loud * 10 ** (QUIET_CAP_DB / 20))
    return rms <= threshold


def find_pauses(
    wave: np.ndarray, sr: int = SAMPLE_RATE, min_pause_s: float = SHORT_PAUSE_S
) -> list[tuple[float, float]]:
    """Runs of quiet frames lasting at least `min_pause_s`, as (start_s, end_s), including any at the edges.

    >>> tone = np.sin(np.arange(24000) * 0.1).astype(np.float32)
    >>> find_pauses(np.concatenate([tone, np.zeros(12000, np.float32), tone]), 24000)
    [(1.0, 1.5)]
    """
    quiet = quiet_frames(frame_rms(wave, sr))
    hop = _hop(sr)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    pauses = []
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        if (end - start) * hop >= min_pause_s * sr:
            pauses.append((round(float(start * hop / sr), 3), round(float(min(end * hop, len(wave)) / sr), 3)))
    return pauses


def clip_at_pause(wave: np.ndarray, sr: int, max_seconds: float) -> tuple[np.ndarray, str]:
    """Shorten `wave` to at most `max_seconds`, cutting inside the last suitable pause; returns (wave, how).

    Prefers a pause of >= LONG_PAUSE_S, then >= SHORT_PAUSE_S, cut at its middle (or at max_seconds if the pause
    runs past it) and not before MIN_CLIP_S; otherwise cuts hard at max_seconds. `how` is "" when nothing was cut.

    >>> tone = np.sin(np.arange(24000 * 5) * 0.1).astype(np.float32)
    >>> clipped, how = clip_at_pause(np.concatenate([tone, np.zeros(12000, np.float32), tone]), 24000, 8.0)
    >>> len(clipped) / 24000, how
    (5.25, 'at a pause')
    """
    if len(wave) <= max_seconds * sr:
        return wave, ""
    earliest = min(MIN_CLIP_S, max_seconds / 2)
    for min_pause, how in ((LONG_PAUSE_S, "at a pause"), (SHORT_PAUSE_S, "at a short pause")):
        cuts = [
            min((start + end) / 2, max_seconds)
            for start, end in find_pauses(wave, sr, min_pause)
            if start < max_seconds
        ]
        cuts = [c for c in cuts if c >= earliest]
        if cuts:
            return wave[: int(cuts[-1] * sr)], how
    return wave[: int(max_seconds * sr)], "mid-speech (no pause found)"


def signal_to_noise_db(wave: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """How far the loud level (LOUD_PERCENTILE frame) stands above the noise floor (10th percentile frame), in dB:
    speech with clean pauses measures 30 dB or more, speech over steady background noise much less.

    >>> tone = np.sin(np.arange(24000) * 0.1).astype(np.float32)
    >>> round(signal_to_noise_db(np.concatenate([tone, tone * 0.01]), 24000))
    40
    """
    rms = frame_rms(wave, sr)
    if len(rms) == 0:
        return float("inf")
    loud, floor = float(np.percentile(rms, LOUD_PERCENTILE)), float(np.percentile(rms, 10))
    return float("inf") if floor <= 0 else float(20 * np.log10(max(loud, floor) / floor))


def trim_silence(wave: np.ndarray, sr: int = SAMPLE_RATE, margin_s: float = EDGE_MARGIN_S) -> tuple[np.ndarray, float]:
    """Drop quiet frames at both ends, keeping `margin_s`; returns (wave, seconds removed). Empty if all quiet.

    >>> tone = np.sin(np.arange(24000) * 0.1).astype(np.float32)
    >>> trimmed, removed = trim_silence(np.concatenate([np.zeros(24000, np.float32), tone]), 24000)
    >>> len(trimmed) / 24000, removed
    (1.05, 0.95)
    """
    loud = np.flatnonzero(~quiet_frames(frame_rms(wave, sr)))
    if len(loud) == 0:
        return wave[:0], len(wave) / sr
    hop = _hop(sr)
    margin = round(margin_s * sr)
    start = max(0, loud[0] * hop - margin)
    end = min(len(wave), (loud[-1] + 1) * hop + margin)
    return wave[start:end], round(float(len(wave) - (end - start)) / sr, 3)


def normalize_loudness(wave: np.ndarray) -> tuple[np.ndarray, float]:
    """Raise quiet audio to TARGET_RMS (louder audio is kept), then scale peaks down to PEAK_LIMIT; returns
    (wave, gain in dB).

    >>> out, gain_db = normalize_loudness(np.full(100, 0.01, np.float32))
    >>> round(float(out.max()), 3), round(gain_db, 1)
    (0.1, 20.0)
    """
    wave = wave.astype(np.float64)
    rms = float(np.sqrt(np.mean(wave**2))) if len(wave) else 0.0
    gain = TARGET_RMS / rms if 0 < rms < TARGET_RMS else 1.0
    peak = float(np.max(np.abs(wave))) * gain if len(wave) else 0.0
    if peak > PEAK_LIMIT:
        gain *= PEAK_LIMIT / peak
    return (wave * gain).astype(np.float32), float(20 * np.log10(gain))


def prepare_reference(
    source: str | os.PathLike | bytes, max_seconds: float = 12.0, max_bytes: int | None = None
) -> PreparedAudio:
    """Decode, trim edge silence, clip to `max_seconds` at a pause, normalise loudness and append 50 ms of silence.

    Raises InputError for anything unusable (see decode_audio), for silence, and for < MIN_SPEECH_S of sound.
    """
    wave, sr = decode_audio(source, max_bytes=max_bytes)
    notes: list[str] = []
    if len(wave) >= DECODE_MAX_S * sr - 1:
        notes.append(f"only the first {DECODE_MAX_S:.0f} s of the file were read")
    decoded_s = len(wave) / sr
    if float(np.max(np.abs(wave))) < 10 ** (SILENT_PEAK_DB / 20):
        raise _silent()
    wave, removed = trim_silence(wave, sr)
    wave, how = clip_at_pause(wave, sr, max_seconds)
    if how:
        wave, _ = trim_silence(wave, sr)
        notes.append(f"clipped from {decoded_s:.1f} s to {len(wave) / sr:.1f} s {how}")
    elif removed >= TRIM_NOTE_S:
        notes.append(f"trimmed {removed:.1f} s of silence at the edges")
    if len(wave) == 0:
        raise _silent()
    if len(wave) < MIN_SPEECH_S * sr:
        raise InputError(
            f"The reference recording is too short: only {len(wave) / sr:.2f} s of sound.",
            "Record at least 1 second of speech; 5 to 12 seconds works best.",
        )
    if len(wave) < SHORT_SPEECH_S * sr:
        notes.append(f"short reference ({len(wave) / sr:.1f} s); 5 to 12 s of speech gives a closer voice match")
    snr_db = signal_to_noise_db(wave, sr)
    if snr_db < NOISY_SNR_DB:
        notes.append(
            f"noisy reference (the background is only {snr_db:.0f} dB below the speech); "
            "a recording in a quieter room gives a cleaner voice"
        )
    wave, gain_db = normalize_loudness(wave)
    if abs(gain_db) >= GAIN_NOTE_DB:
        notes.append(f"{'raised' if gain_db > 0 else 'lowered'} the volume by {abs(gain_db):.0f} dB")
    wave = np.concatenate([wave, np.zeros(int(TAIL_SILENCE_S * sr), dtype=np.float32)])
    return PreparedAudio(wave=wave, sample_rate=sr, notes=tuple(notes))


def _silent() -> InputError:
    return InputError(
        "The reference recording is silent.",
        "Record again closer to the microphone and check that the right input is selected.",
    )


def check_generated(wave: np.ndarray) -> np.ndarray:
    """Generated audio, refused when it is not finite: NaN or infinite samples mean the model's weights are broken
    (e.g. a checkpoint whose header survived but whose tensors are garbage), which otherwise reaches users as silence.
    """
    if not np.isfinite(wave).all():
        raise ModelUnavailable(
            "The model produced invalid audio (NaN or infinite samples): its weights are probably corrupt.",
            "Verify them with `python app.py download`, or point F5_CKPT at a good copy.",
        )
    return wave
