"""What the audit log costs a generation (inference/audit.py): a line written (one thread, and 8 threads at once,
rotating at 1 MB), and what a generation's start adds (the witness: for a recording, hashing its file).

    python -m bench.audit_cost [--lines 2000] [--rounds 5]

Prints medians over the rounds, and their share of the cheapest generation there is (one chunk of the tiny random
model here: --generation-s, by default 0.5 s, the order of a one-chunk take on a GPU); appends to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from inference.audit import AuditLog
from inference.provenance import Caller
from inference.types import Reference, SynthesisRequest

from .report import append_results

REF = Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))


def per_line_us(log: AuditLog, lines: int, threads: int) -> float:
    """Wall time per line, in microseconds, `lines` lines written by `threads` threads together."""

    def write(k: int) -> None:
        for i in range(lines // threads):
            log.record(Caller(f"user{k}", "rest"), "speech", "alice", f"text {k} {i}", 3.25)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(threads)))
    return (time.perf_counter() - start) / lines * 1e6


def witness_us(log: AuditLog, rounds: int) -> float:
    """A generation's start with a recording (its file hashed) and its end (the line), in microseconds."""
    request = SynthesisRequest("Hello there.", Reference(REF))
    times = []
    for _ in range(rounds * 20):
        start = time.perf_counter()
        log.witness(request)(3.25)
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generation-s", type=float, default=0.5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        log = AuditLog(Path(folder), "studio", max_bytes=1024 * 1024, backups=5)
        one = statistics.median(per_line_us(log, args.lines, 1) for _ in range(args.rounds))
        eight = statistics.median(per_line_us(log, args.lines, 8) for _ in range(args.rounds))
        start_end = witness_us(log, args.rounds)
        log.close()
    share = start_end / (args.generation_s * 1e6)
    rows = [
        ("a line, one thread", one),
        ("a line, 8 threads at once (wall per line)", eight),
        (f"a generation's start and end, a recording of {REF.stat().st_size // 1024} KB hashed", start_end),
    ]
    text = "\n".join(
        [
            f"## The audit log's cost ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, bench.audit_cost)",
            "",
            f"`python -m bench.audit_cost --lines {args.lines} --rounds {args.rounds}`: medians of {args.rounds} "
            "rounds, rotating at 1 MB.",
            "",
            "| what | microseconds |",
            "|---|---:|",
            *[f"| {what} | {us:.1f} |" for what, us in rows],
            "",
            f"A generation's start and end together are {share:.4%} of a {args.generation_s} s generation.",
            "",
        ]
    )
    print(text)
    append_results(text)


if __name__ == "__main__":
    main()
