"""A project's exports, streamed from its segment files: each chapter (or the whole book) as WAV, MP3 or FLAC; the
book as one M4B (AAC in MP4) with chapter markers and title metadata; SRT and VTT captions timed by the segments'
own durations; a ZIP of the chapters with their captions.

    book = ExportBook("Moby-Dick", "Herman Melville",
                      [ExportChapter("Loomings", [ExportSegment("seg-1.wav", 2.5, "Call me Ishmael.")])])
    out = export(book, "m4b")   -> Export(file_name='Moby-Dick.m4b', content_type='audio/mp4', chunks=<iterator>)
    for chunk in out.chunks: response.write(chunk)

`export` checks every segment file first (present, 24 kHz mono, as long as its duration says), so a missing file is
an error before the first byte; then the chunks read the files one at a time, in blocks. WAV, MP3, SRT, VTT and ZIP
come as they are made; FLAC and M4B are written to a temporary file first (their headers are completed at the end)
and then streamed from it. Audio never accumulates in memory: what is kept is one small record per segment.

One timeline serves every format: segment i lasts round(duration * 24000) frames (its file is cut or padded with
silence to that, within MAX_DRIFT_S), so the WAV header's sizes, the M4B's chapter starts and the caption times are
all computed from the same frame counts.

Every audio file says what it is, as the studio's other outputs do (`encode.output_tags`, read when the export is
asked for): WAV's INFO chunk, FLAC's Vorbis comment, MP3's ID3, the M4B's comment (beside its title and chapters).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import SAMPLE_RATE
from ..audio.encode import (
    CONTENT_TYPES,
    FFMPEG_CODECS,
    Tags,
    check_format,
    output_tags,
    pcm16,
    stream_audio,
    wav_header,
)
from ..errors import InputError, StudioError
from ..text.subtitles import Cue, to_srt, to_vtt

FORMATS = ("m4b", "mp3", "wav", "flac", "srt", "vtt", "zip")
AUDIO_FORMATS = ("mp3", "wav", "flac")  # one chapter, or the book, as one audio file; the ZIP's members
EXPORT_TYPES = {**CONTENT_TYPES, "m4b": "audio/mp4", "srt": "application/x-subrip", "vtt": "text/vtt"}
EXPORT_TYPES["zip"] = "application/zip"
CHUNK_BYTES = 1 << 16  # bytes in one chunk read from a spooled file or a caption text
BLOCK_FRAMES = 1 << 16  # frames read from a segment file at a time (2.7 s at 24 kHz)
MAX_DRIFT_S = 0.1  # s: a segment file may differ from its recorded duration by this much (cut or padded to it)
MAX_WAV_FRAMES = (0xFFFFFFFF - 36) // 2  # 16-bit mono frames one WAV file can hold (its sizes are 32-bit): 24.8 h
MAX_NAME_CHARS = 80  # characters of a title kept in a file name
# ffmpeg's AAC "fast" coder: half the CPU of its default (twoloop) for a book of hours; on espeak-ng speech at the
# studio's AAC bitrate it kept the waveform closer (SNR 45 dB against 29 dB)
M4B_CODER = ["-aac_coder", "fast"]
RENDER_AGAIN = "Render that segment again, then export."  # what to do about a segment file that cannot be used

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_FFMETADATA_SPECIAL = re.compile(r"([=;#\\])")


@dataclass(frozen=True)
class ExportSegment:
    """One rendered segment: its audio file (24 kHz mono WAV, 16-bit or float), how long it lasts (s), its text
    as typed (the caption)."""

    path: str | os.PathLike
    duration: float
    text: str


@dataclass(frozen=True)
class ExportChapter:
    """A chapter: its title and its segments in order (any iterable; read once)."""

    title: str
    segments: Iterable[ExportSegment]


@dataclass(frozen=True)
class ExportBook:
    """The book: title and author (M4B metadata, file names) and its chapters in order."""

    title: str
    author: str
    chapters: Sequence[ExportChapter]


@dataclass(frozen=True)
class Export:
    """One export, ready to stream: the file name to offer, its media type, and its bytes as they are made."""

    file_name: str
    content_type: str
    chunks: Iterator[bytes]


@dataclass(frozen=True)
class _Clip:
    """A checked segment: its file, its length in frames on the timeline, its caption, how errors name it."""

    path: Path
    frames: int
    text: str
    label: str


@dataclass(frozen=True)
class _Part:
    """A checked chapter: its number in the book (from 1), title and clips."""

    number: int
    title: str
    clips: tuple[_Clip, ...]

    @property
    def frames(self) -> int:
        return sum(c.frames for c in self.clips)


def export(book: ExportBook, fmt: str, chapter: int | None = None, audio_format: str = "mp3") -> Export:
    """The book (or its chapter number `chapter`, from 1) in `fmt` (see FORMATS); a ZIP holds each chapter in
    `audio_format` with its SRT and VTT. Every segment file is checked before this returns."""
    fmt = check_format(fmt, FORMATS, "export format")
    if fmt == "m4b" and shutil.which("ffmpeg") is None:
        raise InputError("M4B needs ffmpeg, which this server lacks.", "Export WAV, FLAC, SRT, VTT or a ZIP.")
    if fmt == "zip":
        audio_format = check_format(audio_format, AUDIO_FORMATS, "audio format")
    parts = _plan(book, chapter)
    if not any(p.clips for p in parts):
        where = "The book" if chapter is None else f"Chapter {chapter} ({parts[0].title})"
        raise InputError(f"{where} has no rendered segments to export.", "Render its segments first, then export.")
    frames = sum(p.frames for p in parts)
    if fmt == "wav" and frames > MAX_WAV_FRAMES:
        raise InputError(
            f"This export lasts {frames / SAMPLE_RATE / 3600:.1f} hours, more than one WAV file can hold "
            f"({MAX_WAV_FRAMES / SAMPLE_RATE / 3600:.1f} hours).",
            "Export it as M4B, MP3 or FLAC, or one chapter at a time.",
        )
    stem = _file_name(book.title, "book")
    if chapter is not None:
        stem = f"{stem} - {parts[0].number:02d} {_file_name(parts[0].title, 'chapter')}"
    tags = output_tags()
    makers: dict[str, Callable[[], Iterator[bytes]]] = {
        "m4b": lambda: _m4b(book, parts, tags),
        "srt": lambda: _text_chunks(to_srt(_cues(parts))),
        "vtt": lambda: _text_chunks(to_vtt(_cues(parts))),
        "zip": lambda: _zip(parts, audio_format, tags),
    }
    chunks = makers[fmt]() if fmt in makers else _audio(parts, fmt, tags)
    return Export(f"{stem}.{fmt}", EXPORT_TYPES[fmt], chunks)


# ---- checking: one record per segment, every file looked at before the first byte --------------------------------
def _plan(book: ExportBook, chapter: int | None) -> list[_Part]:
    count = len(book.chapters)
    if chapter is not None and not (isinstance(chapter, int) and 1 <= chapter <= count):
        raise InputError(
            f"There is no chapter {chapter}: the book has {count}.", f"Ask for a chapter from 1 to {count}."
        )
    numbers = range(1, count + 1) if chapter is None else [chapter]
    parts = []
    for n in numbers:
        title = " ".join(book.chapters[n - 1].title.split()) or f"Chapter {n}"
        clips = (
            _check(s, f"Segment {i} of chapter {n} ({title})") for i, s in enumerate(book.chapters[n - 1].segments, 1)
        )
        parts.append(_Part(n, title, tuple(clips)))
    return parts


def _check(segment: ExportSegment, label: str) -> _Clip:
    """The segment as a clip on the timeline, after its file is checked."""
    path = Path(segment.path)
    words = " ".join(segment.text.split())
    label += f', "{words[:40]}…"' if len(words) > 40 else f', "{words}"'
    try:
        info = sf.info(str(path))
    except (OSError, sf.LibsndfileError, RuntimeError):
        what = "is missing" if not path.exists() else "cannot be read as audio"
        raise StudioError(f"{label}: its audio file {path.name} {what}.", RENDER_AGAIN) from None
    if info.samplerate != SAMPLE_RATE or info.channels != 1:
        raise StudioError(
            f"{label}: its audio file {path.name} is {info.samplerate} Hz with {info.channels} channels, "
            f"not {SAMPLE_RATE} Hz mono.",
            RENDER_AGAIN,
        )
    duration = segment.duration
    if not (math.isfinite(duration) and duration >= 0 and abs(info.frames / SAMPLE_RATE - duration) <= MAX_DRIFT_S):
        raise StudioError(
            f"{label}: its audio file {path.name} lasts {info.frames / SAMPLE_RATE:.2f} s, but the project "
            f"records {duration} s.",
            RENDER_AGAIN,
        )
    return _Clip(path, round(duration * SAMPLE_RATE), segment.text, label)


# ---- audio: 16-bit blocks read from one file at a time -------------------------------------------------------------
def _blocks(parts: Iterable[_Part]) -> Iterator[np.ndarray]:
    """Each clip's samples as int16 blocks of at most BLOCK_FRAMES, cut or padded with silence to its frames."""
    for part in parts:
        for clip in part.clips:
            left = clip.frames
            try:
                with sf.SoundFile(str(clip.path)) as f:
                    while left > 0 and len(block := _read(f, min(BLOCK_FRAMES, left))):
                        left -= len(block)
                        yield block
            except (OSError, sf.LibsndfileError, RuntimeError) as e:
                raise StudioError(
                    f"{clip.label}: its audio file {clip.path.name} could not be read.",
                    RENDER_AGAIN,
                ) from e
            if left > 0:
                yield np.zeros(left, np.int16)


