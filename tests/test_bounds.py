"""No road around a limit: each of the studio's limits (docs/LIMITS.md) holds for what is actually spoken, decoded,
read and returned, whichever way a request comes in, and is refused before the costly work starts.

- the pronunciation dictionary's MAX_ENTRIES holds when writing (/set_pronunciation), and a file over it (a hand
  edit, an older version) never stops generation: the first MAX_ENTRIES are used, the operator is warned, and the
  entries can still be listed and deleted;
- F5_MAX_SPOKEN_CHARS and F5_MAX_AUDIO_SECONDS hold for the text once numbers and pronunciations are written out,
  and a serverless job's output size (RUNPOD_MAX_OUTPUT_MB) is known before generating: refused quickly, nothing
  generated;
The adapters' own roads (gradio_client, OpenAI, the body limit on /gradio_api/*) are in test_bounds_e2e.py.
"""

from __future__ import annotations

import base64
import logging
import re
import time
from pathlib import Path

import pytest

from inference import Engine, InputError, Reference, Studio, SynthesisOptions, SynthesisRequest
from inference.engine import EngineHooks
from inference.text.pronounce import GLOBAL_FILE, MAX_ENTRIES, Dictionary, Entry, PronunciationStore
from tests.conftest import REF_TEXT, SharedHooks, serverless_worker

NUMBERS = " ".join(["1234567"] * 200)  # 1,599 characters typed; about 14,000 spoken (numbers as words)
LONG_SPOKEN = "a" * 200  # the longest spoken form an entry may have


def full_file(n: int, extra: str = "") -> str:
    return "".join(f"word{i} = spoken{i}\n" for i in range(n)) + extra


# ---- the pronunciation dictionary -----------------------------------------------------------------------------------
def test_a_full_dictionary_refuses_a_new_word_and_keeps_working(tmp_path: Path) -> None:
    store = PronunciationStore(tmp_path)
    store.save_text(full_file(MAX_ENTRIES))
    with pytest.raises(InputError, match=f"already has {MAX_ENTRIES} entries") as info:
        store.set(Entry("Nguyen", "win"))
    assert "Delete" in info.value.hint
    assert len(store.load().entries) == MAX_ENTRIES  # nothing was written
    assert store.set(Entry("word7", "seven")).apply("word7") == "seven"  # changing a word needs no room
    store.delete("word8")
    assert store.set(Entry("Nguyen", "win")).apply("Nguyen") == "win"  # room again after a delete
    assert store.for_voice().apply("word1999 and Nguyen") == "spoken1999 and win"


