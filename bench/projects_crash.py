"""The crash bench: a studio process rendering a project is SIGKILLed at random moments and started again, then the
store is checked for what a crash could break.

    python -m bench.projects_crash [--kills 10] [--segments 40] [--max-delay 3] [--seed 1] [--no-write]

A tiny random-weight model on the CPU (inference/model/random_weights.py; the figures are about the store, not the
audio). The parent creates a project of `segments` sentences in a scratch store; then `kills` times it starts a
studio process (`--child`: Projects.start() on that folder, the local renderer), waits until that process says it
renders, lets it run a random 0..max-delay s and SIGKILLs it. Before each restart it reads the store read-only:
segments left `rendering` (the crash caught one mid-render) and files no row names (a take written, its commit never
made; removed when the next process opens the store). A last process renders the rest. Then it counts, target 0:

- lost: segments not `done`, or whose kept take's file is missing or does not read as audio;
- duplicated: a segment with more than one kept take, or with more than one take (nothing is edited here, so every
  take is of one revision: a second one would be the same render recorded twice);
- half-written: files under audio/ that do not read as WAV, and temporary files left behind.

Appends to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .common import SCRATCH, SHORT_REF_TEXT, short_ref_wav
from .report import append_results
from .weights import REPO

READY = "rendering"  # the line a child prints once its renderer runs
FAST = {"nfe_step": 4}


def settings(root: Path):
    from inference import EngineSettings

    model = root / "model" / "custom"
    return EngineSettings(
        model=str(model / "model.yaml"),
        ckpt=str(model / "model.safetensors"),
        vocab=str(model / "vocab.txt"),
        vocoder=str(model / "vocos"),
        device="cpu",
        voices_dir=root / "voices",
        projects_dir=root / "projects",
    )


def child(root: Path) -> int:
    """A studio process: open the store, render until the project is done (or the parent kills it)."""
    from inference import Engine
    from inference.projects.render import Projects

    engine = Engine(settings(root))
    engine.load()  # the kills land while segments render, not while the model loads
    projects = Projects(engine, root / "projects").start()
    print(READY, flush=True)
    while (s := projects.all()[0]).done + s.failed < s.total:
        time.sleep(0.05)
    projects.close()
    return 0


def prepare(root: Path, segments: int) -> None:
    from inference import Engine
    from inference.model.random_weights import build
    from inference.projects.render import Projects

    shutil.rmtree(root, ignore_errors=True)
    build(root / "model")
    engine = Engine(settings(root))
    engine.save_voice("narrator", short_ref_wav(), SHORT_REF_TEXT)
    projects = Projects(engine, root / "projects")  # not started: the children render
    text = "\n\n".join(f"Part {i}. The keeper climbed the stairs and lit the lamp." for i in range(segments))
    projects.create("Crash", text, "narrator", None, FAST)
    projects.close()


def start(root: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "bench.projects_crash", "--child", str(root)]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log.open("a"), text=True)


def between(root: Path) -> tuple[int, int]:
    """(segments left rendering, files no row names), read without the writer's lock."""
    db = sqlite3.connect(f"file:{root / 'projects' / 'projects.db'}?mode=ro", uri=True)
    try:
        rendering = db.execute("SELECT COUNT(*) FROM segments WHERE state = 'rendering'").fetchone()[0]
        named = {r[0] for r in db.execute("SELECT audio FROM takes UNION SELECT audio FROM segments")}
    finally:
        db.close()
    audio = root / "projects" / "audio"
    files = {p.relative_to(root / "projects").as_posix() for p in audio.glob("*/*")} if audio.is_dir() else set()
    return rendering, len(files - named)


def check(root: Path) -> dict[str, int]:
    import soundfile as sf

    folder = root / "projects"
    db = sqlite3.connect(f"file:{folder / 'projects.db'}?mode=ro", uri=True)
    try:
        segs = db.execute("SELECT id, state, audio FROM segments").fetchall()
        takes = dict(db.execute("SELECT segment, COUNT(*) FROM takes GROUP BY segment").fetchall())
        kept = dict(db.execute("SELECT segment, COUNT(*) FROM takes WHERE kept GROUP BY segment").fetchall())
    finally:
        db.close()

    def readable(path: Path) -> bool:
        try:
            return sf.info(str(path)).frames > 0
        except Exception:
            return False

    lost = sum(1 for _, state, audio in segs if state != "done" or not audio or not readable(folder / audio))
    duplicated = sum(1 for sid, _, _ in segs if kept.get(sid, 0) > 1 or takes.get(sid, 0) > 1)
    files = list((folder / "audio").glob("*/*"))
    half = sum(1 for p in files if p.suffix == ".tmp" or not readable(p))
    return {"segments": len(segs), "lost": lost, "duplicated": duplicated, "half-written": half, "files": len(files)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--segments", type=int, default=40)
    p.add_argument("--max-delay", type=float, default=3.0, help="a kill lands 0..this many s after the start")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    if args.child:
        return child(args.child)
    root, chance = SCRATCH / "projects-crash", random.Random(args.seed)
    prepare(root, args.segments)
    log = root / "children.log"
    mid, orphans, done_at_kill = 0, 0, []
    t0 = time.perf_counter()
    for i in range(args.kills):
        proc = start(root, log)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != READY:
            raise SystemExit(f"the studio process did not start; see {log}")
        time.sleep(chance.uniform(0, args.max_delay))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        rendering, stray = between(root)
        mid, orphans = mid + (rendering > 0), orphans + stray
        now = check(root)
        done_at_kill.append(now["segments"] - now["lost"])
        print(f"kill {i + 1}: {done_at_kill[-1]} done, {rendering} left rendering, {stray} stray files", flush=True)
    proc = start(root, log)
    if proc.wait(1800) != 0:
        raise SystemExit(f"the last studio process failed; see {log}")
    figures = check(root)
    elapsed = time.perf_counter() - t0
    command = f"python -m bench.projects_crash --kills {args.kills} --segments {args.segments} " + (
        f"--max-delay {args.max_delay:g} --seed {args.seed}"
    )
    lines = [
        f"## Crash bench (bench/projects_crash.py), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`{command}`: tiny random model, CPU; {args.kills} SIGKILLs of the rendering studio process, each restarted "
        f"({elapsed:.0f} s in all). Segments done at each kill: {', '.join(map(str, done_at_kill))}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| segments | {figures['segments']} |",
        f"| kills that caught a segment mid-render (left `rendering`) | {mid} of {args.kills} |",
        f"| stray files found after a kill (removed on the next open) | {orphans} |",
        f"| lost (not done, or audio missing/unreadable; target 0) | {figures['lost']} |",
        f"| duplicated (more than one take or kept take; target 0) | {figures['duplicated']} |",
        f"| half-written files at the end (target 0) | {figures['half-written']} of {figures['files']} |",
        "",
    ]
    print("\n".join(lines))
    if not args.no_write:
        append_results("\n".join(lines) + "\n")
    bad = figures["lost"] + figures["duplicated"] + figures["half-written"]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
