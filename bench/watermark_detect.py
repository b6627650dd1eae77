"""The detection table: how often the studio's mark is found in its outputs after what a clip meets in the wild,
and how often it is "found" in real speech that never went through the studio.

    python -m bench.watermark_detect [--sentences 4] [--no-engine]

Our outputs: real speech marked as the studio marks its outputs (inference/audio/watermark.mark): espeak-ng
sentences in several voices (two sentences a clip, about 6 s), and the reference clips f5-tts ships; plus takes of
the tiny random-weight model through the engine (noise, marked the same way). Never marked: the same real speech,
and other voices made from it with sox (pitch up and down 300 cents, tempo 0.85 and 1.15).

Each clip goes through each transform, then through the studio's own upload path (bytes -> decode_audio -> detect),
as POST /v1/audio/detect and the "Check a clip" tab take it:
  none; MP3 at 64 kbit/s (ffmpeg); resampled to 16 kHz; a 3-second excerpt from the middle; -10 dB; +6 dB (or as
  much as the peak allows below full scale: no clipping); white noise at 20 dB and 10 dB SNR (seeded).
Prints, per transform, detected / total with the median confidence (outputs), and flagged / total with the highest
confidence (never marked). Appends the table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np

from .weights import CACHE, REPO

VOICES = ("en-us", "en-us+f3", "en-gb", "en-gb-scotland", "en-us+m7", "en-029")
SHIFTS = {  # sox effects making other voices out of the never-marked speech
    "pitch +300": ["pitch", "300"],
    "pitch -300": ["pitch", "-300"],
    "tempo 0.85": ["tempo", "0.85"],
    "tempo 1.15": ["tempo", "1.15"],
}
TEXTS = ("Hello there, this is a take of the studio.", "The evening light fell on the quiet harbour.")
SEED = 2026


def _ffmpeg(args: list[str], data: bytes) -> bytes:
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", *args], input=data, capture_output=True, check=True
    ).stdout


def wav_bytes(wave: np.ndarray, sr: int) -> bytes:
    from inference.audio.decode import to_wav_bytes

    return to_wav_bytes(wave, sr)


def resample(wave: np.ndarray, sr: int, to: int) -> np.ndarray:
    import soxr

    return np.asarray(soxr.resample(wave, sr, to, quality="HQ"), dtype=np.float32)


def gain(wave: np.ndarray, db: float) -> np.ndarray:
    peak = float(np.max(np.abs(wave))) or 1.0
    return wave * min(10 ** (db / 20), 0.99 / peak)  # never over full scale: a louder clip is not clipped


def noise(wave: np.ndarray, snr_db: float) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    power = float(np.mean(wave.astype(np.float64) ** 2))
    added = rng.standard_normal(wave.size) * np.sqrt(power / 10 ** (snr_db / 10))
    return np.clip(wave + added, -1.0, 1.0).astype(np.float32)


def excerpt(wave: np.ndarray, sr: int, seconds: float = 3.0) -> np.ndarray:
    n = int(seconds * sr)
    start = max(0, (wave.size - n) // 2)
    return wave[start : start + n]


# each transform: (wave, sr) -> the bytes of a file as it would be uploaded
TRANSFORMS: dict[str, Callable[[np.ndarray, int], bytes]] = {
    "none": lambda w, sr: wav_bytes(w, sr),
    "mp3 64k": lambda w, sr: _ffmpeg(
        ["-f", "wav", "-i", "pipe:0", "-b:a", "64k", "-f", "mp3", "pipe:1"], wav_bytes(w, sr)
    ),
    "16 kHz": lambda w, sr: wav_bytes(resample(w, sr, 16000), 16000),
    "3 s excerpt": lambda w, sr: wav_bytes(excerpt(w, sr), sr),
    "-10 dB": lambda w, sr: wav_bytes(gain(w, -10), sr),
    "+6 dB": lambda w, sr: wav_bytes(gain(w, 6), sr),
    "noise 20 dB": lambda w, sr: wav_bytes(noise(w, 20), sr),
    "noise 10 dB": lambda w, sr: wav_bytes(noise(w, 10), sr),
}


def espeak_clips(n_sentences: int) -> dict[str, np.ndarray]:
    """Two sentences a clip, each voice, at 24 kHz."""
    from tests.speech import SENTENCES, silence, speak

    clips = {}
    for v, voice in enumerate(VOICES):
        for k in range(n_sentences // 2):
            a, b = SENTENCES[(2 * k + v) % len(SENTENCES)], SENTENCES[(2 * k + v + 1) % len(SENTENCES)]
            clips[f"espeak {voice} #{k}"] = np.concatenate(
                [speak(a, voice, 24000), silence(0.3, 24000), speak(b, voice, 24000)]
            )
    return clips


def f5_clips() -> dict[str, np.ndarray]:
    from inference.audio.decode import decode_audio

    examples = Path(str(files("f5_tts").joinpath("infer/examples")))
    paths = sorted([*examples.glob("*/*.wav"), *examples.glob("*/*.flac")])
    return {f"f5-tts {p.name}": decode_audio(str(p))[0] for p in paths}


def shifted(wave: np.ndarray, effect: list[str]) -> np.ndarray:
    import io

    import soundfile as sf

    out = subprocess.run(
        ["sox", "-D", "-t", "wav", "-", "-t", "wav", "-b", "16", "-", *effect],
        input=wav_bytes(wave, 24000),
        capture_output=True,
        check=True,
    ).stdout
    return np.asarray(sf.read(io.BytesIO(out), dtype="float32")[0], dtype=np.float32)


def engine_takes() -> dict[str, np.ndarray]:
    """Takes of the tiny random-weight model through the engine (its audio is noise), at 24 kHz."""
    tiny = CACHE / "tiny"
    os.environ.update({"HF_HOME": str(tiny / "hf"), "HF_HUB_OFFLINE": "1", "F5_DEVICE": "cpu"})
    from inference import Engine, EngineSettings, Studio

    if not (tiny / "custom" / "model.yaml").is_file():
        from inference.model.random_weights import build

        build(tiny)
    studio = Studio(Engine(EngineSettings(model=str(tiny / "custom" / "model.yaml"), voices_dir=CACHE / "voices")))
    ref = str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav"))
    takes = {}
    for i, text in enumerate(TEXTS):
        request = studio.request(text, audio=ref, ref_text="Some call me nature, others call me mother nature.",
                                 options={"nfe_step": 8, "seed": SEED + i})  # fmt: skip
        takes[f"tiny engine take {i}"] = studio.synthesize(request).wave
    return takes


def table(clips: dict[str, np.ndarray], marked: bool) -> dict[str, list[float]]:
    """Per transform, the confidence of each clip (after marking it, when `marked`)."""
    from inference.audio import watermark
    from inference.audio.decode import decode_audio

    found: dict[str, list[float]] = {t: [] for t in TRANSFORMS}
    for wave in clips.values():
        wave = watermark.mark(wave, 24000) if marked else wave
        for name, transform in TRANSFORMS.items():
            decoded, sr = decode_audio(transform(wave, 24000))
            found[name].append(watermark.detect(decoded, sr).confidence)
    return found


def render(outputs: dict[str, list[float]], unmarked: dict[str, list[float]], n_out: int, n_real: int) -> str:
    from inference.audio.watermark import THRESHOLD

    lines = [
        f"| transform | outputs detected ({n_out} clips) | median confidence | real speech flagged ({n_real} clips) "
        "| highest confidence |",
        "|---|---|---|---|---|",
    ]
    for t in TRANSFORMS:
        hit = sum(c >= THRESHOLD for c in outputs[t])
        fp = sum(c >= THRESHOLD for c in unmarked[t])
        lines.append(
            f"| {t} | {hit}/{len(outputs[t])} | {statistics.median(outputs[t]):.3f} | {fp}/{len(unmarked[t])} "
            f"| {max(unmarked[t]):.3f} |"
        )
    all_out = [c for t in TRANSFORMS for c in outputs[t]]
    all_real = [c for t in TRANSFORMS for c in unmarked[t]]
    lines.append(
        f"| **all** | {sum(c >= THRESHOLD for c in all_out)}/{len(all_out)} | {statistics.median(all_out):.3f} "
        f"| {sum(c >= THRESHOLD for c in all_real)}/{len(all_real)} | {max(all_real):.3f} |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, default=4, help="sentences per espeak voice (two a clip)")
    p.add_argument("--no-engine", action="store_true", help="leave out the tiny model's takes")
    p.add_argument("--no-results", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = p.parse_args(argv)
    start = time.perf_counter()
    real = {**espeak_clips(args.sentences), **f5_clips()}
    ours = dict(real) | ({} if args.no_engine else engine_takes())
    others = dict(real)
    for name, effect in SHIFTS.items():
        for clip, wave in real.items():
            if clip.startswith("f5-tts") or clip.endswith("#0"):
                others[f"{clip} {name}"] = shifted(wave, effect)
    outputs, unmarked = table(ours, marked=True), table(others, marked=False)
    text = render(outputs, unmarked, len(ours), len(others))
    elapsed = time.perf_counter() - start
    command = "python -m bench.watermark_detect " + " ".join(argv if argv is not None else sys.argv[1:])
    print(text)
    print(
        f"\n{len(ours)} outputs, {len(others)} never-marked clips, {elapsed:.0f} s on {platform.processor() or 'cpu'}"
    )
    if not args.no_results:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with open(REPO / "bench" / "RESULTS.md", "a", encoding="utf-8") as f:
            f.write(f"\n## Watermark detection ({stamp})\n\n`{command.strip()}`\n\n{text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
