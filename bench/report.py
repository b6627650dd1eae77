"""The table (median, min, max for both sides and the ratio), the targets, and bench/RESULTS.md."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from .common import BENCH_DIR

RESULTS = BENCH_DIR / "RESULTS.md"


@dataclass
class Row:
    fig: str
    metric: str
    a_name: str  # the baseline (official, or the slower variant of ours)
    a: list[float]
    b_name: str  # ours (or the variant under test)
    b: list[float]

    @property
    def ratio(self) -> float | None:
        if not self.a or not self.b:
            return None
        mb = statistics.median(self.b)
        return statistics.median(self.a) / mb if mb else None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # one line per extra fact (RSS, parity, chunk counts, ...)
    notes: list[str] = field(default_factory=list)  # skipped figures, failures, timeouts
    targets: list[tuple[str, str, str]] = field(default_factory=list)  # (target, measured, MET/MISSED/n/a)

    def row(self, fig: str, metric: str, a_name: str, a: list[float], b_name: str, b: list[float]) -> Row:
        r = Row(fig, metric, a_name, list(a), b_name, list(b))
        self.rows.append(r)
        return r


def fmt(v: float | None, digits: int = 2) -> str:
    if v is None:
        return "-"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def stats(values: list[float]) -> tuple[str, str, str, str]:
    if not values:
        return "-", "-", "-", "0"
    return fmt(statistics.median(values)), fmt(min(values)), fmt(max(values)), str(len(values))


def table(report: Report) -> str:
    head = (
        "| # | figure | A | A median | A min | A max | n | B | B median | B min | B max | n | A/B |\n"
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in report.rows:
        am, amin, amax, an = stats(r.a)
        bm, bmin, bmax, bn = stats(r.b)
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        lines.append(
            f"| {r.fig} | {r.metric} | {r.a_name} | {am} | {amin} | {amax} | {an} | {r.b_name} | {bm} | "
            f"{bmin} | {bmax} | {bn} | **{ratio}** |"
        )
    return "\n".join(lines)


def targets_table(report: Report) -> str:
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in report.targets]
    return "\n".join(lines)


def render(report: Report, header: dict[str, str], command: str, settings: dict[str, str]) -> str:
    out = [f"## {header['date']} — `{command}`", ""]
    out.append("Machine: " + ", ".join(f"{k} {v}" for k, v in header.items() if k != "date"))
    out.append("")
    out.append("Settings: " + ", ".join(f"{k} {v}" for k, v in settings.items()))
    out.append("")
    out.append(
        "Times in seconds. A/B = median(A) / median(B): for official-vs-ours rows, >1 means ours is faster. "
        "Verdicts use wall time; CPU-time rows (process CPU seconds, all threads) are less sensitive to other "
        "jobs on the machine: where wall and CPU ratios disagree, the wall figure met background load."
    )
    out.append("")
    out.append(table(report))
    if report.details:
        out += ["", "Details:", ""] + [f"- {d}" for d in report.details]
    if report.targets:
        out += ["", "Targets:", "", targets_table(report)]
    if report.notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in report.notes]
    return "\n".join(out) + "\n"


def append_results(text: str, path: Path = RESULTS) -> None:
    intro = (
        "# Benchmark results\n\n"
        "Written by `python -m bench` (see bench/__main__.py): the official f5_tts pipeline (A) against this "
        "studio's engine (B) on the same full-size random weights (F5TTS_v1_Base arch, 337 M params, and a "
        "full-size Vocos), alternating the two sides run by run. Newest run last.\n\n"
    )
    existing = path.read_text() if path.is_file() else intro
    path.write_text(existing.rstrip("\n") + "\n\n" + text)
