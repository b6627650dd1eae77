"""Speaker similarity: how alike two voices sound, from resemblyzer's speaker encoder (a GE2E d-vector model).

The encoder's trained weights ship inside the resemblyzer wheel (no download); it is loaded on first use, once, on
the CPU (a 3-layer LSTM over 40 mel bands: milliseconds per second of audio). Importing this module is cheap.

    similarity(wave_a, 24000, wave_b, 24000) -> 0.93   (same speaker, two sentences)
    similarity(wave_a, 24000, wave_c, 16000) -> 0.71   (another speaker)
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from ..errors import InputError, ModelUnavailable

SILENT_PEAK = 1e-4  # full scale 1.0: a clip that never gets louder than this holds no speech
MIN_SPEECH_S = 0.5  # s of speech left after silences are trimmed: less says too little about a voice

_encoder: Any = None
_lock = threading.Lock()


def similarity(wave_a: np.ndarray, sr_a: int, wave_b: np.ndarray, sr_b: int) -> float:
    """Cosine similarity in [-1, 1] of the two voices' embeddings (1: the same voice). InputError for audio with
    too little speech; ModelUnavailable when resemblyzer is not installed."""
    a, b = embedding(wave_a, sr_a), embedding(wave_b, sr_b)
    return float(np.clip(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0))


def embedding(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """The voice's 256-dimensional embedding (unit length) of float32 mono `wave` at `sample_rate` Hz."""
    audio = np.asarray(wave, dtype=np.float32)
    if audio.ndim != 1 or audio.size == 0 or not np.all(np.isfinite(audio)) or int(sample_rate) <= 0:
        raise InputError("Speaker similarity needs mono audio with valid samples.", "Pass a mono float waveform.")
    encoder = _load()
    from resemblyzer import preprocess_wav
    from resemblyzer.hparams import sampling_rate

    silent = float(np.max(np.abs(audio))) < SILENT_PEAK  # its volume normalization would divide by zero
    speech = audio[:0] if silent else preprocess_wav(audio, source_sr=int(sample_rate))  # 16 kHz, silences cut
    if speech.size < MIN_SPEECH_S * sampling_rate:
        raise InputError(
            f"The audio holds less than {MIN_SPEECH_S:g} s of speech: too little to tell a voice.",
            "Use a clip with a few seconds of speech.",
        )
    with _lock:  # one encoder, shared: one utterance at a time
        return np.asarray(encoder.embed_utterance(speech), dtype=np.float32)


def _load() -> Any:
    global _encoder
    with _lock:
        if _encoder is None:
            try:
                from resemblyzer import VoiceEncoder
            except ImportError as e:
                raise ModelUnavailable(
                    "Speaker similarity is unavailable: resemblyzer is not installed.",
                    "Install it: pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels (see requirements.txt).",
                ) from e
            _encoder = VoiceEncoder(device="cpu", verbose=False)
        return _encoder
