"""The ctranslate2 backend of the transcriber (inference/model/asr_ct2.py) on real speech: Whisper tiny.en
(CTranslate2) hears espeak-ng sentences, so transcripts, word times, the per-chunk check's word error rate,
automatic transcription of a reference and the edit tab's alignment are checked on real words.

Cases:
| what                                 | input                                    | expected                           |
|--------------------------------------|------------------------------------------|------------------------------------|
| transcript                           | 4 sentences at 16 and 24 kHz             | WER < 0.25 each                    |
| word times                           | sentence, 1 s pause, sentence (24 kHz)   | in order, inside the audio, second |
|                                      |                                          | sentence's words after the pause   |
| per-chunk check                      | chunk saying its text / other words      | WER < 0.25 / WER > 0.6             |
| word captions of a take             | two chunks, each a sentence (24 kHz)     | word cues, WER < 0.25, the second  |
|                                      |                                          | chunk's words after the first's    |
| auto-transcription (Engine)          | a reference WAV file                     | its sentence, WER < 0.25           |
| edit tab alignment                   | typed transcript + heard words           | typed words at the heard times     |
| backend setting                      | F5_ASR_BACKEND=ctranslate2 / bogus       | faster-whisper on the CT2 default  |
|                                      |                                          | model / refused, naming choices    |
| unusable audio                       | stereo, empty, NaN; model folder missing | InputError before any load         |
| missing model, offline               | repo id not in an empty HF cache         | ModelUnavailable naming the cache  |
| cheap import                         | import the engine and asr_ct2            | faster_whisper not imported        |
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.check import error_rate, whisper_scorer
from inference.errors import InputError, ModelUnavailable
from inference.model.asr import Transcriber
from inference.model.asr_ct2 import CTranslate2Transcriber
from inference.model.download import jobs
from inference.model.transcribers import transcriber_for
from inference.settings import DEFAULT_ASR, DEFAULT_ASR_CT2, EngineSettings
from inference.studio.alignment import align
from tests.speech import SENTENCES, real_whisper, silence, speak

ROOT_DIR = Path(__file__).resolve().parents[1]
MAX_WER = 0.25  # tiny.en on espeak-ng: measured 0.0 to 0.15 per sentence


@pytest.fixture(scope="module")
def whisper() -> CTranslate2Transcriber:
    return CTranslate2Transcriber(str(real_whisper()), device="cpu")


@pytest.mark.parametrize("rate", [16000, 24000])
def test_transcripts_of_real_speech_have_few_errors(whisper: CTranslate2Transcriber, rate: int) -> None:
    rates = {s: error_rate(s, whisper.transcribe(speak(s, rate=rate), rate)) for s in SENTENCES}
    print(f"WER at {rate} Hz:", {s[:20]: round(r, 3) for s, r in rates.items()})
    assert max(rates.values()) < MAX_WER, rates


def two_sentences(rate: int = 24000) -> tuple[np.ndarray, float]:
    """SENTENCES[0], one second of silence, SENTENCES[2]; and the time the second sentence starts."""
    first = speak(SENTENCES[0], rate=rate)
    wave = np.concatenate([first, silence(1.0, rate), speak(SENTENCES[2], rate=rate)])
    return wave, first.size / rate + 1.0


def test_word_times_are_in_order_and_at_the_words(whisper: CTranslate2Transcriber) -> None:
    wave, second_start = two_sentences()
    words = whisper.words(wave, 24000, language="en")
    duration = wave.size / 24000
    assert error_rate(" ".join(SENTENCES[0::2]), " ".join(w.text for w in words)) < MAX_WER, words
    assert all(type(w.start) is float and type(w.end) is float for w in words)
    assert all(0 <= w.start <= w.end <= duration for w in words), words
    assert all(a.end <= b.start for a, b in zip(words, words[1:], strict=False)), words
    # each sentence's words at its place: the first's end before the pause (0.3 s slack), the second's after it
    first = [w for w in words if w.start < second_start - 0.5]
    second = words[len(first) :]
    assert abs(len(first) - len(SENTENCES[0].split())) <= 2 and abs(len(second) - len(SENTENCES[2].split())) <= 2
    assert first[-1].end < second_start - 1.0 + 0.3, words
    assert second[0].start > second_start - 0.3, words


def test_the_chunk_check_tells_the_right_words_from_others(whisper: CTranslate2Transcriber) -> None:
    score = whisper_scorer(whisper)
    chunk = speak(SENTENCES[1], rate=24000)
    right, heard = score(chunk, 24000, SENTENCES[1])
    wrong, _ = score(chunk, 24000, SENTENCES[3])
    print(f"chunk check: right text WER {right:.3f} ({heard!r}), other text WER {wrong:.3f}")
    assert right < MAX_WER, heard
    assert wrong > 0.6


def test_word_captions_of_a_take_follow_its_words(whisper: CTranslate2Transcriber) -> None:
    from types import SimpleNamespace

    from inference.studio.captions import captions_for
    from inference.types import AudioChunk

    waves = [np.concatenate([speak(SENTENCES[i], rate=24000), silence(0.5, 24000)]) for i in (2, 3)]
    chunks = [AudioChunk(w, 24000, i, 2, 0, "", text=SENTENCES[i + 2]) for i, w in enumerate(waves)]
    captions = captions_for(SimpleNamespace(transcriber=whisper), chunks, cross_fade=0.0, level="word")  # type: ignore[arg-type]
    assert captions.level == "word" and not captions.note
    assert error_rate(" ".join(SENTENCES[2:4]), " ".join(c.text for c in captions.cues)) < MAX_WER, captions
    boundary = waves[0].size / 24000
    first = [c for c in captions.cues if c.start < boundary]
    assert abs(len(first) - len(SENTENCES[2].split())) <= 2, captions
    assert first[-1].end <= boundary - 0.3 and captions.cues[len(first)].start >= boundary, captions
    assert captions.cues[-1].end <= boundary + waves[1].size / 24000


def test_engine_transcribes_a_reference(whisper: CTranslate2Transcriber, tmp_path: Path) -> None:
    import soundfile as sf

    from inference import Engine

    path = tmp_path / "ref.wav"
    sf.write(path, speak(SENTENCES[3], rate=24000), 24000)
    engine = Engine(EngineSettings(voices_dir=tmp_path / "voices"), transcriber=whisper)
    text = engine.transcribe(str(path))
    assert error_rate(SENTENCES[3], text) < MAX_WER, text


def test_edit_alignment_puts_typed_words_at_their_times(whisper: CTranslate2Transcriber) -> None:
    wave, second_start = two_sentences()
    heard = whisper.words(wave, 24000)
    typed = f"{SENTENCES[0]} {SENTENCES[2]}"
    used, words = align(typed, heard)
    assert used == typed
    assert [w.text for w in words] == typed.split()
    by_text = {w.text: w for w in words}
    assert by_text["fox"].end < second_start - 0.7  # "fox" is early in the first sentence
    assert by_text["library"].start > second_start  # "library" is in the second
    assert by_text["garden."].end > by_text["library"].end


def test_the_setting_picks_the_backend_and_its_model() -> None:
    ct2 = transcriber_for(EngineSettings.from_env({"F5_ASR_BACKEND": "ctranslate2"}))
    assert isinstance(ct2, CTranslate2Transcriber) and ct2.model == DEFAULT_ASR_CT2 and not ct2.loaded
    own = transcriber_for(EngineSettings.from_env({"F5_ASR_BACKEND": "ctranslate2", "F5_ASR_MODEL": "/m/ct2"}))
    assert own.model == "/m/ct2"
    default = transcriber_for(EngineSettings.from_env({}))
    assert type(default) is Transcriber and default.model == DEFAULT_ASR
    labels = [label for label, _, _ in jobs(EngineSettings.from_env({"F5_ASR_BACKEND": "ctranslate2"}))]
    assert f"Whisper ({DEFAULT_ASR_CT2})" in labels  # `app.py download` fetches what the backend reads
    with pytest.raises(InputError, match="F5_ASR_BACKEND") as e:
        EngineSettings.from_env({"F5_ASR_BACKEND": "whisper.cpp"})
    assert "transformers, ctranslate2" in e.value.hint


def test_a_missing_model_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    missing = CTranslate2Transcriber("someone/faster-whisper-nothing")
    with pytest.raises(ModelUnavailable, match="not in the Hugging Face cache") as e:
        missing.transcribe(speak("hello", rate=16000), 16000)
    assert "app.py download" in e.value.hint and not missing.loaded
    folder = CTranslate2Transcriber(str(tmp_path / "nowhere"))
    with pytest.raises(ModelUnavailable, match="does not exist"):
        folder.words(speak("hello", rate=16000), 16000)


@pytest.mark.parametrize(
    "wave", [np.zeros((2, 1600), np.float32), np.zeros(0, np.float32), np.full(1600, np.nan, np.float32)]
)
def test_unusable_audio_is_refused_before_loading(wave: np.ndarray, tmp_path: Path) -> None:
    transcriber = CTranslate2Transcriber(str(tmp_path / "nowhere"))
    with pytest.raises(InputError):
        transcriber.transcribe(wave, 16000)
    with pytest.raises(InputError):
        transcriber.words(wave, 16000)


def test_importing_the_backend_does_not_import_faster_whisper() -> None:
    code = "import sys, inference.engine, inference.model.asr_ct2; print('faster_whisper' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT_DIR, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
