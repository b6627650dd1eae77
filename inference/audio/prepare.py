"""Turn whatever the user uploaded into a clean F5-TTS reference: 24 kHz mono float32, at most ~12 s, no long silences.

Decoding tries soundfile first (fast for wav/flac/ogg) and falls back to the ffmpeg command line for everything else
(mp3, m4a/aac, webm/opus, ...). Every failure a user can cause becomes an `InputError` with a plain-language hint.

Loudness convention: like F5-TTS's `target_rms`, quiet audio is raised to an RMS of 0.1 and louder audio is left
alone; peaks are then scaled down (never hard-clipped) to at most 0.99.

>>> prepared = prepare_reference("voice.m4a")          # doctest: +SKIP
>>> prepared.sample_rate, prepared.seconds, prepared.notes  # doctest: +SKIP
(24000, 11.45, ('clipped from 30.2 s to 11.4 s at a pause',))
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np
import soundfile as sf

from ..errors import InputError, ModelUnavailable
from . import FFMPEG_TIMEOUT_S, SAMPLE_RATE, TARGET_RMS

DECODE_MAX_S = 600.0  # s, decode_audio never returns more than this much audio
MAX_SOURCE_RATE = 192_000  # Hz, the highest sample rate a recording may have (studio masters); higher is refused
MAX_SOURCE_CHANNELS = 8  # channels a recording may have (7.1 surround); more is refused
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

_FORMATS_HINT = "Upload a WAV, MP3, FLAC, OGG, M4A or WebM recording."
_UNREADABLE = "We could not read this file as audio."
_SOUNDFILE_MAGIC = {b"RIFF", b"RIFX", b"RF64", b"BW64", b"fLaC", b"OggS", b"FORM"}  # wav, flac, ogg, aiff


@dataclass(frozen=True)
class PreparedAudio:
    wave: np.ndarray  # float32, mono, 1-D, at SAMPLE_RATE, peak <= 1
    sample_rate: int  # always SAMPLE_RATE
    notes: tuple[str, ...]  # what was done, e.g. "clipped from 30.2 s to 11.4 s at a pause"

    @property
    def seconds(self) -> float:
        return len(self.wave) / self.sample_rate


def _check_source(source: str | os.PathLike | bytes, max_bytes: int | None) -> int:
    """Return the size in bytes, raising InputError for a missing, empty or too large source (nothing is read)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        size = len(source)
    else:
        if not os.path.isfile(source):
            raise InputError("We could not find the reference recording.", "Upload the file again.")
        size = os.path.getsize(source)
    if size == 0:
        raise InputError(
            "The uploaded file is empty (0 bytes).", "Upload the recording again; the upload may have been interrupted."
        )
    if max_bytes is not None and size > max_bytes:
        raise InputError(
            f"The file is too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB).",
            "Upload a shorter recording: 5 to 12 seconds of speech is enough.",
        )
    return size


def _resample(mono: np.ndarray, sr: int) -> np.ndarray:
    """Resample 1-D audio from `sr` to SAMPLE_RATE (soxr, else scipy's polyphase filter), as float32."""
    if sr != SAMPLE_RATE and len(mono):
        try:
            import soxr

            mono = soxr.resample(mono, sr, SAMPLE_RATE, quality="HQ")
        except ImportError:
            from math import gcd

            from scipy.signal import resample_poly

            g = gcd(int(sr), SAMPLE_RATE)
            mono = resample_poly(mono, SAMPLE_RATE // g, int(sr) // g)
    return mono.astype(np.float32)


def check_layout(sample_rate: int, channels: int) -> None:
    """Refuse, from a file's header and before decoding, a sample rate or channel count no recording of speech has
    (decoding them would cost time and memory out of all proportion to the file's size)."""
    if not 0 < sample_rate <= MAX_SOURCE_RATE:
        raise InputError(
            f"The recording's sample rate ({sample_rate:,} Hz) is not one we read (at most {MAX_SOURCE_RATE:,} Hz).",
            "Export it at 48 kHz or 44.1 kHz and upload it again.",
        )
    if not 0 < channels <= MAX_SOURCE_CHANNELS:
        raise InputError(
            f"The recording has {channels} channels; we read at most {MAX_SOURCE_CHANNELS}.",
            "Export it as mono or stereo and upload it again.",
        )


class _StreamResampler:
    """Resample block by block to SAMPLE_RATE, so that only the output is ever held whole (soxr's streaming
    resampler; without soxr, blocks are gathered and resampled at the end)."""

    def __init__(self, sr: int) -> None:
        self.sr, self.stream = sr, None
        self.blocks: list[np.ndarray] = []
        if sr != SAMPLE_RATE:
            with contextlib.suppress(ImportError):
                import soxr

                self.stream = soxr.ResampleStream(sr, SAMPLE_RATE, 1, dtype="float32", quality="HQ")

    def feed(self, block: np.ndarray, last: bool = False) -> None:
        block = np.ascontiguousarray(block, dtype=np.float32)
        self.blocks.append(block if self.stream is None else self.stream.resample_chunk(block, last=last))

    def result(self) -> np.ndarray:
        self.feed(np.zeros(0, np.float32), last=True)
        wave = np.concatenate(self.blocks)
        return _resample(wave, self.sr) if self.stream is None else wave.astype(np.float32)


def _decode_soundfile(source: str | os.PathLike | bytes, max_seconds: float) -> np.ndarray | None:
    """Decode wav/flac/ogg/aiff with libsndfile; None when the file is another format (mp3 is left to ffmpeg: its
    libsndfile decoder is slow and noisy on junk) or is corrupt; an empty array when it holds no frames. The header
    is checked first (check_layout); blocks are downmixed and resampled as they are read, so memory is bounded by
    the output (24 kHz mono), whatever the source's rate and channels."""
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            target: Any = io.BytesIO(bytes(source))
            magic = bytes(source[:4])
        else:
            with open(source, "rb") as f:
                target, magic = source, f.read(4)
        if magic not in _SOUNDFILE_MAGIC:
            return None
        with sf.SoundFile(target) as f:
            check_layout(f.samplerate, f.channels)
            frames = min(f.frames, int(max_seconds * f.samplerate))
            resampler = _StreamResampler(f.samplerate)
            for block in f.blocks(1 << 16, frames=frames, dtype="float32", always_2d=True):
                resampler.feed(block.mean(axis=1))  # downmixed block by block: the channels never sit in memory
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError, OSError, EOFError):  # ffmpeg gets the next try
        return None
    return resampler.result()


