"""One generation step of F5-TTS, as the official pipeline does it, with per-request randomness.

`generate_mels` follows f5_tts's `CFM.sample` (Euler ODE via torchdiffeq, EPSS timesteps at low NFE, sway
sampling, classifier-free guidance in one batched pass) so the audio matches the official `infer_process` for the
same seed. The difference: noise comes from a `torch.Generator` per item, never from the process-wide RNG, so
concurrent requests cannot disturb each other's seeds, and items of a batch are independent of the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

HOP_LENGTH = 256  # samples per mel frame at 24 kHz
SAMPLE_RATE = 24000  # Hz
TARGET_RMS = 0.1  # quiet references are raised to this RMS, and the output lowered back by the same factor
MAX_FRAMES = 65536  # F5-TTS's own cap on the generated length


@dataclass(frozen=True)
class Item:
    """One chunk to generate: the reference wave (already at TARGET_RMS), full text, frames, seed."""

    ref_wave: Any  # torch tensor (1, samples) at 24 kHz on the model's device
    text: str  # reference transcript + chunk text, as the model reads it
    frames: int  # total mel frames: reference + generated
    seed: int


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


def generate_mels(model: Any, items: list[Item], steps: int, cfg_strength: float, sway: float) -> list[Any]:
    """Sample mel spectrograms for a batch of items; returns, per item, the generated part (frames, n_mels)."""
    import torch
    import torch.nn.functional as F
    from f5_tts.model.utils import convert_char_to_pinyin, get_epss_timesteps, lens_to_mask, list_str_to_idx
    from torch.nn.utils.rnn import pad_sequence
    from torchdiffeq import odeint

    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    conds = [model.mel_spec(it.ref_wave).permute(0, 2, 1)[0].to(dtype) for it in items]
    lens = torch.tensor([c.shape[0] for c in conds], device=device, dtype=torch.long)
    text = list_str_to_idx(convert_char_to_pinyin([it.text for it in items]), model.vocab_char_map).to(device)
    duration = torch.tensor([it.frames for it in items], device=device, dtype=torch.long)
    duration = torch.maximum(torch.maximum((text != -1).sum(dim=-1), lens) + 1, duration).clamp(max=MAX_FRAMES)
    max_duration = int(duration.amax())
    cond = F.pad(pad_sequence(conds, batch_first=True), (0, 0, 0, max_duration - int(lens.amax())), value=0.0)
    cond_mask = F.pad(lens_to_mask(lens), (0, max_duration - int(lens.amax())), value=False).unsqueeze(-1)
    step_cond = torch.where(cond_mask, cond, torch.zeros_like(cond))
    mask = lens_to_mask(duration) if len(items) > 1 else None

    def fn(t: Any, x: Any) -> Any:
        if cfg_strength < 1e-5:
            return model.transformer(x=x, cond=step_cond, text=text, time=t, mask=mask, drop_audio_cond=False,
                                     drop_text=False, cache=True)
        pred, null_pred = torch.chunk(
            model.transformer(x=x, cond=step_cond, text=text, time=t, mask=mask, cfg_infer=True, cache=True), 2, dim=0
        )
        return pred + (pred - null_pred) * cfg_strength

    noise = []
    for it, dur in zip(items, duration.tolist(), strict=True):
        gen = torch.Generator(device=device).manual_seed(it.seed)
        noise.append(torch.randn(dur, model.num_channels, device=device, dtype=dtype, generator=gen))
    y0 = pad_sequence(noise, padding_value=0, batch_first=True)
    # EPSS for 5-16 steps, uniform otherwise. Computed in fp32, then cast: in bf16 the sway formula cancels the
    # first step to 0 and the solver refuses the schedule. In fp32 this is exactly the official computation.
    t = get_epss_timesteps(steps, device=device, dtype=torch.float32)
    t = (t + sway * (torch.cos(torch.pi / 2 * t) - 1 + t)).to(dtype)
    try:
        out = odeint(fn, y0, t, method="euler")[-1]
    finally:
        model.transformer.clear_cache()
    out = torch.where(cond_mask, cond, out)
    starts = [it.ref_wave.shape[-1] // HOP_LENGTH for it in items]  # the official pipeline cuts here, not at lens
    return [out[i, starts[i] : int(duration[i])].float() for i in range(len(items))]


def vocode(vocoder: Any, mel: Any) -> Any:
    """(frames, n_mels) -> waveform tensor (samples,)."""
    return vocoder.decode(mel.T.unsqueeze(0)).squeeze(0)
