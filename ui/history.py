"""This browser session's takes: replay, download in WAV/MP3/FLAC, or reuse their settings.

The list lives in gr.State, so each visitor has their own, nothing is shared, and it is gone when the session
ends. It is bounded: the oldest take drops out once there are HISTORY_MAX.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from inference import FORMATS, encode_audio

HISTORY_MAX = 10  # takes kept per browser session
EXPORT_DIR: Path | None = None  # this process's own folder for downloads, made at the first export (export_dir)
EXPORT_MAX_AGE_S = 3600  # exported files older than this are removed at the next export
_export_lock = threading.Lock()
DOWNLOAD_WORDS = 5  # words of the text in a download's name
DOWNLOAD_TEXT_CHARS = 40  # characters of the text (and of the voice) in a download's name


@dataclass(frozen=True)
class Take:
    number: int  # 1, 2, 3... within the session
    text: str
    voice: str  # the saved voice's name, or "uploaded reference"
    seed: int
    settings: dict  # nfe_step, speed, cross_fade, cfg_strength, remove_silence
    sample_rate: int
    wave: np.ndarray = field(repr=False)
    elapsed_s: float = 0.0  # wall time of the generation

    @property
    def seconds(self) -> float:
        return len(self.wave) / self.sample_rate

    @property
    def rtf(self) -> float:
        """Real-time factor: generation time / audio duration (below 1 is faster than real time)."""
        return self.elapsed_s / max(self.seconds, 1e-6)

    def label(self) -> str:
        short = self.text if len(self.text) <= 40 else self.text[:39] + "…"
        return f"#{self.number} · seed {self.seed} · {short}"


def add_take(history: list[Take] | None, take: Take) -> list[Take]:
    """Newest first, at most HISTORY_MAX: add_take([t2, t1], t3) -> [t3, t2, t1]."""
    return [take, *(history or [])][:HISTORY_MAX]


def next_number(history: list[Take] | None) -> int:
    return max((t.number for t in history or []), default=0) + 1


def summary(take: Take) -> str:
    return (
        f"Generated **{take.seconds:.1f} s** of audio in **{take.elapsed_s:.1f} s** "
        f"(real-time factor {take.rtf:.2f}) · seed {take.seed}"
    )


def rows(history: list[Take] | None) -> list[list[Any]]:
    return [[t.number, t.text[:80], t.voice, t.seed, round(t.seconds, 1), round(t.rtf, 2)] for t in history or []]


def find(history: list[Take] | None, label: str | None) -> Take | None:
    return next((t for t in history or [] if t.label() == label), None)


def export(take: Take, fmt: str) -> Path:
    """Write the take as wav, mp3 or flac under export_dir() (old exports are pruned); returns the path."""
    return export_wave(take.wave, take.sample_rate, fmt, f"take-{take.number}-seed-{take.seed}")


def export_wave(wave: np.ndarray, sample_rate: int, fmt: str, stem: str) -> Path:
    """Write audio as `<stem>-<time>.<fmt>` (wav, mp3 or flac) under export_dir(), pruning old exports."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        fmt = "wav"
    return export_file(f"{stem}.{fmt}", encode_audio(wave, sample_rate, fmt))


def take_file(wave: np.ndarray, sample_rate: int, stem: str) -> str:
    """A take as an output component gets it: the studio's own WAV, tagged (what it is, its mark id), rather than
    samples that Gradio would write to a file untagged and rescaled to full scale."""
    return str(export_wave(wave, sample_rate, "wav", stem))


def export_dir() -> Path:
    """This process's own folder for downloads (`$TMPDIR/f5-studio-exports-<random>`), made at the first export and
    removed when the process exits: studios sharing a host never prune or overwrite each other's files."""
    global EXPORT_DIR
    with _export_lock:
        if EXPORT_DIR is None:
            EXPORT_DIR = Path(tempfile.mkdtemp(prefix="f5-studio-exports-"))
            atexit.register(shutil.rmtree, EXPORT_DIR, ignore_errors=True)
        EXPORT_DIR.mkdir(parents=True, exist_ok=True)  # again, if something removed it meanwhile
        return EXPORT_DIR


def export_file(name: str, data: bytes | str | Iterable[bytes]) -> Path:
    """Write a download under export_dir() as `name`, in a folder of its own (the browser saves it under that name);
    exports older than EXPORT_MAX_AGE_S are pruned first. `data` may come in pieces (a streamed export: written as
    they come). Returns the path."""
    root = export_dir()
    cutoff = time.time() - EXPORT_MAX_AGE_S
    for old in root.glob("*"):
        try:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        except OSError:
            continue
    folder = root / str(time.time_ns())
    folder.mkdir()
    path = folder / name
    if isinstance(data, (bytes, str)):
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path
    with path.open("wb") as out:
        for piece in data:
            out.write(piece)
    return path


def named_result(wave: np.ndarray, sample_rate: int, voice: str | None, text: str, seed: int) -> str:
    """A result for a player, as a WAV whose file name says what it is (download_stem): what the browser saves."""
    return str(export_wave(wave, sample_rate, "wav", download_stem(voice, text, seed)))


def download_stem(voice: str | None, text: str, seed: int) -> str:
    """A file name a visitor recognises: the voice (or the reference's file name), the first words, the seed.

    >>> download_stem("/tmp/gradio/ab12/basic_ref_en.wav", "Hello there, my friend! How are you today?", 7)
    'basic_ref_en-hello-there-my-friend-how-seed-7'
    """
    voice_part = Path(voice).stem if voice else "voice"
    words = re.findall(r"\w+", text.casefold())[:DOWNLOAD_WORDS]
    slug = "-".join(words)[:DOWNLOAD_TEXT_CHARS].strip("-")
    safe = re.sub(r"[^\w.-]+", "-", voice_part).strip("-.") or "voice"
    return "-".join(part for part in (safe[:DOWNLOAD_TEXT_CHARS], slug, f"seed-{seed}") if part)


def served_as_is(player: gr.Audio) -> gr.Audio:
    """`player` (a result's gr.Audio) serving a WAV that named_result wrote as it is; returns it. gr.Audio runs
    ffprobe on every file path it is given, to learn whether a browser can play it: a process started for every take
    (about 0.1 s), for a file that always can. (A subclass would do the same, but Gradio writes a .pyi stub next to
    the module of every component class it sees.)"""
    probe_then_serve = player.postprocess

    def postprocess(value: Any) -> Any:
        if isinstance(value, str | Path) and ours(value):
            return gr.FileData(path=str(value), orig_name=Path(value).name)
        return probe_then_serve(value)

    player.postprocess = postprocess  # type: ignore[method-assign]
    return player


def ours(path: str | Path) -> bool:
    """Whether `path` is a WAV that export_wave wrote in this process (16-bit PCM: every browser plays it)."""
    p = Path(path)
    return EXPORT_DIR is not None and p.suffix == ".wav" and p.is_file() and p.parent.parent == EXPORT_DIR
