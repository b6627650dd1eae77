"""Synthesis options: each one's range, default, label and help are written here once.

Every interface is built from these fields: the UI's sliders (ui/options.py), the OpenAI request's extension fields
(api/openai/protocol.py), the serverless job parser and its documentation. `from_loose` is the one lenient parser for
what those interfaces receive (Gradio sends 7.0 for 7; JSON sends null for "not given"):

    SynthesisOptions.from_loose({"nfe_step": 16.0, "seed": -1, "speed": None})
    -> SynthesisOptions(nfe_step=16, ..., speed=1.0, seed=None)        # None = the default; seed -1 = pick one
    SynthesisOptions.from_loose({"nfe_step": 7.5})
    -> InputError: nfe_step must be a whole number from 4 to 64, not 7.5.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import InputError
from .model.duration import MIN_SPEECH_S

MAX_SEED = 2**31 - 1  # seeds are 0..MAX_SEED so every client (JS included) can hold them exactly


def resolve_seed(seed: int | None) -> int:
    """The seed a generation uses: the one given, or a fresh random one when none is (the one place that picks)."""
    return secrets.randbelow(MAX_SEED + 1) if seed is None else seed


def seed_after(seed: int, n: int) -> int:
    """The seed `n` places after `seed`, wrapping past MAX_SEED: seed_after(41, 2) -> 43, seed_after(MAX_SEED, 1) -> 0
    (a take's next chunk, retry, turn or variation)."""
    return (seed + n) % (MAX_SEED + 1)


@dataclass(frozen=True)
class Spec:
    """What an interface needs to offer one option: its label, help, range and step (None for yes/no options)."""

    label: str
    help: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    whole: bool = False
    presets: tuple[tuple[str, int], ...] = ()  # (label, value) choices a UI may offer instead of a slider

    def check(self, name: str, value: Any) -> None:
        """Refuse NaN, wrong types and out-of-range values with a message naming the valid range."""
        if self.low is None or self.high is None:  # yes/no
            if not isinstance(value, bool):
                raise InputError(f"{name} must be true or false, not {value!r}.", f"Set {name} to true or false.")
            return
        kind = "a whole number" if self.whole else "a number"
        ok_type = isinstance(value, int) if self.whole else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok_type or (isinstance(value, float) and not math.isfinite(value)):
            raise InputError(
                f"{name} must be {kind} from {_num(self.low)} to {_num(self.high)}, not {value!r}.",
                f"Set {name} in range.",
            )
        if not self.low <= value <= self.high:
            raise InputError(
                f"{name}={value} is out of range.", f"Use {kind} from {_num(self.low)} to {_num(self.high)}."
            )

    def describe(self) -> str:
        """'4 to 64, whole' / '0 to 1' / 'true or false', for documentation."""
        if self.low is None or self.high is None:
            return "true or false"
        return f"{_num(self.low)} to {_num(self.high)}{', whole' if self.whole else ''}"


def _num(x: float) -> str:
    """2147483647.0 -> '2147483647', 0.3 -> '0.3'."""
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def option(default: Any, spec: Spec) -> Any:
    return field(default=default, metadata={"spec": spec})


# Quality presets: label -> NFE steps. 7 and 16 use F5-TTS v1's EPSS timestep schedule; 32 is uniform.
PRESETS = {"Fast (7 steps)": 7, "Balanced (16 steps)": 16, "Best (32 steps)": 32}


@dataclass(frozen=True)
class SynthesisOptions:
    nfe_step: int = option(
        32,
        Spec(
            "Quality",
            "flow-matching steps: more is slower and cleaner; 7 and 16 use F5-TTS v1's EPSS schedule",
            4,
            64,
            1,
            whole=True,
            presets=tuple(PRESETS.items()),
        ),
    )
    cfg_strength: float = option(
        2.0,
        Spec("CFG strength", "classifier-free guidance: how closely to follow the text and the voice", 0.0, 10.0, 0.1),
    )
    sway_sampling_coef: float = option(
        -1.0, Spec("Sway sampling", "F5-TTS sway sampling; -1 spends more steps early", -1.0, 1.0, 0.1)
    )
    speed: float = option(1.0, Spec("Speed", "speaking rate multiplier", 0.3, 3.0, 0.05))
    cross_fade: float = option(
        0.15, Spec("Cross-fade between sentences (s)", "seconds of overlap between chunks", 0.0, 1.0, 0.01)
    )
    remove_silence: bool = option(False, Spec("Remove long silences", "shorten pauses longer than ~1 s"))
    normalize: bool = option(
        True,
        Spec(
            "Read numbers and dates as words",
            "normalize the text first: numbers, dates, times, money, units, abbreviations and web addresses are "
            "spelled as they are said (English and Chinese)",
        ),
    )
    min_duration: bool = option(
        True,
        Spec(
            "Room for very short text",
            f"one- or two-word texts get at least {MIN_SPEECH_S:g} s, at the reference's speaking rate otherwise "
            "(off: F5-TTS's own duration rule)",
        ),
    )
    check: bool = option(
        False,
        Spec(
            "Check every sentence",
            "transcribe each generated chunk with Whisper and generate it again with the next seed when its words "
            "differ from the text (slower); the best try is kept",
        ),
    )
    check_threshold: float = option(
        0.25,
        Spec(
            "Check: highest error rate",
            "word error rate (Chinese: character error rate) above which a chunk is generated again",
            0.0,
            1.0,
            0.05,
        ),
    )
    check_tries: int = option(
        3, Spec("Check: tries per chunk", "generations per chunk at most; the best is kept", 1, 5, 1, whole=True)
    )
    volume_db: float = option(
        0.0, Spec("Volume (dB)", "raise or lower the output's level; peaks are held at full scale", -20.0, 12.0, 0.5)
    )
    seed: int | None = option(
        None,
        Spec(
            "Seed",
            "the random seed (none or -1 = pick one; the one used is returned): the same seed and inputs give "
            "the same audio",
            0,
            MAX_SEED,
            1,
            whole=True,
        ),
    )

    def __post_init__(self) -> None:
        for name, spec in self.specs().items():
            value = getattr(self, name)
            if not (name == "seed" and value is None):
                spec.check(name, value)

    @classmethod
    def specs(cls) -> dict[str, Spec]:
        """name -> Spec, in declaration order."""
        return {f.name: f.metadata["spec"] for f in dataclasses.fields(cls)}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {f.name: f.default for f in dataclasses.fields(cls)}

    @classmethod
    def from_loose(cls, values: Mapping[str, Any], base: SynthesisOptions | None = None) -> SynthesisOptions:
        """Options from what an interface received: Gradio numbers (7.0 for 7) or JSON values. A missing, None or
        empty value keeps `base`'s (default: the defaults); a negative seed means "pick one". Unknown names, and
        values that cannot be used (NaN, 7.5 steps, "fast", true for a number), raise InputError naming the option
        and its valid range."""
        specs = cls.specs()
        unknown = sorted(str(k) for k in values if k not in specs)
        if unknown:
            raise InputError(
                f"Unknown option{'s' if len(unknown) > 1 else ''}: {', '.join(map(repr, unknown))}.",
                f"Options: {', '.join(specs)}.",
            )
        given: dict[str, Any] = {}
        for name, raw in values.items():
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            value = _coerce(raw, specs[name])
            if name == "seed" and isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                given[name] = None
                continue
            specs[name].check(name, value)  # one at a time, so the message names the option
            given[name] = value
        return dataclasses.replace(base or cls(), **given)

    def changes(self) -> dict[str, Any]:
        """The options that differ from the defaults (seed left out): what a take's settings record."""
        defaults = self.defaults()
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "seed" and v != defaults[k]}


def _coerce(value: Any, spec: Spec) -> Any:
    """7.0 -> 7 for whole options (Gradio sends numbers as floats); anything else is passed on as it is, for
    Spec.check to accept or refuse with a message (a string is not a number, even "2")."""
    if spec.whole and isinstance(value, float) and value.is_integer():
        return int(value)
    if spec.whole and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)  # numpy and other integral types
    return value
