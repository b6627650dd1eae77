"""Voice consistency on real speech: the speaker similarities the review thresholds are chosen from, and the time
scoring takes per segment (resemblyzer's trained encoder, the one inference/projects/quality.py uses).

    python -m bench.projects_quality [--no-write]

Two sets of voices, each voice with a reference and some takes, every take scored against every reference:
- espeak-ng: en-us, en-us+f3, en-us+f2; the reference is two sentences in a row (about 7 s), the takes are two
  other sentences (about 3.5 s each), all at 24 kHz (what the model writes).
- f5-tts's example recordings (five people: basic_ref_en, basic_ref_zh, multi/main, multi/town, multi/country):
  the reference is each clip's first 60 %, the take its last 40 % (2-4 s).
"Same" pairs a take with its own voice's reference, "other" with every other voice's. The scoring time is the
median over every take (each timed REPEATS times, the fastest kept) of one take's embedding, the reference's being
cached per voice file (a segment pays for its take only). Appends to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

import numpy as np

from inference.projects.quality import MIN_SIMILARITY

from .common import loadavg, machine
from .report import append_results

ESPEAK_VOICES = ("en-us", "en-us+f3", "en-us+f2")
SENTENCES = (
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "The children played in the park until it got dark.",
    "We will meet at the library on Monday morning to plan the garden.",
    "Open the window and let the cool air into the room.",
)
RECORDINGS = ("basic/basic_ref_en.wav", "basic/basic_ref_zh.wav", "multi/main.flac", "multi/town.flac",
              "multi/country.flac")  # fmt: skip
REF_SHARE = 0.6  # of a recording: its reference; the rest is its take
RATE = 24000
REPEATS = 3  # each take's scoring is timed this many times, the fastest counts (the CPU is shared)


def espeak_voices() -> dict[str, tuple[np.ndarray, list[np.ndarray]]]:
    from tests.speech import silence, speak

    out = {}
    for v in ESPEAK_VOICES:
        ref = np.concatenate([speak(SENTENCES[0], v, RATE), silence(0.3, RATE), speak(SENTENCES[1], v, RATE)])
        out[v] = (ref, [speak(s, v, RATE) for s in SENTENCES[2:]])
    return out


def recordings() -> dict[str, tuple[np.ndarray, list[np.ndarray]]]:
    import soundfile as sf
    import soxr

    out = {}
    for name in RECORDINGS:
        wave, sr = sf.read(Path(str(files("f5_tts").joinpath(f"infer/examples/{name}"))), dtype="float32")
        wave = soxr.resample(wave if wave.ndim == 1 else wave.mean(axis=1), sr, RATE).astype(np.float32)
        cut = int(len(wave) * REF_SHARE)
        out[Path(name).stem] = (wave[:cut], [wave[cut:]])
    return out


def measure(voices: dict[str, tuple[np.ndarray, list[np.ndarray]]]) -> tuple[list[float], list[float], list[float]]:
    """(same-voice similarities, other-voice similarities, seconds per take's scoring)."""
    from inference.model.speaker import embedding

    refs = {v: embedding(ref, RATE) for v, (ref, _) in voices.items()}
    same, other, times = [], [], []
    for v, (_, takes) in voices.items():
        for take in takes:
            runs = []
            for _ in range(REPEATS):
                t0 = time.perf_counter()
                e = embedding(take, RATE)
                runs.append(time.perf_counter() - t0)
            times.append(min(runs))
            for w, ref in refs.items():
                (same if w == v else other).append(float(e @ ref))
    return same, other, times


def row(label: str, values: list[float]) -> str:
    return f"| {label} | {len(values)} | {min(values):.3f} | {statistics.median(values):.3f} | {max(values):.3f} |"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    sets = {"espeak-ng": espeak_voices(), "f5-tts examples": recordings()}
    lines, all_times = [], []
    for label, voices in sets.items():
        same, other, times = measure(voices)
        all_times += times
        lines += [row(f"{label}, same voice", same), row(f"{label}, other voice", other)]
    total = time.perf_counter() - t0
    take_s = statistics.median([len(t) / RATE for vs in sets.values() for _, ts in vs.values() for t in ts])
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            f"## Voice consistency: speaker similarity on real speech (bench/projects_quality.py), {when}",
            "",
            f"`python -m bench.projects_quality` on {machine().get('cpu', 'this CPU')}, resemblyzer's encoder on the "
            "CPU, 24 kHz takes against references of the same or another voice.",
            "",
            "| pairs | n | min | median | max |",
            "|---|---|---|---|---|",
            *lines,
            "",
            "Scoring one take (its embedding; the reference's is cached): median "
            f"{ms(statistics.median(all_times))} ms for a median take of {take_s:.1f} s (min {ms(min(all_times))}, "
            f"max {ms(max(all_times))} ms, {len(all_times)} takes); the whole run {total:.1f} s, the encoder's "
            f"first load included; load average {loadavg()}.",
            "",
            f"The review's default `min_similarity` (inference/projects/quality.py) is {MIN_SIMILARITY}: above every "
            "pair of real people, below every person against their own reference.",
        ]
    )
    print(text)
    if not args.no_write:
        append_results(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
