"""Speech editing on the tiny random model: what is kept is the recording's own samples, spans change alone and by
the expected time, explicit spans equal aligned ones, seeds reproduce, the conditioning is speech_edit.py's, and
every refusal says what to do.

The words of f5-tts's example recording are known: speech_edit.py aligned "nature" (1.42-2.44 s) and "mother
nature" (4.04-4.90 s) by hand; `KnownWords` hears them at those times, where a real Whisper would (the tiny
random Whisper hears noise: its path is tested on its own, below).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InputError, ModelUnavailable, SynthesisOptions
from inference.audio.decode import content_hash, decode_audio
from inference.engine import EngineHooks
from inference.model.asr import Transcriber, Word
from inference.studio import editing, edits
from inference.studio.alignment import align
from inference.studio.editing import EditRequest, Span, edit_recording, transcribe_recording
from inference.text.chunking import nbytes
from tests.conftest import REF_TEXT

SR = 24000
HALF_FADE = round(editing.SPLICE_FADE_S * SR) // 2
FRAME_S = 256 / SR
OPTIONS = SynthesisOptions(nfe_step=4, seed=7)
EXAMPLE_WORDS = [
    Word("Some", 0.28, 0.52),
    Word("call", 0.52, 0.8),
    Word("me", 0.8, 1.3),
    Word("nature,", 1.42, 2.44),
    Word("others", 2.62, 3.02),
    Word("call", 3.02, 3.3),
    Word("me", 3.3, 3.9),
    Word("mother", 4.04, 4.46),
    Word("nature.", 4.46, 4.9),
]
NEW_TEXT = "Some call me optimist, others call me realist."


class KnownWords(Transcriber):
    """Hears the example recording's words at the times speech_edit.py gives them (counting each call)."""

    def __init__(self, words: list[Word] | None = None) -> None:
        super().__init__("known-words")
        self.heard, self.calls = EXAMPLE_WORDS if words is None else words, 0

    def words(self, wave: np.ndarray, sample_rate: int, language: str | None = None) -> list[Word]:
        self.calls += 1
        return list(self.heard)


@pytest.fixture(scope="module")
def known(tiny_settings) -> Engine:
    e = Engine(tiny_settings, transcriber=KnownWords())
    e.load()
    return e


def edit(engine: Engine, audio, new_text: str = NEW_TEXT, transcript: str = "", spans=(), **options):
    opts = SynthesisOptions(**{"nfe_step": 4, "seed": 7, **options})
    return edit_recording(engine, EditRequest(audio, new_text, transcript, tuple(spans), opts))


def kept_stretches(result) -> list[tuple[int, int, int]]:
    """(start in the take, start in the recording, length) of each stretch no edit touches, less the fades."""
    out, orig_at, take_at = [], 0, 0
    for e in result.edits:
        a, b = round(e.start * SR), round(e.end * SR)
        out.append((take_at, orig_at, round(e.new_start * SR) - take_at))
        orig_at, take_at = b, round((e.new_start + (e.seconds)) * SR)
        assert round(e.new_start * SR) - out[-1][0] == a - out[-1][1], "a kept stretch keeps its length"
    out.append((take_at, orig_at, len(result.original) - orig_at))
    trimmed = []
    for i, (t, o, n) in enumerate(out):
        lead = HALF_FADE if i > 0 else 0
        tail = HALF_FADE if i < len(out) - 1 else 0
        trimmed.append((t + lead, o + lead, n - lead - tail))
    return trimmed


# ---- what is kept, what changes --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "new_text",
    [NEW_TEXT, "Some call me nature, others call me nature.", "Some people call me nature, others call me nature."],
    ids=["two-replacements", "deletion", "insertion-and-deletion"],
)
def test_outside_the_edits_the_take_is_the_recording_sample_for_sample(known: Engine, ref_wav: Path, new_text) -> None:
    result = edit(known, ref_wav, new_text)
    assert result.sample_rate == SR and result.wave.dtype == np.float32 and np.isfinite(result.wave).all()
    assert np.array_equal(result.original, decode_audio(ref_wav)[0])
    stretches = kept_stretches(result)
    assert sum(n for _, _, n in stretches) > 0.5 * len(result.original)
    for take_at, orig_at, n in stretches:
        assert np.array_equal(result.wave[take_at : take_at + n], result.original[orig_at : orig_at + n])


def test_a_recording_at_another_rate_is_resampled_once_and_kept_at_24k(known: Engine, ref_wav: Path, tmp_path) -> None:
    import soxr

    wave, _ = sf.read(ref_wav, dtype="float32")
    path = tmp_path / "talk_44k.wav"
    sf.write(path, soxr.resample(wave, SR, 44100), 44100, subtype="FLOAT")
    result = edit(known, path)
    assert np.array_equal(result.original, decode_audio(path)[0]) and len(result.original) == pytest.approx(
        len(wave), abs=2
    )
    for take_at, orig_at, n in kept_stretches(result):
        assert np.array_equal(result.wave[take_at : take_at + n], result.original[orig_at : orig_at + n])


