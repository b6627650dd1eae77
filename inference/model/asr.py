"""Automatic transcription of reference clips with Whisper, loaded lazily on first use.

Importing this module is cheap: torch and transformers are imported only when the model is first needed.
The model is resolved like any transformers checkpoint: a local folder, or a hub repo id looked up in the standard
Hugging Face cache under HF_HOME (works offline with HF_HUB_OFFLINE=1 once cached, downloads when online).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ModelUnavailable
from ..settings import DEFAULT_ASR
from .weights import hub_cache_dir

log = logging.getLogger(__name__)

# Whisper decodes at most 448 positions, 4 of them taken by the prompt tokens. Reference clips are short (a sentence
# or two); the cap also keeps a broken or random model from generating for long.
MAX_NEW_TOKENS = 224
# Whisper sees 30 s at a time. Longer inputs need its sequential long-form decoding, which is driven by timestamp
# tokens; the margin keeps clips of almost exactly 30 s (resampling rounds lengths) on the safe side.
LONG_FORM_S = 29.5
UNAVAILABLE_HINT = "Type the reference transcript yourself, or run `python app.py download` while online."


def _looks_like_path(model: str) -> bool:
    """A local folder (or meant as one) rather than a hub repo id such as "openai/whisper-large-v3-turbo"."""
    path = Path(model).expanduser()
    return path.exists() or path.is_absolute() or model.startswith((".", "~"))


@dataclass(frozen=True)
class Word:
    """One recognised word and when it is said, in seconds from the start of the audio."""

    text: str
    start: float
    end: float


class Transcriber:
    """Whisper speech-to-text. Construction is free; the pipeline loads on the first `transcribe` call, once."""

    def __init__(self, model: str = DEFAULT_ASR, device: str = "cpu") -> None:
        """`model`: hub repo id or local folder. `device`: "cpu", "cuda", "cuda:N" or "auto" (CUDA when visible)."""
        self.model = str(model)
        self.device = str(device)
        self._pipeline: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._pipeline is not None

    def transcribe(
        self, wave: np.ndarray, sample_rate: int, language: str | None = None, max_new_tokens: int | None = None
    ) -> str:
        """Transcribe float32 mono `wave` at `sample_rate` Hz; returns the stripped text.

        `language` (e.g. "en" or "english") skips Whisper's language detection; `max_new_tokens` (at most
        MAX_NEW_TOKENS) caps the output. Raises InputError for unusable audio and ModelUnavailable when the model
        cannot be loaded (the next call tries again).
        """
        result = self._run(wave, sample_rate, language, words=False, max_new_tokens=max_new_tokens)
        return str(result.get("text", "") if isinstance(result, dict) else result).strip()

    def words(self, wave: np.ndarray, sample_rate: int, language: str | None = None) -> list[Word]:
        """The words of float32 mono `wave`, each with its start and end (Whisper's cross-attention alignment),
        in order; the same lazy model as `transcribe`. Raises as `transcribe` does."""
        result = self._run(wave, sample_rate, language, words=True)
        out = []
        for chunk in result.get("chunks", []) if isinstance(result, dict) else []:
            text, (start, end) = str(chunk.get("text", "")).strip(), chunk.get("timestamp", (None, None))
            if not text or start is None:
                continue
            end = start if end is None else end
            out.append(Word(text, float(start), max(float(start), float(end))))
        return out

    def _run(
        self, wave: np.ndarray, sample_rate: int, language: str | None, words: bool, max_new_tokens: int | None = None
    ) -> Any:
        audio = np.asarray(wave, dtype=np.float32)
        if audio.ndim != 1:
            raise InputError(
                f"Expected mono audio (one channel), got an array of shape {audio.shape}.",
                "Mix the reference audio down to mono.",
            )
        if audio.size == 0:
            raise InputError("The reference audio is empty.", "Upload or record a few seconds of speech.")
        if not np.all(np.isfinite(audio)):
            raise InputError("The reference audio contains invalid samples (NaN or infinity).", "Re-export the clip.")
        if int(sample_rate) <= 0:
            raise InputError(f"Invalid sample rate: {sample_rate}.", "Pass the audio's sample rate in Hz.")

        pipe = self._ensure_loaded()
        cap = MAX_NEW_TOKENS if max_new_tokens is None else max(1, min(MAX_NEW_TOKENS, max_new_tokens))
        generate_kwargs: dict[str, Any] = {"task": "transcribe", "max_new_tokens": cap, "num_beams": 1}
        if language:
            generate_kwargs["language"] = language
        call_kwargs: dict[str, Any] = {}
        if words:
            call_kwargs["return_timestamps"] = "word"
        elif audio.size / int(sample_rate) > LONG_FORM_S:
            call_kwargs["return_timestamps"] = True  # the text is still the whole transcript
        with self._run_lock:  # one inference at a time per model: bounded memory, no shared-state surprises
            try:
                # Given `sampling_rate`, the pipeline resamples to the feature extractor's rate (16 kHz) itself.
                result = pipe(
                    {"raw": np.ascontiguousarray(audio), "sampling_rate": int(sample_rate)},
                    generate_kwargs=generate_kwargs,
                    **call_kwargs,
                )
            except ValueError as e:
                if language and "language" in str(e).lower():
                    raise InputError(
                        f"Whisper does not know the language {language!r}.",
                        "Use a language code such as en, zh or fr, or leave it empty to detect it.",
                    ) from e
                raise
        return result

    def _ensure_loaded(self) -> Any:
        pipe = self._pipeline
        if pipe is not None:
            return pipe
        with self._load_lock:
            if self._pipeline is None:  # another caller may have loaded it while we waited
                self._pipeline = self._load()
            return self._pipeline

    def _load(self) -> Any:
        """Build the transformers pipeline; any failure becomes ModelUnavailable (and is not remembered)."""
        import torch

        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        elif device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelUnavailable(
                f"Automatic transcription is unavailable: the device is {self.device!r} but no CUDA GPU is visible.",
                "Use device auto or cpu, or type the reference transcript yourself.",
            )
        try:
            from transformers import pipeline

            dtype = torch.float16 if device.startswith("cuda") else torch.float32
            model = str(Path(self.model).expanduser()) if _looks_like_path(self.model) else self.model
            return pipeline("automatic-speech-recognition", model=model, dtype=dtype, device=device)
        except Exception as e:
            log.warning("Could not load Whisper model %r on %s: %s: %s", self.model, device, type(e).__name__, e)
            raise ModelUnavailable(self._unavailable_message(), UNAVAILABLE_HINT) from e

    def _unavailable_message(self) -> str:
        prefix = "Automatic transcription is unavailable:"
        if _looks_like_path(self.model):
            folder = Path(self.model).expanduser()
            if not folder.exists():
                return f"{prefix} the Whisper model folder '{folder}' does not exist."
            return f"{prefix} the Whisper model folder '{folder}' could not be loaded (files missing or broken)."
        return (
            f"{prefix} the Whisper model '{self.model}' is not in the Hugging Face cache at {hub_cache_dir()} "
            "and it could not be downloaded."
        )
