"""Dubbing: subtitles in, one timed track out, each cue spoken in its own slot.

    result = dub(engine, open("film.srt").read(), voice="alice", options=SynthesisOptions(nfe_step=16, seed=7))
    result.wave, result.sample_rate    # as long as the subtitles: the last cue's end plus TAIL_S
    result.table()                     # per cue: start, end, spoken, speed, overflow, overlap, ...
    result.zip_bytes()                 # one WAV per cue and report.json

How a cue is timed: F5-TTS is told how long to speak (SynthesisRequest.duration), so each cue's text is given its
slot (end - start) and the pace adapts. The pace is the natural one (the reference's rate, times `speed`) scaled to
fit, within bounds: at most `max_speedup` times faster (a cue that would need more is spoken at that pace and runs
over its end, into the gap after it where there is room; past the next cue's start the two are mixed, and the
report says by how much), and at most SLOWEST times slower (short text in a long slot is spoken at that pace from the
cue's start, then silence). Every clip starts at its cue's start time on a silent timeline.

Speaker tags start a cue's text as in the Dialogue tab (`[Guest] Hello?`, `[Guest speed=1.2 seed=7] Hello?`); a
cue without a tag is spoken by the previous cue's speaker, and the first ones by the voice given (the "default").
Cue i (from 0) uses seed base + i unless its tag sets one. A cue with no words outside brackets (`[Music]`,
`[door slams]`) is a sound cue: it is left silent, and its row in the report says so. A tag before words is read as a
speaker tag; one that names no voice is refused with both readings spelled out.

Limits (documented in the README): MAX_CUES cues, the last ending by MAX_DUB_SECONDS, max_speedup up to
MAX_SPEEDUP; each cue's text obeys F5_MAX_TEXT_CHARS. Malformed subtitles are refused naming the line.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio import SAMPLE_RATE
from ..audio.encode import encode_audio
from ..errors import InputError, over_limit
from ..model.sampling import natural_seconds, ref_text_for_model
from ..options import SynthesisOptions, resolve_seed
from ..text import clean_text, script, validate_text
from ..text.subtitles import Cue, parse_subtitles
from ..types import Reference, SynthesisRequest
from . import dialogue as dlg

if TYPE_CHECKING:
    from ..engine import Engine

MAX_CUES = 500  # cues in one subtitle file
MAX_DUB_SECONDS = 1800.0  # the last cue must end within 30 minutes
MAX_SPEEDUP = 3.0  # the largest max_speedup (F5-TTS's speed option stops at 3 too)
DEFAULT_MAX_SPEEDUP = 1.5  # a cue is spoken at most 1.5x its natural pace unless asked otherwise
SLOWEST = 0.8  # a cue is spoken at least 0.8x its natural pace: shorter text than its slot leaves silence after it
TAIL_S = 0.5  # silence after the last cue's end
UPLOADED = "uploaded voice"  # the name a reference given as audio goes by in the report
Progress = Callable[[int, int], None]  # (cues done, cues total)


@dataclass(frozen=True)
class CueResult:
    cue: int  # 1-based, in time order
    line: int  # where the cue's times are in the file
    start: float  # seconds
    end: float
    text: str
    speaker: str  # the tag as written ('' = untagged)
    voice: str
    seed: int
    spoken: float  # seconds of speech generated
    speed: float  # pace used: 1 = the voice's natural pace, 1.3 = 30% faster
    overflow: float  # seconds spoken past the cue's end (0 when it fits)
    overlap: float  # of those, seconds past the next cue's start (mixed with it)
    sound: bool = False  # a sound cue ([Music]): left silent

    @classmethod
    def silent(cls, index: int, cue: Cue, seed: int) -> CueResult:
        """A sound cue ([Music]), left silent."""
        nothing: dict[str, Any] = {
            "speaker": "",
            "voice": "",
            "spoken": 0.0,
            "speed": 1.0,
            "overflow": 0.0,
            "overlap": 0.0,
        }
        return cls(
            cue=index, line=cue.line, start=cue.start, end=cue.end, text=cue.text, seed=seed, sound=True, **nothing
        )

    @property
    def note(self) -> str:
        if self.sound:
            return f"sound cue {self.text}: left silent"
        if self.overlap > 0:
            return f"too long: runs {self.overlap:.2f} s into the next cue (mixed)"
        if self.overflow > 0:
            return f"too long: runs {self.overflow:.2f} s into the gap after it"
        return "fits"


@dataclass(frozen=True)
class DubResult:
    wave: np.ndarray  # float32 mono, the whole track
    sample_rate: int
    cues: tuple[CueResult, ...]
    clips: tuple[np.ndarray, ...]  # each cue's speech alone
    base_seed: int

    @property
    def duration(self) -> float:
        return len(self.wave) / self.sample_rate

    def table(self) -> list[dict[str, Any]]:
        """One dict per cue (seconds rounded to ms), with its note: fits, or by how much it runs over."""
        rows = []
        for c in self.cues:
            row = {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(c).items() if k != "sound"}
            speaker = "" if c.sound else c.speaker or script.DEFAULT_SPEAKER
            rows.append({**row, "speaker": speaker, "note": c.note})
        return rows

    def zip_bytes(self, fmt: str = "wav") -> bytes:
        """A ZIP of one clip per cue (cue-001.wav, ...) and report.json (the table)."""
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            for c, clip in zip(self.cues, self.clips, strict=True):
                archive.writestr(f"cue-{c.cue:03d}.{fmt}", encode_audio(clip, self.sample_rate, fmt))
            archive.writestr("report.json", json.dumps(self.table(), ensure_ascii=False, indent=1))
        return buf.getvalue()


# ---- checking -----------------------------------------------------------------------------------------------------
def _name(index: int, cue: Cue) -> str:
    return f"Cue {index + 1} (line {cue.line})" if cue.line else f"Cue {index + 1}"


def sound_cue(cue: Cue) -> bool:
    """A cue whose only words are in brackets: a sound cue such as [Music] or [door slams], left silent.

    >>> sound_cue(Cue(1.0, 2.0, "[Music]")), sound_cue(Cue(1.0, 2.0, "[Guest] Hello."))
    (True, False)
    """
    return bool(script.TAG.search(cue.text)) and not any(ch.isalnum() for ch in script.TAG.sub("", cue.text))


def check_cues(cues: list[Cue]) -> list[Cue]:
    """The cues in time order, refusing too many, bad times, overlaps, cues with nothing to say and files with
    only sound cues."""
    if len(cues) > MAX_CUES:
        raise InputError(f"The subtitles have {len(cues)} cues; the limit is {MAX_CUES}.", "Split the file into parts.")
    for i, cue in enumerate(cues):
        if cue.end <= cue.start:
            raise InputError(
                f"{_name(i, cue)} ends at {cue.end:.3f} s, not after it starts ({cue.start:.3f} s).",
                "Give every cue an end time later than its start.",
            )
        if cue.end > MAX_DUB_SECONDS:
            raise InputError(
                f"{_name(i, cue)} ends at {cue.end:.1f} s; dubbing is limited to {MAX_DUB_SECONDS / 60:g} minutes.",
                "Split the subtitles into parts of at most that length (and shift their times).",
            )
        if not sound_cue(cue) and not any(ch.isalnum() for ch in script.TAG.sub("", cue.text)):
            raise InputError(f"{_name(i, cue)} is empty: it has nothing to say.", "Write its text, or remove the cue.")
    if cues and all(sound_cue(c) for c in cues):
        raise InputError(
            f"Every cue is a sound cue such as {cues[0].text}: there are no words to speak.",
            "Sound cues (words in [ ] alone) are left silent; add the cues with the words to dub.",
        )
    ordered = sorted(enumerate(cues), key=lambda p: p[1].start)
    for (i, prev), (j, cue) in zip(ordered, ordered[1:], strict=False):
        if cue.start < prev.end - 1e-3:
            raise InputError(
                f"{_name(j, cue)} starts at {cue.start:.3f} s, before {_name(i, prev).lower()} ends "
                f"({prev.end:.3f} s).",
                "Cues must not overlap: one voice speaks at a time. Fix the times or merge the cues.",
            )
    return [c for _, c in ordered]


def check_speedup(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 1.0 <= value <= MAX_SPEEDUP:
        raise InputError(
            f"The maximum speed-up must be a number from 1 to {MAX_SPEEDUP:g}, not {value!r}.",
            "1.5 lets a cue be spoken up to 50% faster than the voice's natural pace to fit its slot.",
        )
    return float(value)


def plan_cues(cues: list[Cue], mapping: Mapping[str, str], known: list[str]) -> list[script.Turn]:
    """A turn per cue that is not a sound cue, with its speaker (its tag, else the previous cue's) and voice
    (script.plan's rules)."""
    turns, speaker, speed = [], "", None
    names = {script.name_key(n) for n in [*mapping, *known]}
    for i, cue in enumerate(cues):
        if sound_cue(cue):
            continue
        found = script.parse_script(cue.text)
        if len(found) > 1:
            raise InputError(
                f"{_name(i, cue)} has {len(found)} speakers; a cue is spoken by one voice.",
                "Split it into one cue per speaker.",
            )
        turn = found[0]
        if turn.speaker and script.name_key(turn.speaker) not in names:
            raise InputError(
                f"{_name(i, cue)} starts with [{turn.speaker}], read as a speaker tag, and no voice goes by that name.",
                f"If [{turn.speaker}] is a sound cue, give it a cue of its own (sound cues are left silent) or delete "
                f"it; if it is a speaker, pick a voice for it ({turn.speaker}=<saved voice>). Known voices: "
                f"{', '.join(known) or 'none yet'}.",
            )
        if turn.speaker:
            speaker, speed = turn.speaker, turn.speed
        elif not speaker and script.DEFAULT_SPEAKER not in {k.casefold() for k in mapping}:
            raise InputError(
                f"{_name(i, cue)} has no speaker tag, and no voice was given for untagged cues.",
                "Pick a voice (saved or uploaded), or start the cue with a tag such as [Narrator].",
            )
        turns.append(script.Turn(speaker, turn.text, speed, turn.seed, cue.line))
    return script.plan(turns, mapping, known, max_turns=MAX_CUES)


# ---- speaking -----------------------------------------------------------------------------------------------------
def dub(
    engine: Engine,
    subtitles: str,
    voice: str | None = None,
    reference: Reference | None = None,
    mapping: Any = None,
    options: SynthesisOptions | None = None,
    max_speedup: float = DEFAULT_MAX_SPEEDUP,
    progress: Progress | None = None,
    max_track: tuple[float, str] | None = None,
) -> DubResult:
    """Speak every cue of `subtitles` (SRT or WebVTT text) in its slot; see the module docstring. Untagged cues are
    spoken by `voice` (a saved voice) or `reference` (a recording); `mapping` sends tags to saved voices.
    `max_track`: the most seconds the track may last and what to do beyond (an adapter's output size); checked, with
    F5_MAX_AUDIO_SECONDS for the cues' speech together, before the first cue is generated."""
    options = options or SynthesisOptions()
    max_speedup = check_speedup(max_speedup)
    cues = check_cues(parse_subtitles(subtitles))
    default = engine.reference(voice=voice, audio=reference.audio, text=reference.text) if reference else None
    tags = script.parse_mapping(mapping)
    uploads = {UPLOADED: default} if default else {}
    if voice or default:
        tags[script.DEFAULT_SPEAKER] = UPLOADED if default else str(voice)
    turns = plan_cues(cues, tags, [*uploads, *engine.voices.names()])
    refs = dlg.references_for(engine, turns, uploads)
    plan = _paced(engine, cues, turns, refs, options, max_speedup)
    _check_length(cues, [0.0 if p is None else p[3] / p[4] for p in plan], engine.settings.max_audio_seconds, max_track)
    base = resolve_seed(options.seed)
    clips, results, rate = _speak(engine, cues, plan, refs, options, base, progress)
    track = _timeline(cues, clips, rate)  # each clip is marked by the engine; silences and mixing keep it found
    return DubResult(wave=track, sample_rate=rate, cues=tuple(results), clips=tuple(clips), base_seed=base)


Paced = tuple[script.Turn, str, float, float, float]  # a cue's turn, text, speed, natural seconds and pace


def _paced(
    engine: Engine,
    cues: list[Cue],
    turns: list[script.Turn],
    refs: Mapping[str, Reference],
    options: SynthesisOptions,
    max_speedup: float,
) -> list[Paced | None]:
    """Per cue, how it will be spoken (None for a sound cue, left silent): its text checked, and the pace at which
    its voice fits it in its slot (never slower than SLOWEST, never faster than `max_speedup`)."""
    limit = engine.settings.max_text_chars
    texts = [validate_text(t.text, limit) for t in turns]
    rates = {}  # voice -> (transcript as the model reads it, reference seconds)
    for name, ref in refs.items():
        _, prepared = engine.prepare(ref.audio)
        rates[name] = (ref_text_for_model(clean_text(ref.text) or engine.transcribe(ref.audio)), prepared.seconds)
    plan: list[Paced | None] = []
    spoken_turns = iter(zip(turns, texts, strict=True))
    for cue in cues:
        if sound_cue(cue):
            plan.append(None)
            continue
        turn, text = next(spoken_turns)
        speed = options.speed if turn.speed is None else turn.speed
        natural = natural_seconds(*rates[turn.voice], text, speed)
        plan.append((turn, text, speed, natural, min(max(natural / (cue.end - cue.start), SLOWEST), max_speedup)))
    return plan


def _speak(
    engine: Engine,
    cues: list[Cue],
    plan: list[Paced | None],
    refs: Mapping[str, Reference],
    options: SynthesisOptions,
    base: int,
    progress: Progress | None,
) -> tuple[list[np.ndarray], list[CueResult], int]:
    """Generate each cue at its pace, in order: (each cue's clip, each cue's result, the sample rate)."""
    rate = SAMPLE_RATE
    clips, results = [], []
    for i, (cue, planned) in enumerate(zip(cues, plan, strict=True)):
        if planned is None:
            clips.append(np.zeros(int(round((cue.end - cue.start) * rate)), dtype=np.float32))
            results.append(CueResult.silent(i + 1, cue, base))
            continue
        turn, text, speed, natural, pace = planned
        seed = dlg.turn_seed(turn, i, base)
        request = SynthesisRequest(text, refs[turn.voice], replace(options, seed=seed, speed=speed), natural / pace)
        take = engine.synthesize(request)
        rate = take.sample_rate
        clips.append(take.wave.astype(np.float32))
        nxt = cues[i + 1].start if i + 1 < len(cues) else float("inf")
        end = cue.start + take.duration
        spoken = take.duration
        overflow, overlap = max(0.0, end - cue.end), max(0.0, end - nxt)
        results.append(
            CueResult(
                cue=i + 1,
                line=cue.line,
                start=cue.start,
                end=cue.end,
                text=text,
                speaker=turn.speaker,
                voice=turn.voice,
                seed=seed,
                spoken=spoken,
                speed=natural / spoken,
                overflow=overflow,
                overlap=overlap,
            )
        )
        if progress:
            progress(i + 1, len(cues))
    return clips, results, rate


def _check_length(cues: list[Cue], seconds: list[float], max_speech: float, limit: tuple[float, str] | None) -> None:
    """Refuse cues whose speech together (`seconds`, each cue's estimate) exceeds `max_speech`, or whose track would
    last longer than `limit` allows."""
    speech = sum(seconds)
    if speech > max_speech:
        raise over_limit(
            f"The cues would be spoken as about {speech:,.0f} s of speech together; the limit is {max_speech:,.0f} s.",
            "Dub fewer or shorter cues (split the subtitles into parts).",
            "F5_MAX_AUDIO_SECONDS",
            max_speech,
        )
    track = max(cues[-1].end + TAIL_S, *(c.start + s for c, s in zip(cues, seconds, strict=True)))
    if limit is not None and track > limit[0]:
        raise InputError(
            f"The dubbed track would last about {track:,.0f} s; the limit here is {limit[0]:,.0f} s.",
            f"Split the subtitles into parts; {limit[1]}.",
        )


def _timeline(cues: list[Cue], clips: list[np.ndarray], rate: int) -> np.ndarray:
    """Silence as long as the subtitles (plus TAIL_S, or longer where the last clip runs on), each clip added at its
    cue's start."""
    starts = [int(round(c.start * rate)) for c in cues]
    ends = [s + len(c) for s, c in zip(starts, clips, strict=True)]
    length = max([int(round((cues[-1].end + TAIL_S) * rate)), *ends])
    track = np.zeros(length, dtype=np.float32)
    for start, clip in zip(starts, clips, strict=True):
        track[start : start + len(clip)] += clip
    return np.clip(track, -1.0, 1.0)
