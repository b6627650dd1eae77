"""Bad inputs shared by the bad-input, fault, security and load tests, and helpers to check what comes back.

Audio is made from f5-tts's example reference: cut short, corrupted, given lying headers, silent, clipped, too long,
at odd rates and channel counts. Every distinct bad input a test tries is recorded with `tried()`; each module prints
the running total at its end (see `report_tried`).
"""

from __future__ import annotations

import io
import re
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference.studio import dubbing
from tests.live import free_port

# ---- the tally ----------------------------------------------------------------------------------------------------
TRIED: set[tuple[str, str]] = set()  # (kind, name): distinct bad inputs
TRIED_ON: set[tuple[str, str, str]] = set()  # (surface, kind, name): where each was tried
_tally_lock = threading.Lock()


def tried(surface: str, kind: str, name: str) -> None:
    with _tally_lock:
        TRIED.add((kind, name))
        TRIED_ON.add((surface, kind, name))


def tally() -> str:
    kinds: dict[str, int] = {}
    for kind, _ in TRIED:
        kinds[kind] = kinds.get(kind, 0) + 1
    surfaces = sorted({s for s, _, _ in TRIED_ON})
    detail = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    return (
        f"bad inputs tried so far: {len(TRIED)} distinct ({detail}); {len(TRIED_ON)} (input, surface) pairs over "
        f"{', '.join(surfaces)}"
    )


