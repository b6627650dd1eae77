"""Gradio inputs and endpoint signatures built from the options' one definition (inference/options.py): label, help,
range, step, default. A field added to SynthesisOptions becomes a control in the Clone tab and the last option
parameter of /synthesize, /synthesize_variations and /synthesize_captions, with no edit here.

    @form_endpoint  # ref_audio, ref_text, text, then seed, the options and voice: one Form
    def synthesize(self, form: Form, *, progress: gr.Progress = gr.Progress()) -> ...:
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import gradio as gr

from inference import Studio, SynthesisOptions, SynthesisRequest

SPECS = SynthesisOptions.specs()
DEFAULTS = SynthesisOptions.defaults()
F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

# The form's parameters in the public endpoints, in their order (the public API: tests/test_layout.py pins it); an
# option added to SynthesisOptions comes after these, in every cloning endpoint and in the Clone tab.
FORM_ORDER: tuple[str, ...] = ("seed", "nfe_step", "speed", "cross_fade", "cfg_strength", "remove_silence", "voice")
FORM_ORDER += ("normalize", "check", "min_duration", "check_threshold", "check_tries")
NOT_OFFERED = ("sway_sampling_coef",)  # options the UI leaves at their default (REST and jobs offer them)
FORM_PARAMETERS = (*FORM_ORDER, *(n for n in SPECS if n not in FORM_ORDER and n not in NOT_OFFERED))
FORM_OPTIONS = tuple(n for n in FORM_PARAMETERS if n in SPECS and n != "seed")  # the options a Generate sends


def control(name: str, **kwargs: Any) -> gr.components.Component:
    """The input for one option: a preset radio, a slider or a checkbox (seed has its own, see seed_box)."""
    spec, default = SPECS[name], DEFAULTS[name]
    if spec.presets:
        return gr.Radio(list(spec.presets), value=default, label=spec.label, info=spec.help, **kwargs)
    if spec.low is None or spec.high is None:
        return gr.Checkbox(value=default, label=spec.label, info=spec.help, **kwargs)
    return gr.Slider(spec.low, spec.high, value=default, step=spec.step, label=spec.label, info=spec.help, **kwargs)


def seed_box(label: str = "Seed (-1 = random)", **kwargs: Any) -> gr.Number:
    spec = SPECS["seed"]
    return gr.Number(value=-1, precision=0, minimum=-1, maximum=spec.high, label=label, info=spec.help, **kwargs)


def seed_used_box(label: str = "Seed used", **kwargs: Any) -> gr.Number:
    """The seed a take used: hidden until there is a take (Gradio's number box shows 0 for no value, a seed that no
    take used); `seed_used(seed)` shows it."""
    return gr.Number(None, precision=0, interactive=False, label=label, visible=False, **kwargs)


def seed_used(seed: int) -> Any:
    """The update that shows a take's seed in a seed_used_box."""
    return gr.update(value=seed, visible=True)


# The parameters the cloning endpoints share besides the options, described once (see option_docs).
PARAMETER_DOCS = {
    "ref_audio": "a recording of the voice to clone, 5 to 12 s of clear speech (wav, mp3, flac, ogg, m4a, webm)",
    "ref_text": "what is said in ref_audio; leave empty to transcribe it automatically",
    "text": "what the cloned voice should say. Long text is split at sentences",
    "seed": "the random seed; -1 picks one. The same seed and inputs give the same audio",
    "voice": "the name of a saved voice to use instead of ref_audio (its saved transcript unless ref_text is set)",
}


def option_docs(fn: F) -> F:
    """Add to an endpoint's docstring, under Args:, a line for each option it takes that has none there: the option's
    help and range from inference/options.py (and the shared parameters' from PARAMETER_DOCS), so that
    gradio_client's API page and the MCP tools describe them without a copy of either (a parameter with its own line
    keeps it).

        nfe_step: flow-matching steps: ... (4 to 64, whole; presets Fast (7 steps) = 7, ...).
    """
    fn.__doc__ = documented(inspect.getdoc(fn) or "", inspect.signature(fn).parameters)
    return fn


