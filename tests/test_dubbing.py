"""Dubbing (inference/studio/dubbing.py) and timed speech (SynthesisRequest.duration) on the tiny model: subtitles in,
one track out, each cue in its slot; every malformed subtitle refused naming its line; the limits at their largest."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InputError, Reference, SynthesisOptions, SynthesisRequest
from inference.studio import dubbing
from inference.studio.dubbing import MAX_CUES, MAX_DUB_SECONDS, MAX_SPEEDUP, TAIL_S, dub
from inference.text.subtitles import decode_subtitles, parse_subtitles
from tests.badinputs import BAD_SUBTITLES as MALFORMED
from tests.badinputs import assert_clear, srt_text, tried
from tests.conftest import REF_TEXT

RATE = 24000
FAST = SynthesisOptions(nfe_step=4, seed=3)
# Three cues with gaps: 0.5-1.5, 2.5-3.5, 5.0-6.0 s; each text takes about a second at the short reference's pace.
THREE = """1
00:00:00,500 --> 00:00:01,500
Hello there, my friend.

2
00:00:02,500 --> 00:00:03,500
How are you today, then?

3
00:00:05,000 --> 00:00:06,000
Goodbye to you, my friend.
"""
TOO_LONG = "This sentence is far too long to be said in half a second, however fast anybody speaks it."


@pytest.fixture(scope="module")
def ref(short_ref: Path) -> Reference:
    return Reference(short_ref, REF_TEXT)


def first_sound(wave: np.ndarray, after: int = 0, threshold: float = 1e-4) -> int:
    loud = np.flatnonzero(np.abs(wave[after:]) > threshold)
    return after + int(loud[0]) if len(loud) else -1


# ---- the engine's hook: a duration for the speech -----------------------------------------------------------------
@pytest.mark.parametrize("seconds", [0.4, 2.0, 7.5])
def test_a_duration_sets_the_length_of_one_chunk(engine: Engine, ref: Reference, seconds: float) -> None:
    result = engine.synthesize(SynthesisRequest("Hello there, my friend.", ref, FAST, duration=seconds))
    assert len(result.chunks) == 1
    assert abs(result.duration - seconds) <= 256 / RATE  # within one mel frame


def test_a_duration_is_shared_by_the_chunks_of_long_text(engine: Engine, ref: Reference) -> None:
    text = " ".join(["This is one of many sentences that make a text too long for one chunk."] * 6)
    result = engine.synthesize(SynthesisRequest(text, ref, FAST, duration=30.0))
    assert len(result.chunks) > 1
    assert abs(result.duration - 30.0) <= len(result.chunks) * 256 / RATE


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "2", True])
def test_a_bad_duration_is_refused(engine: Engine, ref: Reference, bad) -> None:
    with pytest.raises(InputError) as e:
        engine.synthesize(SynthesisRequest("Hello.", ref, FAST, duration=bad))
    assert_clear(str(e.value), "duration")


# ---- a 3-cue SRT with gaps ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def three(engine: Engine, ref: Reference) -> dubbing.DubResult:
    return dub(engine, THREE, reference=ref, options=FAST)


def test_the_track_is_as_long_as_the_subtitles(three: dubbing.DubResult) -> None:
    assert three.sample_rate == RATE
    assert len(three.wave) == round((6.0 + TAIL_S) * RATE)
    assert three.wave.dtype == np.float32 and np.isfinite(three.wave).all()


def test_gaps_are_silent_and_each_cue_speaks_in_its_slot(three: dubbing.DubResult) -> None:
    wave = three.wave
    for a, b in [(0.0, 0.5), (1.5, 2.5), (3.5, 5.0), (6.0, 6.5)]:
        gap = wave[round(a * RATE) : round(b * RATE)]
        assert np.abs(gap).max() < 1e-4, (a, b, np.abs(gap).max())
    for cue in three.cues:
        onset = first_sound(wave, round((cue.start - 0.2) * RATE)) / RATE
        assert abs(onset - cue.start) <= 0.05, (cue.cue, onset)
        slot = wave[round(cue.start * RATE) : round(cue.end * RATE)]
        assert np.sqrt(np.mean(slot**2)) > 1e-3  # speech (noise, from the random model) fills the slot
        assert cue.overflow == 0 and cue.overlap == 0 and cue.note == "fits"
        assert abs(cue.spoken - (cue.end - cue.start)) <= 256 / RATE


def test_the_report_and_the_zip(three: dubbing.DubResult) -> None:
    table = three.table()
    assert [r["cue"] for r in table] == [1, 2, 3] and [r["line"] for r in table] == [2, 6, 10]
    assert [(r["start"], r["end"]) for r in table] == [(0.5, 1.5), (2.5, 3.5), (5.0, 6.0)]
    assert {"spoken", "speed", "overflow", "overlap", "seed", "voice", "text"} <= set(table[0])
    assert [r["seed"] for r in table] == [3, 4, 5]  # base + cue index
    with zipfile.ZipFile(io.BytesIO(three.zip_bytes())) as archive:
        names = archive.namelist()
        assert names == ["cue-001.wav", "cue-002.wav", "cue-003.wav", "report.json"]
        clip, sr = sf.read(io.BytesIO(archive.read("cue-002.wav")), dtype="float32")
        assert sr == RATE and abs(len(clip) / sr - three.cues[1].spoken) < 1e-3
        assert json.loads(archive.read("report.json")) == table


def test_the_same_seed_gives_the_same_track(engine: Engine, ref: Reference, three: dubbing.DubResult) -> None:
    again = dub(engine, THREE, reference=ref, options=FAST)
    np.testing.assert_array_equal(again.wave, three.wave)


def test_a_cue_too_long_runs_into_the_gap_and_is_reported(engine: Engine, ref: Reference) -> None:
    text = srt_text((0.5, 1.0, TOO_LONG), (9.0, 9.5, "Hi."))
    result = dub(engine, text, reference=ref, options=FAST, max_speedup=1.5)
    long, short = result.cues
    assert long.speed == pytest.approx(1.5, rel=0.02)  # shortened no further than the maximum speed-up
    assert long.overflow == pytest.approx(long.spoken - 0.5, abs=1e-3) and long.overflow > 0.5
    assert long.overlap == 0 and "gap" in long.note
    assert short.overflow == 0
    end = round((0.5 + long.spoken) * RATE)
    assert np.abs(result.wave[end + 10 : round(9.0 * RATE)]).max() < 1e-4  # silent after the overflow


def test_a_cue_too_long_for_its_gap_overlaps_the_next_and_is_reported(engine: Engine, ref: Reference) -> None:
    result = dub(engine, srt_text((0.5, 1.0, TOO_LONG), (1.2, 2.0, "Next one.")), reference=ref, options=FAST)
    long = result.cues[0]
    assert long.overlap == pytest.approx(0.5 + long.spoken - 1.2, abs=1e-3) and long.overlap > 0
    assert "next cue" in long.note


def test_short_text_in_a_long_slot_is_spoken_at_the_slowest_pace(engine: Engine, ref: Reference) -> None:
    result = dub(engine, srt_text((1.0, 9.0, "Yes.")), reference=ref, options=FAST)
    cue = result.cues[0]
    assert cue.speed == pytest.approx(dubbing.SLOWEST, rel=0.05) and cue.spoken < 8.0
    assert len(result.wave) == round(9.5 * RATE)


def test_vtt_and_speaker_tags_map_to_voices(engine: Engine, ref: Reference, short_ref: Path) -> None:
    engine.save_voice("dub-guest", short_ref, "A second voice.", overwrite=True)
    engine.save_voice("dub-host", short_ref, REF_TEXT, overwrite=True)
    vtt = (
        "WEBVTT\n\n00:00.500 --> 00:01.500\nWelcome to the show.\n\n"
        "00:02.000 --> 00:03.000\n[Guest] Hello there.\n\n"
        "00:03.500 --> 00:04.500\nStill the guest.\n\n"
        "00:05.000 --> 00:06.000\n<v Host>Welcome back.\n\n"
        "00:06.500 --> 00:07.500\n[Narrator seed=99] The end.\n"
    )
    mapping = {"Guest": "dub-guest", "Host": "dub-host", "Narrator": "dub-guest"}
    result = dub(engine, vtt, voice="dub-host", mapping=mapping, options=FAST)
    assert [(c.speaker, c.voice) for c in result.cues] == [
        ("", "dub-host"),  # untagged: the voice given
        ("Guest", "dub-guest"),
        ("Guest", "dub-guest"),  # an untagged cue goes on with the previous speaker
        ("Host", "dub-host"),  # a WebVTT voice span is a tag
        ("Narrator", "dub-guest"),
    ]
    assert result.cues[4].seed == 99 and result.cues[1].text == "Hello there."
    assert result.table()[0]["speaker"] == "default"


def test_a_sound_cue_is_left_silent_and_reported_as_one(engine: Engine, ref: Reference) -> None:
    text = srt_text((0.5, 1.5, "Hello there, my friend."), (2.0, 4.0, "[Music]"), (4.5, 5.5, "Still me."))
    result = dub(engine, text, reference=ref, options=FAST)
    first, music, last = result.table()
    assert music["note"] == "sound cue [Music]: left silent" and music["spoken"] == 0 and music["speaker"] == ""
    assert first["voice"] == last["voice"] == dubbing.UPLOADED  # the sound cue does not interrupt the speaker
    assert last["seed"] == FAST.seed + 2  # cue i keeps seed base + i
    assert np.abs(result.wave[round(2.0 * RATE) : round(4.0 * RATE)]).max() < 1e-4  # silent in its slot
    with zipfile.ZipFile(io.BytesIO(result.zip_bytes())) as archive:
        assert "cue-002.wav" in archive.namelist()


def test_a_tag_that_names_no_voice_says_how_it_was_read(engine: Engine, ref: Reference) -> None:
    text = srt_text((0.5, 1.5, "Hello there."), (2.0, 3.0, "[Applause] Thank you."))
    with pytest.raises(InputError) as e:
        dub(engine, text, reference=ref, options=FAST)
    assert "Cue 2 (line 6) starts with [Applause], read as a speaker tag" in e.value.message
    assert "sound cue" in e.value.hint and "Applause=" in e.value.hint


# ---- malformed subtitles: every one refused, naming the line --------------------------------------------------------
@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_subtitles_are_refused_naming_the_line(engine: Engine, ref: Reference, name: str) -> None:
    text, expect = MALFORMED[name]
    tried("engine", "subtitles", name)
    with pytest.raises(InputError) as e:
        dub(engine, text, reference=ref, options=FAST)
    assert_clear(str(e.value), expect)


def test_untagged_cues_need_a_voice(engine: Engine) -> None:
    with pytest.raises(InputError) as e:
        dub(engine, THREE, options=FAST)
    assert_clear(str(e.value), r"cue 1 \(line 2\) has no speaker tag, and no voice")


@pytest.mark.parametrize("bad", [0.5, MAX_SPEEDUP + 0.01, float("nan"), "fast", None, True])
def test_a_bad_max_speedup_is_refused(engine: Engine, ref: Reference, bad) -> None:
    with pytest.raises(InputError) as e:
        dub(engine, THREE, reference=ref, options=FAST, max_speedup=bad)
    assert_clear(str(e.value), "maximum speed-up")


@pytest.mark.parametrize(
    "data, expect",
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not UTF-8|binary"),
        (b"1\x00\x00\x00" * 10, "binary"),
        (b"x" * (2_000_001), "limit is 2 MB"),
    ],
)
def test_files_that_are_not_subtitle_text_are_refused(data: bytes, expect: str) -> None:
    with pytest.raises(InputError) as e:
        decode_subtitles(data)
    assert_clear(str(e.value), expect)


def test_utf16_and_bom_files_are_read() -> None:
    for data in (THREE.encode("utf-16"), b"\xef\xbb\xbf" + THREE.encode(), THREE.replace("\n", "\r\n").encode()):
        assert [c.text for c in parse_subtitles(decode_subtitles(data))] == [
            "Hello there, my friend.",
            "How are you today, then?",
            "Goodbye to you, my friend.",
        ]


# ---- the limits at their largest ------------------------------------------------------------------------------------
def test_the_largest_speedup_and_the_latest_end(engine: Engine, ref: Reference) -> None:
    text = srt_text((0.5, 1.0, TOO_LONG), (MAX_DUB_SECONDS - 1.0, MAX_DUB_SECONDS, "The very end."))
    result = dub(engine, text, reference=ref, options=FAST, max_speedup=MAX_SPEEDUP)
    assert result.cues[0].speed == pytest.approx(MAX_SPEEDUP, rel=0.02)
    assert len(result.wave) == round((MAX_DUB_SECONDS + TAIL_S) * RATE)
    last = result.cues[1]
    assert abs(first_sound(result.wave, round((last.start - 0.2) * RATE)) / RATE - last.start) <= 0.05


@pytest.mark.slow
def test_the_largest_number_of_cues(engine: Engine, ref: Reference) -> None:
    text = srt_text(*[(i * 1.0, i * 1.0 + 0.6, f"Line {i}.") for i in range(MAX_CUES)])
    done: list[int] = []
    result = dub(engine, text, reference=ref, options=FAST, progress=lambda d, t: done.append(d))
    assert len(result.cues) == MAX_CUES and done[-1] == MAX_CUES
    assert len(result.wave) == round(((MAX_CUES - 1) + 0.6 + TAIL_S) * RATE)
    assert all(c.overlap == 0 for c in result.cues)
