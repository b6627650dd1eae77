"""Whole-file audio encoding shared by the UI downloads and the serverless worker (REST streams its own)."""

from __future__ import annotations

import io
import subprocess

import numpy as np
import soundfile as sf

from .audio import to_wav_bytes
from .errors import InputError, StudioError

FORMATS = ("wav", "mp3", "flac")
FFMPEG_TIMEOUT_S = 120  # seconds for one encode


def encode_audio(wave: np.ndarray, sample_rate: int, fmt: str) -> bytes:
    """wav (16-bit PCM), flac (16-bit) or mp3; mp3 through libsndfile when it has it (>= 1.1), else ffmpeg."""
    if fmt == "wav":
        return to_wav_bytes(wave, sample_rate)
    clean = np.clip(np.nan_to_num(np.asarray(wave, dtype=np.float32)), -1.0, 1.0)
    buf = io.BytesIO()
    if fmt == "flac":
        sf.write(buf, clean, sample_rate, format="FLAC", subtype="PCM_16")
        return buf.getvalue()
    if fmt != "mp3":
        raise InputError(f"Unknown audio format {fmt!r}.", f"Use one of: {', '.join(FORMATS)}.")
    if "MP3" in sf.available_formats():
        sf.write(buf, clean, sample_rate, format="MP3", subtype="MPEG_LAYER_III")
        return buf.getvalue()
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "f32le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0",
           "-f", "mp3", "-b:a", "128k", "pipe:1"]
    try:
        proc = subprocess.run(cmd, input=clean.astype("<f4").tobytes(), capture_output=True,
                              timeout=FFMPEG_TIMEOUT_S, check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        proc = None
    if proc is None or proc.returncode != 0 or not proc.stdout:
        raise StudioError("This server cannot encode mp3 (libsndfile without MP3 and no working ffmpeg).",
                          "Ask for wav or flac.")
    return proc.stdout
