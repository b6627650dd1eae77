"""Benchmark: the official f5_tts pipeline vs this studio's engine, same full-size random weights, side by side.

    .venv/bin/python -m bench [--quick] [--nfe N] [--text-chars N] [--runs N] [--only figure,...]

Figures (names for --only; numbers work too):
  1 ui           process start -> HTTP 200 on "/": `python -m f5_tts.infer.infer_gradio` vs `python app.py`
  2 load         weights on disk -> ready, imports excluded, with peak RSS (fresh process per run)
  3 first        process start -> first audio: imports + load + one synthesis (same fresh processes as 2)
  4 warm         warm single-chunk synthesis, alternating in one process, and the parity check (max abs diff)
  5 long         8+ chunks: total time and time to first audio (ours streams; the official returns at the end)
  6 presets      ours: Fast (7 steps, EPSS) vs Best (32 steps)
  7 concurrency  ours: N simultaneous requests vs the same N one after another, one process, one model copy
  8 bf16         ours: fp32 vs the same weights cast to bf16 on CPU (only when the CPU has avx512_bf16/amx_bf16)

The interfaces against the engine alone (gradio_client, the OpenAI client, the serverless handler, as ratios) run on
their own: `python -m bench.door` (bench/door.py).

Each side's runs alternate (official, ours, ours, official, ...) so background load hits both alike. Results are
printed and appended to bench/RESULTS.md with the machine, the date and the exact command.

How the sides are lined up:
- weights: bench/weights.py writes a random full-size F5TTS_v1_Base (337 M params) and Vocos once into an HF cache
  under bench/.cache/hf; every process runs with HF_HOME there and HF_HUB_OFFLINE=1, so both pipelines resolve the
  default hf:// files from the same cache. The files are read once before timing (warm page cache for both).
- 2 and 3 share their fresh processes: start -> imports -> load (timed, with an RSS sampler) -> one synthesis.
  Ours pre-imports what Engine.load would import lazily, so "load" is the load alone; the sum is unchanged.
- 4 and 5 load both pipelines in one process and alternate calls, same prepared reference, text and seed, so
  the parity difference comes from the timed runs themselves (official: torch.manual_seed + infer_process).
- --quick uses the first 2.45 s of basic_ref_en.wav ("Some call me nature.") to make every step ~2x cheaper;
  full mode uses the whole file. Figure 5 in --quick caps chunks at 24 bytes in both pipelines (8 chunks).
- every worker has a timeout; --quick has a 570 s budget that later figures are cut to (reported as notes);
  requests that never finish (a hung engine) are reported as hung instead of stalling the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import statistics
import sys
import time
from pathlib import Path

from . import common, report, ui_ready, weights
from .common import Series, WorkerResult, run_worker, text_of

FIGURES = ["ui", "load", "first", "warm", "long", "presets", "concurrency", "bf16"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small and cheap: NFE 4, ~1 s texts, a 2.45 s reference, "
        "2 runs (presets 1), 4-way concurrency, no long text unless --only asks (then 8 one-sentence "
        "chunks); cut to a 570 s budget",
    )
    p.add_argument("--nfe", type=int, help="flow-matching steps for figures 3, 4, 5, 7, 8 (quick 4, full 8)")
    p.add_argument("--text-chars", type=int, help="length of the single-chunk text (quick 14, full 100)")
    p.add_argument("--runs", type=int, help="runs per side (quick 2, full 3)")
    p.add_argument("--only", help="comma-separated figures: " + ",".join(FIGURES) + " (or 1-8)")
    p.add_argument(
        "--ref",
        choices=["short", "full"],
        help="reference: basic_ref_en.wav whole (full, 5.3 s) or its "
        "first 2.45 s (short); quick uses short, full uses full",
    )
    p.add_argument("--long-runs", type=int, help="runs per side of figure 5 (default 2)")
    p.add_argument("--concurrency", help="comma-separated levels for figure 7 (quick 4, full 1,4,8)")
    p.add_argument(
        "--budget", type=float, help="seconds for the whole run; jobs are cut to fit (quick 570, full unlimited)"
    )
    p.add_argument("--no-write", action="store_true", help="do not append to bench/RESULTS.md")
    return p.parse_args(argv)


def selected(only: str | None) -> list[str]:
    if not only:
        return list(FIGURES)
    out = []
    for item in only.split(","):
        item = item.strip().lower()
        if item.isdigit() and 1 <= int(item) <= len(FIGURES):
            item = FIGURES[int(item) - 1]
        if item == "parity":
            item = "warm"
        if item not in FIGURES:
            raise SystemExit(f"unknown figure {item!r}; choose from {', '.join(FIGURES)}")
        out.append(item)
    return [f for f in FIGURES if f in out]


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Budget:
    def __init__(self, seconds: float | None) -> None:
        self.deadline = time.monotonic() + seconds if seconds else None

    def left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def timeout(self, wanted: float) -> float:
        return max(0.0, min(wanted, self.left()))


def gb(n: float | None) -> str:
    return "-" if n is None else f"{n / 1e9:.2f} GB"


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# ---- figure runners ----------------------------------------------------------------------------------------------
def fig_ui(cfg: dict, rep: report.Report, budget: Budget, raw: dict) -> None:
    times = {"official": Series(), "ours": Series()}
    rss = {"official": Series(), "ours": Series()}
    for i in range(cfg["runs"]):
        for side in ("official", "ours") if i % 2 == 0 else ("ours", "official"):
            limit = budget.timeout(300 if side == "official" else 120)
            if limit < 10:
                rep.notes.append(f"figure 1: {side} run {i + 1} skipped (time budget)")
                continue
            res = ui_ready.measure(side, limit, f"ui_{side}_{i}")
            raw.setdefault("ui", []).append(res)
            if "seconds" in res:
                times[side].add(res["seconds"])
                rss[side].add(res["rss"])
                log(f"1 ui {side} run {i + 1}: {res['seconds']:.1f} s, RSS {gb(res['rss'])}")
            else:
                rep.notes.append(f"figure 1: {side} run {i + 1}: {res.get('error')}")
                log(f"1 ui {side} run {i + 1}: {res.get('error')}")
    rep.row(
        "1", "UI ready: start -> HTTP 200 on / (s)", "official", times["official"].values, "ours", times["ours"].values
    )
    rep.details.append(
        f"1: RSS when / first answered: ours {gb(rss['ours'].median)} (median), official "
        f"{gb(rss['official'].median)} (the official app has loaded its models by then, ours has not)"
    )
    cfg["_ui"] = (times, rss)


def fig_cold(cfg: dict, rep: report.Report, budget: Budget, raw: dict, figs: list[str]) -> None:
    synth = "first" in figs
    ref, ref_text = common.reference(cfg["cold_ref"] == "short")
    args = {"ref": str(ref), "ref_text": ref_text, "text": cfg["text"], "nfe": cfg["nfe"], "synth": synth}
    load = {"official": Series(), "ours": Series()}
    first = {"official": Series(), "ours": Series()}
    peak = {"official": Series(), "ours": Series()}
    delta = {"official": Series(), "ours": Series()}
    parts: dict[str, dict[str, Series]] = {
        s: {"imports": Series(), "synth": Series(), "after": Series()} for s in ("official", "ours")
    }
    for i in range(cfg["runs"]):
        for side in ("official", "ours") if i % 2 == 0 else ("ours", "official"):
            limit = budget.timeout(900)
            if limit < 20:
                rep.notes.append(f"figures 2/3: {side} run {i + 1} skipped (time budget)")
                continue
            res = run_worker(f"cold_{side}", args, limit, f"cold_{side}_{i}")
            raw.setdefault("cold", []).append(
                {"side": side, "spawned": res.spawned, "events": res.events, "rc": res.rc, "timed_out": res.timed_out}
            )
            ld, sy = res.first("load"), res.first("synth")
            imports = next((e for e in res.all("phase") if e.get("phase") == "imports"), None)
            if ld:
                load[side].add(ld["seconds"])
                peak[side].add(ld["peak"])
                delta[side].add(ld["peak"] - ld["rss_before"])
            if imports:
                parts[side]["imports"].add(imports["t"] - res.spawned)
            if sy:
                first[side].add(sy["t"] - res.spawned)
                parts[side]["synth"].add(sy["seconds"])
                parts[side]["after"].add(sy["rss_after"])
            if not ld or (synth and not sy):
                why = "timed out" if res.timed_out else f"exit {res.rc}"
                err = res.first("error")
                detail = f"{why}: {err['error']}" if err else why
                rep.notes.append(f"figures 2/3: {side} run {i + 1} incomplete ({detail}; log {res.log})")
            log(
                f"2/3 cold {side} run {i + 1}: imports {fmt_s(parts[side]['imports'].values[-1:])}, load "
                f"{fmt_s([ld['seconds']] if ld else [])}, peak {gb(ld['peak'] if ld else None)}, first audio "
                f"{fmt_s([sy['t'] - res.spawned] if sy else [])}"
            )
    ckpt = weights.ckpt_bytes()
    if "load" in figs:
        rep.row(
            "2", "model load, imports excluded (s)", "official", load["official"].values, "ours", load["ours"].values
        )
        for side in ("official", "ours"):
            p, d = peak[side].median, delta[side].median
            rep.details.append(
                f"2: {side} peak RSS during load {gb(p)} = {p / ckpt:.2f}x the checkpoint ({gb(ckpt)}); growth during "
                f"load {gb(d)} = {d / ckpt:.2f}x"
                if p is not None and d is not None
                else f"2: {side}: no data"
            )
    if synth:
        rep.row(
            "3",
            f"first generate: start -> audio, NFE {cfg['nfe']} (s)",
            "official",
            first["official"].values,
            "ours",
            first["ours"].values,
        )
        for side in ("official", "ours"):
            part = parts[side]
            rep.details.append(
                f"3: {side} breakdown (medians): start+imports {fmt_s(part['imports'].values)}, "
                f"load {fmt_s(load[side].values)}, prepare+synthesis {fmt_s(part['synth'].values)}; "
                f"RSS after the first audio {gb(part['after'].median)}"
            )
    cfg["_cold"] = (load, first, peak, delta, ckpt)


def fmt_s(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} s" if values else "-"


def run_figures(
    kind: str, what: str, args: dict, timeout: float, rep: report.Report, budget: Budget, raw: dict, figs: list[str]
) -> WorkerResult | None:
    """Run one worker process for several figures within the budget; None when the budget has no room left. A
    worker that times out or fails is noted in the report, and what it measured before is kept."""
    limit = budget.timeout(timeout)
    if limit < 60:
        rep.notes.append(f"figures {'/'.join(figs)} skipped (time budget)")
        return None
    log(f"{'/'.join(figs)}: one process, {what} (timeout {limit:.0f} s)")
    res = run_worker(kind, args, limit, f"{kind}_" + "_".join(figs))
    raw.setdefault(kind, []).append({"figures": figs, "events": res.events, "rc": res.rc, "timed_out": res.timed_out})
    if res.timed_out or res.rc:
        err = res.first("error")
        rep.notes.append(
            f"figures {'/'.join(figs)}: worker {'timed out' if res.timed_out else f'exit {res.rc}'}"
            f"{': ' + err['error'] if err else ''} (partial results kept; log {res.log})"
        )
    return res


def fig_pair(cfg: dict, rep: report.Report, budget: Budget, raw: dict, figs: list[str]) -> None:
    ref, ref_text = common.reference(cfg["ref"] == "short")
    args = {
        "ref": str(ref),
        "ref_text": ref_text,
        "text": cfg["text"],
        "nfe": cfg["nfe"],
        "runs": cfg["runs"],
        "figures": figs,
        "warm_full": cfg["warm_full"],
        "long_runs": cfg["long_runs"],
        "long_chunk_bytes": cfg["long_chunk_bytes"],
        "long_chunks": 8,
        "long_timeout": cfg["long_timeout"],
    }
    res = run_figures("pair", "both pipelines loaded, alternating", args, cfg["pair_timeout"], rep, budget, raw, figs)
    if res is None:
        return
    if "warm" in figs:
        warm = {s: [e["seconds"] for e in res.all("warm") if e["side"] == s] for s in ("official", "ours")}
        audio = [e["audio_s"] for e in res.all("warm")]
        rep.row(
            "4", f"warm synthesis, 1 chunk, NFE {cfg['nfe']} (s)", "official", warm["official"], "ours", warm["ours"]
        )
        cpu = {s: [e["cpu_s"] for e in res.all("warm") if e["side"] == s] for s in ("official", "ours")}
        rep.row("4", "warm synthesis: CPU time, all threads (s)", "official", cpu["official"], "ours", cpu["ours"])
        if audio:
            rep.details.append(
                f"4: {statistics.median(audio):.2f} s of audio per run; RTF official "
                f"{(med(warm['official']) or 0) / statistics.median(audio):.1f}, ours "
                f"{(med(warm['ours']) or 0) / statistics.median(audio):.1f}"
            )
        parity = res.all("parity")
        if parity:
            worst = max((p["max_abs"] for p in parity if p["max_abs"] is not None), default=None)
            same = all(p["same_shape"] for p in parity)
            rep.details.append(
                f"4: parity (same prepared reference, text, NFE {cfg['nfe']}, seed {common.SEED}): max "
                f"abs difference {worst:.3g} over {len(parity)} pair(s), output peak "
                f"{parity[0]['peak']:.3g}, same length: {same}"
                if worst is not None
                else "4: parity: no comparable output"
            )
            cfg["_parity"] = (worst, same)
        for w in res.all("phase"):
            if w.get("phase") == "warm":
                rep.details.append(
                    f"4: warm-up before timing: {'one full synthesis per side' if w.get('full') else ''}"
                    f"{' + ' if w.get('full') else ''}jieba, weights paged in, one small forward "
                    f"({w['seconds']:.1f} s)"
                )
    if "long" in figs:
        setup = res.first("long_setup")
        for e in res.all("long"):
            if e.get("hung"):
                rep.notes.append(f"figure 5: {e['side']} run {e['run'] + 1}: {e['error']}")
        long = {s: [e for e in res.all("long") if e["side"] == s and not e.get("hung")] for s in ("official", "ours")}
        cfg["_long_hung"] = [e["side"] for e in res.all("long") if e.get("hung")]
        rep.row(
            "5",
            f"long text total, NFE {cfg['nfe']} (s)",
            "official",
            [e["total"] for e in long["official"]],
            "ours",
            [e["total"] for e in long["ours"]],
        )
        rep.row(
            "5",
            "long text total: CPU time, all threads (s)",
            "official",
            [e["cpu_s"] for e in long["official"]],
            "ours",
            [e["cpu_s"] for e in long["ours"]],
        )
        firsts = [e["first"] for e in res.all("long") if e["side"] == "ours" and e["first"] is not None]
        rep.row(
            "5",
            "long text: time to first audio (s)",
            "official",
            [e["first"] for e in long["official"]],
            "ours",
            firsts,
        )
        cfg["_long_first"] = firsts
        if setup:
            how = (
                f"chunks capped at {setup['limit']} bytes in both pipelines (quick)"
                if setup["limit"]
                else f"natural chunking (official max {setup['official_max_chars']} chars, ours "
                f"{setup['ours_max_bytes']} bytes)"
            )
            audio = [e["audio_s"] for e in long["ours"]]
            rep.details.append(
                f"5: {setup['chars']} characters -> {setup['chunks_official']} chunks (official), "
                f"{setup['chunks_ours']} (ours); {how}; {fmt_s(audio)} of audio. The official "
                f"infer_process runs all chunks at once in a thread pool and returns at the end, so its "
                f"first audio = its total"
            )
        cfg["_long"] = long


def fig_ours(cfg: dict, rep: report.Report, budget: Budget, raw: dict, figs: list[str]) -> None:
    ref, ref_text = common.reference(cfg["ref"] == "short")
    args = {
        "ref": str(ref),
        "ref_text": ref_text,
        "text": cfg["text"],
        "nfe": cfg["nfe"],
        "figures": figs,
        "warm_full": cfg["warm_full"],
        "presets_runs": cfg["presets_runs"],
        "conc_levels": cfg["conc_levels"],
        "conc_text": cfg["conc_text"],
        "bf16_runs": cfg["runs"],
        "conc_timeout": cfg["conc_timeout"],
    }
    res = run_figures("ours", "our engine", args, cfg["ours_timeout"], rep, budget, raw, figs)
    if res is None:
        return
    ckpt = weights.ckpt_bytes()
    if "presets" in figs:
        p = {n: [e["seconds"] for e in res.all("preset") if e["preset"] == n] for n in ("fast", "best")}
        rep.row("6", "presets: Best (32) vs Fast (7, EPSS) (s)", "Best 32", p["best"], "Fast 7", p["fast"])
        c = {n: [e["cpu_s"] for e in res.all("preset") if e["preset"] == n] for n in ("fast", "best")}
        rep.row("6", "presets: CPU time (s)", "Best 32", c["best"], "Fast 7", c["fast"])
        cfg["_presets"] = p
    if "concurrency" in figs:
        events = res.all("concurrency")
        for n in cfg["conc_levels"]:
            seq = [e["wall"] for e in events if e["n"] == n and e["mode"] == "sequential" and not e.get("hung")]
            conc = [e["wall"] for e in events if e["n"] == n and e["mode"] == "concurrent" and not e.get("hung")]
            rep.row("7", f"{n} request(s), NFE {cfg['nfe']}: total wall (s)", "one by one", seq, "simultaneous", conc)
            for e in events:
                if e["n"] == n and e.get("hung"):
                    rep.notes.append(f"figure 7: {n} {e['mode']} requests: {'; '.join(e['errors'])}")
            lat = [
                max(e["latencies"]) for e in events if e["n"] == n and e["mode"] == "concurrent" and not e.get("hung")
            ]
            if lat and n > 1:
                first_done = [min(e["latencies"]) for e in events if e["n"] == n and e["mode"] == "concurrent"]
                rep.details.append(
                    f"7: {n} simultaneous: first request done after {fmt_s(first_done)}, last after "
                    f"{fmt_s(lat)} (the engine runs one generation at a time)"
                )
        if events:
            errors = [x for e in events for x in e["errors"]]
            rss = max(e["rss"] for e in events)
            loads = max(e["load_count"] for e in events)
            failed = "; errors: " + "; ".join(errors) if errors else ""
            setup = res.first("concurrency_setup")
            before = f"{gb(setup['rss'])} before, " if setup else ""
            rep.details.append(
                f"7: process RSS {before}{gb(rss)} after the concurrency runs = {rss / ckpt:.2f}x the "
                f"checkpoint (imports alone take ~1.1 GB, the mapped weights 1.35 GB); "
                f"engine.load_count {loads}: one model copy{failed}"
            )
            ok = [e for e in events if not e.get("hung")]
            cfg["_conc"] = {
                n: (
                    [e["wall"] for e in ok if e["n"] == n and e["mode"] == "sequential"],
                    [e["wall"] for e in ok if e["n"] == n and e["mode"] == "concurrent"],
                    any(e.get("hung") for e in events if e["n"] == n),
                )
                for n in cfg["conc_levels"]
            }
    if "bf16" in figs:
        setup = res.first("bf16_setup")
        if setup and setup.get("skipped"):
            rep.notes.append(f"figure 8 skipped: {setup['reason']}")
        else:
            b = {d: [e["seconds"] for e in res.all("bf16") if e["dtype"] == d] for d in ("fp32", "bf16")}
            rep.row("8", f"CPU fp32 vs bf16 warm synthesis, NFE {cfg['nfe']} (s)", "fp32", b["fp32"], "bf16", b["bf16"])
            c = {d: [e["cpu_s"] for e in res.all("bf16") if e["dtype"] == d] for d in ("fp32", "bf16")}
            rep.row("8", "fp32 vs bf16: CPU time (s)", "fp32", c["fp32"], "bf16", c["bf16"])
            for e in res.all("bf16_error"):
                rep.notes.append(f"figure 8: bf16 synthesis failed at NFE {cfg['nfe']}: {e['error']}")
            diffs = res.all("bf16_diff")
            if diffs:
                worst = max((d["max_abs"] for d in diffs if d["max_abs"] is not None), default=None)
                rep.details.append(
                    f"8: bf16 vs fp32 output at the same seed: max abs difference "
                    f"{worst if worst is None else f'{worst:.3g}'} (fp32 output peak "
                    f"{diffs[0]['fp32_peak']:.3g}); CPU flags {','.join(setup.get('flags', []))}"
                )
                cfg["_bf16"] = (b, worst, diffs[0]["fp32_peak"])


# ---- targets -----------------------------------------------------------------------------------------------------
def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("MET" if ok else "MISSED")


def ratio_of(a: list[float], b: list[float]) -> float | None:
    return (statistics.median(a) / statistics.median(b)) if a and b and statistics.median(b) else None


def cpu_note(row: report.Row | None) -> str:
    """The CPU-time ratio next to a wall-time verdict: when the two disagree, the wall time met background load."""
    return f" (CPU time {row.ratio:.2f}x)" if row is not None and row.ratio is not None else ""


def targets(cfg: dict, rep: report.Report) -> None:
    t = rep.targets
    if "_ui" in cfg:
        times, _ = cfg["_ui"]
        r = ratio_of(times["official"].values, times["ours"].values)
        t.append(
            ("UI ready >= 5x faster than official", f"{r:.2f}x" if r else "-", verdict(None if r is None else r >= 5))
        )
    if "_cold" in cfg:
        load, _, peak, _, ckpt = cfg["_cold"]
        r = ratio_of(load["official"].values, load["ours"].values)
        if load["ours"].values:
            t.append(("model load >= 3x faster", f"{r:.2f}x" if r else "-", verdict(None if r is None else r >= 3)))
            p = peak["ours"].median
            t.append(
                (
                    "ours: peak RSS during load <= 1.3x checkpoint bytes",
                    f"{p / ckpt:.2f}x ({gb(p)} / {gb(ckpt)})" if p else "-",
                    verdict(None if p is None else p <= 1.3 * ckpt),
                )
            )
    if "_parity" in cfg or any(r.fig == "4" for r in rep.rows):
        row = next((r for r in rep.rows if r.fig == "4"), None)
        cpu_row = next((r for r in rep.rows if r.fig == "4" and "CPU" in r.metric), None)
        if row and row.a and row.b:
            r = row.ratio or 0
            within = r >= 0.95 or statistics.median(row.b) <= max(row.a)
            t.append(
                (
                    "warm synthesis no slower than official (within noise: ratio >= 0.95 or ours' median <= "
                    "official's max)",
                    f"{r:.2f}x{cpu_note(cpu_row)}",
                    verdict(within),
                )
            )
        worst, same = cfg.get("_parity", (None, False))
        t.append(
            (
                "parity: max abs diff < 1e-4",
                "-" if worst is None else f"{worst:.3g} (same length: {same})",
                verdict(None if worst is None else (worst < 1e-4 and same)),
            )
        )
    if "_long" in cfg:
        long = cfg["_long"]
        r_total = ratio_of([e["total"] for e in long["official"]], [e["total"] for e in long["ours"]])
        r_first = ratio_of([e["first"] for e in long["official"]], cfg.get("_long_first", []))
        hung = cfg.get("_long_hung")
        if hung:
            t.append(("long text total >= 1.3x faster", f"{', '.join(hung)} hung (stream never finished)", "MISSED"))
        else:
            cpu_row = next((r for r in rep.rows if r.fig == "5" and "CPU" in r.metric), None)
            t.append(
                (
                    "long text total >= 1.3x faster",
                    f"{r_total:.2f}x{cpu_note(cpu_row)}" if r_total else "-",
                    verdict(None if r_total is None else r_total >= 1.3),
                )
            )
        t.append(
            (
                "long text time to first audio >= 4x sooner",
                f"{r_first:.2f}x" if r_first else "-",
                verdict(None if r_first is None else r_first >= 4),
            )
        )
    if "_presets" in cfg:
        p = cfg["_presets"]
        r = ratio_of(p["best"], p["fast"])
        cpu_row = next((r for r in rep.rows if r.fig == "6" and "CPU" in r.metric), None)
        t.append(
            (
                "Fast preset >= 4x faster than 32 steps",
                f"{r:.2f}x{cpu_note(cpu_row)}" if r else "-",
                verdict(None if r is None else r >= 4),
            )
        )
    if "_conc" in cfg:
        for n, (seq, conc, hung) in cfg["_conc"].items():
            if n == 4 or (4 not in cfg["_conc"] and n == max(cfg["_conc"])):
                r = ratio_of(seq, conc)
                t.append(
                    (
                        f"{n} simultaneous requests no worse than sequential (within 5%)",
                        "hung (requests never finished)" if hung else (f"{r:.2f}x" if r else "-"),
                        verdict(False if hung else (None if r is None else r >= 0.95)),
                    )
                )
    if "_bf16" in cfg:
        b, worst, peak = cfg["_bf16"]
        r = ratio_of(b["fp32"], b["bf16"])
        t.append(
            (
                "(info) CPU bf16 speed-up over fp32",
                f"{r:.2f}x, max abs diff {worst:.3g} (peak {peak:.3g})" if r and worst is not None else "-",
                "info",
            )
        )


# ---- main --------------------------------------------------------------------------------------------------------
def config(args: argparse.Namespace) -> dict:
    quick = args.quick
    text_chars = args.text_chars or (14 if quick else 100)
    runs = args.runs or (2 if quick else 3)
    ref = args.ref or ("short" if quick else "full")
    levels = [int(x) for x in args.concurrency.split(",")] if args.concurrency else ([4] if quick else [1, 4, 8])
    return {
        "quick": quick,
        "nfe": args.nfe or (4 if quick else 8),
        "text": text_of(text_chars),
        "runs": runs,
        "ref": ref,
        "cold_ref": ref,
        "long_runs": args.long_runs or 2,
        "long_chunk_bytes": 24 if quick else None,
        "presets_runs": args.runs or (1 if quick else 2),
        "conc_levels": levels,
        "conc_text": text_of(min(text_chars, 30)),
        "warm_full": not quick,
        "conc_timeout": 120 if quick else 3600,
        "long_timeout": 300 if quick else 3 * 3600,  # per level and mode: a hung engine must not eat the whole run
        "pair_timeout": 1200 if quick else 4 * 3600,
        "ours_timeout": 1200 if quick else 3 * 3600,
        "budget": args.budget if args.budget is not None else (570 if quick else 0),
    }


def command_line() -> str:
    exe = Path(sys.executable)
    try:
        exe_s = str(exe.relative_to(Path.cwd()))
    except ValueError:
        exe_s = str(exe)
    return f"{exe_s} -m bench" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figs = selected(args.only)
    cfg = config(args)
    started = time.monotonic()
    budget = Budget(cfg["budget"] or None)
    skipped_long = args.quick and not args.only and "long" in figs
    if skipped_long:  # 8+ chunks x 2 pipelines do not fit the quick budget next to the rest
        figs.remove("long")
    built = weights.ensure(log)  # built once, then cached under bench/.cache
    common.SCRATCH.mkdir(parents=True, exist_ok=True)
    common.short_ref_wav()
    common.prewarm_page_cache(weights.hub_files())
    header = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        **common.machine(),
        "load average at start": common.loadavg(),
    }
    log(
        f"machine: {header['cpu']}, {header['cores']} cores, torch {header['torch']}; "
        f"load {header['load average at start']}"
    )
    ref_desc = {
        "short": f'first {common.SHORT_REF_SECONDS} s of basic_ref_en.wav ("{common.SHORT_REF_TEXT}")',
        "full": f'basic_ref_en.wav (5.3 s, "{common.REF_TEXT}")',
    }
    settings = {
        "mode": "quick" if cfg["quick"] else "full",
        "NFE": str(cfg["nfe"]),
        "runs per side": str(cfg["runs"]),
        "text": f'"{cfg["text"]}" ({len(cfg["text"])} chars)',
        "reference": ref_desc[cfg["ref"]],
        "seed": str(common.SEED),
        "weights": f"random F5TTS_v1_Base arch, {weights.param_count() / 1e6:.0f} M params, "
        f"{weights.ckpt_bytes() / 1e9:.2f} GB safetensors + full-size Vocos, in {built['hf_home']}",
        "presets runs": str(cfg["presets_runs"]),
        "concurrency levels": str(cfg["conc_levels"]),
        "concurrency text": f'"{cfg["conc_text"]}"',
        "long text": (
            f"8 chunks capped at {cfg['long_chunk_bytes']} bytes, {cfg['long_runs']} run(s)/side"
            if cfg["long_chunk_bytes"]
            else f"8+ natural chunks, {cfg['long_runs']} run(s)/side"
        ),
        "torch threads": "default (one per core)",
    }
    log("settings: " + "; ".join(f"{k}: {v}" for k, v in settings.items()))
    rep = report.Report()
    if skipped_long:
        rep.notes.append(
            "figure 5 (long text) is left out of --quick by default: run `python -m bench --quick "
            "--only long` (8 one-sentence chunks, 2 runs per side, about 6 minutes) or full mode"
        )
    raw: dict = {"config": {k: v for k, v in cfg.items() if not k.startswith("_")}}
    try:
        if "ui" in figs:
            fig_ui(cfg, rep, budget, raw)
        if "load" in figs or "first" in figs:
            fig_cold(cfg, rep, budget, raw, figs)
        pair_figs = [f for f in ("warm", "long") if f in figs]
        if "warm" in pair_figs:
            fig_pair(cfg, rep, budget, raw, ["warm"])
        ours_figs = [f for f in ("presets", "concurrency", "bf16") if f in figs]  # bf16 uses its own engines
        if ours_figs:
            fig_ours(cfg, rep, budget, raw, ours_figs)
        if "long" in pair_figs:
            fig_pair(cfg, rep, budget, raw, ["long"])
    except KeyboardInterrupt:
        rep.notes.append("interrupted (Ctrl-C): partial results")
    targets(cfg, rep)
    header["load average at end"] = common.loadavg()
    total = time.monotonic() - started
    rep.notes.append(f"whole run took {total / 60:.1f} min; workers' logs in {common.LOG_DIR}")
    text = report.render(rep, header, command_line(), settings)
    print()
    print(text)
    (common.CACHE / "last_run.json").write_text(json.dumps(raw, indent=1, default=str))
    if not args.no_write:
        report.append_results(text)
        log(f"appended to {report.RESULTS}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