def _read(f: sf.SoundFile, frames: int) -> np.ndarray:
    """Up to `frames` 16-bit samples: a 16-bit file's as they are; a float file's clipped and scaled as every
    output of the studio is (libsndfile would truncate floats to integers, unscaled)."""
    if f.subtype == "PCM_16":
        return f.read(frames, dtype="int16")
    return np.frombuffer(pcm16(f.read(frames, dtype="float32")), "<i2")


def _audio(parts: Sequence[_Part], fmt: str, tags: Tags) -> Iterator[bytes]:
    """The parts, one after another, as one audio file in `fmt` (one of AUDIO_FORMATS), tagged with `tags`."""
    if fmt == "wav":
        yield wav_header(SAMPLE_RATE, sum(p.frames for p in parts), tags)
        for block in _blocks(parts):
            yield block.astype("<i2").tobytes()
    elif fmt == "mp3":  # the studio's mp3 stream, fed with floats that it turns back into exactly these samples
        blocks = (b.astype(np.float32) / 32767 for b in _blocks(parts))
        yield from stream_audio("mp3", blocks, SAMPLE_RATE, tags=tags)
    else:
        yield from _spooled(lambda path: _write_flac(parts, path, tags), ".flac")


def _write_flac(parts: Sequence[_Part], path: Path, tags: Tags) -> None:
    with sf.SoundFile(str(path), "w", SAMPLE_RATE, 1, "PCM_16", format="FLAC") as out:
        for key, value in tags.items():
            setattr(out, key, value)  # Vorbis comments
        for block in _blocks(parts):
            out.write(block)


