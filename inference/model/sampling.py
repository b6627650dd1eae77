"""One generation step of F5-TTS, as the official pipeline does it, with per-request randomness.

`Sampling` follows f5_tts's `CFM.sample` (the Euler ODE steps of torchdiffeq, EPSS timesteps at low NFE, sway
sampling, classifier-free guidance in one batched pass) so the audio matches the official `infer_process` for the
same seed. The difference: noise comes from a `torch.Generator` per item, never from the process-wide RNG, so
concurrent requests cannot disturb each other's seeds, and items of a batch are independent of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from ..audio import SAMPLE_RATE
from .mel import HOP_LENGTH

MAX_FRAMES = 65536  # F5-TTS's own cap on the generated length


class SamplingKey(NamedTuple):
    """What the items of one sampling run share: the scheduler batches only items with equal keys."""

    nfe_step: int  # ODE steps
    cfg_strength: float  # classifier-free guidance
    sway: float  # sway sampling coefficient
    kind: str = ""  # keeps kinds of runs apart ('' for chunks of text; e.g. "edit" for speech editing)


@dataclass(frozen=True)
class Item:
    """One chunk to generate: the reference wave (already at TARGET_RMS), full text, frames, seed.

    Speech editing gives the conditioning itself instead, as f5-tts's speech_edit.py does: `cond`, the recording's
    mel with zeros over each span to regenerate, and `keep`, True where `cond` is kept; the text is then the whole
    new text, and the whole mel comes back (the kept frames as they were).
    """

    ref_wave: Any  # torch tensor (1, samples) at 24 kHz on the model's device (None with `cond`)
    text: str  # reference transcript + chunk text, as the model reads it
    frames: int  # total mel frames: reference + generated
    seed: int
    cond: Any = None  # (frames, n_mels) tensor on the model's device: the mel to condition on, instead of ref_wave's
    keep: Any = None  # with cond: bool tensor (frames,), False over the frames to generate


def ref_text_for_model(ref_text: str) -> str:
    """F5-TTS's convention, kept exactly (the model was trained on it): the transcript ends with '. ' or '。',
    then one more space after a single-byte final character.

    "Hello" -> "Hello.  ", "Hi." -> "Hi.  ", "你好。" -> "你好。"
    """
    text = ref_text.strip()
    if not text.endswith(". ") and not text.endswith("。"):
        text = text + " " if text.endswith(".") else text + ". "
    if len(text[-1].encode("utf-8")) == 1:
        text += " "
    return text


def frames_for(ref_samples: int, ref_text: str, chunk: str, speed: float) -> int:
    """Total frames (reference + new speech), scaled by the reference's speaking rate, as F5-TTS does.

    A chunk under 10 bytes is spoken at speed 0.3, as in the official pipeline (very short text otherwise
    comes out clipped).
    """
    ref_frames = ref_samples // HOP_LENGTH
    local_speed = 0.3 if len(chunk.encode("utf-8")) < 10 else speed
    ref_len, gen_len = len(ref_text.encode("utf-8")), len(chunk.encode("utf-8"))
    return ref_frames + int(ref_frames / ref_len * gen_len / local_speed)


def natural_seconds(ref_text: str, ref_seconds: float, text: str, speed: float = 1.0) -> float:
    """How long the model takes to say `text` at `speed`, by the reference's rate in bytes per second (the rule
    frames_for follows, without its slow-down of very short text):
    natural_seconds("x" * 20, 4.0, "y" * 10) -> 2.0."""
    return len(text.encode("utf-8")) * ref_seconds / max(1, len(ref_text.encode("utf-8"))) / speed


def timed_frames(ref_samples: int, chunks: list[str], seconds: float, fade_samples: int = 0) -> list[int]:
    """Total frames per chunk (reference + new speech) so that the chunks, joined with cross-fades of
    `fade_samples`, last `seconds` (less a part of a frame): shared by UTF-8 bytes, as the model's own duration rule
    shares them.

    timed_frames(2560, ["ab", "cd"], 1.0) -> [58, 57]   (10 reference frames + 93 frames of speech, split, + 1 each)
    """
    ref_frames = ref_samples // HOP_LENGTH
    total = seconds * SAMPLE_RATE / HOP_LENGTH + max(0, len(chunks) - 1) * fade_samples / HOP_LENGTH
    sizes = [max(1, len(c.encode("utf-8"))) for c in chunks]
    exact = [total * s / sum(sizes) for s in sizes]
    shares = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: shares[i] - exact[i])
    for i in by_remainder[: int(total) - sum(shares)]:  # largest remainders first: never longer than asked
        shares[i] += 1
    return [ref_frames + max(1, s) + 1 for s in shares]  # Vocos makes (frames - 1) * HOP_LENGTH samples


class Sampling:
    """One batched sampling run, advanced one Euler step at a time, so that the scheduler can switch runs between
    steps. Each step is exactly torchdiffeq's fixed-grid Euler step (y + (t1 - t0) * f(t0, y)), so a run that is
    paused and resumed gives the same samples as one solved at once; the transformer's text cache is kept per run.

        run = Sampling(model, items, steps=16, cfg_strength=2.0, sway=-1.0)
        while not run.done:
            run.step()
        mels = run.mels()    # per item, the generated part (frames, n_mels)
    """

    def __init__(self, model: Any, items: list[Item], steps: int, cfg_strength: float, sway: float) -> None:
        import torch
        import torch.nn.functional as F
        from f5_tts.model.utils import convert_char_to_pinyin, get_epss_timesteps, lens_to_mask, list_str_to_idx
        from torch.nn.utils.rnn import pad_sequence

        self.model, self.items, self.cfg_strength = model, items, cfg_strength
        device = next(model.parameters()).device
        dtype = next(model.parameters()).dtype
        conds = [
            (it.cond if it.cond is not None else model.mel_spec(it.ref_wave).permute(0, 2, 1)[0]).to(dtype)
            for it in items
        ]
        lens = torch.tensor([c.shape[0] for c in conds], device=device, dtype=torch.long)
        self.text = list_str_to_idx(convert_char_to_pinyin([it.text for it in items]), model.vocab_char_map).to(device)
        duration = torch.tensor([it.frames for it in items], device=device, dtype=torch.long)
        duration = torch.maximum(torch.maximum((self.text != -1).sum(dim=-1), lens) + 1, duration).clamp(max=MAX_FRAMES)
        self.duration = duration
        max_duration = int(duration.amax())
        self.cond = F.pad(pad_sequence(conds, batch_first=True), (0, 0, 0, max_duration - int(lens.amax())), value=0.0)
        self.cond_mask = F.pad(lens_to_mask(lens), (0, max_duration - int(lens.amax())), value=False).unsqueeze(-1)
        if any(it.keep is not None for it in items):  # speech editing: CFM.sample's edit_mask
            keep = [
                it.keep if it.keep is not None else torch.ones(len(c), dtype=torch.bool)
                for it, c in zip(items, conds, strict=True)
            ]
            keep_mask = pad_sequence([k.to(device) for k in keep], batch_first=True)
            keep_mask = F.pad(keep_mask, (0, max_duration - keep_mask.shape[1]), value=False)
            self.cond_mask = self.cond_mask & keep_mask.unsqueeze(-1)
        self.step_cond = torch.where(self.cond_mask, self.cond, torch.zeros_like(self.cond))
        self.mask = lens_to_mask(duration) if len(items) > 1 else None
        noise = []
        for it, dur in zip(items, duration.tolist(), strict=True):
            gen = torch.Generator(device=device).manual_seed(it.seed)
            noise.append(torch.randn(dur, model.num_channels, device=device, dtype=dtype, generator=gen))
        self.y = pad_sequence(noise, padding_value=0, batch_first=True)
        # EPSS for 5-16 steps, uniform otherwise. Computed in fp32, then cast: in bf16 the sway formula cancels the
        # first step to 0 (the official solver refuses that schedule). In fp32 this is exactly the official one.
        t = get_epss_timesteps(steps, device=device, dtype=torch.float32)
        self.t = (t + sway * (torch.cos(torch.pi / 2 * t) - 1 + t)).to(dtype)
        self.index = 0
        self._cache: tuple[Any, Any] = (None, None)  # the transformer's text embeddings for this run

    @property
    def done(self) -> bool:
        return self.index >= len(self.t) - 1

    def _velocity(self, t: Any, x: Any) -> Any:
        import torch

        model, cfg = self.model.transformer, self.cfg_strength
        if cfg < 1e-5:
            return model(
                x=x,
                cond=self.step_cond,
                text=self.text,
                time=t,
                mask=self.mask,
                drop_audio_cond=False,
                drop_text=False,
                cache=True,
            )
        pred, null_pred = torch.chunk(
            model(x=x, cond=self.step_cond, text=self.text, time=t, mask=self.mask, cfg_infer=True, cache=True),
            2,
            dim=0,
        )
        return pred + (pred - null_pred) * cfg

    def step(self) -> None:
        """One Euler step."""
        backbone = getattr(self.model.transformer, "_orig_mod", self.model.transformer)  # compiled: the module
        backbone.text_cond, backbone.text_uncond = self._cache
        try:
            t0, t1 = self.t[self.index], self.t[self.index + 1]
            self.y = self.y + (t1 - t0) * self._velocity(t0, self.y)
            self._cache = (backbone.text_cond, backbone.text_uncond)
        finally:
            backbone.clear_cache()  # the next run on this thread starts with its own
        self.index += 1

    def mels(self) -> list[Any]:
        """Per item, the generated part (frames, n_mels), in fp32 (an item with `cond`: the whole mel)."""
        import torch

        out = torch.where(self.cond_mask, self.cond, self.y)
        # the official pipeline cuts the reference off here; speech_edit.py keeps everything
        starts = [0 if it.cond is not None else it.ref_wave.shape[-1] // HOP_LENGTH for it in self.items]
        return [out[i, starts[i] : int(self.duration[i])].float() for i in range(len(self.items))]


def generate_mels(model: Any, items: list[Item], steps: int, cfg_strength: float, sway: float) -> list[Any]:
    """Sample mel spectrograms for a batch of items in one go; returns, per item, the generated part."""
    run = Sampling(model, items, steps, cfg_strength, sway)
    while not run.done:
        run.step()
    return run.mels()


def vocode(vocoder: Any, mel: Any) -> Any:
    """(frames, n_mels) -> waveform tensor (samples,)."""
    return vocoder.decode(mel.T.unsqueeze(0)).squeeze(0)
