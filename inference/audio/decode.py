"""Any recording a user uploads, decoded: soundfile first (fast for wav/flac/ogg), else the ffmpeg command line
(mp3, m4a/aac, webm/opus, ...), mixed to mono and resampled to 24 kHz. Every failure a user can cause becomes an
`InputError` with a plain-language hint. Also the bytes side: a content hash for caches, and WAV bytes out.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import tempfile
from typing import Any

import numpy as np
import soundfile as sf

from ..errors import InputError
from . import FFMPEG_TIMEOUT_S, SAMPLE_RATE

DECODE_MAX_S = 600.0  # s, decode_audio never returns more than this much audio
MAX_SOURCE_RATE = 192_000  # Hz, the highest sample rate a recording may have (studio masters); higher is refused
MAX_SOURCE_CHANNELS = 8  # channels a recording may have (7.1 surround); more is refused

_FORMATS_HINT = "Upload a WAV, MP3, FLAC, OGG, M4A or WebM recording."
_UNREADABLE = "We could not read this file as audio."
_SOUNDFILE_MAGIC = {b"RIFF", b"RIFX", b"RF64", b"BW64", b"fLaC", b"OggS", b"FORM"}  # wav, flac, ogg, aiff


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
