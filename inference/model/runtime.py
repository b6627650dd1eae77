"""The models on their device: which device and dtype, the reference as a tensor, the compile warm-up, and one
sampling run as the scheduler steps it (`Generation`). Torch is imported inside each function, never at import."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import SAMPLE_RATE, TARGET_RMS
from ..audio.prepare import PreparedAudio, check_generated
from ..errors import ModelUnavailable, StudioError
from . import duration
from .sampling import Item, Sampling, SamplingKey, generate_mels, ref_text_for_model, vocode


@dataclass
class Models:
    """The loaded models and the device they run on."""

    tts: Any
    vocoder: Any
    device: str


def as_unavailable(error: Exception) -> ModelUnavailable:
    """A failed load as the error users see: a ModelUnavailable as it is, anything else wrapped in one."""
    if isinstance(error, ModelUnavailable):
        return error
    return ModelUnavailable(
        f"The model failed to load: {type(error).__name__}: {error}", "See the server log for details."
    )


def likely_cuda(device: str) -> bool:
    """Whether generation will run on a GPU, without importing torch: asked for, or auto with an NVIDIA driver."""
    if device == "auto":
        return Path("/proc/driver/nvidia/version").exists()
    return device.startswith("cuda")


def pick_device(requested: str, dtype: str = "auto") -> tuple[str, Any]:
    """'auto' -> CUDA if present, else CPU; dtype 'auto' -> fp16 on CUDA, fp32 on CPU (bf16/fp16/fp32 to force)."""
    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if requested == "auto" else requested
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailable(f"F5_DEVICE={requested} but no CUDA GPU is visible.", "Use F5_DEVICE=auto or cpu.")
    if dtype == "auto":
        return device, torch.float16 if device.startswith("cuda") else torch.float32
    return device, {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[dtype]


def ref_tensor(prepared: PreparedAudio, device: str) -> tuple[Any, float]:
    """The reference as the model takes it: raised to TARGET_RMS when quieter (the output is lowered back)."""
    import torch

    wave = torch.from_numpy(np.ascontiguousarray(prepared.wave, dtype=np.float32)).unsqueeze(0)
    rms = float(torch.sqrt(torch.mean(torch.square(wave))))
    if rms < TARGET_RMS:
        wave = wave * TARGET_RMS / rms
    return wave.to(device), rms


def warm_up(models: Models, batched: bool) -> None:
    """Run the (just compiled) model once for a single chunk and, where chunks are batched, once for a batch of two
    (a batch of 1 is compiled apart from larger ones), so that compiling is paid for here."""
    import torch

    tone = torch.arange(SAMPLE_RATE, device=models.device) * (2 * torch.pi * 220 / SAMPLE_RATE)
    ref = (torch.sin(tone) * TARGET_RMS * 1.4).unsqueeze(0)  # 1 s of a 220 Hz tone as the reference
    ref_text = ref_text_for_model("Warm up the compiled model.")
    items = [
        Item(ref, ref_text + text, duration.frames(ref.shape[-1], ref_text, text, 1.0), seed=i)
        for i, text in enumerate(["One short line to speak.", "And a second, longer one, to pad."])
    ]
    with torch.inference_mode():
        for n in [1, 2] if batched else [1]:
            generate_mels(models.tts, items[:n], 2, 2.0, -1.0)


class Generation:
    """One sampling run of the engine's model, stepped by the scheduler: the results are (wave, mel) per chunk."""

    def __init__(
        self, models: Models, key: SamplingKey, jobs: list[tuple[Item, float]], fault: Callable[[Item], None] | None
    ) -> None:
        """`fault`, a test hook (EngineHooks.fault), is called with each item first."""
        self.models, self.rms = models, [rms for _, rms in jobs]
        items = [item for item, _ in jobs]
        with model_errors():
            for item in items:
                if fault:
                    fault(item)
            self.sampling = Sampling(self.models.tts, items, key.nfe_step, key.cfg_strength, key.sway)

    def step(self) -> list[tuple[np.ndarray, np.ndarray]] | None:
        with model_errors():
            self.sampling.step()
            if not self.sampling.done:
                return None
            mels = self.sampling.mels()
            waves = [vocode(self.models.vocoder, mel) for mel in mels]
        out = []
        for rms, mel, wave in zip(self.rms, mels, waves, strict=True):
            if rms < TARGET_RMS:
                wave = wave * rms / TARGET_RMS
            out.append((check_generated(wave.float().cpu().numpy()), mel.T.cpu().numpy()))
        return out


@contextlib.contextmanager
def model_errors() -> Iterator[None]:
    """Inference mode; a GPU out of memory becomes a message (and frees what the failed step held)."""
    import torch

    with torch.inference_mode():
        try:
            yield
        except torch.OutOfMemoryError as e:
            if torch.cuda.is_available():
                torch.cuda.empty_cache()  # the engine stays usable
            raise StudioError(
                "The GPU ran out of memory for this request.",
                "Try shorter text or a shorter reference, or wait for other generations to finish.",
            ) from e
