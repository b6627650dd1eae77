"""The choice of speech-to-text backend (F5_ASR_BACKEND): transformers' Whisper (asr.py, the base every backend
shares) or faster-whisper (asr_ct2.py). Importing this is light: each backend imports its model code on first use."""

from __future__ import annotations

from ..settings import EngineSettings
from .asr import Transcriber
from .asr_ct2 import CTranslate2Transcriber


def transcriber_for(settings: EngineSettings) -> Transcriber:
    """The transcriber of F5_ASR_BACKEND: transformers' Whisper, or faster-whisper (`asr_ct2`). Loads nothing."""
    if settings.asr_backend == "ctranslate2":
        return CTranslate2Transcriber(settings.asr_weights, device=settings.device)
    return Transcriber(settings.asr_weights, device=settings.device)
