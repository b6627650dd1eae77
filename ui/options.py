"""Gradio inputs built from the options' one definition (inference/options.py): label, range, step, default."""

from __future__ import annotations

from typing import Any

import gradio as gr

from inference import SynthesisOptions

SPECS = SynthesisOptions.specs()
DEFAULTS = SynthesisOptions.defaults()


def control(name: str, **kwargs: Any) -> gr.components.Component:
    """The input for one option: a preset radio, a slider or a checkbox (seed has its own, see seed_box)."""
    spec, default = SPECS[name], DEFAULTS[name]
    if spec.presets:
        return gr.Radio(list(spec.presets), value=default, label=spec.label, info=None, **kwargs)
    if spec.low is None or spec.high is None:
        return gr.Checkbox(value=default, label=spec.label, **kwargs)
    return gr.Slider(spec.low, spec.high, value=default, step=spec.step, label=spec.label, **kwargs)


def seed_box(label: str = "Seed (-1 = random)", **kwargs: Any) -> gr.Number:
    spec = SPECS["seed"]
    return gr.Number(value=-1, precision=0, minimum=-1, maximum=spec.high, label=label, **kwargs)