@pytest.fixture(scope="module", autouse=True)
def report_tried(request: pytest.FixtureRequest) -> Iterator[None]:
    """Import this fixture into a test module: at the module's end, the running total is printed."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and TRIED:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n[{request.module.__name__.split('.')[-1]}] {tally()}")


# ---- messages -----------------------------------------------------------------------------------------------------
UNEXPECTED = (
    "Traceback",
    'File "',
    "Something went wrong",
    "Generation failed",
    "had an error while processing",
    "internal_error",
)


def assert_clear(message: str, match: str | None = None) -> str:
    """A sentence a person can act on: not empty, not a bare 'Error', no traceback, not the unexpected-error path."""
    assert isinstance(message, str), message
    text = message.strip()
    assert len(text) >= 15 and text.lower() not in ("error", "none", "null"), repr(message)
    for bad in UNEXPECTED:
        assert bad not in text, f"{bad!r} in {message!r}"
    if match:
        assert re.search(match, text, re.IGNORECASE), f"{match!r} not in {message!r}"
    return text


# ---- audio --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BadAudio:
    name: str  # a file name, with the extension the bytes pretend to have
    data: bytes
    expect: str  # "ok": must generate; "either": generates or is refused clearly; else a regex the refusal matches

    def write(self, folder: Path) -> Path:
        path = folder / self.name
        path.write_bytes(self.data)
        return path


def wav_bytes(wave: np.ndarray, sr: int, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, wave, sr, format="WAV", subtype=subtype)
    return buf.getvalue()


def _ffmpeg(src: Path, dst: Path, *args: str) -> bytes:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), *args, str(dst)], check=True, timeout=60)
    return dst.read_bytes()


def _corrupt(data: bytes, seed: int, keep: int = 64) -> bytes:
    """Overwrite 10% of the bytes after the first `keep` with random ones: the length stays, the content is junk."""
    rng = np.random.default_rng(seed)
    raw = np.frombuffer(data, np.uint8).copy()
    idx = rng.integers(keep, len(raw), len(raw) // 10)
    raw[idx] = rng.integers(0, 256, len(idx))
    return raw.tobytes()


def _wav_header(rate: int, channels: int, data_bytes: int, riff_bytes: int | None = None) -> bytes:
    riff = 36 + data_bytes if riff_bytes is None else riff_bytes
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        riff & 0xFFFFFFFF,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        rate & 0xFFFFFFFF,
        (rate * channels * 2) & 0xFFFFFFFF,
        (channels * 2) & 0xFFFF,
        16,
        b"data",
        data_bytes & 0xFFFFFFFF,
    )


def ten_minutes(ref_wav: Path) -> bytes:
    """10 minutes of speech with pauses, 24 kHz mono 16-bit (~29 MB), made by repeating the reference."""
    speech, sr = sf.read(ref_wav, dtype="float32")
    unit = np.concatenate([speech, np.zeros(sr // 2, np.float32)])
    return wav_bytes(np.tile(unit, 600 * sr // len(unit) + 1)[: 600 * sr], sr)


def bad_audio(ref_wav: Path, workdir: Path) -> list[BadAudio]:
    """Unusable or odd references. Expectations: see BadAudio.expect."""
    wav = ref_wav.read_bytes()
    mp3 = _ffmpeg(ref_wav, workdir / "ref.mp3")
    webm = _ffmpeg(ref_wav, workdir / "ref.webm", "-c:a", "libopus")
    speech, sr = sf.read(ref_wav, dtype="float32")
    pcm = wav[44:]
    rng = np.random.default_rng(0)
    unreadable = "could not read this file as audio"
    return [
        BadAudio("not-audio.wav", b"this is not audio at all\n" * 40, unreadable),
        BadAudio("zero-bytes.wav", b"", r"empty \(0 bytes\)"),
        BadAudio("random-bytes.wav", rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(), unreadable),
        BadAudio("riff-then-junk.wav", b"RIFF" + rng.integers(0, 256, 50_000, dtype=np.uint8).tobytes(), unreadable),
        BadAudio("wav-header-cut.wav", wav[:30], unreadable),
        BadAudio("wav-truncated.wav", wav[: len(wav) // 3], "either"),
        BadAudio("wav-corrupt.wav", _corrupt(wav, 1), "either"),
        BadAudio("mp3-header-cut.mp3", mp3[:100], unreadable),
        BadAudio("mp3-truncated.mp3", mp3[: len(mp3) // 3], "either"),
        BadAudio("mp3-corrupt.mp3", _corrupt(mp3, 2), "either"),
        BadAudio("webm-header-cut.webm", webm[:200], unreadable),
        BadAudio("webm-truncated.webm", webm[: len(webm) // 3], "either"),
        BadAudio("webm-corrupt.webm", _corrupt(webm, 3), "either"),
        BadAudio("claims-4gb-has-40ms.wav", _wav_header(24000, 1, 0xFFFFFFF0, 0xFFFFFFFF) + pcm[:2000], "too short"),
        BadAudio("claims-4gb-has-none.wav", _wav_header(24000, 1, 0xFFFFFFF0, 0xFFFFFFFF), "no audio|could not read"),
        BadAudio("claims-2ghz-rate.wav", _wav_header(0x7FFFFFFF, 1, len(pcm)) + pcm, "either"),
        BadAudio("claims-0hz-rate.wav", _wav_header(0, 1, len(pcm)) + pcm, unreadable),
        BadAudio("claims-65535-channels.wav", _wav_header(24000, 65535, len(pcm)) + pcm, unreadable),
        BadAudio("silence.wav", wav_bytes(np.zeros(3 * sr, np.float32), sr), "silent"),
        BadAudio("near-silence.wav", wav_bytes(np.full(3 * sr, 1e-4, np.float32), sr), "silent"),
        BadAudio("0.2s.wav", wav_bytes(speech[sr // 2 : sr // 2 + sr // 5], sr), "too short"),
        BadAudio("clipping-square-noise.wav", wav_bytes(rng.choice([-1.0, 1.0], 5 * sr).astype(np.float32), sr), "ok"),
        BadAudio(
            "nan-and-inf-float.wav",
            wav_bytes(
                np.where(
                    rng.random(len(speech)) < 0.05, rng.choice([np.nan, np.inf, -np.inf], len(speech)), speech
                ).astype(np.float32),
                sr,
                "FLOAT",
            ),
            "ok",
        ),
    ]


RATES = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000)
CHANNELS = (1, 2, 4, 6, 8)


def rate_channel_audio(ref_wav: Path, pairs: list[tuple[int, int]] | None = None) -> list[BadAudio]:
    """The reference at other sample rates and channel counts: all of these must work."""
    from scipy.signal import resample_poly

    speech, sr = sf.read(ref_wav, dtype="float32")
    speech = speech[: int(3 * sr)]  # 3 s keeps generation short
    out = []
    for rate, channels in pairs or [(r, c) for r in RATES for c in CHANNELS]:
        wave = resample_poly(speech, rate, sr).astype(np.float32)
        out.append(
            BadAudio(f"{rate}hz-{channels}ch.wav", wav_bytes(np.repeat(wave[:, None], channels, axis=1), rate), "ok")
        )
    return out


# ---- text and settings --------------------------------------------------------------------------------------------
REFUSED_TEXT = {  # name -> (text, what the refusal says)
    "empty": ("", "no text"),
    "whitespace": (" \n\t \r\n  ", "no text"),
    "punctuation": ("?!... ,;: -- ...", "no words"),
    "emoji": ("🙂🎉👍🏽 🙂", "no words"),
    "control-chars": ("\x00\x07\x1b\x7f\x08", "no text"),
    "zero-width": ("\u200b\u200d\ufeff\u2060", "no text"),
    "1mb": ("word " * 200_000, "limit is"),
}
SPOKEN_TEXT = {  # accepted: the model speaks something (characters outside its vocabulary are read as filler)
    "tamil": "வணக்கம் உலகம், இது ஒரு சோதனை.",
    "arabic": "مرحبا بالعالم، هذا اختبار.",
    "cyrillic": "Привет, мир! Это проверка.",
    "control-chars-in-words": "Hello\x00 there,\x1b[31m my\x07 friend.",
    "rtl-override": "\u202eHello there, friend.",
    "emoji-in-words": "Hello 🙂 there, friend.",
    "combining-marks": "Ẑ̸̢a̷l̶g̵o̴ text here.",
}
# name -> (field, value): every one is out of range or not a number; the message must name the field
BAD_SETTINGS = {
    "nfe-0": ("nfe_step", 0),
    "nfe-10000": ("nfe_step", 10_000),
    "nfe-negative": ("nfe_step", -4),
    "nfe-nan": ("nfe_step", float("nan")),
    "speed-0": ("speed", 0),
    "speed-100": ("speed", 100),
    "speed-negative": ("speed", -1.0),
    "speed-nan": ("speed", float("nan")),
    "speed-inf": ("speed", float("inf")),
    "seed-2^63": ("seed", 2**63),
    "seed-2^64+1": ("seed", 2**64 + 1),
    "seed-nan": ("seed", float("nan")),
    "cfg-nan": ("cfg_strength", float("nan")),
    "cfg-negative": ("cfg_strength", -1.0),
    "cfg-1e308": ("cfg_strength", 1e308),
    "cfg-inf": ("cfg_strength", float("inf")),
    "cross-fade-negative": ("cross_fade", -0.5),
    "cross-fade-5": ("cross_fade", 5.0),
    "normalize-text": ("normalize", "maybe"),
    "normalize-number": ("normalize", 2),
    "min-duration-text": ("min_duration", "sometimes"),
    "check-text": ("check", "please"),
    "check-number": ("check", 3),
    "check-threshold-negative": ("check_threshold", -0.1),
    "check-threshold-2": ("check_threshold", 2.0),
    "check-threshold-nan": ("check_threshold", float("nan")),
    "check-threshold-inf": ("check_threshold", float("inf")),
    "check-tries-0": ("check_tries", 0),
    "check-tries-6": ("check_tries", 6),
    "check-tries-2.5": ("check_tries", 2.5),
    "check-tries-negative": ("check_tries", -3),
}
# name -> (word, spoken, case_sensitive): pronunciation entries that cannot be used; the message says what to do
BAD_ENTRIES = {
    "entry-empty-word": ("", "win", False),
    "entry-punctuation-word": ("?!", "win", False),
    "entry-empty-spoken": ("Nguyen", "", False),
    "entry-spoken-punctuation": ("Nguyen", "...", False),
    "entry-hash-word": ("#Nguyen", "win", False),
    "entry-comment-in-word": ("Ngu #yen", "win", False),
    "entry-equals-word": ("a=b", "win", False),
    "entry-hash-spoken": ("Nguyen", "win #1", False),
    "entry-word-65": ("w" * 65, "win", False),
    "entry-spoken-201": ("Nguyen", "s" * 201, False),
    "entry-control-chars": ("Ngu\x00yen", "win", False),
    "entry-case-text": ("Nguyen", "win", "yes"),
    "entry-bad-pinyin": ("重庆", "chong9 qing4", False),
}
BAD_VARIATION_COUNTS = {"n-0": 0, "n-5": 5, "n-2.5": 2.5, "n-negative": -1, "n-text": "three", "n-bool": True}


# ---- subtitles (dubbing) -----------------------------------------------------------------------------------------
def srt_text(*cues: tuple[float, float, str]) -> str:
    """An SRT text of (start, end, text) cues."""

    def stamp(t: float) -> str:
        ms = round(t * 1000)
        return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"

    return "\n".join(f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n" for i, (a, b, text) in enumerate(cues, start=1))


BAD_SUBTITLES = {  # name -> (subtitles, what the refusal says, naming the line or cue)
    "malformed-timestamp": (
        srt_text((0.5, 1.5, "Hello."), (2.5, 3.5, "Hi.")).replace("00:00:02,500 -->", "00:00:0x,500 -->"),
        r"line 6 .*malformed cue times",
    ),
    "malformed-vtt-timestamp": ("WEBVTT\n\n00:01.000 --> 00:02.000\nHi.\n\n00:0x.000 --> 00:04.000\nBye.\n", "line 6"),
    "missing-arrow": ("1\n00:00:01,000 --> 00:00:02,000\nHi.\n\n2\n00:00:03,000 00:00:04,000\nBye.\n", "line 5|line 6"),
    "overlapping": (srt_text((0.5, 2.0, "One."), (1.5, 3.0, "Two.")), r"cue 2 \(line 6\) starts at 1.500 s, before"),
    "empty-cue": (srt_text((0.5, 1.0, "One."), (1.5, 2.0, "  ...  ")), r"cue 2 \(line 6\) is empty"),
    "only-sound-cues": (srt_text((0.5, 1.0, "[Music]")), r"every cue is a sound cue such as \[Music\]"),
    "end-before-start": (srt_text((2.0, 1.0, "Backwards.")), r"cue 1 \(line 2\) ends at 1.000 s"),
    "zero-length": (srt_text((2.0, 2.0, "Instant.")), r"cue 1 \(line 2\) ends"),
    "not-subtitles": ("Dear diary,\nToday I wrote no subtitles.\n", "not subtitles"),
    "empty-file": ("\n \n", "empty"),
    "vtt-header-only": ("WEBVTT\n\n", "no subtitle cues"),
    "vtt-no-timings": ("WEBVTT\n\n00:01.000 00:02.000\nHi.\n", "no subtitle cues"),
    "too-many-cues": (
        srt_text(*[(i, i + 0.5, "Hi.") for i in range(dubbing.MAX_CUES + 1)]),
        f"{dubbing.MAX_CUES + 1} cues; the limit",
    ),
    "too-long": (srt_text((dubbing.MAX_DUB_SECONDS, dubbing.MAX_DUB_SECONDS + 1, "Late.")), "limited to 30 minutes"),
    "two-speakers": (srt_text((0.5, 2.0, "[Guest] Hi. [Host] Hello.")), r"cue 1 \(line 2\) has 2 speakers"),
    "unknown-tag": (srt_text((0.5, 2.0, "[Nobody] Hi.")), r"starts with \[Nobody\], read as a speaker tag"),
    "unmatched-bracket": (srt_text((0.5, 2.0, "Hi [there.")), r"unmatched '\['"),
    "hours-overflow": (srt_text((0.5, 1.0, "Hi.")).replace("00:00:00,500", "99999999999:00:00,500"), "time|limited"),
}


# ---- an app in this process (so tests can reach into its engine) ----------------------------------------------------
@contextmanager
def serve(app: object) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread on a free port; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# ---- speech editing (tests/test_edit_bad_input.py) -------------------------------------------------------------------
EDIT_TEXT = "Some call me optimist, others call me realist."  # f5-tts's example recording, edited
EDIT_SPAN = [{"start": 1.42, "end": 2.44, "text": "optimist,"}]
# name -> (the recording, the fields sent, what the refusal says). Recordings: "example" is f5-tts's example (5.33 s,
# saying REF_TEXT), the others are made by edit_recordings(). Edits are JSON-able: every surface sends the same.
BAD_EDITS: dict[str, tuple[str, dict, str]] = {
    "no-recording": ("", {"new_text": EDIT_TEXT}, "No recording"),
    "recording-61s": ("61s", {"new_text": EDIT_TEXT, "edits": EDIT_SPAN}, "longer than 60 s"),
    "recording-0.5s": ("0.5s", {"new_text": EDIT_TEXT, "edits": EDIT_SPAN}, "too short to edit"),
    "recording-silent": ("silent", {"new_text": EDIT_TEXT, "edits": EDIT_SPAN}, "silent"),
    "new-text-empty": ("example", {"new_text": ""}, "no text"),
    "new-text-punctuation": ("example", {"new_text": "?!... ,;"}, "no words"),
    "nothing-changed": (
        "example",
        {"transcript": "Some call me nature.", "new_text": "some CALL me, nature!"},
        "Nothing",
    ),
    "transcript-mismatch": (
        "example",
        {"transcript": "Hello there, how are you today?", "new_text": EDIT_TEXT},
        "match",
    ),
    "edits-not-json": ("example", {"new_text": EDIT_TEXT, "edits": "[{nope"}, "not valid JSON"),
    "edits-an-object": ("example", {"new_text": EDIT_TEXT, "edits": {"start": 1, "end": 2}}, "must be a list"),
    "edits-entry-number": ("example", {"new_text": EDIT_TEXT, "edits": [1.5]}, "must be an object"),
    "edits-no-start": ("example", {"new_text": EDIT_TEXT, "edits": [{"end": 2.0, "text": "x"}]}, "has no 'start'"),
    "edits-start-text": ("example", {"new_text": EDIT_TEXT, "edits": [{"start": "1.4", "end": 2}]}, "seconds"),
    "edits-start-bool": ("example", {"new_text": EDIT_TEXT, "edits": [{"start": True, "end": 2}]}, "seconds"),
    "edits-unknown-key": ("example", {"new_text": EDIT_TEXT, "edits": [{"start": 1, "end": 2, "txt": "x"}]}, "unknown"),
    "edits-text-number": ("example", {"new_text": EDIT_TEXT, "edits": [{"start": 1, "end": 2, "text": 5}]}, "string"),
    "edits-overlap": (
        "example",
        {"new_text": EDIT_TEXT, "edits": [{"start": 1, "end": 2, "text": "a"}, {"start": 1.5, "end": 3, "text": "b"}]},
        "overlap",
    ),
    "edits-negative": ("example", {"new_text": EDIT_TEXT, "edits": [{"start": -1, "end": 1, "text": "a"}]}, "outside"),
    "edits-past-end": ("example", {"new_text": EDIT_TEXT, "edits": [{"start": 4, "end": 99, "text": "a"}]}, "outside"),
    "edits-reversed": ("example", {"new_text": EDIT_TEXT, "edits": [{"start": 2, "end": 1, "text": "a"}]}, "outside"),
    "edits-at-start": (
        "example",
        {"new_text": EDIT_TEXT, "edits": [{"start": 0, "end": 0.5, "text": "a"}]},
        "very start",
    ),
    "edits-at-end": (
        "example",
        {"new_text": EDIT_TEXT, "edits": [{"start": 5.0, "end": 5.3, "text": "a"}]},
        "very end",
    ),
    "edits-no-change": ("example", {"new_text": EDIT_TEXT, "edits": [{"start": 2, "end": 2}]}, "changes nothing"),
    "edits-duration-negative": (
        "example",
        {"new_text": EDIT_TEXT, "edits": [{"start": 1.4, "end": 2.4, "text": "a", "duration": -1}]},
        "out of range",
    ),
    "edits-duration-1e9": (
        "example",
        {"new_text": EDIT_TEXT, "edits": [{"start": 1.4, "end": 2.4, "text": "a", "duration": 1e9}]},
        "out of range",
    ),
    "edits-51": (
        "example",
        {
            "new_text": EDIT_TEXT,
            "edits": [{"start": 0.4 + i * 0.09, "end": 0.4 + i * 0.09, "text": "a"} for i in range(51)],
        },
        "at most 50",
    ),
    "result-over-85s": (
        "60s",
        {
            "new_text": EDIT_TEXT,
            "edits": [{"start": 20, "end": 20, "text": "a", "duration": 25}, {"start": 40, "end": 40, "text": "b"}],
        },
        "at most 85 s",
    ),
    "text-too-long-for-its-span": (
        "example",
        {"new_text": "word " * 200, "edits": [{"start": 2.5, "end": 2.5, "text": "a", "duration": 0.2}]},
        "too long for the edited recording",
    ),
}


def edit_recordings(ref_wav: Path, folder: Path) -> dict[str, Path]:
    """The recordings BAD_EDITS names: the example, and 60 s (the limit), 61 s, 0.5 s and silent ones from it."""
    speech, sr = sf.read(ref_wav, dtype="float32")
    unit = np.concatenate([speech, np.zeros(sr // 2, np.float32)])
    waves = {
        "60s": np.tile(unit, 12)[: 60 * sr],
        "61s": np.tile(unit, 12)[: 61 * sr],
        "0.5s": speech[sr : sr + sr // 2],
        "silent": np.zeros(3 * sr, np.float32),
    }
    out = {"example": ref_wav}
    for name, wave in waves.items():
        out[name] = folder / f"edit-{name}.wav"
        out[name].write_bytes(wav_bytes(wave, sr))
    return out