def test_a_replacement_changes_only_its_span(known: Engine, ref_wav: Path) -> None:
    result = edit(known, ref_wav, "Some call me optimist, others call me mother nature.")
    (change,) = result.edits
    assert (change.kind, change.old, change.text) == ("replace", "nature,", "optimist,")
    # the span reaches half-way into the pauses around the word (0.12 s before it, 0.18 s after)
    assert change.start == pytest.approx(1.42 - 0.06, abs=FRAME_S)
    assert change.end == pytest.approx(2.44 + 0.09, abs=FRAME_S)
    a, b = round(change.new_start * SR), round((change.new_start + change.seconds) * SR)
    shift = b - round(change.end * SR)
    assert np.array_equal(result.wave[: a - HALF_FADE], result.original[: a - HALF_FADE])
    assert np.array_equal(result.wave[b + HALF_FADE :], result.original[b + HALF_FADE - shift :])
    span = result.wave[a + HALF_FADE : b - HALF_FADE]
    assert np.abs(span).max() > 0 and not np.array_equal(span, result.original[a + HALF_FADE : b - HALF_FADE])


def rate_on_what_is_kept(new_text: str, old_spans: list[tuple[float, float]], texts: list[str], duration: float):
    return (nbytes(new_text) - sum(nbytes(t) for t in texts)) / (duration - sum(b - a for a, b in old_spans))


def test_an_insertion_lengthens_and_a_deletion_shortens_by_the_expected_time(known: Engine, ref_wav: Path) -> None:
    duration = len(decode_audio(ref_wav)[0]) / SR
    inserted_text = "Some call me nature, and friend, others call me mother nature."
    inserted = edit(known, ref_wav, inserted_text, spans=[Span(2.53, 2.53, "and friend,")])
    point = inserted.edits[0].start
    expected = nbytes("and friend,") / rate_on_what_is_kept(inserted_text, [(point, point)], ["and friend,"], duration)
    assert inserted.duration - duration == pytest.approx(expected, abs=FRAME_S)
    assert 0.5 < expected < 2.0  # about how long "and friend" takes at a talking pace

    deleted = edit(known, ref_wav, "Some call me nature, others call me nature.")
    (cut,) = deleted.edits
    assert (cut.kind, cut.old) == ("delete", "mother")
    assert duration - deleted.duration == pytest.approx((cut.end - cut.start) - edits.DELETE_PAUSE_S, abs=FRAME_S)
    assert cut.seconds == pytest.approx(edits.DELETE_PAUSE_S, abs=FRAME_S)


def test_a_duration_can_be_given_per_edit(known: Engine, ref_wav: Path) -> None:
    result = edit(known, ref_wav, NEW_TEXT, spans=[Span(1.42, 2.44, "optimist,", 1.2), Span(4.04, 4.9, "realist.", 1)])
    assert [e.seconds for e in result.edits] == [pytest.approx(1.2, abs=FRAME_S), pytest.approx(1.0, abs=FRAME_S)]
    cut = edit(known, ref_wav, "Some call me nature, others call me nature.", spans=[Span(4.0, 4.46, "", 0.0)])
    assert cut.duration == pytest.approx(len(cut.original) / SR - 0.46, abs=FRAME_S)


def test_explicit_spans_give_the_same_take_as_aligned_words(known: Engine, ref_wav: Path) -> None:
    aligned = edit(known, ref_wav)
    spans = [Span(e.start, e.end, e.text) for e in aligned.edits]
    explicit = edit(known, ref_wav, spans=spans)
    assert [e.as_dict() | {"old": ""} for e in aligned.edits] == [e.as_dict() for e in explicit.edits]
    assert np.array_equal(aligned.wave, explicit.wave)


def test_the_same_seed_gives_the_same_edit(known: Engine, ref_wav: Path) -> None:
    first, again, other = edit(known, ref_wav), edit(known, ref_wav), edit(known, ref_wav, seed=8)
    assert first.seed == again.seed == 7 and other.seed == 8
    assert np.array_equal(first.wave, again.wave) and not np.array_equal(first.wave, other.wave)
    picked = edit(known, ref_wav, seed=None)
    assert np.array_equal(picked.wave, edit(known, ref_wav, seed=picked.seed).wave)


def test_a_typed_transcript_is_aligned_with_the_words_heard(known: Engine, ref_wav: Path) -> None:
    heard = [Word(w.text.replace("nature", "nachur"), w.start, w.end) for w in EXAMPLE_WORDS]
    e = Engine(known.settings, transcriber=KnownWords(heard))
    result = edit(e, ref_wav, NEW_TEXT, transcript=REF_TEXT)
    assert result.transcript == REF_TEXT
    assert [(x.old, x.text) for x in result.edits] == [("nature,", "optimist,"), ("mother nature.", "realist.")]
    assert [round(x.start, 1) for x in result.edits] == [1.4, 4.0]
    edit(e, ref_wav, NEW_TEXT, transcript=REF_TEXT, seed=3)
    assert e.transcriber.calls == 1, "the words are heard once per recording (cached by content)"


