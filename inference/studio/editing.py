"""Edit a recording: change, add or remove words in real speech, regenerating only the spans that change.

F5-TTS inpaints speech: given the recording's mel with the spans to change blanked out (and resized to their new
length) and the whole new text, one sampling call fills every span in, in the same voice and in context, as
f5-tts's own `speech_edit.py` does. What the user did not change stays the recording's own samples: the generated
spans are spliced into the original waveform at 24 kHz with short cross-fades (inference/audio/splice.py).

    result = edit_recording(engine, EditRequest(Path("talk.wav"), "Some call me optimist, others call me realist."))
    result.wave, result.edits   # the edited take; what changed, where, in the recording and in the take

Where each change lies comes from the words: Whisper's word timestamps (`Transcriber.words`), aligned with the
transcript when one is typed, diffed against the new text (inference/text/worddiff.py). Or the spans are given in
seconds (`EditRequest.spans`), when there is no ASR or the user knows better. Each new span lasts as long as its
text takes at the speaker's rate, measured on what is kept (within bounds; a span may set its own duration).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import SAMPLE_RATE
from ..audio.decode import decode_audio
from ..audio.prepare import SILENT_PEAK_DB, PreparedAudio
from ..audio.splice import Piece, splice
from ..errors import InputError
from ..model.runtime import ref_tensor
from ..model.sampling import HOP_LENGTH
from ..options import SynthesisOptions, resolve_seed
from ..text import clean_text, validate_text
from .alignment import heard_words, join_words
from .edits import (
    LENGTH_SLACK_S,
    Edit,
    Span,
    check_edits,
    explicit_edits,
    nothing_changed,
    on_frames,
    planned_edits,
    same_words,
    with_lengths,
)

if TYPE_CHECKING:
    from ..engine import Engine

MAX_RECORDING_S = 60.0  # s, the longest recording that can be edited (one sampling call covers all of it)
MIN_RECORDING_S = 1.0  # s, shorter recordings have too little voice to edit in
SPLICE_FADE_S = 0.02  # s, the cross-fade at each boundary between the recording and a generated span
KIND = "edit"  # the scheduler runs edits apart from plain chunks (their conditioning differs)
OPTION_NAMES = ("nfe_step", "cfg_strength", "sway_sampling_coef", "speed")  # the synthesis options an edit takes
Progress = Callable[[str], None]  # what is being done now


@dataclass(frozen=True)
class EditRequest:
    audio: Path | bytes  # the recording, any common format, at most MAX_RECORDING_S
    new_text: str  # everything the edited recording says
    transcript: str = ""  # what the recording says ('' = transcribed); not needed with spans
    spans: tuple[Span, ...] = ()  # explicit edits; empty = found by diffing the transcript against new_text
    options: SynthesisOptions = field(default_factory=SynthesisOptions)


@dataclass(frozen=True)
class EditResult:
    wave: np.ndarray  # float32 mono, the edited take
    sample_rate: int
    original: np.ndarray  # the recording as it was decoded (24 kHz), for comparison
    seed: int
    transcript: str  # what the recording says, as used ('' when spans were given and none was typed)
    new_text: str
    edits: tuple[Edit, ...]

    @property
    def duration(self) -> float:
        return len(self.wave) / self.sample_rate

    def table(self) -> list[dict[str, Any]]:
        return [e.as_dict() for e in self.edits]


def load_recording(audio: Any, max_bytes: int | None = None) -> np.ndarray:
    """The recording decoded once to 24 kHz mono float32 (the samples every kept region is copied from), refused
    when missing, silent, shorter than MIN_RECORDING_S or longer than MAX_RECORDING_S."""
    if audio is None or (isinstance(audio, (bytes, str)) and not audio):
        raise InputError(
            "No recording was given.", f"Upload or record the speech to edit (up to {MAX_RECORDING_S:g} s)."
        )
    wave, sr = decode_audio(audio, max_bytes=max_bytes, max_seconds=MAX_RECORDING_S + 1.0)
    seconds = len(wave) / sr
    if seconds > MAX_RECORDING_S + LENGTH_SLACK_S:
        raise InputError(
            f"The recording is longer than {MAX_RECORDING_S:g} s, the limit for editing.",
            f"Cut out the part with the words to change (at most {MAX_RECORDING_S:g} s) and upload that.",
        )
    if seconds < MIN_RECORDING_S:
        raise InputError(
            f"The recording is too short to edit ({seconds:.2f} s).",
            f"Upload at least {MIN_RECORDING_S:g} s of speech: the new words are made from the voice around them.",
        )
    if float(np.max(np.abs(wave))) < 10 ** (SILENT_PEAK_DB / 20):
        raise InputError("The recording is silent.", "Upload the recording with the speech to edit.")
    return wave


def transcribe_recording(engine: Engine, audio: Any) -> str:
    """What the recording says, from Whisper's words (cached with their timestamps for the edit that follows)."""
    wave = load_recording(audio, engine.settings.max_upload_mb * 1024 * 1024)
    return join_words([w.text for w in heard_words(engine, audio, wave)])


