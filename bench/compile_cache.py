"""Compiled once per volume: how long a start takes to be compiled with an empty cache and with each kind of cache.

    python -m bench.compile_cache [--runs 1]

Each start is a fresh process (an Engine with F5_COMPILE on, its cache in a folder of ours) that answers one request
while compiling in the background, then waits for "compiled" and times a chunk eager and compiled. The starts:
  empty      an empty cache folder (the first start on a new volume)
  both       the folder the empty start left (Inductor's cache + save_cache_artifacts): a later start
  artifacts  only artifacts.bin copied into an empty folder (load_cache_artifacts alone)
  inductor   only Inductor's folder (TORCHINDUCTOR_CACHE_DIR alone)
Printed per start: seconds from load to "compiled" (median of --runs), its ratio to the empty start, Inductor's FX
graph cache misses (graphs compiled) and hits, and the compiled/eager time per chunk.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = "A sentence of ordinary length, to time one chunk eager and compiled."


def child(folder: Path, ref_audio: Path) -> None:
    """One start (its settings from the environment, as the server reads them): load, answer a request while
    compiling, wait for compiled, try new text lengths, time a chunk each way; prints what it measured as JSON."""
    from torch._dynamo.utils import counters

    from inference import Engine, EngineSettings, Reference, SynthesisOptions, SynthesisRequest

    settings = EngineSettings.from_env(compile=True, compile_cache=folder)
    engine = Engine(settings)
    ref = Reference(ref_audio, "Some call me nature, others call me mother nature.")
    request = SynthesisRequest(TEXT, ref, SynthesisOptions(seed=1, nfe_step=8))
    t0 = time.perf_counter()
    engine.load()
    engine.synthesize(request)
    answered = time.perf_counter() - t0
    answered_while = engine.status().compile
    assert engine.compilation is not None
    state = engine.compilation.wait()
    compiled_s = time.perf_counter() - t0
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu_s = sum(u.ru_utime + u.ru_stime for u in used)  # the C++ compilers' too: less noisy than wall on a busy box
    graphs, misses = counters["stats"]["unique_graphs"], counters["inductor"]["fxgraph_cache_miss"]
    for text in ("Short.", "A rather longer sentence than the others, to change every shape in the model once more."):
        engine.synthesize(SynthesisRequest(text, ref, SynthesisOptions(seed=2, nfe_step=8)))
    new_lengths = counters["stats"]["unique_graphs"] - graphs + counters["inductor"]["fxgraph_cache_miss"] - misses

    def per_chunk(transformer: object) -> float:
        engine.load().tts.transformer = transformer
        times = []
        for _ in range(3):
            s = time.perf_counter()
            engine.synthesize(request)
            times.append(time.perf_counter() - s)
        return statistics.median(times)

    compiled = engine.load().tts.transformer
    eager = getattr(compiled, "_orig_mod", compiled)
    ratio = per_chunk(compiled) / per_chunk(eager)
    inductor = counters["inductor"]  # misses: graphs Inductor compiled (hits: loaded from the cache)
    print(json.dumps({
        "state": state, "compiled_s": compiled_s, "answered_s": answered, "cpu_s": cpu_s,
        "answered_while": answered_while,
        "misses": misses, "hits": inductor["fxgraph_cache_hit"], "new_length_compiles": new_lengths,
        "graphs": counters["stats"]["unique_graphs"], "compiled_over_eager": ratio,
    }))  # fmt: skip


def tone(path: Path) -> Path:
    """A 3 s tone as the reference (the random models' audio is noise anyway)."""
    import numpy as np
    import soundfile as sf

    t = np.arange(24000 * 3) / 24000
    sf.write(path, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 24000)
    return path


def start(folder: Path, env: dict[str, str] | None = None, timeout: float = 900) -> dict:
    """One start in a process of its own (`env`: its environment, default ours), its cache in `folder`."""
    env = {k: v for k, v in (os.environ if env is None else env).items() if k != "TORCHINDUCTOR_CACHE_DIR"}
    folder.mkdir(parents=True, exist_ok=True)
    ref = tone(folder.parent / f"{folder.name}-ref.wav")
    cmd = [sys.executable, "-m", "bench.compile_cache", "--child", str(folder), str(ref)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode:
        raise RuntimeError(f"a start failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def tiny_env(weights: Path) -> dict[str, str]:
    """The environment of a start on the tiny model written by random_weights.build(weights), on the CPU."""
    custom = weights / "custom"
    return {
        **os.environ, "F5_MODEL": str(custom / "model.yaml"), "F5_CKPT": str(custom / "model.safetensors"),
        "F5_VOCAB": str(custom / "vocab.txt"), "F5_VOCODER": str(custom / "vocos"), "F5_DEVICE": "cpu",
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        return child(Path(args.child[0]), Path(args.child[1]))
    from inference.model.random_weights import build

    work = Path(tempfile.mkdtemp(prefix="compile-bench-"))
    env = tiny_env(build(work / "weights")["root"])
    results: dict[str, list[dict]] = {k: [] for k in ("empty", "both", "artifacts", "inductor")}
    for run in range(args.runs):
        base = work / f"run{run}"
        results["empty"].append(start(base / "empty", env))
        results["both"].append(start(base / "empty", env))
        (key,) = (base / "empty").iterdir()  # the one cache folder (its key)
        (base / "artifacts" / key.name).mkdir(parents=True)
        shutil.copy(key / "artifacts.bin", base / "artifacts" / key.name / "artifacts.bin")
        results["artifacts"].append(start(base / "artifacts", env))
        shutil.copytree(key / "inductor", base / "inductor" / key.name / "inductor")
        results["inductor"].append(start(base / "inductor", env))
    empty = statistics.median(r["compiled_s"] for r in results["empty"])
    empty_cpu = statistics.median(r["cpu_s"] for r in results["empty"])
    print(f"{'start':10} {'compiled s':>10} {'/ empty':>8} {'CPU s':>6} {'/ empty':>8} {'misses':>6} {'hits':>5} "
          f"{'answered while':>15} {'c/e':>5}")  # fmt: skip
    print("(compiled s: wall, from the load to compiled; CPU s: the process's and its compilers' until then;")
    print(" misses: graphs Inductor compiled; c/e: compiled / eager seconds per chunk)")
    for name, rs in results.items():
        s = statistics.median(r["compiled_s"] for r in rs)
        r = rs[-1]
        cpu = statistics.median(r["cpu_s"] for r in rs)
        print(
            f"{name:10} {s:10.1f} {s / empty:8.2f} {cpu:6.1f} {cpu / empty_cpu:8.2f} {r['misses']:6d} {r['hits']:5d} "
            f"{r['answered_while']:>15} "
            f"{statistics.median(x['compiled_over_eager'] for x in rs):5.2f}"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
