"""A project's exports (inference/projects/export.py), read back with the tools a listener's player would use:
ffprobe for the M4B's chapters and tags, soundfile for WAV and FLAC, the studio's own subtitle parser, zipfile.

What users meet:

| case                                        | what they get                                                         |
|---------------------------------------------|-----------------------------------------------------------------------|
| a book of several chapters, as M4B          | one chapter marker per chapter with audio, at its start, with its     |
|                                             | title; the book's title, album and author in the tags                 |
| a chapter (or the book) as WAV, MP3, FLAC   | one file, as long as its segments' durations (WAV and FLAC exactly)   |
| SRT or VTT of the book                      | one cue per segment, timed by the durations across chapters           |
| SRT or VTT of chapter N                     | timed from that chapter's start (they match that chapter's file)      |
| ZIP                                         | '<nn> <title>.<audio>' with its '.srt' and '.vtt' per chapter         |
| an empty chapter                            | no marker in the M4B, no file in the ZIP; asked for alone: an error   |
|                                             | saying it has no rendered segments                                    |
| a book with one segment                     | every format works (one marker, one cue)                              |
| a title with quotes, a newline, '=', ';',   | the marker's title as typed, the newline a space (FFMETADATA escapes); |
| '#', '\\'                                   | file names without the characters a file system refuses               |
| non-ASCII titles (é, 日本語)                | kept in the M4B's tags, the file names and the ZIP's names            |
| a segment file missing                      | an error before the first byte, naming the chapter, the segment, its  |
|                                             | first words and the file                                              |
| a segment file that is not 24 kHz mono, or  | an error naming it (render that segment again)                        |
| not as long as its duration says           |                                                                       |
| an unknown format, a chapter out of range   | an error naming the choices                                           |
| a book 10x longer                           | the same memory (the files are read one at a time)                    |
"""

from __future__ import annotations

import doctest
import gc
import importlib
import io
import json
import struct
import subprocess
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import psutil
import pytest
import soundfile as sf

from inference.errors import InputError, StudioError
from inference.projects.export import (
    FORMATS,
    ExportBook,
    ExportChapter,
    ExportSegment,
    export,
    ffmetadata_value,
)
from inference.text.subtitles import parse_subtitles

SR = 24_000
AAC_FRAME = 1024  # samples in one AAC frame
ODD_TITLE = 'Part "one" = start;\nof # it \\ all'
ODD_TITLE_READ = 'Part "one" = start; of # it \\ all'  # as a player shows it: one line


def as_16_bit(wave: np.ndarray) -> np.ndarray:
    """Float samples as the studio's 16-bit outputs hold them: clipped to [-1, 1], times 32767, rounded."""
    return np.rint(np.clip(np.nan_to_num(wave), -1, 1) * 32767).astype(np.int16)


def noise(path: Path, frames: int, seed: int, subtype: str = "PCM_16") -> np.ndarray:
    """Write `frames` of quiet noise at 24 kHz mono to `path`; return the 16-bit samples an export holds."""
    wave = (np.random.default_rng(seed).standard_normal(frames) * 0.1).astype(np.float32)
    sf.write(path, wave, SR, subtype=subtype)
    return sf.read(path, dtype="int16")[0] if subtype == "PCM_16" else as_16_bit(wave)


def source(segment: ExportSegment) -> np.ndarray:
    """What an export holds of one segment file, read independently of the export."""
    if sf.info(segment.path).subtype == "PCM_16":
        return sf.read(segment.path, dtype="int16")[0]
    return as_16_bit(sf.read(segment.path, dtype="float32")[0])


def segments(folder: Path, lengths: Iterable[int], first: int = 0, subtype: str = "PCM_16") -> list[ExportSegment]:
    out = []
    for i, frames in enumerate(lengths, start=first):
        path = folder / f"seg-{i:04d}.wav"
        noise(path, frames, i, subtype)
        out.append(ExportSegment(path, frames / SR, f"Sentence number {i}."))
    return out


