"""Shared pieces: texts, references, the environment every subprocess gets, RSS sampling, events, statistics."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from .weights import BENCH_DIR, CACHE, HF_HOME, REPO

PY = sys.executable
EVENT = "@@BENCH "  # workers print one JSON object per line after this prefix; everything else is log
LOG_DIR = CACHE / "logs"
SCRATCH = CACHE / "scratch"  # working directory of the apps and temporary files (never the repo root)

REF_TEXT = "Some call me nature, others call me mother nature."  # basic_ref_en.wav, as f5_tts ships it
SHORT_REF_TEXT = "Some call me nature."  # its first 2.45 s (a pause follows "nature,"): cheaper per step
SHORT_REF_SECONDS = 2.45
SEED = 4321

PASSAGE = (
    "The quick brown fox jumps over the lazy dog near the quiet river bank while the evening sun sets slowly "
    "behind the distant hills and the birds return home to their nests for the night and the village lights "
    "come on one by one along the winding road that leads to the old stone bridge"
).split()

# Long text: sentences without commas, so both pipelines' chunkers split them the same way.
LONG_SENTENCES = [  # each under the quick chunk cap (24 bytes) and two never fit together
    "The sun is warm today.",
    "Birds sing in the trees.",
    "We walk to the lake.",
    "The water is calm.",
    "A boat drifts past us.",
    "Children laugh and play.",
    "The wind turns cold.",
    "We head back home.",
    "Dinner is on the table.",
    "The lamps glow softly.",
    "Night falls on the hill.",
    "Stars fill the sky.",
]
FULL_LONG_SENTENCES = [
    "The morning began quietly, with a pale light spreading slowly across the fields and the river below.",
    "By the time the first bus arrived, the market square was already full of voices and the smell of bread.",
    "Nobody in the village could remember a spring as warm as this one, and the old men said so every day.",
    "She walked along the harbour wall, counting the boats and wondering which of them would sail tonight.",
    "A letter had arrived the week before, written in a careful hand she had not seen for many years.",
    "It asked her to come back to the house by the lake, where the summers of her childhood had been spent.",
    "Of course she had hesitated, because going back is never as simple as the word makes it sound.",
    "But in the end curiosity won, as it usually does, and she bought a ticket for the evening train.",
    "The carriage was almost empty, and the landscape outside turned from grey to gold as the sun went down.",
    "When she finally arrived, the station master greeted her by name, as though she had never left at all.",
    "The house was smaller than she remembered, yet every window still caught the light in the same way.",
    "Inside, on the kitchen table, someone had left a pot of tea, still warm, and two cups waiting to be filled.",
]


def text_of(chars: int) -> str:
    """A sentence of about `chars` characters (whole words, ends with a full stop, at least 10 bytes)."""
    words: list[str] = []
    for word in PASSAGE * 20:
        if words and len(" ".join(words + [word])) + 1 > chars:
            break
        words.append(word)
    text = " ".join(words)
    while len(text) < 9:
        text += " yes"
    return text[0].upper() + text[1:] + "."


def full_ref_wav() -> Path:
    return Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))


def short_ref_wav() -> Path:
    """The first SHORT_REF_SECONDS of basic_ref_en.wav ("Some call me nature,"), written once."""
    path = CACHE / "ref_short.wav"
    if not path.is_file():
        import soundfile as sf

        wave, sr = sf.read(str(full_ref_wav()), dtype="int16")
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), wave[: int(SHORT_REF_SECONDS * sr)], sr, subtype="PCM_16")
    return path


def reference(short: bool) -> tuple[Path, str]:
    return (short_ref_wav(), SHORT_REF_TEXT) if short else (full_ref_wav(), REF_TEXT)


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every subprocess: the bench HF cache, offline, no analytics, no F5_* overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("F5_") and k not in ("GRADIO_SERVER_PORT",)}
    env.update(
        HF_HOME=str(HF_HOME),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        VOICES_DIR=str(SCRATCH / "voices"),
        PYTHONPATH=str(REPO),
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def emit(**event: Any) -> None:
    """Report one result to the parent (workers only)."""
    event.setdefault("t", time.time())
    sys.stdout.write(EVENT + json.dumps(event) + "\n")
    sys.stdout.flush()


@dataclass
class WorkerResult:
    events: list[dict]
    rc: int | None
    timed_out: bool
    spawned: float  # time.time() just before the process was started
    log: Path
    wall: float = 0.0

    def first(self, kind: str) -> dict | None:
        return next((e for e in self.events if e.get("kind") == kind), None)

    def all(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("kind") == kind]

    def tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def run_worker(kind: str, args: dict, timeout: float, name: str) -> WorkerResult:
    """Run `python -m bench.workers kind args` in a fresh process; collect its events (kept even on timeout)."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"{name}.log"
    events: list[dict] = []
    with open(log, "w") as log_file:
        spawned = time.time()
        proc = subprocess.Popen(
            [PY, "-m", "bench.workers", kind, json.dumps(args)],
            cwd=str(SCRATCH),
            env=bench_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        killed: list[bool] = []
        timer = threading.Timer(max(1.0, timeout), lambda: (killed.append(True), _kill(proc)))
        timer.start()
        try:
            for line in proc.stdout:  # type: ignore[union-attr]
                if line.startswith(EVENT):
                    try:
                        events.append(json.loads(line[len(EVENT) :]))
                    except json.JSONDecodeError:
                        log_file.write(line)
                else:
                    log_file.write(line)
            proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:  # interrupted (Ctrl-C): do not leave the worker behind
                _kill(proc)
                proc.wait()
            timed_out = bool(killed)
    result = WorkerResult(events, proc.returncode, timed_out, spawned, log, time.time() - spawned)
    return result


def _kill(proc: subprocess.Popen) -> None:
    """Stop a worker that ran past its timeout: the process group it leads (it started it), then it."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


class RssSampler:
    """Peak RSS of this process while a block runs: a sampling thread (every 5 ms) and getrusage's maxrss."""

    def __init__(self, interval: float = 0.005) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self.before = self._proc.memory_info().rss

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            self._stop.wait(self._interval)

    def __enter__(self) -> RssSampler:
        self.before = self._proc.memory_info().rss
        self.peak = self.before
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        import resource

        self._stop.set()
        self._thread.join()
        self.after = self._proc.memory_info().rss
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
        self.sampled_peak = self.peak
        self.peak = max(self.peak, maxrss, self.after)


def rss_now() -> int:
    import psutil

    return psutil.Process().memory_info().rss


def tree_rss(pid: int) -> int:
    """RSS of a process and its children."""
    import psutil

    try:
        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])
    except psutil.Error:
        return 0


