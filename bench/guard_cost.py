"""What the per-chunk check costs on this machine: full-size random F5TTS_v1_Base + Vocos (bench/weights.py) and a
random Whisper with whisper-large-v3-turbo's shapes (809 M parameters, inference/model/random_whisper.TURBO).

    python -m bench.guard_cost [--nfe 16] [--runs 2] [--text "..."]

For one sentence-sized chunk it measures: the chunk's generation (check off); the same generation with the check on
and one try (generation + Whisper + WER, nothing retried); Whisper's transcription of that chunk alone and the WER
alone; and Whisper's first load. A random Whisper never stops early: its output runs to the check's cap for the
chunk (bytes / 2 + 16 tokens), so the decoding figure is an upper bound of a trained model's. Appends to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from .weights import BENCH_DIR, ensure

WHISPER_DIR = BENCH_DIR / ".cache" / "whisper-turbo-random"  # beside this checkout (BENCH_CACHE may be shared)
TEXT = "The morning began quietly, with a pale light spreading slowly across the fields and the river below."
REF_TEXT = "Some call me nature, others call me mother nature."


def whisper_dir(log=print) -> Path:
    from inference.model.random_whisper import TURBO, build_tiny_whisper

    if not (WHISPER_DIR / "model.safetensors").is_file() and not list(WHISPER_DIR.glob("model*.safetensors")):
        log(f"building a random whisper-large-v3-turbo-shaped Whisper under {WHISPER_DIR} (once)...")
        start = time.perf_counter()
        build_tiny_whisper(WHISPER_DIR, TURBO)
        log(f"built in {time.perf_counter() - start:.0f} s")
    return WHISPER_DIR


def timed(fn, runs: int, what: str = "") -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
        if what:
            print(f"  {what}: {times[-1]:.1f} s", flush=True)
    return times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nfe", type=int, default=16)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--text", default=TEXT)
    args = parser.parse_args()
    paths = ensure()
    asr = whisper_dir()

    from importlib.resources import files

    from inference import Engine, EngineSettings, Reference, SynthesisOptions, SynthesisRequest
    from inference.check import error_rate, whisper_scorer

    settings = EngineSettings(
        model=str(paths["yaml"]),
        ckpt=str(paths["ckpt"]),
        vocab=str(paths["vocab"]),
        vocoder=str(paths["vocoder"]),
        asr_model=str(asr),
        device="cpu",
    )
    engine = Engine(settings)
    engine.load()
    ref = Reference(Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav"))), REF_TEXT)
    base = SynthesisOptions(nfe_step=args.nfe, seed=1)
    off = SynthesisRequest(args.text, ref, base)
    on = SynthesisRequest(args.text, ref, SynthesisOptions(nfe_step=args.nfe, seed=1, check=True, check_tries=1))
    engine.synthesize(SynthesisRequest("Warm up.", ref, SynthesisOptions(nfe_step=4, seed=1)))

    start = time.perf_counter()
    engine.transcriber.transcribe(engine.prepare(ref.audio)[1].wave, 24000, language="en", max_new_tokens=4)
    whisper_load = time.perf_counter() - start

    print(f"  Whisper's first load: {whisper_load:.1f} s", flush=True)
    gen, result = timed(lambda: engine.synthesize(off), args.runs, "generation, check off")
    checked, checked_result = timed(lambda: engine.synthesize(on), args.runs, "generation, check on")
    spoken = result.chunks[0]  # type: ignore[attr-defined]
    score = whisper_scorer(engine.transcriber)
    asr_s, scored = timed(lambda: score(result.wave, 24000, spoken), args.runs, "transcribe + WER")  # type: ignore[attr-defined]
    heard = scored[1]  # type: ignore[index]
    wer_s, _ = timed(lambda: error_rate(spoken, heard), max(args.runs, 20))
    audio_s = result.duration  # type: ignore[attr-defined]
    med = statistics.median
    rows = [
        ("generation, check off (s)", med(gen), min(gen), max(gen)),
        ("generation, check on, 1 try (s)", med(checked), min(checked), max(checked)),
        ("the check alone: transcribe + WER (s)", med(asr_s), min(asr_s), max(asr_s)),
        ("WER alone (ms)", med(wer_s) * 1000, min(wer_s) * 1000, max(wer_s) * 1000),
        ("Whisper's first load (s, once per process)", whisper_load, whisper_load, whisper_load),
    ]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"## {now} — `python -m bench.guard_cost --nfe {args.nfe} --runs {args.runs}`",
        "",
        f"The per-chunk check's cost. Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load}. F5TTS_v1_Base (random, full size) + Vocos, NFE {args.nfe}, one chunk of "
        f"{len(spoken)} characters ({audio_s:.1f} s of speech) with the 5.3 s reference; Whisper with "
        "whisper-large-v3-turbo's shapes (random, 809 M parameters, fp32 on the CPU), told the language, its output "
        f"capped at {min(224, len(spoken.encode()) // 2 + 16)} tokens (a random model runs to the cap).",
        "",
        "| figure | median | min | max |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {m:.2f} | {lo:.2f} | {hi:.2f} |" for name, m, lo, hi in rows),
        "",
        f"The check adds {med(asr_s) / med(gen):.0%} of a chunk's generation per try "
        f"({med(checked) / med(gen):.2f}x the time with the check on and nothing retried); each retry adds a "
        "generation and a check. Checked take's error rate (random models: noise): "
        f"{checked_result.checks[0].wer:.2f}.",  # type: ignore[attr-defined]
        "",
    ]
    text = "\n".join(lines)
    print(text)
    with open(BENCH_DIR / "RESULTS.md", "a", encoding="utf-8") as f:
        f.write("\n" + text)


if __name__ == "__main__":
    main()