@pytest.fixture
def book(tmp_path: Path) -> ExportBook:
    """Three chapters, one of them empty, with odd and non-ASCII titles; 16-bit and float files."""
    one = segments(tmp_path, [SR * 2, SR + 7], 0)
    three = segments(tmp_path, [SR * 3 // 2, SR // 3, SR], 2, subtype="FLOAT")
    chapters = [ExportChapter(ODD_TITLE, one), ExportChapter("Empty", []), ExportChapter("Été 日本語", three)]
    return ExportBook('The "Long" Book; = é', "Ann Author", chapters)


def frames_of(chapter: ExportChapter) -> int:
    return sum(round(s.duration * SR) for s in chapter.segments)


def body(fmt: str, book: ExportBook, **kw) -> bytes:
    return b"".join(export(book, fmt, **kw).chunks)


def probe(path: Path) -> dict:
    command = ["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-show_streams", "-of", "json", str(path)]
    return json.loads(subprocess.run(command, capture_output=True, check=True).stdout)


def test_m4b_has_a_marker_per_chapter_at_its_start_with_its_title_and_the_book_tags(book, tmp_path):
    path = tmp_path / "book.m4b"
    path.write_bytes(body("m4b", book))
    info = probe(path)
    chapters = info["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [ODD_TITLE_READ, "Été 日本語"]  # the empty chapter has none
    first = frames_of(book.chapters[0])
    assert [float(c["start_time"]) for c in chapters] == pytest.approx([0, first / SR], abs=0.001)
    total = first + frames_of(book.chapters[2])
    assert float(chapters[-1]["end_time"]) == pytest.approx(total / SR, abs=0.001)
    tags = info["format"]["tags"]
    assert (tags["title"], tags["album"], tags["artist"]) == (
        'The "Long" Book; = é',
        'The "Long" Book; = é',
        "Ann Author",
    )
    (audio,) = [s for s in info["streams"] if s["codec_type"] == "audio"]
    assert (audio["codec_name"], audio["sample_rate"], audio["channels"]) == ("aac", str(SR), 1)
    assert abs(int(audio["duration_ts"]) - total) <= AAC_FRAME  # the durations add up, within a frame


def test_m4b_audio_is_the_segments_audio_on_the_timeline(book, tmp_path):
    """Decoded, the M4B is the segments' audio (AAC keeps noise's waveform closely at this bitrate), not shifted by
    the encoder's delay: chapter markers land on their chapter's first sample."""
    path = tmp_path / "book.m4b"
    path.write_bytes(body("m4b", book))
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(SR), "pipe:1"]
    heard = np.frombuffer(subprocess.run(command, capture_output=True, check=True).stdout, "<i2").astype(float)
    sent = np.concatenate([source(s) for c in book.chapters for s in c.segments]).astype(float)
    start = frames_of(book.chapters[0])  # the second marker's first sample
    window, reach = heard[start : start + 4800], sent[start - 2000 : start + 6800]
    assert 2000 - int(np.argmax(np.correlate(reach, window, "valid"))) == 0  # no lag
    assert np.corrcoef(heard[: len(sent)], sent[: len(heard)])[0, 1] > 0.95


def test_wav_of_the_book_is_a_valid_wav_of_the_segments_samples(book, tmp_path):
    data = body("wav", book)
    at = data.index(b"data", 36)  # the samples' chunk, after fmt and the tags' LIST chunk
    riff, data_size = struct.unpack_from("<I", data, 4)[0], struct.unpack_from("<I", data, at + 4)[0]
    assert (riff, data_size) == (len(data) - 8, len(data) - at - 8)  # the header's lengths, computed up front
    wave, rate = sf.read(io.BytesIO(data), dtype="int16")
    sources = [source(s) for c in book.chapters for s in c.segments]
    assert rate == SR and np.array_equal(wave, np.concatenate(sources))
    assert np.abs(wave[-SR:]).max() > 3000  # the float files' noise (0.1 RMS) is there, not truncated to silence


def test_float_files_are_clipped_and_scaled_to_16_bit(tmp_path):
    loud = tmp_path / "loud.wav"
    sf.write(loud, np.array([0.5, 1.0, 1.5, -1.5, -1.0, np.nan, -0.25], np.float32), SR, subtype="FLOAT")
    chapter = ExportChapter("C", [ExportSegment(loud, 7 / SR, "Loud.")])
    wave = sf.read(io.BytesIO(body("wav", ExportBook("B", "", [chapter]))), dtype="int16")[0]
    assert wave.tolist() == [16384, 32767, 32767, -32767, -32767, 0, -8192]


def test_each_chapter_as_wav_flac_and_mp3_lasts_its_segments(book):
    chapter = book.chapters[2]
    frames = frames_of(chapter)
    for fmt in ("wav", "flac"):
        out = export(book, fmt, chapter=3)
        assert out.file_name == f"The Long Book; = é - 03 Été 日本語.{fmt}"
        assert sf.info(io.BytesIO(b"".join(out.chunks))).frames == frames
    mp3 = sf.read(io.BytesIO(body("mp3", book, chapter=3)))[0]
    assert abs(len(mp3) - frames) <= 2 * 1152  # the encoder's padding: within two MP3 frames


def test_captions_follow_the_segments_durations_across_chapters(book):
    starts = np.cumsum([0] + [round(s.duration * SR) for c in book.chapters for s in c.segments]) / SR
    texts = [s.text for c in book.chapters for s in c.segments]
    for fmt in ("srt", "vtt"):
        cues = parse_subtitles(body(fmt, book).decode())
        assert [c.text for c in cues] == texts
        assert [c.start for c in cues] == pytest.approx(list(starts[:-1]), abs=0.0006)
        assert [c.end for c in cues] == pytest.approx(list(starts[1:]), abs=0.0006)
    alone = parse_subtitles(body("vtt", book, chapter=3).decode())  # matches that chapter's own file
    assert alone[0].start == 0 and alone[-1].end == pytest.approx(frames_of(book.chapters[2]) / SR, abs=0.0006)


def test_zip_holds_each_chapter_with_its_captions(book):
    archive = zipfile.ZipFile(io.BytesIO(body("zip", book, audio_format="wav")))
    assert archive.testzip() is None
    assert archive.namelist() == [
        "01 Part one = start; of # it all.wav",
        "01 Part one = start; of # it all.srt",
        "01 Part one = start; of # it all.vtt",
        "03 Été 日本語.wav",
        "03 Été 日本語.srt",
        "03 Été 日本語.vtt",
    ]
    assert sf.info(io.BytesIO(archive.read("03 Été 日本語.wav"))).frames == frames_of(book.chapters[2])
    cues = parse_subtitles(archive.read("03 Été 日本語.srt").decode())
    assert [c.text for c in cues] == [s.text for s in book.chapters[2].segments] and cues[0].start == 0


def test_a_book_of_one_segment_exports_in_every_format(tmp_path):
    (segment,) = segments(tmp_path, [SR])
    for fmt in FORMATS:  # segments read once per export: any iterable (a store's query) will do
        assert len(body(fmt, ExportBook("Short", "", [ExportChapter("Only", iter([segment]))]))) > 0
    book = ExportBook("Short", "", [ExportChapter("Only", [segment])])
    path = tmp_path / "one.m4b"
    path.write_bytes(body("m4b", book))
    assert [c["tags"]["title"] for c in probe(path)["chapters"]] == ["Only"]
    assert len(parse_subtitles(body("srt", book).decode())) == 1


def test_a_missing_segment_file_is_an_error_before_the_first_byte(book):
    gone = list(book.chapters[2].segments)[1]
    Path(gone.path).unlink()
    for fmt in FORMATS:
        with pytest.raises(StudioError) as caught:
            export(book, fmt)  # raised here, before any chunk is asked for
        text = str(caught.value)
        assert "Segment 2 of chapter 3 (Été 日本語)" in text and "Sentence number 3." in text
        assert "seg-0003.wav is missing" in text and "Render that segment again" in text


def test_a_file_removed_while_the_export_streams_is_named(book):
    """Between the check and the read (a segment re-rendered meanwhile), the stream ends in an error naming it."""
    gone = list(book.chapters[0].segments)[1]
    for fmt in ("wav", "m4b"):
        chunks = export(book, fmt).chunks
        Path(gone.path).rename(f"{gone.path}.moved")
        with pytest.raises(StudioError, match="Segment 2 of chapter 1 .*seg-0001.wav could not be read"):
            b"".join(chunks)
        Path(f"{gone.path}.moved").rename(gone.path)


def test_segment_files_that_do_not_match_their_record_are_named(tmp_path):
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.zeros((SR, 2), np.float32), SR)
    slow = tmp_path / "slow.wav"
    sf.write(slow, np.zeros(16_000, np.float32), 16_000)
    (short,) = segments(tmp_path, [SR])
    cases = [
        (ExportSegment(stereo, 1.0, "Two channels."), "2 channels"),
        (ExportSegment(slow, 1.0, "Slow."), "16000 Hz"),
        (ExportSegment(short.path, 2.0, "Too short."), "lasts 1.00 s, but the project records 2.0 s"),
    ]
    for segment, expected in cases:
        book = ExportBook("B", "", [ExportChapter("C", [segment])])
        with pytest.raises(StudioError, match=expected):
            export(book, "wav")


def test_files_a_little_off_their_duration_are_cut_or_padded_to_it(tmp_path):
    """The timeline is the durations: a file 50 ms longer is cut, one 50 ms shorter ends in silence."""
    longer, shorter = noise(tmp_path / "a.wav", SR + 1200, 1), noise(tmp_path / "b.wav", SR - 1200, 2)
    chapter = ExportChapter(
        "C", [ExportSegment(tmp_path / "a.wav", 1.0, "A."), ExportSegment(tmp_path / "b.wav", 1.0, "B.")]
    )
    wave = sf.read(io.BytesIO(body("wav", ExportBook("B", "", [chapter]))), dtype="int16")[0]
    assert np.array_equal(wave, np.concatenate([longer[:SR], shorter, np.zeros(1200, np.int16)]))


def test_requests_that_cannot_be_met_say_what_to_ask_for(book, tmp_path):
    with pytest.raises(InputError, match="Use one of: m4b, mp3, wav, flac, srt, vtt, zip"):
        export(book, "ogg")
    with pytest.raises(InputError, match="There is no chapter 4: the book has 3. Ask for a chapter from 1 to 3"):
        export(book, "wav", chapter=4)
    with pytest.raises(InputError, match=r"Chapter 2 \(Empty\) has no rendered segments"):
        export(book, "mp3", chapter=2)
    with pytest.raises(InputError, match="The book has no rendered segments"):
        export(ExportBook("B", "", [ExportChapter("C", [])]), "m4b")
    with pytest.raises(InputError, match="Use one of: mp3, wav, flac"):
        export(book, "zip", audio_format="m4b")


def test_without_ffmpeg_m4b_is_refused_in_plain_words(book, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(InputError, match="M4B needs ffmpeg, which this server lacks. Export WAV, FLAC"):
        export(book, "m4b")


def test_an_export_left_unread_removes_its_temporary_file(book, tmp_path, monkeypatch):
    """A visitor who goes away mid-download: the spooled M4B or FLAC is removed when the stream is closed."""
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(spool))
    for fmt in ("m4b", "flac"):
        chunks = export(book, fmt, chapter=3).chunks
        next(chunks)
        assert len(list(spool.iterdir())) == 1
        chunks.close()
        assert list(spool.iterdir()) == []


def test_ffmetadata_values_escape_what_the_format_reserves():
    assert ffmetadata_value('A = "B";\n#1 \\') == 'A \\= "B"\\; \\#1 \\\\'
    assert ffmetadata_value("Été 日本語") == "Été 日本語"
    result = doctest.testmod(importlib.import_module("inference.projects.export"))  # the module, not the function
    assert result.attempted >= 1 and result.failed == 0


# ---- memory: a book 10x longer does not take 10x the memory ---------------------------------------------------------
def peak_growth(fmt: str, book: ExportBook, **kw) -> tuple[int, int]:
    """(bytes streamed, peak RSS growth in bytes while streaming), RSS sampled at every chunk."""
    gc.collect()
    process = psutil.Process()
    before = peak = process.memory_info().rss
    size = 0
    for chunk in export(book, fmt, **kw).chunks:
        size += len(chunk)
        peak = max(peak, process.memory_info().rss)
    return size, peak - before


def long_book(files: list[ExportSegment], count: int) -> ExportBook:
    """`count` segments cycling over the same files, in chapters of 50."""
    chosen = [files[i % len(files)] for i in range(count)]
    chapters = [ExportChapter(f"Chapter {n + 1}", chosen[at : at + 50]) for n, at in enumerate(range(0, count, 50))]
    return ExportBook("Long", "A", chapters)


@pytest.mark.parametrize(
    ("fmt", "count", "kw"), [("wav", 600, {}), ("zip", 600, {"audio_format": "wav"}), ("m4b", 60, {})]
)
def test_memory_does_not_grow_with_the_books_length(tmp_path, fmt, count, kw):
    files = segments(tmp_path, [SR * 6 + i for i in range(12)])  # 6 s each
    peak_growth(fmt, long_book(files, 2), **kw)  # warm up: imports, first allocations
    short_size, short = peak_growth(fmt, long_book(files, count // 10), **kw)
    long_size, long = peak_growth(fmt, long_book(files, count), **kw)
    assert long_size > 9 * short_size
    # Held in memory, the long book's audio alone would be 10x the short one's: 173 MB for 600 segments as WAV.
    assert long - short < 16e6 and long < 32e6, (short, long)
