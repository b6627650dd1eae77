"""A bounded load run: VISITORS people at once for a couple of minutes, mixing long and short texts, half through
gradio_client and half through the OpenAI client, against `python app.py` with its default settings on the tiny
random model (the figure is about the queue and turns, not the model's arithmetic).

    .venv/bin/python -m bench.load [--visitors 20] [--seconds 120] [--no-write]

Reported: short and long requests' latency percentiles per interface, how many were answered and how many told
"busy" (nothing else is allowed: every failure is listed), and the app's memory (RSS) over the run. Appended to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shlex
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from .common import REF_TEXT, full_ref_wav, loadavg, machine
from .fairness import LONG_SENTENCE, SHORT, launch
from .report import RESULTS
from .weights import CACHE


def busy(message: str) -> bool:
    text = message.lower()
    return "busy" in text or "try again" in text or "queue is full" in text


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--visitors", type=int, default=20)
    p.add_argument("--seconds", type=float, default=120)
    p.add_argument("--long-share", type=float, default=0.3, help="share of requests with a long text")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    import psutil
    from gradio_client import Client
    from openai import OpenAI

    from inference.model.random_weights import build

    tiny = CACHE / "tiny"
    if not (tiny / "custom" / "model.yaml").is_file():
        build(tiny)
    voices = Path(tempfile.mkdtemp(prefix="load-voices-"))
    (voices / "bench.wav").write_bytes(full_ref_wav().read_bytes())
    (voices / "bench.txt").write_text(REF_TEXT, encoding="utf-8")
    env = {
        "HF_HOME": str(tiny / "hf"),
        "HF_HUB_OFFLINE": "1",
        "VOICES_DIR": str(voices),
        "F5_DEVICE": "cpu",
        "F5_MODEL": str(tiny / "custom" / "model.yaml"),
    }
    long_text = " ".join([LONG_SENTENCE] * 12)
    started, load_start = dt.datetime.now(dt.UTC), loadavg()
    latencies: dict[tuple[str, str], list[float]] = {}
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    rss: list[tuple[float, int]] = []
    lock = threading.Lock()
    with launch(env) as base:
        app = next(c for c in psutil.Process().children() if "app.py" in " ".join(c.cmdline()))
        Client(base, verbose=False).predict(None, "", SHORT, 0, nfe_step=7, voice="bench", api_name="/synthesize")
        t0 = time.monotonic()
        deadline = t0 + args.seconds
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                rss.append((time.monotonic() - t0, app.memory_info().rss))
                stop.wait(2)

        def visitor(i: int) -> None:
            rng = random.Random(i)
            interface = "gradio_client" if i % 2 == 0 else "openai"
            client = (
                Client(base, verbose=False)
                if interface == "gradio_client"
                else OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0, timeout=600)
            )
            while time.monotonic() < deadline:
                kind = "long" if rng.random() < args.long_share else "short"
                text = long_text if kind == "long" else SHORT
                start = time.perf_counter()
                try:
                    if interface == "gradio_client":
                        client.predict(
                            None, "", text, rng.randrange(1000), nfe_step=7, voice="bench", api_name="/synthesize"
                        )
                    else:
                        client.audio.speech.create(
                            model="tts-1",
                            voice="bench",
                            input=text,
                            response_format="wav",
                            extra_body={"nfe_step": 7, "seed": rng.randrange(1000)},
                        ).read()
                    outcome = "answered"
                    with lock:
                        latencies.setdefault((interface, kind), []).append(time.perf_counter() - start)
                except Exception as e:
                    outcome = "busy" if busy(str(e)) else "failed"
                    if outcome == "failed":
                        with lock:
                            failures.append(f"{interface} {kind}: {type(e).__name__}: {str(e)[:200]}")
                    time.sleep(1)
                with lock:
                    outcomes[outcome] += 1

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        threads = [threading.Thread(target=visitor, args=(i,)) for i in range(args.visitors)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        sampler.join()
    lines = report(args, latencies, outcomes, failures, rss, started, load_start)
    print("\n".join(lines))
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(lines) + "\n")
    return 0 if not failures else 1


def report(args, latencies, outcomes, failures, rss, started, load_start) -> list[str]:
    m = machine()
    lines = [
        f"## {started:%Y-%m-%d %H:%M} UTC — `.venv/bin/python -m bench.load {shlex.join(sys.argv[1:])}`".rstrip(),
        "",
        f"Machine: {', '.join(f'{k} {v}' for k, v in m.items())}, load average at start {load_start}, at end "
        f"{loadavg()}",
        "",
        f"{args.visitors} visitors for {args.seconds:.0f} s (half gradio_client `/synthesize`, half the OpenAI client, "
        f"wav), {args.long_share:.0%} long texts (12 sentences) and the rest short, NFE 7, tiny random model, default "
        "settings (F5_CONCURRENCY auto = 4 on this CPU, F5_QUEUE_MAX 32). Latency in seconds.",
        "",
        "| interface | text | answered | p50 | p90 | p99 | max |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (interface, kind), values in sorted(latencies.items()):
        lines.append(
            f"| {interface} | {kind} | {len(values)} | {percentile(values, 50):.2f} | "
            f"{percentile(values, 90):.2f} | {percentile(values, 99):.2f} | {max(values):.2f} |"
        )
    rss_mb = [r / 2**20 for _, r in rss]
    settled = rss_mb[len(rss_mb) // 4 :] or rss_mb
    lines += [
        "",
        f"- Requests: {outcomes['answered']} answered, {outcomes['busy']} told busy, {outcomes['failed']} failed.",
        f"- App RSS: {rss_mb[0]:.0f} MB at the start, peak {max(rss_mb):.0f} MB, {rss_mb[-1]:.0f} MB at the end "
        f"(after the first quarter: {min(settled):.0f}-{max(settled):.0f} MB, median {statistics.median(settled):.0f})"
        if rss_mb
        else "- App RSS: not sampled",
    ]
    lines += [f"- failure: {f}" for f in failures[:20]]
    return lines


if __name__ == "__main__":
    sys.exit(main())