def _decode_ffmpeg(source: str | os.PathLike | bytes, max_seconds: float) -> np.ndarray:
    """Decode with the ffmpeg CLI straight to 24 kHz mono float32 (bytes go through a temporary file: m4a needs to
    seek). Raises InputError when ffmpeg is missing, times out or decodes nothing."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        with tempfile.NamedTemporaryFile(suffix=".audio") as tmp:
            tmp.write(source)
            tmp.flush()
            return _decode_ffmpeg(tmp.name, max_seconds)
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        os.fspath(source),
        "-t",
        f"{max_seconds:.3f}",
        "-vn",
        "-sn",
        "-dn",
        "-f",
        "f32le",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "pipe:1",
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except FileNotFoundError:
        raise InputError(
            _UNREADABLE,
            "This server can only read WAV, FLAC and OGG files (ffmpeg is not installed). Upload one of those.",
        ) from None
    except subprocess.TimeoutExpired:
        raise InputError("Reading this file took too long.", "Upload a shorter recording, as WAV or MP3.") from None
    usable = len(proc.stdout) // 4 * 4
    if usable == 0:
        raise InputError(_UNREADABLE, _FORMATS_HINT)
    return np.frombuffer(proc.stdout[:usable], dtype="<f4").astype(np.float32)


def decode_audio(
    source: str | os.PathLike | bytes, max_bytes: int | None = None, max_seconds: float = DECODE_MAX_S
) -> tuple[np.ndarray, int]:
    """Decode any common format to float32 mono at SAMPLE_RATE; returns (wave, SAMPLE_RATE).

    Only the first `max_seconds` are decoded. Non-finite samples become 0 and float files louder than full scale are
    scaled down, so the result is always finite with peak <= 1. A truncated file decodes as far as it is readable.

    >>> wave, sr = decode_audio("speech_48k_stereo.flac")   # doctest: +SKIP
    >>> sr, wave.dtype, wave.ndim                         # doctest: +SKIP
    (24000, dtype('float32'), 1)
    """
    _check_source(source, max_bytes)
    wave = _decode_soundfile(source, max_seconds)
    if wave is None or len(wave) == 0:
        try:
            wave = _decode_ffmpeg(source, max_seconds)
        except InputError:
            if wave is None:  # neither decoder recognised it; an empty but valid file gets the clearer message below
                raise
    wave = np.nan_to_num(wave, nan=0.0, posinf=0.0, neginf=0.0)
    if len(wave) == 0:
        raise InputError(
            "The file contains no audio.",
            "The file may be damaged or the upload cut short; upload a recording that has sound in it.",
        )
    peak = float(np.max(np.abs(wave)))
    if peak > 1.0:
        wave = wave / peak
    return wave.astype(np.float32), SAMPLE_RATE


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


def content_hash(source: str | os.PathLike | bytes) -> str:
    """SHA-256 hex digest of the file's bytes (or of the bytes given), for use as a cache key.

    >>> content_hash(b"abc")[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    if isinstance(source, (bytes, bytearray, memoryview)):
        digest.update(source)
        return digest.hexdigest()
    if not os.path.isfile(source):
        raise InputError("We could not find the reference recording.", "Upload the file again.")
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def to_wav_bytes(wave: np.ndarray, sr: int = SAMPLE_RATE) -> bytes:
    """Encode (frames,) or (frames, channels) float audio as 16-bit PCM WAV in memory; samples are clipped to [-1, 1].

    >>> to_wav_bytes(np.zeros(10, np.float32), 24000)[:4]
    b'RIFF'
    """
    buf = io.BytesIO()
    sf.write(
        buf, np.clip(np.nan_to_num(np.asarray(wave, dtype=np.float32)), -1.0, 1.0), sr, format="WAV", subtype="PCM_16"
    )
    return buf.getvalue()


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