# ---- the conditioning ------------------------------------------------------------------------------------------
def test_the_sampling_matches_cfm_sample_with_an_edit_mask(known: Engine, ref_wav: Path) -> None:
    """Our stepped sampler with a given mel and keep-mask equals f5-tts's own CFM.sample(edit_mask=...), the call
    speech_edit.py makes."""
    import torch

    from inference.model.sampling import Item, generate_mels

    models = known.load()
    wave = torch.from_numpy(decode_audio(ref_wav)[0]).unsqueeze(0)
    with torch.inference_mode():
        mel = models.tts.mel_spec(wave).permute(0, 2, 1)[0]
        cond = torch.cat([mel[:130], torch.zeros(110, mel.shape[1]), mel[230:]])
        keep = torch.cat([torch.ones(130, dtype=torch.bool), torch.zeros(110, dtype=torch.bool)])
        keep = torch.cat([keep, torch.ones(len(cond) - len(keep), dtype=torch.bool)])
        (ours,) = generate_mels(models.tts, [Item(None, NEW_TEXT, len(cond), 99, cond, keep)], 8, 2.0, -1.0)
        official, _ = models.tts.sample(
            cond=cond.unsqueeze(0),
            text=[NEW_TEXT],
            duration=len(cond),
            steps=8,
            cfg_strength=2.0,
            sway_sampling_coef=-1.0,
            seed=99,
            edit_mask=keep.unsqueeze(0),
        )
    assert ours.shape == official[0].shape
    assert torch.equal(ours, official[0].float())
    assert torch.equal(ours[:130], cond[:130]) and not torch.equal(ours[130:240], cond[130:240])


def test_an_edit_never_shares_a_run_with_plain_chunks(tiny_settings, ref_wav: Path) -> None:
    """Batching on (4 per run): the first run is held until a plain chunk and an edit wait together; they still go
    into runs of their own kind."""
    import threading

    from inference import Reference, SynthesisRequest

    runs: list[list[bool]] = []  # per run, whether each item is an edit
    release = threading.Event()

    def hold_the_first_run(item) -> None:
        if len(runs) == 1:
            release.wait(timeout=120)

    hooks = EngineHooks(fault=hold_the_first_run)
    e = Engine(tiny_settings.replace(batch_size=4), transcriber=KnownWords(), hooks=hooks)

    begin = e._begin
    e.scheduler.begin = lambda key, jobs: runs.append([it.cond is not None for it, _ in jobs]) or begin(key, jobs)
    plain = SynthesisRequest("Hello there.", Reference(ref_wav, REF_TEXT), OPTIONS)
    threads = [threading.Thread(target=e.synthesize, args=(plain,)) for _ in range(2)]
    threads.append(threading.Thread(target=lambda: edit(e, ref_wav)))
    threads[0].start()
    while not runs:
        threading.Event().wait(0.01)
    for t in threads[1:]:
        t.start()
    while e.scheduler.waiting < 2:
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join(timeout=300)
    assert sorted(runs) == [[False], [False], [True]], runs


# ---- the tiny random Whisper, and none ---------------------------------------------------------------------------
def test_the_recording_is_transcribed_with_word_times_by_the_tiny_whisper(engine: Engine, ref_wav: Path) -> None:
    text = transcribe_recording(engine, ref_wav)
    assert text, "the tiny Whisper always says something"
    heard = engine.recording_words.get(content_hash(ref_wav))
    assert heard and all(0 <= w.start <= w.end <= 5.34 for w in heard), "cached, with times inside the recording"
    transcript, words = align(text, heard)  # what it heard, typed back, aligns with itself
    assert transcript == text and [(w.start, w.end) for w in words] == [(w.start, w.end) for w in align("", heard)[1]]
    with pytest.raises(InputError, match="Nothing changed"):  # heard, aligned and diffed: the same words
        edit(engine, ref_wav, text)
    with pytest.raises(InputError, match="does not match the recording") as info:
        edit(engine, ref_wav, NEW_TEXT, transcript=REF_TEXT)
    assert "clear it" in info.value.hint and "seconds" in info.value.hint


def test_without_whisper_explicit_spans_still_work(tiny_settings, ref_wav: Path, tmp_path: Path) -> None:
    e = Engine(tiny_settings, transcriber=Transcriber(str(tmp_path / "no-whisper")))
    with pytest.raises(ModelUnavailable) as info:
        edit(e, ref_wav)
    assert "edits" in info.value.hint and "seconds" in info.value.hint
    result = edit(e, ref_wav, spans=[Span(1.42, 2.44, "optimist,"), Span(4.04, 4.9, "realist.")])
    assert [x.text for x in result.edits] == ["optimist,", "realist."] and not e.transcriber.loaded


def test_worked_examples() -> None:
    import doctest

    from inference.audio import splice
    from inference.studio import alignment

    for module in (edits, alignment, splice):
        result = doctest.testmod(module)
        assert result.attempted >= 3 and result.failed == 0, module.__name__
