"""Gradio inputs built from the options' one definition (inference/options.py): label, range, step, default."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from inference import SynthesisOptions

SPECS = SynthesisOptions.specs()
DEFAULTS = SynthesisOptions.defaults()
F = TypeVar("F", bound=Callable[..., Any])


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
    names = [n for n in inspect.signature(fn).parameters if n in SPECS or n in PARAMETER_DOCS]
    lines = (inspect.getdoc(fn) or "").split("\n")
    start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    end = next((i for i, line in enumerate(lines) if line.strip() == "Returns:"), len(lines))
    given = {line.split(":")[0].strip() for line in lines[start + 1 : end] if ":" in line}
    added = [f"    {name}: {describe(name)}." for name in names if name not in given]
    fn.__doc__ = "\n".join(lines[:end] + added + lines[end:])
    return fn


def describe(name: str) -> str:
    if name in PARAMETER_DOCS:
        return PARAMETER_DOCS[name]
    spec = SPECS[name]
    presets = "; presets " + ", ".join(f"{label} = {v}" for label, v in spec.presets) if spec.presets else ""
    return f"{spec.help} ({spec.describe()}{presets})"
