"""A short request's latency alone, and while a long one runs, through gradio_client: one at a time (the queue
before fair turns: F5_CONCURRENCY=1, every visitor waits for the whole generation ahead) against fair turns (the
default), side by side in one run, on the same weights.

    .venv/bin/python -m bench.fairness [--full] [--runs 3] [--nfe 7] [--no-write]

--full uses the full-size random F5TTS_v1_Base (337 M params; bench/weights.py builds it once), otherwise the tiny
random model. For each side the app is launched (`python app.py`), warmed up, and then, per run: the short text
alone; then a long text (several chunks) and, once the long one is generating, the short one. Reported: the short
request's latency alone and during the long one (medians), their ratio (target: at most 2x with fair turns), and the
time until both were done (throughput: fair turns must be no slower). Appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from .common import REF_TEXT, SCRATCH, SHORT_REF_TEXT, bench_env, full_ref_wav, loadavg, machine, short_ref_wav
from .report import RESULTS
from .ui_ready import free_port, stop
from .weights import CACHE, HF_HOME, REPO, ensure

SHORT = "Thank you, that is all for today."
LONG_SENTENCE = "The keeper climbed the winding stairs and lit the great lamp for the ships far out at sea."


@contextlib.contextmanager
def launch(env: dict[str, str], repo: Path = REPO, name: str = "fairness") -> Iterator[str]:
    """`python app.py` of the checkout at `repo` on a free port with `env`; yields its base URL, stops it afterwards.
    Another checkout goes first on PYTHONPATH (the carried packages stay on it)."""
    port = free_port()
    full = {**bench_env(), **env, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"}
    if repo != REPO:
        full["PYTHONPATH"] = os.pathsep.join(p for p in (str(repo), full.get("PYTHONPATH", "")) if p)
    full.pop("PORT", None)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log = open(SCRATCH / f"{name}-{port}.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "app.py"], cwd=repo, env=full, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the app did not start; see {log.name}") from None
                time.sleep(0.1)
        yield base
    finally:
        stop(proc)
        log.close()


def one_side(name: str, env: dict[str, str], long_text: str, nfe: int, runs: int) -> dict[str, list[float]]:
    from gradio_client import Client

    out: dict[str, list[float]] = {"alone": [], "during": [], "long": [], "both": []}
    with launch(env) as base:
        client = Client(base, verbose=False)

        def short(seed: int) -> float:
            start = time.perf_counter()
            client.predict(None, "", SHORT, seed, nfe_step=nfe, voice="bench", api_name="/synthesize")
            return time.perf_counter() - start

        short(0)  # loads the model
        for run in range(runs):
            out["alone"].append(short(run + 1))
            start = time.perf_counter()
            job = Client(base, verbose=False).submit(
                None, "", long_text, 100 + run, nfe_step=nfe, voice="bench", api_name="/synthesize"
            )
            while job.status().code.name not in ("PROCESSING", "PROGRESS", "ITERATING") and not job.done():
                time.sleep(0.02)
            time.sleep(out["alone"][-1])  # well into the long text: its first chunk is done, a later one runs
            out["during"].append(short(200 + run))
            short_done = time.perf_counter() - start
            job.result(timeout=3600)
            out["long"].append(time.perf_counter() - start)
            out["both"].append(max(out["long"][-1], short_done))
            print(
                f"  {name} run {run + 1}: short alone {out['alone'][-1]:.2f} s, during the long one "
                f"{out['during'][-1]:.2f} s, long {out['long'][-1]:.2f} s",
                flush=True,
            )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.fairness", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--full", action="store_true", help="full-size random weights (default: the tiny model)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--nfe", type=int, default=7, choices=(7, 16, 32), help="the UI's presets")
    p.add_argument("--sentences", type=int, help="sentences in the long text (tiny 24, full 8)")
    p.add_argument("--no-write", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = p.parse_args(argv)
    started = dt.datetime.now(dt.UTC)
    load_start = loadavg()
    voices = Path(tempfile.mkdtemp(prefix="fairness-voices-"))
    if args.full:
        ensure()
        ref, ref_text, hf_home, model = short_ref_wav(), SHORT_REF_TEXT, HF_HOME, None
    else:
        from inference.model.random_weights import build

        tiny = CACHE / "tiny"
        if not (tiny / "custom" / "model.yaml").is_file():
            build(tiny)
        ref, ref_text, hf_home, model = full_ref_wav(), REF_TEXT, tiny / "hf", str(tiny / "custom" / "model.yaml")
    (voices / "bench.wav").write_bytes(Path(ref).read_bytes())
    (voices / "bench.txt").write_text(ref_text, encoding="utf-8")
    sentences = args.sentences or (8 if args.full else 24)
    long_text = " ".join([LONG_SENTENCE] * sentences)
    base_env = {"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "VOICES_DIR": str(voices), "F5_DEVICE": "cpu"}
    if model:
        base_env["F5_MODEL"] = model
    sides = {"one at a time": {**base_env, "F5_CONCURRENCY": "1"}, "fair turns": base_env}
    results = {}
    for name, env in sides.items():
        print(f"{name}:", flush=True)
        results[name] = one_side(name, env, long_text, args.nfe, args.runs)
    lines = report(args, results, sentences, started, load_start)
    print("\n".join(lines))
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(lines) + "\n")
    return 0


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(args: argparse.Namespace, results: dict, sentences: int, started: dt.datetime, load_start: str) -> list:
    command = "python -m bench.fairness " + shlex.join(sys.argv[1:])
    m = machine()
    old, fair = results["one at a time"], results["fair turns"]
    lines = [
        f"## {started:%Y-%m-%d %H:%M} UTC — `.venv/bin/{command.strip()}`",
        "",
        f"Machine: {', '.join(f'{k} {v}' for k, v in m.items())}, load average at start {load_start}, at end "
        f"{loadavg()}",
        "",
        f"Weights: {'full-size random F5TTS_v1_Base (337 M)' if args.full else 'tiny random model'}; NFE "
        f'{args.nfe}; long text {sentences} sentences; short text "{SHORT}"; {args.runs} run(s) per side; through '
        "gradio_client against `python app.py`. Medians, seconds.",
        "",
        "| | short alone | short during the long one | ratio (target <= 2x) | both done |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        ratio = med(r["during"]) / med(r["alone"])
        lines.append(
            f"| {name} | {med(r['alone']):.2f} | {med(r['during']):.2f} | **{ratio:.1f}x** | {med(r['both']):.2f} |"
        )
    cut = med(old["during"]) / med(fair["during"])
    throughput = med(old["both"]) / med(fair["both"])
    lines += [
        "",
        f"- Fair turns cut the short request's latency during a long one by {cut:.1f}x. Both requests were done "
        f"after {med(fair['both']):.1f} s with fair turns and {med(old['both']):.1f} s one at a time: throughput "
        f"{throughput:.2f}x (target: no worse, >= ~1x within noise).",
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
