"""The mel spectrogram F5-TTS is trained on and Vocos turns back into sound: one definition for the loader, the
random-weight models and the frame arithmetic (a model config's own `mel_spec` values take precedence at load)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from ..audio import SAMPLE_RATE

HOP_LENGTH = 256  # samples per mel frame at 24 kHz
N_FFT = 1024  # samples per STFT window (also the window length)
N_MELS = 100  # mel channels
MEL_TYPE = "vocos"  # F5-TTS's name for the mel of charactr/vocos-mel-24khz

# F5-TTS's CFM(mel_spec_kwargs=...)
MEL_SPEC: MappingProxyType[str, Any] = MappingProxyType(
    {
        "n_fft": N_FFT,
        "hop_length": HOP_LENGTH,
        "win_length": N_FFT,
        "n_mel_channels": N_MELS,
        "target_sample_rate": SAMPLE_RATE,
        "mel_spec_type": MEL_TYPE,
    }
)