def test_a_file_over_the_limit_never_stops_generation(
    engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = PronunciationStore(tmp_path)
    (tmp_path / GLOBAL_FILE).write_text(full_file(MAX_ENTRIES + 5, "this line is wrong\nlast = one\n"), "utf-8")
    with caplog.at_level(logging.WARNING, logger="inference.text.pronounce"):
        used = store.for_voice()
    assert len(used.entries) == MAX_ENTRIES and used.apply("word0 word2004 last") == "spoken0 word2004 last"
    assert f"{MAX_ENTRIES + 6} entries; only the first {MAX_ENTRIES} are used" in caplog.text
    assert "'this line is wrong' is not an entry" in caplog.text
    assert len(store.load().entries) == MAX_ENTRIES + 6  # listed whole, so it can be trimmed
    assert len(store.delete("last").entries) == MAX_ENTRIES + 5  # delete works and keeps every other entry
    with pytest.raises(InputError, match="already has"):
        store.set(Entry("Nguyen", "win"))
    # the engine's text pipeline, which every generation runs, keeps working on such a file
    original = engine.pronunciations
    engine.pronunciations = store
    try:
        assert engine.spoken_text("word3 has cats.", normalize=False) == "spoken3 has cats."
    finally:
        engine.pronunciations = original


def test_strict_parsing_still_names_the_limit() -> None:
    with pytest.raises(InputError, match=f"more than {MAX_ENTRIES}"):
        Dictionary.parse(full_file(MAX_ENTRIES + 1))


# ---- what is spoken, before anything is generated -------------------------------------------------------------------
class Generations:
    """Counts the model runs an engine starts, as its fault hook (called for every item of every run): an engine's
    own (EngineHooks(fault=runs)), or, inside `with`, the shared engine's (`engine_hooks`)."""

    def __init__(self, hooks: SharedHooks | None = None) -> None:
        self.hooks, self.count = hooks, 0

    def __enter__(self) -> Generations:
        if self.hooks is not None:
            self.hooks.fault = self
        return self

    def __call__(self, item: object) -> None:
        self.count += 1

    def __exit__(self, *exc: object) -> None:
        if self.hooks is not None:
            self.hooks.fault = None


def limited_engine(engine: Engine, runs: Generations, **limits: object) -> Engine:
    """The shared engine's loaded model under other limits, its runs counted."""
    limited = Engine(engine.settings.replace(**limits), hooks=EngineHooks(fault=runs))
    limited._models = engine._models  # the same loaded model, other limits
    return limited


def request(text: str, short_ref: Path, **kwargs: object) -> SynthesisRequest:
    return SynthesisRequest(text, Reference(short_ref, REF_TEXT), SynthesisOptions(nfe_step=4, seed=1), **kwargs)


def test_a_pronunciation_cannot_grow_the_text_past_the_spoken_limit(
    engine: Engine, engine_hooks: SharedHooks, short_ref: Path, tmp_path: Path
) -> None:
    store = PronunciationStore(tmp_path)
    store.set(Entry("a", LONG_SPOKEN))
    text = " ".join(["a"] * 300)  # 599 characters typed, 60,299 spoken
    original, engine.pronunciations = engine.pronunciations, store
    try:
        with Generations(engine_hooks) as runs:
            start = time.perf_counter()
            with pytest.raises(InputError, match="60,299 once numbers and pronunciations") as info:
                engine.synthesize(request(text, short_ref))
            assert time.perf_counter() - start < 5 and runs.count == 0
        assert "Shorten the text" in info.value.hint
        with pytest.raises(InputError, match="60,299"):  # the preview (/normalize_text) says so too
            engine.spoken_text(text)
    finally:
        engine.pronunciations = original


def test_numbers_cannot_lengthen_the_audio_past_the_seconds_limit(
    engine: Engine, short_ref: Path, caplog: pytest.LogCaptureFixture
) -> None:
    limited = limited_engine(engine, runs := Generations(), max_audio_seconds=60)
    with runs, caplog.at_level(logging.INFO, logger="inference.limits"):
        with pytest.raises(InputError, match=r"about [\d,]+ s of audio .*the limit is 60 s") as info:
            limited.synthesize(request(NUMBERS, short_ref))
        assert runs.count == 0
    # the visitor is told what to do; the operator's log names the setting
    assert "F5_MAX_AUDIO_SECONDS" not in str(info.value) and "Shorten the text" in info.value.hint
    assert "over F5_MAX_AUDIO_SECONDS=60" in caplog.text
    with pytest.raises(InputError, match="the limit is 60 s"):  # an asked duration is the audio's length
        limited.synthesize(request("Hello there.", short_ref, duration=61.0))


def test_a_serverless_job_too_large_to_return_is_refused_before_generating(
    engine: Engine, engine_hooks: SharedHooks, short_ref: Path
) -> None:
    worker = serverless_worker(engine, max_output_mb=1.0)  # about 15 s of wav, 45 s of mp3
    audio = base64.b64encode(short_ref.read_bytes()).decode()
    job = {"text": " ".join(["123456"] * 12), "ref_audio_base64": audio, "ref_text": REF_TEXT, "nfe_step": 4}
    with Generations(engine_hooks) as runs:
        start = time.perf_counter()
        out = worker.handler({"id": "big", "input": {**job, "response_format": "wav"}})
        streamed = worker.stream_handler({"id": "big-stream", "input": {**job, "response_format": "wav"}})
        assert time.perf_counter() - start < 5 and runs.count == 0
    assert re.search(r"about \d+ s of audio .* the limit is 15 s", out["error"]), out
    assert "RunPod returns at most 1 MB per job as wav: ask for response_format mp3" in out["error"]
    assert "the limit is 15 s" in str(streamed)
    fits = worker.handler({"id": "mp3", "input": {**job, "response_format": "mp3"}})  # 3x longer fits in mp3
    assert "error" not in fits, fits


# ---- work outside the queue (#21.9) ---------------------------------------------------------------------------------
def test_the_edit_tabs_word_diff_refuses_text_longer_than_an_edit_can_be() -> None:
    from inference.model.asr import Word
    from inference.studio.alignment import align
    from inference.text.worddiff import MAX_WORDS
    from ui.edit import diff_pieces

    text = "x " * 16_000  # 32 KB of one repeated word: the diff's worst case (minutes before the bound)
    start = time.perf_counter()
    pieces = diff_pieces(text, text + " y")
    assert time.perf_counter() - start < 1
    assert len(pieces) == 1 and pieces[0][1] is None
    assert pieces[0][0].startswith(f"The transcript has 16,000 words; speech editing compares at most {MAX_WORDS}")
    longest = " ".join(["x"] * MAX_WORDS)
    assert diff_pieces(longest, longest[:-1] + "y")[-1] == ("y", "added")  # the longest allowed is diffed
    with pytest.raises(InputError, match=f"compares at most {MAX_WORDS}"):  # a typed transcript, to align
        align(text, [Word("x", 0.0, 0.5)])


def test_find_speakers_refuses_a_script_longer_than_a_dialogue_may_be(engine: Engine) -> None:
    from inference.studio.dialogue import synthesize_script
    from inference.text.script import MAX_TURNS, max_script_chars, parse_script
    from ui.dialogue import ROWS, DialogueHandlers

    handlers = DialogueHandlers(Studio(engine))
    script = "[A] hi there. [B] hello.\n" * 10_000  # 250 KB
    start = time.perf_counter()
    assert handlers.find_speakers(script, [("", None)] * ROWS, ["", "", ""]) is None
    assert time.perf_counter() - start < 0.5
    with pytest.raises(InputError, match="The script is 250,000 characters long; a dialogue takes at most"):
        synthesize_script(engine, script)  # what Generate and /synthesize_dialogue run
    limit = max_script_chars(engine.settings.max_text_chars)
    tag = "[" + "N" * 40 + " speed=1.00000000000000000000000000000000000]"  # the longest tag a turn may have
    longest = (tag + " Hi.") * MAX_TURNS
    longest += " " * (limit - len(longest))
    assert len(parse_script(longest, limit)) == MAX_TURNS  # a script at the bound is parsed


# ---- decoding (#21.4) -----------------------------------------------------------------------------------------------
PEAK_RSS = """
import resource, sys
import numpy as np, soundfile, soxr
from inference.audio.decode import decode_audio
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
wave, sr = decode_audio(sys.argv[1])
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(wave) / sr, (after - before) / 1024)
"""


def write_silence(path: Path, rate: int, channels: int, seconds: float) -> Path:
    """Silence, written in blocks; as FLAC it compresses to almost nothing: a small upload, a long decode."""
    import numpy as np
    import soundfile as sf

    block = np.zeros((rate * 10, channels), np.float32)
    with sf.SoundFile(path, "w", samplerate=rate, channels=channels, subtype="PCM_16") as f:
        for _ in range(int(seconds // 10)):
            f.write(block)
        f.write(block[: int(seconds % 10 * rate)])
    return path


def test_a_recording_of_absurd_rate_or_channels_is_refused_from_its_header(engine: Engine, tmp_path: Path) -> None:
    from inference.audio.decode import MAX_SOURCE_CHANNELS, decode_audio

    absurd = write_silence(tmp_path / "absurd.flac", 655_350, 8, 1.0)  # the rate of the 3.5 MB FLAC that took 3 GB
    worker = serverless_worker(engine)
    audio = base64.b64encode(absurd.read_bytes()).decode()
    job = {"text": "Hello there.", "ref_audio_base64": audio, "ref_text": "Hi."}
    start = time.perf_counter()
    out = worker.handler({"id": "absurd", "input": job})
    assert time.perf_counter() - start < 2
    assert "sample rate (655,350 Hz) is not one we read" in out["error"] and "48 kHz" in out["error"]
    crowded = write_silence(tmp_path / "crowded.wav", 8000, MAX_SOURCE_CHANNELS + 1, 1.0)
    with pytest.raises(InputError, match=f"{MAX_SOURCE_CHANNELS + 1} channels; we read at most"):
        decode_audio(crowded)


def test_decoding_holds_only_the_output_in_memory(tmp_path: Path) -> None:
    """The longest decode at the highest rate read: 300 s at 192 kHz is 230 MB as float32 at the source's rate; the
    output, 24 kHz mono, is 29 MB. Peak memory is measured in a fresh process."""
    import subprocess
    import sys

    from inference.audio.decode import MAX_SOURCE_RATE

    path = write_silence(tmp_path / "long.flac", MAX_SOURCE_RATE, 1, 300.0)
    assert path.stat().st_size < 2_000_000
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, str(path)], capture_output=True, text=True, cwd=root)
    seconds, grown_mb = (float(x) for x in out.stdout.split())
    assert seconds == pytest.approx(300.0, abs=0.01)
    assert grown_mb < 150, f"decoding grew peak memory by {grown_mb:.0f} MB"


def test_a_dialogue_cannot_spread_the_spoken_limit_over_its_turns(
    engine: Engine, engine_hooks: SharedHooks, short_ref: Path, tmp_path: Path
) -> None:
    from inference.studio.dialogue import synthesize_script

    store = PronunciationStore(tmp_path)
    store.set(Entry("a", LONG_SPOKEN))
    script = "".join(f"[S{i % 2}] a a a a a a a a a a a a a a a a a a a a a a a a a.\n" for i in range(90))
    uploads = {f"S{i}": Reference(short_ref, REF_TEXT) for i in range(2)}  # each turn: 5,024 spoken, in its limit
    original, engine.pronunciations = engine.pronunciations, store
    try:
        with Generations(engine_hooks) as runs:
            with pytest.raises(InputError, match=r"4,500 characters typed, 452,339 once numbers and pronunciations"):
                synthesize_script(engine, script, uploads=uploads)
            assert runs.count == 0
    finally:
        engine.pronunciations = original


def test_a_dub_is_bounded_as_a_whole_before_any_cue_is_generated(
    engine: Engine, engine_hooks: SharedHooks, short_ref: Path
) -> None:
    from inference.studio.dubbing import dub

    audio = base64.b64encode(short_ref.read_bytes()).decode()
    late = "1\n00:00:29,000 --> 00:00:30,000\nHello there.\n"  # a 30.5 s track: more than 1 MB of wav carries
    worker = serverless_worker(engine, max_output_mb=1.0)
    with Generations(engine_hooks) as runs:
        out = worker.handler(
            {"id": "dub", "input": {"subtitles": late, "ref_audio_base64": audio, "ref_text": REF_TEXT}}
        )
        assert runs.count == 0
    assert "The dubbed track would last about 30 s; the limit here is 15 s" in out["error"]
    assert "ask for response_format mp3" in out["error"]
    cues = "".join(f"{i + 1}\n00:00:{i:02},000 --> 00:00:{i:02},500\n{NUMBERS[:200]}\n\n" for i in range(20))
    limited = limited_engine(engine, runs := Generations(), max_audio_seconds=60)
    with runs:  # each cue is short; together they are too long
        with pytest.raises(InputError, match=r"spoken as about [\d,]+ s of speech together; the limit is 60 s"):
            dub(limited, cues, reference=Reference(short_ref, REF_TEXT))
        assert runs.count == 0
