"""Multi-voice dialogue: speak a planned script (script.py parses and plans it) as one take.

Seeds: a turn with `seed=N` uses N; every other turn uses base seed + its index (0-based, counting every turn), so
the same script, voices and base seed give the same audio, and the first turn uses the base seed itself.

    turns = parse_script("[Narrator] It was late. [Guest] Hello?")
    planned = plan(turns, {"Narrator": "alice", "Guest": "bob"}, engine.voices.names())
    refs = {v: engine.reference(voice=v) for v in {t.voice for t in planned}}
    result = synthesize_dialogue(engine, planned, refs, pause_s=0.4, options=SynthesisOptions(seed=42))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..check import summary as check_summary
from ..errors import InputError
from ..options import SynthesisOptions, resolve_seed, seed_after
from ..text import too_long
from ..text.script import (
    DEFAULT_SPEAKER,
    SYNTAX_HINT,
    Turn,
    known_list,
    max_script_chars,
    parse_mapping,
    parse_script,
    plan,
)
from ..types import Reference, SynthesisRequest

if TYPE_CHECKING:
    from ..engine import Engine

MAX_PAUSE_S = 5.0  # seconds of silence between turns, at most
DEFAULT_PAUSE_S = 0.4
Progress = Callable[[int, int], None]  # (turns done, turns total)


@dataclass(frozen=True)
class TurnResult:
    index: int  # 1-based position in the dialogue
    speaker: str
    voice: str
    text: str
    seed: int
    speed: float
    start: float  # seconds into the dialogue
    duration: float  # seconds
    spoken_text: str = ""  # the turn's text as spoken (normalized, pronunciations applied)
    check: dict[str, Any] | None = None  # the per-chunk check's summary (check.py), when it was on


@dataclass(frozen=True)
class DialogueResult:
    wave: np.ndarray  # float32 mono, every turn with the pauses between them
    sample_rate: int
    turns: tuple[TurnResult, ...]
    base_seed: int

    @property
    def duration(self) -> float:
        return len(self.wave) / self.sample_rate

    def table(self) -> list[dict[str, Any]]:
        """One dict per turn: turn, speaker, voice, text, seed, speed, start, duration (seconds, rounded),
        spoken_text, and check (None when the check was off)."""
        return [
            {
                "turn": t.index,
                "speaker": t.speaker or DEFAULT_SPEAKER,
                "voice": t.voice,
                "text": t.text,
                "seed": t.seed,
                "speed": t.speed,
                "start": round(t.start, 3),
                "duration": round(t.duration, 3),
                "spoken_text": t.spoken_text,
                "check": t.check,
            }
            for t in self.turns
        ]


# ---- synthesis --------------------------------------------------------------------------------------------------
def turn_seed(turn: Turn, index: int, base_seed: int) -> int:
    """The turn's own seed, or base seed + its 0-based index (wrapping past MAX_SEED)."""
    return turn.seed if turn.seed is not None else seed_after(base_seed, index)


def synthesize_dialogue(
    engine: Engine,
    turns: list[Turn],
    references: Mapping[str, Reference],
    pause_s: float = DEFAULT_PAUSE_S,
    options: SynthesisOptions | None = None,
    progress: Progress | None = None,
) -> DialogueResult:
    """Speak planned turns one after another with `pause_s` of silence between them, as one wave.

    `references` maps each turn's voice (turn.voice, or its speaker when not planned) to a Reference. `options`
    applies to every turn; a turn's own speed and seed replace it; options.seed is the base seed (None = random).
    Everything is checked (texts, references, options) before the first turn is generated.
    """
    options = options or SynthesisOptions()
    base = resolve_seed(options.seed)
    jobs = _requests(engine, turns, references, pause_s, options, base)
    wave, sample_rate, results = _speak(engine, jobs, pause_s, progress)
    return DialogueResult(wave, sample_rate, results, base)


Job = tuple[Turn, str, SynthesisRequest]  # a turn, its voice, and the request that speaks it