def edit_recording(engine: Engine, request: EditRequest, progress: Progress | None = None) -> EditResult:
    """The edited recording (see the module docstring). Everything is checked before the model runs: the texts,
    the recording, the alignment, every span; then one sampling call regenerates all the spans together."""
    say = progress or (lambda _: None)
    say("Reading the recording")  # first: with nothing uploaded, the recording is what is missing
    wave = load_recording(request.audio, engine.settings.max_upload_mb * 1024 * 1024)
    new_text = validate_text(request.new_text, engine.settings.max_text_chars)
    duration = len(wave) / SAMPLE_RATE
    transcript = clean_text(request.transcript)
    if request.spans:
        edits = explicit_edits(request.spans, duration)
    elif same_words(transcript, new_text):
        raise nothing_changed()
    else:
        say("Finding the words in the recording")
        heard = heard_words(engine, request.audio, wave)
        transcript, edits = planned_edits(transcript, heard, new_text, duration)
    edits = with_lengths([on_frames(e) for e in edits], new_text, duration, request.options.speed)
    check_edits(edits, duration)
    seed = resolve_seed(request.options.seed)
    say("Generating the new words")
    out, edits = regenerate(engine, wave, new_text, edits, request.options, seed)
    return EditResult(
        wave=out,
        sample_rate=SAMPLE_RATE,
        original=wave,
        seed=seed,
        transcript=transcript,
        new_text=new_text,
        edits=tuple(edits),
    )


# ---- the conditioning and the splice --------------------------------------------------------------------------------
def regenerate(
    engine: Engine, wave: np.ndarray, new_text: str, edits: Sequence[Edit], options: SynthesisOptions, seed: int
) -> tuple[np.ndarray, list[Edit]]:
    """Regenerate every span in one sampling call and splice them into `wave`; returns the take and the edits as
    done (frame-aligned seconds, with where each lies in the take)."""
    import torch

    from ..model.sampling import Item

    models = engine.load()
    ref, rms = ref_tensor(PreparedAudio(wave, SAMPLE_RATE, ()), models.device)  # RMS raised as for a voice
    with torch.inference_mode():
        mel = models.tts.mel_spec(ref).permute(0, 2, 1)[0]  # (frames, n_mels)
    cond, keep, pieces, done = conditioning(mel, len(wave), edits)
    _check_text_fits(new_text, len(cond))
    generated, _ = engine.sample(Item(None, new_text, len(cond), seed, cond=cond, keep=keep), rms, options, KIND)
    take = splice(wave, generated, pieces, round(SPLICE_FADE_S * SAMPLE_RATE))
    return engine.mark(take, SAMPLE_RATE), done  # the whole take: its kept words are now in a made-up sentence


def conditioning(mel: Any, samples: int, edits: Sequence[Edit]) -> tuple[Any, Any, list[Piece], list[Edit]]:
    """speech_edit.py's conditioning for the recording's `mel` (frames, n_mels) of `samples` samples: the mel
    everywhere, zeros over each span resized to its new length, and a keep-mask False there; with the pieces the
    take is spliced from (the recording's samples, or the generated timeline's, which is the take's own) and the
    edits as done. Frame k of the conditioning is sample k * HOP_LENGTH of the take."""
    import torch

    conds, keeps, pieces, done = [], [], [], []
    at_frame, out_at = 0, 0  # where the next kept stretch starts in the recording (frames), where it goes (samples)
    for edit in edits:
        start, end = round(edit.start * SAMPLE_RATE / HOP_LENGTH), round(edit.end * SAMPLE_RATE / HOP_LENGTH)
        frames = round(edit.seconds * SAMPLE_RATE / HOP_LENGTH)
        conds += [mel[at_frame:start], mel.new_zeros(frames, mel.shape[1])]
        keeps += [torch.ones(start - at_frame, dtype=torch.bool), torch.zeros(frames, dtype=torch.bool)]
        pieces.append(Piece(False, at_frame * HOP_LENGTH, (start - at_frame) * HOP_LENGTH))
        out_at += (start - at_frame) * HOP_LENGTH
        pieces.append(Piece(True, out_at, frames * HOP_LENGTH))
        f = HOP_LENGTH / SAMPLE_RATE  # seconds per frame
        done.append(replace(edit, start=start * f, end=end * f, seconds=frames * f, new_start=out_at / SAMPLE_RATE))
        out_at += frames * HOP_LENGTH
        at_frame = end
    conds.append(mel[at_frame:])
    keeps.append(torch.ones(len(mel) - at_frame, dtype=torch.bool))
    pieces.append(Piece(False, at_frame * HOP_LENGTH, samples - at_frame * HOP_LENGTH))
    return torch.cat(conds), torch.cat(keeps).to(mel.device), pieces, done


def _check_text_fits(text: str, frames: int) -> None:
    """The model spreads the text over the frames: it needs more frames than characters (as the model reads them)."""
    from f5_tts.model.utils import convert_char_to_pinyin

    tokens = len(convert_char_to_pinyin([text])[0])
    if tokens >= frames:
        raise InputError(
            f"The new text is too long for the edited recording ({tokens} characters for "
            f"{frames * HOP_LENGTH / SAMPLE_RATE:.1f} s of speech).",
            "Shorten the text, or give the new spans longer durations.",
        )
