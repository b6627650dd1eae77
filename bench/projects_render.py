"""Rendering a project on this CPU, on the full-size random F5TTS_v1_Base (bench/weights.py builds it once): the
rendering rate in seconds of audio per second, and a short Generate's latency while the book renders against alone.

    python -m bench.projects_render [--segments 4] [--nfe 4] [--runs 2] [--no-write]

In one process: the engine is loaded and warmed up; the short text is generated `runs` times alone (median); a
project of `segments` sentences (one segment each) is created in a scratch store and the renderer (projects/render.py)
renders it, timed from its first claim to its last take: the rate is the audio rendered over that time, with no
visitor. A second project then renders while the short text is generated `runs` times, each once a book segment is
under way (the scheduler has a run): that median against alone is the figure the background lane holds under 2x.
Appends to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime

from .common import SCRATCH, SHORT_REF_TEXT, machine, short_ref_wav
from .report import append_results
from .weights import REPO, ensure

SHORT = "Thank you, that is all for today."
SENTENCE = "The keeper climbed the stairs and lit the lamp."  # a segment about as long as the short text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--segments", type=int, default=4)
    p.add_argument("--nfe", type=int, default=4)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    built = ensure()
    from inference import Engine, EngineSettings, SynthesisOptions, SynthesisRequest
    from inference.projects.render import Projects

    root = SCRATCH / "projects-render"
    shutil.rmtree(root, ignore_errors=True)
    settings = EngineSettings(
        model=str(built["yaml"]),
        ckpt=str(built["ckpt"]),
        vocab=str(built["vocab"]),
        vocoder=str(built["vocoder"]),
        device="cpu",
        voices_dir=root / "voices",
        projects_dir=root / "projects",
    )
    engine = Engine(settings)
    engine.load()
    engine.save_voice("narrator", short_ref_wav(), SHORT_REF_TEXT)
    options = {"nfe_step": args.nfe, "seed": 7}
    short = SynthesisRequest(SHORT, engine.reference(voice="narrator"), SynthesisOptions(**options))
    engine.synthesize(short)  # warm-up

    def generate() -> float:
        t = time.perf_counter()
        engine.synthesize(short)
        return time.perf_counter() - t

    alone = [generate() for _ in range(args.runs)]
    print(f"alone: {alone}", file=sys.stderr, flush=True)
    projects = Projects(engine, settings.projects_folder).start()
    text = "\n\n".join(f"Part {i}. {SENTENCE}" for i in range(args.segments))
    t0 = time.perf_counter()
    quiet = projects.create("Quiet", text, "narrator", None, options)
    wait(lambda: projects.status(quiet).status == "done")
    render_s = time.perf_counter() - t0
    audio_s = sum(c.duration for c in projects.status(quiet).chapters)
    print(f"rendered {audio_s:.1f} s of audio in {render_s:.1f} s", file=sys.stderr, flush=True)

    busy = projects.create("Busy", text, "narrator", None, options)
    during = []
    for _ in range(args.runs):
        wait(lambda: engine.scheduler.running > 0 or projects.status(busy).status == "done")
        during.append(generate())
    busy_done = projects.status(busy).done
    projects.cancel(busy)
    projects.close()
    wait(lambda: not (engine.scheduler.running or engine.scheduler.waiting))  # nothing computing at exit

    rate = audio_s / render_s
    ratio = statistics.median(during) / statistics.median(alone)
    lines = [
        f"## Project rendering (bench/projects_render.py), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`python -m bench.projects_render --segments {args.segments} --nfe {args.nfe} --runs {args.runs}` on "
        f"{machine().get('cpu', 'this CPU')}, full-size random F5TTS_v1_Base, CPU, batch 1.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| rendering rate, no visitor | {rate:.3f} s of audio per s ({audio_s:.1f} s in {render_s:.1f} s, "
        f"{args.segments} segments) |",
        f"| short Generate alone (median of {args.runs}) | {statistics.median(alone):.2f} s "
        f"({', '.join(f'{x:.2f}' for x in alone)}) |",
        f"| short Generate while a book renders (median) | {statistics.median(during):.2f} s "
        f"({', '.join(f'{x:.2f}' for x in during)}); book segments done meanwhile: {busy_done} |",
        f"| ratio (target: at most 2x) | {ratio:.2f}x |",
        "",
    ]
    print("\n".join(lines))
    if not args.no_write:
        append_results("\n".join(lines) + "\n")
    return 0


def wait(condition, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the render did not get there in time")
        time.sleep(0.02)


if __name__ == "__main__":
    raise SystemExit(main())
