"""Automatic transcription of reference clips with Whisper, loaded lazily on first use.

Importing this module is cheap: torch and transformers are imported only when the model is first needed.
The model is resolved like any transformers checkpoint: a local folder, or a hub repo id looked up in the standard
Hugging Face cache under HF_HOME (works offline with HF_HUB_OFFLINE=1 once cached, downloads when online).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, ModelUnavailable
from ..settings import DEFAULT_ASR
from . import hub
from .weights import hub_cache_dir

log = logging.getLogger(__name__)

# Whisper decodes at most 448 positions, 4 of them taken by the prompt tokens. Reference clips are short (a sentence
# or two); the cap also keeps a broken or random model from generating for long.
MAX_NEW_TOKENS = 224
# Whisper sees 30 s at a time. Longer inputs need its sequential long-form decoding, which is driven by timestamp
# tokens; the margin keeps clips of almost exactly 30 s (resampling rounds lengths) on the safe side.
LONG_FORM_S = 29.5
# Word timestamps are decoded window by window: at most this many seconds each (Whisper's 30 s, less the margin),
# cut at a pause after MIN_WINDOW_S where there is one, so that a word is rarely split between two windows.
WORD_WINDOW_S = LONG_FORM_S
MIN_WINDOW_S = 20.0
UNAVAILABLE_HINT = "Type the reference transcript yourself, or run `python app.py download` while online."


def looks_like_path(model: str) -> bool:
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

    FOLDER_FORMAT = "(files missing or broken)"  # what a local model folder holds, for the error when it does not

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
        result = self._run(wave, sample_rate, language, max_new_tokens)
        return str(result.get("text", "") if isinstance(result, dict) else result).strip()

    def words(self, wave: np.ndarray, sample_rate: int, language: str | None = None) -> list[Word]:
        """The words of float32 mono `wave`, each with its start and end in seconds (Whisper's cross-attention
        alignment); the same lazy model as `transcribe`. Raises as `transcribe` does.

        Decoding is capped as `transcribe`'s is: audio is heard in windows of at most WORD_WINDOW_S (cut at a
        pause where there is one), each decoded once, in at most MAX_NEW_TOKENS tokens. The words come back in
        order and inside the audio: each starts where the one before ends or later, and none ends after the audio.

            words(wave, 24000) -> [Word("Some", 0.0, 0.32), Word("call", 0.32, 0.56), ...]
        """
        audio = checked_audio(wave, sample_rate)
        pipe = self._ensure_loaded()
        duration = audio.size / int(sample_rate)
        out: list[Word] = []
        with self._run_lock:
            for start, end in _windows(audio, int(sample_rate)):
                piece = audio[int(start * sample_rate) : int(end * sample_rate)]
                for text, (t0, t1) in self._timed_words(pipe, piece, int(sample_rate), language):
                    out.append(Word(text, start + t0, start + (t0 if t1 is None else t1)))
        return in_order(out, duration)

    def _timed_words(
        self, pipe: Any, audio: np.ndarray, sample_rate: int, language: str | None
    ) -> list[tuple[str, tuple[float, float | None]]]:
        """One window (at most 30 s), decoded once with token timestamps: (word, (start, end)) relative to it.

        The pipeline's own word mode asks Whisper for segment timestamps too, and then keeps decoding window after
        window until the timestamps reach the end of the padded 30 s (a model that emits no end timestamp decodes
        for a minute); here the model is asked only for token timestamps, in one generate call."""
        import torch
        from torchaudio import functional as F

        _quiet_segment_warning()
        fe = pipe.feature_extractor
        wave = torch.from_numpy(np.ascontiguousarray(audio))
        if sample_rate != fe.sampling_rate:
            wave = F.resample(wave, sample_rate, fe.sampling_rate)
        features = fe(wave.numpy(), sampling_rate=fe.sampling_rate, return_tensors="pt", return_attention_mask=True)
        kwargs: dict[str, Any] = {"task": "transcribe", "max_new_tokens": MAX_NEW_TOKENS, "num_beams": 1}
        if language:
            kwargs["language"] = language
        with torch.inference_mode(), language_errors(language):
            generated = pipe.model.generate(
                features.input_features.to(pipe.model.device, pipe.model.dtype),
                attention_mask=features.attention_mask.to(pipe.model.device),
                return_token_timestamps=True,
                **kwargs,
            )
        tokens, stamps = generated["sequences"].cpu(), generated["token_timestamps"].cpu()
        decoded = pipe.postprocess(
            [{"tokens": tokens, "token_timestamps": stamps, "is_last": True}], return_timestamps="word"
        )
        return [
            (str(c.get("text", "")).strip(), c.get("timestamp", (None, None)))
            for c in decoded.get("chunks", [])
            if str(c.get("text", "")).strip() and c.get("timestamp", (None, None))[0] is not None
        ]

    def _run(self, wave: np.ndarray, sample_rate: int, language: str | None, max_new_tokens: int | None) -> Any:
        audio = checked_audio(wave, sample_rate)
        pipe = self._ensure_loaded()
        cap = MAX_NEW_TOKENS if max_new_tokens is None else max(1, min(MAX_NEW_TOKENS, max_new_tokens))
        generate_kwargs: dict[str, Any] = {"task": "transcribe", "max_new_tokens": cap, "num_beams": 1}
        if language:
            generate_kwargs["language"] = language
        call_kwargs: dict[str, Any] = {}
        if audio.size / int(sample_rate) > LONG_FORM_S:
            call_kwargs["return_timestamps"] = True  # the text is still the whole transcript
        with self._run_lock, language_errors(language):  # one inference at a time per model: bounded memory
            # Given `sampling_rate`, the pipeline resamples to the feature extractor's rate (16 kHz) itself.
            return pipe(
                {"raw": np.ascontiguousarray(audio), "sampling_rate": int(sample_rate)},
                generate_kwargs=generate_kwargs,
                **call_kwargs,
            )

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
        model = str(Path(self.model).expanduser()) if looks_like_path(self.model) else self._hub_model()  # first
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
            return pipeline("automatic-speech-recognition", model=model, dtype=dtype, device=device)
        except Exception as e:
            log.warning("Could not load Whisper model %r on %s: %s: %s", self.model, device, type(e).__name__, e)
            raise ModelUnavailable(self._unavailable_message(), UNAVAILABLE_HINT) from e

    def _hub_model(self) -> str:
        """The hub model id; or, when the hub cannot be reached, its cached folder (none: ModelUnavailable now,
        rather than after the hub client's retries)."""
        if hub.reachable():
            return self.model
        from huggingface_hub import snapshot_download

        try:
            return snapshot_download(repo_id=self.model, local_files_only=True)
        except Exception as e:
            prefix = "Automatic transcription is unavailable:"
            what = f"the Whisper model '{self.model}'"
            raise hub.unreachable_error(what, prefix, "Type the reference transcript yourself.") from e

    def _unavailable_message(self) -> str:
        prefix = "Automatic transcription is unavailable:"
        if looks_like_path(self.model):
            folder = Path(self.model).expanduser()
            if not folder.exists():
                return f"{prefix} the Whisper model folder '{folder}' does not exist."
            return f"{prefix} the Whisper model folder '{folder}' could not be loaded {self.FOLDER_FORMAT}."
        return (
            f"{prefix} the Whisper model '{self.model}' is not in the Hugging Face cache at {hub_cache_dir()} "
            "and it could not be downloaded."
        )


def _quiet_segment_warning() -> None:
    """Word timings come from token timestamps alone, so the tokenizer's warning that no segment-ending timestamp
    was predicted is expected: it would otherwise be logged for every window."""
    logger = logging.getLogger("transformers.models.whisper.tokenization_whisper")
    if not any(isinstance(f, _NoEndingTimestampFilter) for f in logger.filters):
        logger.addFilter(_NoEndingTimestampFilter())


class _NoEndingTimestampFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "did not predict an ending timestamp" not in record.getMessage()


def checked_audio(wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """The audio as float32, or InputError for what Whisper cannot hear (checked before anything loads)."""
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
    return audio


@contextlib.contextmanager
def language_errors(language: str | None) -> Iterator[None]:
    """Whisper's ValueError for a language it does not know becomes an InputError naming it."""
    try:
        yield
    except ValueError as e:
        if language and "language" in str(e).lower():
            raise InputError(
                f"Whisper does not know the language {language!r}.",
                "Use a language code such as en, zh or fr, or leave it empty to detect it.",
            ) from e
        raise


def _windows(audio: np.ndarray, sample_rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of the windows Whisper hears in turn: at most WORD_WINDOW_S each, cut in the middle of
    the last pause after MIN_WINDOW_S where there is one, else at WORD_WINDOW_S.

    5 s -> [(0.0, 5.0)]; 50 s of speech with a pause at 27-27.4 s -> [(0.0, 27.2), (27.2, 50.0)]
    """
    from ..audio.prepare import find_pauses

    duration = audio.size / sample_rate
    pauses = find_pauses(audio, sample_rate) if duration > WORD_WINDOW_S else []
    windows, start = [], 0.0
    while duration - start > WORD_WINDOW_S:
        cuts = [(a + b) / 2 for a, b in pauses if start + MIN_WINDOW_S <= (a + b) / 2 <= start + WORD_WINDOW_S]
        end = cuts[-1] if cuts else start + WORD_WINDOW_S
        windows.append((start, end))
        start = end
    windows.append((start, duration))
    return windows


def in_order(words: list[Word], duration: float) -> list[Word]:
    """Words inside [0, duration], each starting where the previous one ended or later (Whisper's alignment of a
    poorly heard window can run past its end or step back).

    [Word("a", 0.5, 0.9), Word("b", 0.7, 9.0)], 2.0 -> [Word("a", 0.5, 0.9), Word("b", 0.9, 2.0)]
    """
    out: list[Word] = []
    floor = 0.0
    for word in words:
        start = min(max(word.start, floor), duration)
        end = min(max(word.end, start), duration)
        out.append(Word(word.text, round(start, 3), round(end, 3)))
        floor = end
    return out
