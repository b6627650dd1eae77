"""The tax at the door: what a request through each interface costs beyond the engine alone, on the same weights.

    .venv/bin/python -m bench.door [--full] [--runs 3] [--nfe 7] [--levels 1,4,8] [--before PATH] [--no-write]

Sides, each with the same short text, saved voice and NFE:
  engine          Studio.synthesize in this process (the reference: every other side is a ratio to it)
  gradio_client   `python app.py` launched, the real gradio_client's /synthesize (one Client per visitor)
                  (and once more with download_files=False: the answer without fetching its audio and picture)
  openai          the same app, the real OpenAI client's /v1/audio/speech (wav, read to the end)
  serverless      the worker's own handler in this process (as bench/workers.py does), jobs gathered at once
Per side: latency at concurrency 1 (median) and throughput at each level (requests/s: n released together by a
barrier, the median wall time of the runs), all printed as ratios to the engine's. The sides take turns in every
run, so a shared machine's load falls on all of them alike. Then one answer taken apart in this process: the
handler, the engine alone, the picture, and what Gradio does to the outputs (files written to its cache), each beside
the way it was done before (the picture as webp; the Generate's WAV probed by ffprobe).

--before PATH: instead, the app of the checkout at PATH against this checkout's, both up at once, taking turns request
by request at concurrency 1 (gradio_client with and without fetching its files, and the OpenAI client as the control).

--full uses the full-size random F5TTS_v1_Base (bench/weights.py builds it once), else the tiny random model (its
audio is noise; the figure is the interface overhead, not the model's arithmetic). Appended to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import REF_TEXT, SHORT_REF_TEXT, full_ref_wav, loadavg, machine, short_ref_wav
from .fairness import SHORT, launch
from .gpu import concurrent
from .report import RESULTS
from .weights import CACHE, HF_HOME, ensure

SIDES = ("engine", "gradio_client", "gradio_client, files not fetched", "openai", "serverless")


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def before_after(env: dict[str, str], before: Path, nfe: int, requests: int) -> dict[str, dict[str, float]]:
    """gradio_client's /synthesize and the OpenAI client at concurrency 1, against the app of this checkout and the
    app of the checkout at `before`, both up at once, taking turns request by request (medians, seconds)."""
    from gradio_client import Client
    from openai import OpenAI

    ways = ("gradio_client", "gradio_client, files not fetched", "openai")
    out: dict[str, dict[str, list[float]]] = {way: {} for way in ways}
    with launch(env, before, "door") as old, launch(env, name="door") as new:
        apps = {"before": old, "after": new}
        clients = {side: Client(base, verbose=False) for side, base in apps.items()}
        bare = {side: Client(base, verbose=False, download_files=False) for side, base in apps.items()}
        oas = {side: OpenAI(base_url=f"{b}/v1", api_key="unused", max_retries=1) for side, b in apps.items()}

        def call(way: str, side: str, k: int) -> None:
            if way == "openai":
                speech = oas[side].audio.speech
                options = {"nfe_step": nfe, "seed": k}
                speech.create(
                    model="tts-1", voice="bench", input=SHORT, response_format="wav", extra_body=options
                ).read()
                return
            client = clients[side] if way == "gradio_client" else bare[side]
            client.predict(None, "", SHORT, k, nfe_step=nfe, voice="bench", api_name="/synthesize")

        for k in range(requests + 1):
            for side in ("before", "after") if k % 2 else ("after", "before"):
                for way in ways:
                    t0 = time.perf_counter()
                    call(way, side, k)
                    if k:  # the first warms
                        out[way].setdefault(side, []).append(time.perf_counter() - t0)
    return {way: {side: med(v) for side, v in sides.items()} for way, sides in out.items()}


def measure(walls: dict[str, Callable[[int], float]], levels: list[int], runs: int) -> dict[str, dict[str, Any]]:
    """Each side's latency at concurrency 1 and requests/s at each level (medians of `runs`). The sides take turns
    within every run (engine, gradio_client, openai, serverless, engine, ...), so that the load of a shared machine
    falls on them alike. walls[side](n): the wall time of n requests released together."""
    for wall in walls.values():
        wall(1)  # warm
    times: dict[str, dict[int, list[float]]] = {side: {n: [] for n in levels} for side in walls}
    for run in range(runs):
        for n in levels:
            for side, wall in walls.items():
                times[side][n].append(wall(n))
        print(f"  run {run + 1}/{runs}", flush=True)
    return {side: {"latency": med(t[1]), "rate": {n: n / med(t[n]) for n in levels}} for side, t in times.items()}


def setup(full: bool) -> dict[str, str]:
    """The environment of both this process and the app: weights, a voices folder with the voice "bench"."""
    voices = Path(tempfile.mkdtemp(prefix="door-voices-"))
    tiny = CACHE / "tiny"
    if full:
        ref, ref_text, env = short_ref_wav(), SHORT_REF_TEXT, {"HF_HOME": str(HF_HOME)}
    else:
        ref, ref_text = full_ref_wav(), REF_TEXT
        env = {"HF_HOME": str(tiny / "hf"), "F5_MODEL": str(tiny / "custom" / "model.yaml")}
    env |= {"HF_HUB_OFFLINE": "1", "VOICES_DIR": str(voices), "F5_DEVICE": "cpu"}
    os.environ.update(env)  # before huggingface_hub is imported: it reads HF_HOME once
    if full:
        ensure()
    elif not (tiny / "custom" / "model.yaml").is_file():
        from inference.model.random_weights import build

        build(tiny)
    (voices / "bench.wav").write_bytes(Path(ref).read_bytes())
    (voices / "bench.txt").write_text(ref_text, encoding="utf-8")
    return env


def sides(studio: Any, base: str, nfe: int, most: int) -> dict[str, Callable[[int], float]]:
    """wall(n) per side: the engine and the serverless handler in this process, the others through the app."""
    from gradio_client import Client
    from openai import OpenAI

    from serverless.handler import Worker

    worker = Worker(studio)
    clients = [Client(base, verbose=False) for _ in range(most)]  # one visitor, one session, each
    bare = [Client(base, verbose=False, download_files=False) for _ in range(most)]  # the answer, not its files
    # one retry: a pooled connection idle past uvicorn's keep-alive (5 s, while the other sides take their turn) can
    # be closed by the server just as the client reuses it
    oa = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=1, timeout=600)

    def engine(k: int) -> None:
        studio.synthesize(studio.request(SHORT, voice="bench", options={"nfe_step": nfe, "seed": k}))

    def via_gradio(k: int) -> None:
        clients[k].predict(None, "", SHORT, k, nfe_step=nfe, voice="bench", api_name="/synthesize")

    def via_gradio_bare(k: int) -> None:
        bare[k].predict(None, "", SHORT, k, nfe_step=nfe, voice="bench", api_name="/synthesize")

    def via_openai(k: int) -> None:
        oa.audio.speech.create(
            model="tts-1", voice="bench", input=SHORT, response_format="wav", extra_body={"nfe_step": nfe, "seed": k}
        ).read()

    def serverless(n: int) -> float:
        async def jobs() -> float:
            start = time.perf_counter()
            inputs = [{"text": SHORT, "voice": "bench", "nfe_step": nfe, "seed": k} for k in range(n)]
            out = await asyncio.gather(*(worker.handler({"id": str(k), "input": i}) for k, i in enumerate(inputs)))
            assert all("audio_base64" in r for r in out), out[0]
            return time.perf_counter() - start

        return asyncio.run(jobs())

    def threads(call: Callable[[int], Any]) -> Callable[[int], float]:
        return lambda n: concurrent(call, n, timeout=600)[0]

    return {
        "engine": threads(engine),
        "gradio_client": threads(via_gradio),
        "gradio_client, files not fetched": threads(via_gradio_bare),
        "openai": threads(via_openai),
        "serverless": serverless,
    }


def taken_apart(studio: Any, nfe: int, runs: int) -> dict[str, float]:
    """One answer's parts in this process (medians, seconds): the /synthesize handler as Gradio calls it, the picture
    alone, and Gradio's postprocessing of the outputs (files written to its cache), each as the studio does it now
    beside the way it did before (webp, Gradio's default; the Generate's named WAV probed by ffprobe)."""
    import gradio as gr

    from ui import history
    from ui.clone_api import CloneHandlers
    from ui.handlers import PICTURE_FORMAT, spectrogram_image

    handlers = CloneHandlers(studio)
    parts: dict[str, list[float]] = {}
    with gr.Blocks():
        image, webp = gr.Image(format=PICTURE_FORMAT), gr.Image()
        probed, served = (
            gr.Audio(type="numpy", format="wav"),
            history.served_as_is(gr.Audio(type="numpy", format="wav")),
        )
    for k in range(runs + 1):
        times = [("start", time.perf_counter())]

        def mark(name: str, times: list = times) -> None:
            times.append((name, time.perf_counter()))

        take, _, _, _ = handlers.synthesize(None, "", SHORT, k, nfe_step=nfe, voice="bench")
        mark("handler")
        result = studio.synthesize(studio.request(SHORT, voice="bench", options={"nfe_step": nfe, "seed": k}))
        mark("engine alone (the same request)")
        picture = spectrogram_image(result.mel)
        mark("picture")
        served.postprocess(take)
        mark("the take's tagged WAV for the page")
        image.postprocess(picture)
        mark(f"picture into the cache ({PICTURE_FORMAT})")
        webp.postprocess(picture)
        mark("picture into the cache (webp, before)")
        named = history.named_result(result.wave, result.sample_rate, "bench", SHORT, k)
        mark("Generate: the named WAV")
        served.postprocess(named)
        mark("Generate: the named WAV for the page")
        probed.postprocess(named)
        mark("Generate: the named WAV for the page (probed, before)")
        for (_, t0), (name, t1) in zip(times, times[1:], strict=False):
            if k:  # the first run warms
                parts.setdefault(name, []).append(t1 - t0)
    return {name: med(v) for name, v in parts.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.door", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--full", action="store_true", help="full-size random weights (default: the tiny model)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--nfe", type=int, default=7, choices=(7, 16, 32), help="the UI's presets")
    p.add_argument("--levels", default="1,4,8", help="concurrency levels (1 first)")
    p.add_argument(
        "--before",
        type=Path,
        help="a checkout of the studio before a change (e.g. `git worktree add /tmp/before <commit>`): only its app "
        "against this one's, both up, taking turns request by request, through gradio_client and the OpenAI client",
    )
    p.add_argument("--no-write", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = p.parse_args(argv)
    levels = sorted({1, *(int(x) for x in args.levels.split(","))})
    started, load_start = dt.datetime.now(dt.UTC), loadavg()
    env = setup(args.full)
    if args.before:
        lines = report_before_after(args, before_after(env, args.before, args.nfe, 4 * args.runs), started, load_start)
        return write(lines, args.no_write)
    from inference import EngineSettings, Studio

    studio = Studio.from_settings(EngineSettings.from_env(os.environ))
    with launch(env, name="door") as base:
        results = measure(sides(studio, base, args.nfe, max(levels)), levels, args.runs)
    parts = taken_apart(studio, args.nfe, args.runs)
    return write(report(args, levels, results, parts, started, load_start), args.no_write)


def write(lines: list[str], no_write: bool) -> int:
    print("\n".join(lines))
    if not no_write:
        with RESULTS.open("a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(lines) + "\n")
    return 0


def heading(args: argparse.Namespace, started: dt.datetime, load_start: str) -> list[str]:
    command = "python -m bench.door " + shlex.join(sys.argv[1:])
    m = machine()
    return [
        f"## {started:%Y-%m-%d %H:%M} UTC — `.venv/bin/{command.strip()}`",
        "",
        f"Machine: {', '.join(f'{k} {v}' for k, v in m.items())}, load average at start {load_start}, at end "
        f"{loadavg()}",
        "",
        f"Weights: {'full-size random F5TTS_v1_Base (337 M)' if args.full else 'tiny random model'}; NFE {args.nfe}; "
        f'text "{SHORT}"; saved voice; {args.runs} run(s) per figure; medians.',
        "",
    ]


def report_before_after(args: argparse.Namespace, ab: dict, started: dt.datetime, load_start: str) -> list[str]:
    lines = heading(args, started, load_start)
    lines += [
        f"Before: the app of `{args.before}`; after: this checkout's; {4 * args.runs} requests each, taking turns.",
        "",
        "| way in, concurrency 1 | before s | after s | after / before |",
        "|---|---:|---:|---:|",
    ]
    for way, r in ab.items():
        lines.append(f"| {way} | {r['before']:.3f} | {r['after']:.3f} | **{r['after'] / r['before']:.2f}x** |")
    return lines


def report(
    args: argparse.Namespace, levels: list[int], results: dict, parts: dict, started: dt.datetime, load_start: str
) -> list[str]:
    eng = results["engine"]
    head = " | ".join(f"c{n} req/s (x engine, x own c1)" for n in levels)
    lines = [
        *heading(args, started, load_start),
        f"| side | c1 latency s (x engine) | {head} |",
        "|---|---:|" + "---:|" * len(levels),
    ]
    for side in SIDES:
        r = results[side]
        cells = [
            f"{r['rate'][n]:.2f} ({r['rate'][n] / eng['rate'][n]:.2f}x, {r['rate'][n] / r['rate'][1]:.2f}x)"
            for n in levels
        ]
        lines.append(f"| {side} | {r['latency']:.3f} ({r['latency'] / eng['latency']:.2f}x) | {' | '.join(cells)} |")
    extra = results["gradio_client"]["latency"] - eng["latency"]
    lines += [
        "",
        f"gradio_client pays {extra:.3f} s over the engine per request. One answer taken apart in process (medians):",
        "",
        "| part | s |",
        "|---|---:|",
        *(f"| {name} | {seconds:.4f} |" for name, seconds in parts.items()),
    ]
    return lines


if __name__ == "__main__":
    sys.exit(main())