def documented(doc: str, parameters: Iterable[str]) -> str:
    """`doc` with the Args lines option_docs adds for `parameters`."""
    names = [n for n in parameters if n in SPECS or n in PARAMETER_DOCS]
    lines = doc.split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    end = next((i for i, line in enumerate(lines) if line.strip() == "Returns:"), len(lines))
    given = {line.split(":")[0].strip() for line in lines[start + 1 : end] if ":" in line}
    added = [f"    {name}: {describe(name)}." for name in names if name not in given]
    return "\n".join(lines[:end] + added + lines[end:])


def describe(name: str) -> str:
    if name in PARAMETER_DOCS:
        return PARAMETER_DOCS[name]
    spec = SPECS[name]
    presets = "; presets " + ", ".join(f"{label} = {v}" for label, v in spec.presets) if spec.presets else ""
    return f"{spec.help} ({spec.describe()}{presets})"


@dataclass(frozen=True)
class Form:
    """What a Generate reads, whether it comes from the Clone tab's components or from an endpoint's parameters."""

    ref_audio: str | None
    ref_text: str | None
    text: str | None
    seed: Any
    options: dict[str, Any]
    voice: str | None

    def request(self, studio: Studio) -> SynthesisRequest:
        """The studio request: its voice (a picked saved voice wins over the reference box, which then shows that
        voice), text and options, each checked with a message naming what is wrong."""
        audio = None if self.voice else self.ref_audio
        options = {**self.options, "seed": self.seed}
        return studio.request(self.text or "", voice=self.voice, audio=audio, ref_text=self.ref_text, options=options)


FIRST = (  # the parameters before the form's, in every cloning endpoint
    inspect.Parameter("ref_audio", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str | None"),
    inspect.Parameter("ref_text", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="", annotation="str"),
    inspect.Parameter("text", inspect.Parameter.POSITIONAL_OR_KEYWORD, default="", annotation="str"),
)


def form_parameter(name: str) -> inspect.Parameter:
    """One form parameter as a signature shows it: the option's default and type (seed: -1, voice: None)."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    if name == "voice":
        return inspect.Parameter(name, kind, default=None, annotation="str | None")
    if name == "seed":
        return inspect.Parameter(name, kind, default=-1, annotation="int")
    spec = SPECS[name]
    kind_name = "bool" if spec.low is None else "int" if spec.whole else "float"
    return inspect.Parameter(name, kind, default=DEFAULTS[name], annotation=kind_name)


class form_endpoint(Generic[R]):
    """A cloning endpoint's public signature, built from the options: a method `fn(self, form, <own>..., *,
    <later>...)` is seen as `(ref_audio, ref_text, text, <own>..., seed, <options and voice in FORM_PARAMETERS'
    order>, <later>...)`, which Gradio reads (inspect.signature) to check its inputs and describe its API; its Args
    lines are written from the options too (as option_docs does). A call gathers the form's values into a Form for
    `fn`. A descriptor, so that the bound method carries the public signature (and so do the wrappers that copy its
    attributes: stops_when_cancelled)."""

    def __init__(self, fn: Callable[..., R]) -> None:
        own = list(inspect.signature(fn).parameters.values())[2:]  # after self and form
        self.fn, self.own = fn, [p.name for p in own]
        middle = [p for p in own if p.kind is p.POSITIONAL_OR_KEYWORD]  # e.g. n
        later = [p.replace(kind=p.POSITIONAL_OR_KEYWORD) for p in own if p.kind is p.KEYWORD_ONLY]  # words, progress
        form = [form_parameter(name) for name in FORM_PARAMETERS]
        self.signature = inspect.Signature([*FIRST, *middle, *form, *later])
        self.__doc__ = documented(inspect.getdoc(fn) or "", self.signature.parameters)  # the Args lines, once

    def __get__(self, handlers: object, owner: type | None = None) -> Callable[..., R]:
        @functools.wraps(self.fn)
        def endpoint(*args: Any, **kwargs: Any) -> R:
            given = self.signature.bind(*args, **kwargs)
            given.apply_defaults()
            v = given.arguments
            options = {name: v[name] for name in FORM_OPTIONS}
            form = Form(v["ref_audio"], v["ref_text"], v["text"], v["seed"], options, v["voice"])
            return self.fn(handlers, form, **{name: v[name] for name in self.own})

        del endpoint.__wrapped__  # Gradio reads the public signature, not fn's
        endpoint.__signature__ = self.signature  # type: ignore[attr-defined]  # what inspect.signature returns
        endpoint.__doc__ = self.__doc__
        return endpoint
