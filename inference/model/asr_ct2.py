"""Whisper on CTranslate2 (faster-whisper): the `Transcriber` interface of `asr`, selected by F5_ASR_BACKEND.

Importing this module is cheap: faster_whisper (and CTranslate2) are imported when the model is first needed.
The model is a local folder in CTranslate2 format (model.bin, config.json, tokenizer.json, vocabulary) or a hub repo
id such as "mobiuslabsgmbh/faster-whisper-large-v3-turbo", fetched once into the Hugging Face cache under HF_HOME
(offline with HF_HUB_OFFLINE=1 once cached).
"""

from __future__ import annotations

import logging
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelUnavailable
from ..settings import DEFAULT_ASR_CT2
from .asr import (
    MAX_NEW_TOKENS,
    UNAVAILABLE_HINT,
    Transcriber,
    Word,
    checked_audio,
    in_order,
    language_errors,
    looks_like_path,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # Hz: what Whisper hears


def resample_16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """float32 mono audio at `sample_rate` Hz -> 16 kHz (polyphase; 24 kHz -> 16 kHz is up 2, down 3)."""
    if sample_rate == SAMPLE_RATE:
        return np.ascontiguousarray(audio, dtype=np.float32)
    from scipy.signal import resample_poly

    g = gcd(int(sample_rate), SAMPLE_RATE)
    return resample_poly(audio, SAMPLE_RATE // g, int(sample_rate) // g).astype(np.float32)


class CTranslate2Transcriber(Transcriber):
    """Whisper speech-to-text through faster-whisper: `Transcriber`'s interface, lazy load and locks (its pipeline
    slot holds the faster-whisper model). Construction is free; the model loads on first use, once."""

    def __init__(self, model: str = DEFAULT_ASR_CT2, device: str = "cpu") -> None:
        """`model`: hub repo id or local CTranslate2 folder. `device`: "cpu", "cuda", "cuda:N" or "auto"."""
        super().__init__(model, device)

    FOLDER_FORMAT = "as a CTranslate2 model (model.bin, config.json or tokenizer.json missing or broken)"

    def transcribe(
        self, wave: np.ndarray, sample_rate: int, language: str | None = None, max_new_tokens: int | None = None
    ) -> str:
        """As `asr.Transcriber.transcribe`: the stripped text of float32 mono `wave`; `max_new_tokens` (at most
        MAX_NEW_TOKENS) caps each 30 s window's output."""
        cap = MAX_NEW_TOKENS if max_new_tokens is None else max(1, min(MAX_NEW_TOKENS, max_new_tokens))
        segments = self._segments(wave, sample_rate, language, max_new_tokens=cap, without_timestamps=True)
        return " ".join(s.text.strip() for s in segments).strip()

    def words(self, wave: np.ndarray, sample_rate: int, language: str | None = None) -> list[Word]:
        """As `asr.Transcriber.words`: each word with its start and end in seconds, in order and inside the audio.

        words(wave, 24000) -> [Word("Some", 0.0, 0.32), Word("call", 0.32, 0.56), ...]
        """
        duration = np.asarray(wave).size / max(1, int(sample_rate))
        segments = self._segments(wave, sample_rate, language, max_new_tokens=MAX_NEW_TOKENS, word_timestamps=True)
        timed = [w for s in segments for w in s.words or () if w.word.strip()]
        found = [Word(w.word.strip(), float(w.start), float(w.end)) for w in timed]
        return in_order(found, duration)

    def _segments(self, wave: np.ndarray, sample_rate: int, language: str | None, **options: Any) -> list[Any]:
        audio = resample_16k(checked_audio(wave, sample_rate), int(sample_rate))
        whisper = self._ensure_loaded()
        lang = _language_code(language)
        # Greedy, one pass per window, no carried-over prompt: the transformers backend decodes the same way.
        options.update(beam_size=1, temperature=0.0, condition_on_previous_text=False)
        with self._run_lock, language_errors(language):  # one inference at a time per model: bounded memory
            segments, _info = whisper.transcribe(audio, language=lang, task="transcribe", **options)
            return list(segments)  # the generator decodes as it is consumed: inside the lock

    def _load(self) -> Any:
        """Build the faster-whisper model; any failure becomes ModelUnavailable (and is not remembered)."""
        device, index = self.device, 0
        if device.startswith("cuda:"):
            device, index = "cuda", int(device.split(":", 1)[1] or 0)
        try:
            import ctranslate2
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise ModelUnavailable(
                "Automatic transcription is unavailable: faster-whisper is not installed.",
                "Install it (pip install -r requirements.txt) or set F5_ASR_BACKEND=transformers.",
            ) from e
        cuda = ctranslate2.get_cuda_device_count() > 0
        if device == "auto":
            device = "cuda" if cuda else "cpu"
        elif device == "cuda" and not cuda:
            raise ModelUnavailable(
                f"Automatic transcription is unavailable: the device is {self.device!r} but no CUDA GPU is visible.",
                "Use device auto or cpu, or type the reference transcript yourself.",
            )
        compute_type = "float16" if device == "cuda" else "int8"  # int8 on CPU: faster-whisper's own advice
        try:
            local = looks_like_path(self.model)
            model = str(Path(self.model).expanduser()) if local else self.model
            return WhisperModel(model, device=device, device_index=index, compute_type=compute_type)
        except Exception as e:
            log.warning("Could not load Whisper model %r on %s: %s: %s", self.model, device, type(e).__name__, e)
            raise ModelUnavailable(self._unavailable_message(), UNAVAILABLE_HINT) from e


def _language_code(language: str | None) -> str | None:
    """faster-whisper takes codes only: "English" -> "en"; "en" and None pass; an unknown name passes through for
    faster-whisper to refuse (a ValueError, which `language_errors` turns into an InputError)."""
    if not language:
        return None
    value = language.strip().lower()
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    if value in _LANGUAGE_CODES:
        return value
    from transformers.models.whisper.tokenization_whisper import TO_LANGUAGE_CODE

    return TO_LANGUAGE_CODE.get(value, value)
