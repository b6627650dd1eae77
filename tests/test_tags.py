"""Every output file says what it is: its tags name the studio, say "synthetic speech" and give the request's mark
id (the one the audit log records), read back with a real reader (ffprobe), per container.

| what a user gets                                   | container        | read back         | expected              |
|----------------------------------------------------|------------------|-------------------|-----------------------|
| a file (download, OpenAI, serverless): wav         | RIFF LIST/INFO   | comment (ICMT)    | studio, synthetic, id |
| ... flac                                           | Vorbis comment   | comment           | studio, synthetic, id |
| ... mp3                                            | ID3              | comment           | studio, synthetic, id |
| ... opus                                           | Ogg, Vorbis      | stream's comment  | studio, synthetic, id |
| ... aac (ADTS) and pcm                             | none             | nothing           | no tags (README says) |
| a streamed wav / mp3 / opus / flac (OpenAI stream) | as above         | as above          | the same tags         |
| a streamed wav: players still read its samples     | LIST before data | soundfile         | the samples unchanged |
| a project export: wav, flac, mp3, m4b, zip members | as above, MP4    | comment           | the same tags         |
| two requests                                       |                  |                   | two mark ids          |
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference.audio.encode import FORMATS, STUDIO, encode_audio, stream_audio
from inference.projects.export import ExportBook, ExportChapter, ExportSegment, export
from inference.provenance import acting

SR = 24000
TAGGED = ("wav", "flac", "mp3", "opus")


def noise(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 0.1).astype(np.float32)


def tags_of(data: bytes) -> dict[str, str]:
    """The container's tags and the first stream's (Ogg keeps its comments there), as ffprobe reads them."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json", "-"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    found = json.loads(out)
    streams = found.get("streams") or [{}]
    return {k.lower(): v for k, v in {**found.get("format", {}).get("tags", {}), **streams[0].get("tags", {})}.items()}


def says_what_it_is(tags: dict[str, str], mark_id: str) -> bool:
    comment = tags.get("comment", "")
    return STUDIO in comment and "synthetic" in comment.lower() and mark_id in comment


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_whole_file_is_tagged_where_its_container_can(fmt: str) -> None:
    with acting("ann", "rest") as caller:
        data = encode_audio(noise(), SR, fmt)
    if fmt in TAGGED:
        assert says_what_it_is(tags_of(data), caller.mark_id), tags_of(data)
    elif fmt == "aac":
        assert "comment" not in tags_of(data)  # ADTS has no tags
    else:
        assert len(data) == 2 * SR  # raw pcm: samples only


@pytest.mark.parametrize("fmt", ("wav", "flac", "mp3", "opus"))
def test_a_stream_is_tagged(fmt: str) -> None:
    wave = noise()
    with acting(None, "openai") as caller:
        chunks = stream_audio(fmt, iter([wave[: SR // 2], wave[SR // 2 :]]), SR)
    data = b"".join(chunks)  # read after the block: the tags were taken when the stream was asked for
    assert says_what_it_is(tags_of(data), caller.mark_id), tags_of(data)


def test_a_streamed_wav_still_plays_its_samples() -> None:
    wave = noise()
    data = b"".join(stream_audio("wav", iter([wave]), SR))
    fixed = data[:4] + (len(data) - 8).to_bytes(4, "little") + data[8:]  # a player's view once the stream ends
    at = fixed.index(b"data", 36)
    fixed = fixed[: at + 4] + (len(fixed) - at - 8).to_bytes(4, "little") + fixed[at + 8 :]
    heard, rate = sf.read(io.BytesIO(fixed), dtype="int16")
    assert rate == SR and np.array_equal(heard, np.frombuffer(encode_audio(wave, SR, "pcm"), "<i2"))


def test_each_request_has_its_own_mark_id() -> None:
    with acting(None, "ui") as first:
        a = tags_of(encode_audio(noise(), SR, "wav"))
    with acting(None, "ui") as second:
        b = tags_of(encode_audio(noise(), SR, "wav"))
    assert first.mark_id != second.mark_id
    assert says_what_it_is(a, first.mark_id) and says_what_it_is(b, second.mark_id)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> ExportBook:
    folder = tmp_path_factory.mktemp("tagged-book")
    segments = []
    for i in range(2):
        path = folder / f"seg-{i}.wav"
        sf.write(path, noise(1.0, i), SR, subtype="PCM_16")
        segments.append(ExportSegment(path, 1.0, f"Line {i}."))
    return ExportBook("Tagged", "Someone", [ExportChapter("One", segments[:1]), ExportChapter("Two", segments[1:])])


@pytest.mark.parametrize("fmt", ("wav", "flac", "mp3", "m4b"))
def test_a_project_export_is_tagged(book: ExportBook, fmt: str) -> None:
    with acting("ann", "ui") as caller:
        out = export(book, fmt)
    data = b"".join(out.chunks)
    tags = tags_of(data)
    assert says_what_it_is(tags, caller.mark_id), tags
    if fmt == "m4b":
        assert tags["title"] == "Tagged"  # the book's own metadata is kept beside it


def test_a_project_zip_holds_tagged_chapters(book: ExportBook) -> None:
    with acting(None, "rest") as caller:
        out = export(book, "zip", audio_format="flac")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(out.chunks)))
    members = [n for n in archive.namelist() if n.endswith(".flac")]
    assert len(members) == 2
    assert all(says_what_it_is(tags_of(archive.read(n)), caller.mark_id) for n in members)


def test_the_tags_need_no_request_context(tmp_path: Path) -> None:
    """A script using the library (no adapter's `acting`) still gets tagged files, under an id of their own."""
    tags = tags_of(encode_audio(noise(), SR, "flac"))
    assert STUDIO in tags["comment"] and "mark id" in tags["comment"]