# ---- statistics ---------------------------------------------------------------------------------------------
@dataclass
class Series:
    values: list[float] = field(default_factory=list)

    def add(self, v: float | None) -> None:
        if v is not None:
            self.values.append(float(v))

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def min(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def max(self) -> float | None:
        return max(self.values) if self.values else None


# ---- machine ------------------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu, flags = "?", ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        m = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
        cpu = m.group(1).strip() if m else "?"
        m = re.search(r"^flags\s*:\s*(.+)$", info, re.M)
        flags = m.group(1) if m else ""
    except OSError:
        pass
    versions = {}
    for pkg in ("torch", "f5-tts", "gradio", "vocos"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:
            versions[pkg] = "?"
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = 0.0
    bf16 = [f for f in ("avx512_bf16", "amx_bf16", "amx_tile") if f in flags.split()]
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{mem:.0f} GiB",
        "python": platform.python_version(),
        "torch": versions["torch"],
        "f5-tts": versions["f5-tts"],
        "gradio": versions["gradio"],
        "vocos": versions["vocos"],
        "bf16 flags": ",".join(bf16) or "none",
        "kernel": platform.release(),
    }


def cpu_bf16_flags() -> list[str]:
    try:
        flags = re.search(r"^flags\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    except OSError:
        return []
    names = flags.group(1).split() if flags else []
    return [f for f in ("avx512_bf16", "amx_bf16") if f in names]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def prewarm_page_cache(paths: list[Path]) -> None:
    """Read the weight files once so neither side pays a cold disk read (both then read from the page cache)."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass


__all__ = ["BENCH_DIR", "CACHE", "HF_HOME", "REPO"]
