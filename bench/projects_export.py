"""What a long project's export costs: a 10-hour book (and a 1-hour one beside it, to show what grows) exported as
M4B and as WAV through inference/projects/export.py, every chunk read and dropped as a web server would send it.

    python -m bench.projects_export [--hours 1,10] [--formats m4b,wav] [--no-write]

The book: segments of about 6 s (speech-shaped noise: noise under a syllable-rate envelope) in chapters of 30
minutes, cycling over 50 files written once under bench/.cache/scratch (the export opens one file per segment, as
it would a project's own). Each export runs in a fresh process, which reports: seconds to the first byte and to the
last, CPU seconds (its own and ffmpeg's: on a shared machine, wall seconds include waiting), bytes, RSS before the
export (after imports and the book's records), its peak RSS over the export (getrusage), and ffmpeg's peak RSS (the
largest child). Appends to bench/RESULTS.md.
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

from .common import EVENT, SCRATCH, machine
from .report import append_results

FILES = 50  # distinct segment files
SEGMENT_S = 6.0  # s, about a sentence
CHAPTER_S = 1800.0  # s of audio per chapter
SR = 24_000


def make_files(folder: Path) -> list[tuple[Path, float]]:
    """FILES segment files of SEGMENT_S +- a little, written once."""
    import numpy as np
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(FILES):
        path = folder / f"seg-{i:03d}.wav"
        frames = int((SEGMENT_S + (i % 7) * 0.1) * SR)
        if not path.is_file():
            rng = np.random.default_rng(i)
            envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4.0 * np.arange(frames) / SR + i)  # ~4 syllables a second
            sf.write(path, (rng.standard_normal(frames) * 0.1 * envelope).astype(np.float32), SR, subtype="PCM_16")
        out.append((path, frames / SR))
    return out


def book(files: list[tuple[Path, float]], hours: float):
    from inference.projects.export import ExportBook, ExportChapter, ExportSegment

    segments, total = [], 0.0
    while total < hours * 3600:
        path, seconds = files[len(segments) % len(files)]
        segments.append(ExportSegment(path, seconds, f"Sentence number {len(segments) + 1} of the book."))
        total += seconds
    chapters, current, length = [], [], 0.0
    for segment in segments:
        current.append(segment)
        length += segment.duration
        if length >= CHAPTER_S:
            chapters.append(ExportChapter(f"Chapter {len(chapters) + 1}", current))
            current, length = [], 0.0
    if current:
        chapters.append(ExportChapter(f"Chapter {len(chapters) + 1}", current))
    return ExportBook("A long book", "Bench", chapters), len(segments), total


def worker(fmt: str, hours: float, folder: Path) -> None:
    """One export in this process; prints one EVENT line."""
    import psutil

    from inference.projects.export import export

    the_book, count, seconds = book(make_files(folder), hours)
    rss_before = psutil.Process().memory_info().rss
    start = time.perf_counter()
    first, size = None, 0
    for chunk in export(the_book, fmt).chunks:
        first = time.perf_counter() - start if first is None else first
        size += len(chunk)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    child = children.ru_maxrss * 1024
    cpu = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime  # this process and ffmpeg
    result = {"format": fmt, "hours": seconds / 3600, "segments": count, "chapters": len(the_book.chapters)}
    result |= {
        "bytes": size,
        "first_s": first,
        "seconds": elapsed,
        "cpu_s": cpu,
        "rss_before": rss_before,
        "peak": peak,
    }
    print(EVENT + json.dumps(result | {"ffmpeg_peak": child}), flush=True)


def run(fmt: str, hours: float, folder: Path) -> dict:
    command = [sys.executable, "-m", "bench.projects_export", "--worker", fmt, "--hours", str(hours)]
    proc = subprocess.run([*command, "--folder", str(folder)], capture_output=True, text=True, check=False)
    events = [line[len(EVENT) :] for line in proc.stdout.splitlines() if line.startswith(EVENT)]
    if proc.returncode != 0 or not events:
        raise SystemExit(f"the {fmt} export of {hours} h failed:\n{proc.stderr[-2000:]}")
    return json.loads(events[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hours", default="1,10", help="book lengths in hours, comma-separated")
    parser.add_argument("--formats", default="m4b,wav")
    parser.add_argument("--folder", type=Path, default=SCRATCH / "projects-export")
    parser.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, float(args.hours), args.folder)
    started = datetime.now(UTC)
    make_files(args.folder)
    mb = 1 << 20
    lines = [
        "| format | audio (h) | segments | chapters | output (MB) | first byte (s) | export (s) | CPU (s) "
        "| RSS before (MB) | peak RSS (MB) | growth (MB) | ffmpeg peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fmt in args.formats.split(","):
        for hours in (float(h) for h in args.hours.split(",")):
            r = run(fmt, hours, args.folder)
            row = (
                f"| {fmt} | {r['hours']:.2f} | {r['segments']} | {r['chapters']} | {r['bytes'] / mb:.0f} "
                f"| {r['first_s']:.1f} | {r['seconds']:.1f} | {r['cpu_s']:.1f} | {r['rss_before'] / mb:.0f} "
                f"| {r['peak'] / mb:.0f} "
                f"| {(r['peak'] - r['rss_before']) / mb:.0f} | {r['ffmpeg_peak'] / mb if fmt == 'm4b' else 0:.0f} |"
            )
            print(row, flush=True)
            lines.append(row)
    info = machine()
    text = "\n".join(
        [
            f"## {started:%Y-%m-%d %H:%M} UTC — `python -m bench.projects_export {' '.join(sys.argv[1:])}`",
            "",
            f"Machine: cpu {info.get('cpu', '?')}, cores {info.get('cores', '?')}, python {platform.python_version()}",
            "",
            "Project exports streamed from the segment files (inference/projects/export.py), each in a fresh process;"
            " growth is peak RSS (getrusage) minus RSS before the export.",
            "",
            *lines,
        ]
    )
    print(text)
    if not args.no_write:
        append_results(text + "\n")


if __name__ == "__main__":
    main()
