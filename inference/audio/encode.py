"""Every audio encoding the studio does, for every interface: whole files (UI downloads, serverless) and streams
(the OpenAI endpoint), in one table of formats.

    encode_audio(wave, 24000, "mp3")            -> the bytes of an mp3 file
    stream_audio("opus", waves, 24000)          -> an iterator of bytes, one ffmpeg process fed as chunks arrive

wav and flac are 16-bit PCM; pcm is raw 16-bit little-endian mono; mp3, opus (in Ogg) and aac (ADTS) go through
ffmpeg (mp3 through libsndfile when it has it, >= 1.1).

Every file and stream says what it is in its tags (`output_tags`: the studio's name, "synthetic speech", and the
mark id of the request, `provenance.current().mark_id`, which the audit log records too): a LIST/INFO chunk in wav,
Vorbis comments in flac and Ogg Opus, ID3 in mp3. ADTS (aac) and raw pcm have no place for tags.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain

import numpy as np
import soundfile as sf

from ..errors import InputError, StudioError
from ..provenance import current
from . import FFMPEG_TIMEOUT_S

FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
STUDIO = "F5 Voice Studio"  # the name every output's tags give (README's first line)
WAV_INFO = {"comment": b"ICMT", "software": b"ISFT"}  # a tag's RIFF INFO id
Tags = Mapping[str, str]
FFMPEG_CODECS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"],
    "opus": ["-c:a", "libopus", "-b:a", "48k", "-f", "ogg"],
    "aac": ["-c:a", "aac", "-b:a", "96k", "-f", "adts"],
}


def bytes_per_second(fmt: str, sample_rate: int) -> float:
    """The most bytes one second of mono speech takes in `fmt`: 16-bit samples for wav, pcm and flac (flac is never
    larger, plus its headers), the encoder's bitrate for the others, each with 5% for containers and frames:
    bytes_per_second("wav", 24_000) -> 50400.0, bytes_per_second("mp3", 24_000) -> 16800.0."""
    codec = FFMPEG_CODECS.get(fmt)
    raw = 2 * sample_rate if codec is None else int(codec[codec.index("-b:a") + 1].rstrip("k")) * 1000 / 8
    return raw * 1.05


def check_format(fmt: object, allowed: Iterable[str] = FORMATS, what: str = "audio format") -> str:
    """'MP3 ' -> 'mp3'; an unknown format, or one that needs the missing ffmpeg, is an InputError naming the choices
    (`what`: how the caller's interface names the field)."""
    allowed = tuple(allowed)
    name = fmt.strip().lower() if isinstance(fmt, str) else fmt
    if name not in allowed:
        raise InputError(f"Unknown {what} {fmt!r}.", f"Use one of: {', '.join(allowed)}.")
    if needs_ffmpeg(name) and shutil.which("ffmpeg") is None:
        others = ", ".join(f for f in allowed if not needs_ffmpeg(f))
        raise InputError(f"{name} needs ffmpeg, which this server lacks.", f"Use {others}.")
    return name


def needs_ffmpeg(fmt: str) -> bool:
    return fmt in FFMPEG_CODECS and not (fmt == "mp3" and "MP3" in sf.available_formats())


def pcm16(wave: np.ndarray) -> bytes:
    """float samples -> 16-bit little-endian PCM, clipped; NaN becomes silence."""
    return np.rint(np.clip(np.nan_to_num(wave), -1.0, 1.0) * 32767).astype("<i2").tobytes()


def output_tags() -> dict[str, str]:
    """What an output file says it is, for the request being served (its mark id ties it to the audit log):
    {"comment": "Synthetic speech made by F5 Voice Studio (mark id 5f0c2a9e41b7d3c8)", "software": "F5 Voice Studio"}.
    """
    return {"comment": f"Synthetic speech made by {STUDIO} (mark id {current().mark_id})", "software": STUDIO}


def wav_header(sample_rate: int, frames: int | None = None, tags: Tags | None = None) -> bytes:
    """A 16-bit mono WAV header, with `tags` in a LIST/INFO chunk before the samples; `frames` None: a stream of
    unknown length (RIFF and data sizes 0xFFFFFFFF, as OpenAI's)."""
    info = b"".join(_info_field(WAV_INFO[k], v) for k, v in (tags or {}).items() if k in WAV_INFO)
    listed = b"LIST" + struct.pack("<I", 4 + len(info)) + b"INFO" + info if info else b""
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
    data = 0xFFFFFFFF if frames is None else 2 * frames
    riff = 0xFFFFFFFF if frames is None else 4 + len(fmt) + len(listed) + 8 + data
    return b"RIFF" + struct.pack("<I", riff) + b"WAVE" + fmt + listed + b"data" + struct.pack("<I", data)


def _info_field(chunk_id: bytes, text: str) -> bytes:
    value = text.encode("utf-8") + b"\0"
    return chunk_id + struct.pack("<I", len(value)) + value + (b"\0" if len(value) % 2 else b"")


def encode_audio(wave: np.ndarray, sample_rate: int, fmt: str, tags: Tags | None = None) -> bytes:
    """One whole file in `fmt` (see FORMATS), tagged with `tags` (None: `output_tags()`) where its container can."""
    fmt = check_format(fmt)
    if fmt == "pcm":
        return pcm16(wave)
    tags = output_tags() if tags is None else tags
    clean = np.clip(np.nan_to_num(np.asarray(wave, dtype=np.float32)), -1.0, 1.0)
    if not needs_ffmpeg(fmt):  # wav, flac, and mp3 through libsndfile: tags as its string fields
        return _soundfile(clean, sample_rate, fmt, tags)
    try:
        proc = subprocess.run(
            _ffmpeg(fmt, sample_rate, tags),
            input=pcm16(clean),
            capture_output=True,
            timeout=FFMPEG_TIMEOUT_S,
            check=False,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        proc = None
    if proc is None or proc.returncode != 0 or not proc.stdout:
        raise StudioError(f"This server could not encode {fmt} (ffmpeg failed or is missing).", "Ask for wav or flac.")
    return proc.stdout


def _soundfile(clean: np.ndarray, sample_rate: int, fmt: str, tags: Tags) -> bytes:
    subtype = {"wav": "PCM_16", "flac": "PCM_16", "mp3": "MPEG_LAYER_III"}[fmt]
    buf = io.BytesIO()
    with sf.SoundFile(buf, "w", sample_rate, 1, subtype, format=fmt.upper()) as f:
        for key, value in tags.items():
            setattr(f, key, value)  # soundfile's string fields: comment, software, ...
        f.write(clean)
    return buf.getvalue()


def _ffmpeg(fmt: str, sample_rate: int, tags: Tags) -> list[str]:
    metadata = [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]
    return [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-f",
        "s16le",
        "-ar",
        str(sample_rate),
        "-ac",
        "1",
        "-i",
        "pipe:0",
        *FFMPEG_CODECS[fmt],
        *metadata,
        "-flush_packets",
        "1",
        "pipe:1",
    ]


def stream_audio(
    fmt: str,
    waves: Iterator[np.ndarray],
    sample_rate: int,
    on_end: Callable[[], None] = lambda: None,
    tags: Tags | None = None,
) -> Iterator[bytes]:
    """Bytes as the chunks arrive: pcm and wav (with a header of unknown length) chunk by chunk; mp3, opus and aac
    from one ffmpeg process that a thread feeds; flac whole at the end (its header needs the length). `on_end` is
    called once feeding stops (finished, failed, or the reader went away). Tagged as encode_audio's files are, with
    `tags` (None: `output_tags()` of the caller, read now)."""
    fmt = check_format(fmt)
    tags = output_tags() if tags is None else tags
    if fmt in FFMPEG_CODECS:
        return _ffmpeg_stream(fmt, waves, sample_rate, on_end, tags)

    def plain() -> Iterator[bytes]:
        try:
            if fmt == "flac":
                yield encode_audio(np.concatenate(list(waves)), sample_rate, "flac", tags)
                return
            yield from chain([wav_header(sample_rate, tags=tags)] if fmt == "wav" else [], map(pcm16, waves))
        finally:
            on_end()

    return plain()


def _ffmpeg_stream(
    fmt: str, waves: Iterator[np.ndarray], sample_rate: int, on_end: Callable[[], None], tags: Tags
) -> Iterator[bytes]:
    proc = subprocess.Popen(
        _ffmpeg(fmt, sample_rate, tags), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    failures: list[Exception] = []
    threading.Thread(target=_feed, args=(proc, waves, failures, on_end), name="ffmpeg-feed", daemon=True).start()
    try:
        while block := proc.stdout.read1(1 << 16):  # type: ignore[union-attr]
            yield block
        if proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed: {proc.stderr.read().decode(errors='replace')[-500:]}")  # type: ignore
        if failures:
            raise failures[0]
    finally:
        if proc.poll() is None:  # the reader went away: stop encoding (the feeder then stops too)
            proc.kill()
            proc.wait()


def _feed(
    proc: subprocess.Popen, waves: Iterator[np.ndarray], failures: list[Exception], on_end: Callable[[], None]
) -> None:
    try:
        for wave in waves:
            proc.stdin.write(pcm16(wave))  # type: ignore[union-attr]
    except (BrokenPipeError, ValueError):
        pass  # ffmpeg was stopped
    except Exception as e:  # synthesis failed mid-stream: re-raised by the reader, so the body ends in an error
        failures.append(e)
    finally:
        try:
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass
        on_end()
