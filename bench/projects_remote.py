"""The rendering rate of a project through the serverless path against rendering it in the studio's own process.

    python -m bench.projects_remote [--full] [--segments 24] [--batch 8] [--jobs 2] [--workers 1] [--nfe 4] [--no-write]

Local: Projects renders the project in this process (projects/render.py). Remote: the same project with
F5_RENDER_ENDPOINT set: the dispatcher (projects/remote.py) sends its batches through the runpod SDK's Endpoint client
to the stand-in for RunPod's endpoint API (tests/runpod_endpoint.py), and `workers` real worker processes of this
image (serverless/handler.py) take them from its queue. Both on this CPU, the same model (tiny random weights, or
with --full the full-size random F5TTS_v1_Base of bench/weights.py) and seeds; the workers are warmed up by one job
first. The rate is seconds of audio rendered per second of wall time, from create to the last take. On a CPU the
workers share the cores with this process: the figure shows what the serverless path costs (HTTP, base64, polling),
not what more GPUs add. Appends to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .common import SCRATCH, SHORT_REF_TEXT, machine, short_ref_wav
from .report import append_results
from .weights import REPO

SENTENCE = "The keeper climbed the stairs and lit the lamp."


def model(full: bool, root: Path) -> dict[str, Path]:
    if full:
        from .weights import ensure

        return ensure()
    from inference.model.random_weights import build

    return build(root / "model")


def rate(projects, text: str, options: dict) -> tuple[float, float]:
    """(seconds of audio, seconds of wall time) for the project from create to done."""
    t0 = time.perf_counter()
    pid = projects.create("Bench", text, "narrator", None, options)
    while (s := projects.status(pid)).status not in ("done", "failed"):
        time.sleep(0.05)
    if s.status != "done":
        raise SystemExit(f"the project ended {s.status}: {projects.store.review(pid)[:1]}")
    return sum(c.duration for c in s.chapters), time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="the full-size random model (default: tiny)")
    p.add_argument("--segments", type=int, default=24)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--nfe", type=int, default=4)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import runpod

    from inference import Engine, EngineSettings
    from inference.projects.render import Projects
    from serverless.endpoint import connect
    from tests.runpod_endpoint import serve_endpoint

    root = SCRATCH / "projects-remote"
    shutil.rmtree(root, ignore_errors=True)
    paths = model(args.full, root)
    files = {"model": str(paths["yaml"]), "ckpt": str(paths["ckpt"]), "vocab": str(paths["vocab"])}
    base = EngineSettings(**files, vocoder=str(paths["vocoder"]), device="cpu", voices_dir=root / "voices")
    options = {"nfe_step": args.nfe, "seed": 7}
    text = "\n\n".join(f"Part {i}. {SENTENCE}" for i in range(args.segments))

    engine = Engine(base)
    engine.save_voice("narrator", short_ref_wav(), SHORT_REF_TEXT)
    engine.load()
    local = Projects(engine, root / "local").start()
    rate(local, "Warm up.", options)
    local_audio, local_s = rate(local, text, options)
    local.close()
    print(f"local: {local_audio:.1f} s of audio in {local_s:.1f} s", file=sys.stderr, flush=True)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "F5_"))}
    env.update(
        F5_MODEL=files["model"], F5_CKPT=files["ckpt"], F5_VOCAB=files["vocab"], F5_VOCODER=str(paths["vocoder"])
    )
    env.update(F5_DEVICE="cpu", HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO), VOICES_DIR=str(root / "worker-voices"))
    log = (root / "workers.log").open("a")
    with serve_endpoint("bench", "bench-key") as endpoint:
        runpod.endpoint_url_base = endpoint.base
        procs = [
            subprocess.Popen(
                [sys.executable, "serverless/handler.py"],
                cwd=REPO,
                env={**env, **endpoint.queue.env()},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for _ in range(args.workers)
        ]
        try:
            settings = base.replace(
                render_endpoint="bench", render_api_key="bench-key", render_batch=args.batch, render_jobs=args.jobs
            )
            far = Projects(Engine(settings), root / "remote", endpoint=connect(settings)).start()
            rate(far, "Warm up.", options)  # the workers load their model
            remote_audio, remote_s = rate(far, text, options)
            far.close()
        finally:
            for proc in procs:
                proc.kill()
                proc.wait(30)
    print(f"remote: {remote_audio:.1f} s of audio in {remote_s:.1f} s", file=sys.stderr, flush=True)
    size = "full-size random F5TTS_v1_Base" if args.full else "tiny random model"
    lines = [
        "## Project rendering through the serverless path (bench/projects_remote.py), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`python -m bench.projects_remote{' --full' if args.full else ''} --segments {args.segments} --batch "
        f"{args.batch} --jobs {args.jobs} --workers {args.workers} --nfe {args.nfe}` on "
        f"{machine().get('cpu', 'this CPU')}, {size}, CPU; the endpoint is the local stand-in "
        "(tests/runpod_endpoint.py), its workers real processes of this image on the same cores.",
        "",
        "| path | audio | wall time | rate (s of audio per s) |",
        "|---|---|---|---|",
        f"| local (the studio's own renderer) | {local_audio:.1f} s | {local_s:.1f} s | {local_audio / local_s:.3f} |",
        f"| serverless ({args.workers} worker, batch {args.batch}, {args.jobs} jobs in flight) | {remote_audio:.1f} s "
        f"| {remote_s:.1f} s | {remote_audio / remote_s:.3f} |",
        "",
    ]
    print("\n".join(lines))
    if not args.no_write:
        append_results("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
