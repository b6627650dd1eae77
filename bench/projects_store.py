"""The project store at its largest: a 1,000,000-character book, created, opened, listed and browsed.

    python -m bench.projects_store [--chars 1000000] [--runs 3] [--dir /tmp/projects-bench]

Each run builds the book's text (deterministic English-like sentences in 40 "Chapter N" chapters, some dialogue tags),
then times, in a fresh folder: split into chapters and segments (source.read_text), create (one transaction), open
again (schema check and recover()), list the projects, a page of 100 segments in the middle, every chapter's
progress, and marking stale the segments with one word; prints the median of the runs, in seconds. Then, once, every
segment is rendered with 2 KB of stand-in audio (a durable take each: write, fsync, rename, commit) and the store is
opened again (recover() lists every audio file) and listed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inference.projects.source import read_text
from inference.projects.store import ProjectStore

WORDS = (
    "the rain fell on old roofs while Nguyen walked home past quiet shops and a dog barked twice at the moon "
    "she said nothing for a long time then laughed because the letter had finally come from the city"
).split()


def book(chars: int, seed: int = 0) -> str:
    """English-like text of about `chars` characters: 40 chapters, paragraphs of 3-6 sentences, a tag now and then."""
    rng = random.Random(seed)
    per_chapter, parts = chars // 40, []
    for n in range(1, 41):
        chapter, size = [f"Chapter {n}"], len(f"Chapter {n}")
        while size < per_chapter - 200:
            sentences = [
                " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 22))).capitalize() + rng.choice(".?!")
                for _ in range(rng.randint(3, 6))
            ]
            paragraph = ("[Guest] " if rng.random() < 0.1 else "") + " ".join(sentences)
            chapter.append(paragraph)
            size += len(paragraph) + 2
        parts.append("\n\n".join(chapter))
    return "\n\n".join(parts)[:chars]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def render_all(store: ProjectStore, pid: int) -> int:
    n = 0
    while claimed := store.claim(pid, 16):
        for seg in claimed:
            store.finish(seg, b"\0" * 2048, 1.0, seed=1, spoken=seg.text)
            n += 1
    return n


def run(text: str, folder: Path) -> dict[str, float]:
    t: dict[str, float] = {}
    t["parse"], chapters = timed(lambda: read_text(text))
    with ProjectStore(folder) as store:
        t["create"], pid = timed(lambda: store.create("Bench book", chapters, {"voice": "alice"}))
    t["open"], store = timed(lambda: ProjectStore(folder))
    with store:
        t["list projects"], _ = timed(store.projects)
        total = store.project(pid).total
        t["page of 100 (middle)"], _ = timed(lambda: store.segments(pid, offset=total // 2, limit=100))
        t["chapters' progress"], _ = timed(lambda: store.chapters(pid))
        t["mark stale 'Nguyen'"], hits = timed(lambda: store.mark_stale(pid, "Nguyen"))
    t["segments"], t["segments with 'Nguyen'"] = total, len(hits)
    return t


def rendered(folder: Path) -> dict[str, float]:
    """Once: every segment of the last run's project rendered (a durable take each), then opened again."""
    t: dict[str, float] = {}
    with ProjectStore(folder) as store:
        pid = store.projects()[0].id
        store.queue_stale(pid)
        seconds, n = timed(lambda: render_all(store, pid))
        t["per take (write+fsync+commit)"] = seconds / n
    t["open with every take on disk"], store = timed(lambda: ProjectStore(folder))
    with store:
        t["list projects (all done)"], _ = timed(store.projects)
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where the stores are made (default: a temp dir)")
    args = parser.parse_args()
    text = book(args.chars)
    root = Path(tempfile.mkdtemp(prefix="projects-bench-", dir=args.dir))
    try:
        results = [run(text, root / f"run{i}") for i in range(args.runs)]
        once = rendered(root / f"run{args.runs - 1}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{len(text):,} characters, {args.runs} runs (median, seconds)")
    for key in results[0]:
        print(f"  {key:30s} {statistics.median(r[key] for r in results):10.3f}")
    print("once, after rendering every segment (2 KB stand-in audio each):")
    for key, value in once.items():
        print(f"  {key:30s} {value:10.3f}")


if __name__ == "__main__":
    main()