def _spooled(write: Callable[[Path], None], suffix: str) -> Iterator[bytes]:
    """A file that `write` makes in a temporary folder, streamed from disk, then removed."""
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        path = Path(folder) / f"out{suffix}"
        write(path)
        with path.open("rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                yield chunk


# ---- M4B: AAC in MP4 through ffmpeg, chapters and titles from an FFMETADATA file ---------------------------------
def ffmetadata_value(text: str) -> str:
    """A title as an FFMETADATA value: one line, with '=', ';', '#' and '\\' escaped.

    >>> ffmetadata_value('A = "B";\\n#1')
    'A \\\\= "B"\\\\; \\\\#1'
    """
    return _FFMETADATA_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def ffmetadata(book: ExportBook, parts: Sequence[_Part], tags: Tags | None = None) -> str:
    """The FFMETADATA1 text of the book: title, album and author (and `tags`' comment), then one [CHAPTER] per
    chapter that has audio, its START and END in frames (TIMEBASE 1/24000)."""
    title, author = ffmetadata_value(book.title), ffmetadata_value(book.author)
    lines = [";FFMETADATA1", f"title={title}", f"album={title}", "genre=Audiobook"]
    lines += [f"artist={author}", f"album_artist={author}"] if author else []
    lines += [f"comment={ffmetadata_value(tags['comment'])}"] if tags and "comment" in tags else []
    start = 0
    for part in parts:
        if part.frames:
            lines += ["[CHAPTER]", f"TIMEBASE=1/{SAMPLE_RATE}", f"START={start}", f"END={start + part.frames}"]
            lines.append(f"title={ffmetadata_value(part.title)}")
        start += part.frames
    return "\n".join(lines) + "\n"


def _m4b(book: ExportBook, parts: Sequence[_Part], tags: Tags) -> Iterator[bytes]:
    return _spooled(lambda path: _write_m4b(book, parts, path, tags), ".m4b")


def _write_m4b(book: ExportBook, parts: Sequence[_Part], path: Path, tags: Tags) -> None:
    """Encode the parts' samples, fed to ffmpeg's stdin, into an M4B at `path` (seekable: a regular MP4 whose
    edit list removes the AAC encoder's delay, so the audio lasts the sum of the durations, within an AAC frame)."""
    meta, log = path.with_suffix(".txt"), path.with_suffix(".log")
    meta.write_text(ffmetadata(book, parts, tags), encoding="utf-8")
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ar", str(SAMPLE_RATE), "-ac", "1"]
    command += ["-i", "pipe:0", "-f", "ffmetadata", "-i", str(meta), "-map", "0:a", "-map_metadata", "1"]
    command += ["-map_chapters", "1", *FFMPEG_CODECS["aac"][:4], *M4B_CODER, "-movflags", "+faststart"]
    command += ["-f", "ipod", str(path)]
    with log.open("wb") as err:
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=err)
        try:
            for block in _blocks(parts):
                proc.stdin.write(block.astype("<i2").tobytes())  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass  # ffmpeg stopped: its log says why
        finally:
            if proc.stdin and not proc.stdin.closed and proc.poll() is None:
                proc.kill()
            proc.wait()
    if proc.returncode != 0:
        detail = log.read_text(errors="replace").strip()[-300:]
        raise StudioError(f"This server could not encode the M4B (ffmpeg: {detail}).", "Export MP3 or WAV instead.")