def _requests(
    engine: Engine,
    turns: list[Turn],
    references: Mapping[str, Reference],
    pause_s: float,
    options: SynthesisOptions,
    base: int,
) -> list[Job]:
    """Every turn's request, everything checked first: the pause, the script's length as typed and as spoken (as
    one request), each turn's voice, text and options, and every reference's audio."""
    from ..text import check_spoken, validate_text

    if not turns:
        raise InputError("The script is empty.", SYNTAX_HINT)
    if isinstance(pause_s, bool) or not isinstance(pause_s, (int, float)) or not 0 <= pause_s <= MAX_PAUSE_S:
        raise InputError(
            f"The pause between turns must be 0 to {MAX_PAUSE_S:g} seconds, not {pause_s!r}.", "Set the pause in range."
        )
    limit = engine.settings.max_text_chars
    total = sum(len(t.text) for t in turns)
    if total > limit:
        raise too_long("The script's speech", total, limit)
    jobs: list[Job] = []
    spoken = []
    for index, turn in enumerate(turns):
        voice = turn.voice or turn.speaker
        if voice not in references:
            raise InputError(
                f"No reference was given for the voice {voice!r} ({turn.label}).",
                f"Known voices: {known_list(references)}.",
            )
        text = validate_text(turn.text, limit)
        turn_options = replace(
            options, seed=turn_seed(turn, index, base), speed=options.speed if turn.speed is None else turn.speed
        )
        jobs.append((turn, voice, SynthesisRequest(text, references[voice], turn_options)))
        spoken.append(engine.spoken_text(text, turn_options.normalize, references[voice].voice or None))
    check_spoken(" ".join(spoken), total, engine.settings.max_spoken_chars)  # the whole dialogue, as one request
    for voice in dict.fromkeys(voice for _, voice, _ in jobs):
        engine.prepare(references[voice].audio)  # unreadable audio fails now, not after several turns
    return jobs


def _speak(
    engine: Engine, jobs: list[Job], pause_s: float, progress: Progress | None
) -> tuple[np.ndarray, int, tuple[TurnResult, ...]]:
    """Generate the turns in order, `pause_s` of silence between them: (wave, sample rate, each turn's result)."""
    waves: list[np.ndarray] = []
    results: list[TurnResult] = []
    sample_rate, start = 0, 0.0
    for index, (turn, voice, request) in enumerate(jobs):
        result = engine.synthesize(request)
        sample_rate = result.sample_rate
        if waves:
            gap = np.zeros(int(round(pause_s * sample_rate)), dtype=np.float32)
            waves.append(gap)
            start += len(gap) / sample_rate
        waves.append(result.wave.astype(np.float32))
        check = check_summary(result.checks) if result.checks else None
        results.append(
            TurnResult(
                index=index + 1,
                speaker=turn.speaker,
                voice=voice,
                text=request.text,
                seed=result.seed,
                speed=request.options.speed,
                start=start,
                duration=result.duration,
                spoken_text=result.spoken_text,
                check=check,
            )
        )
        start += result.duration
        if progress:
            progress(index + 1, len(jobs))
    return np.concatenate(waves), sample_rate, tuple(results)


def synthesize_script(
    engine: Engine,
    script: str,
    mapping: Any = None,
    uploads: Mapping[str, Reference] | None = None,
    pause_s: float = DEFAULT_PAUSE_S,
    options: SynthesisOptions | None = None,
    progress: Progress | None = None,
) -> DialogueResult:
    """Parse, plan and speak a script: voices are the saved ones plus `uploads` (name -> Reference; they win)."""
    uploads = dict(uploads or {})
    turns = parse_script(script if script is not None else "", max_script_chars(engine.settings.max_text_chars))
    known = [*uploads, *(n for n in engine.voices.names() if n not in uploads)]
    planned = plan(turns, parse_mapping(mapping), known)
    return synthesize_dialogue(engine, planned, references_for(engine, planned, uploads), pause_s, options, progress)


def references_for(engine: Engine, planned: list[Turn], uploads: Mapping[str, Reference]) -> dict[str, Reference]:
    """voice -> Reference for every voice the planned turns use: an upload by its name, else the saved voice."""
    return {
        voice: uploads[voice] if voice in uploads else engine.reference(voice=voice)
        for voice in dict.fromkeys(t.voice for t in planned)
    }