# ---- captions and the ZIP -------------------------------------------------------------------------------------------
def _cues(parts: Iterable[_Part]) -> list[Cue]:
    """One cue per segment with text, timed by the timeline: [Cue(0.0, 2.5, 'Call me Ishmael.'), ...]."""
    cues, start = [], 0
    for part in parts:
        for clip in part.clips:
            if clip.text.strip():
                cues.append(Cue(start / SAMPLE_RATE, (start + clip.frames) / SAMPLE_RATE, clip.text.strip()))
            start += clip.frames
    return cues


def _text_chunks(text: str) -> Iterator[bytes]:
    data = text.encode("utf-8")
    for at in range(0, len(data), CHUNK_BYTES):
        yield data[at : at + CHUNK_BYTES]


class _Sink:
    """A write-only, unseekable file for zipfile: what it is given is taken out by the streaming generator."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.pending.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.pending)
        self.pending.clear()
        return data


def _zip(parts: Sequence[_Part], audio_format: str, tags: Tags) -> Iterator[bytes]:
    """A ZIP (written as it streams: sizes in data descriptors) holding, for each chapter with audio,
    '<nn> <title>.<audio_format>' and its '.srt' and '.vtt', timed from that chapter's start."""
    sink = _Sink()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(sink, "w") as archive:  # type: ignore[call-overload]
        for part in (p for p in parts if p.clips):
            stem = f"{part.number:02d} {_file_name(part.title, 'chapter')}"
            members: list[tuple[str, int, Iterator[bytes]]] = [
                (f"{stem}.{audio_format}", zipfile.ZIP_STORED, _audio([part], audio_format, tags)),
                (f"{stem}.srt", zipfile.ZIP_DEFLATED, _text_chunks(to_srt(_cues([part])))),
                (f"{stem}.vtt", zipfile.ZIP_DEFLATED, _text_chunks(to_vtt(_cues([part])))),
            ]
            for name, compression, chunks in members:
                info = zipfile.ZipInfo(name, stamp)
                info.compress_type = compression
                large = 2 * part.frames * 1.05 > zipfile.ZIP64_LIMIT
                with archive.open(info, "w", force_zip64=large) as member:
                    for chunk in chunks:
                        member.write(chunk)
                        if data := sink.take():
                            yield data
    yield sink.take()


def _file_name(title: str, fallback: str) -> str:
    """A title as a file name, on any system: 'Part 1: "Dawn"/Dusk' -> 'Part 1 Dawn Dusk'."""
    name = " ".join(_UNSAFE_NAME.sub(" ", title).split())[:MAX_NAME_CHARS].strip(". ")
    return name or fallback
