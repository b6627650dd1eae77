"""The Blocks as built: every handler takes exactly the inputs it is wired to (Gradio only warns when they differ,
and the call then fails for every visitor), and the public endpoints are the documented ones."""

from __future__ import annotations

import warnings

from inference import Engine, EngineSettings, Studio
from ui import API_NAMES, build_ui


def test_every_handler_takes_the_inputs_it_is_wired_to() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        demo = build_ui(Studio(Engine(EngineSettings())))
    mismatched = [str(w.message) for w in caught if "arguments for function" in str(w.message)]
    assert not mismatched, mismatched
    public = {
        "/" + d["api_name"]
        for d in demo.get_config_file()["dependencies"]
        if d.get("api_name") and d.get("api_visibility") == "public"
    }
    assert public == set(API_NAMES)


def test_every_public_parameter_is_described() -> None:
    """gradio_client's API page and the MCP tools read these; options get theirs from inference/options.py."""
    from gradio.utils import get_function_description

    from ui.options import describe

    demo = build_ui(Studio(Engine(EngineSettings())))
    undescribed = []
    for block_fn in demo.fns.values():
        if not block_fn.api_name or block_fn.api_visibility != "public":
            continue
        _, params, _ = get_function_description(block_fn.fn)
        for name, text in params.items():
            if name != "progress" and not text.strip():
                undescribed.append(f"/{block_fn.api_name}: {name}")
        if "nfe_step" in params and block_fn.api_name in ("synthesize", "synthesize_variations"):
            assert params["nfe_step"] == describe("nfe_step") + "."
    assert not undescribed, undescribed


# ---- every interface range is its option's spec, every public input is a parameter ------------------------------
def handler_parameters(block_fn) -> list[str]:
    """The parameters Gradio fills from the inputs (a gr.Progress or gr.Request is filled by Gradio itself)."""
    import inspect

    import gradio as gr

    params = inspect.signature(block_fn.fn).parameters.values()
    return [p.name for p in params if not isinstance(p.default, gr.Progress) and "Request" not in str(p.annotation)]


def public_endpoints(demo) -> list:
    return [f for f in demo.fns.values() if f.api_name and f.api_visibility == "public"]


def test_every_public_endpoint_has_one_input_per_handler_parameter() -> None:
    """A parameter with a default still needs its input: without it the endpoint silently drops the setting (Gradio
    warns only when a parameter without a default has no input)."""
    demo = build_ui(Studio(Engine(EngineSettings())))
    wrong = {
        f"/{f.api_name}": (len(f.inputs), handler_parameters(f))
        for f in public_endpoints(demo)
        if f.inputs_as_dict or len(f.inputs) != len(handler_parameters(f))
    }
    assert not wrong, wrong


def control_range(component) -> tuple:
    """What a control lets a visitor pick: (minimum, maximum, step), the radio's values, or 'yes/no'."""
    import gradio as gr

    if isinstance(component, gr.Radio):
        return tuple(value for _, value in component.choices)
    if isinstance(component, gr.Checkbox):
        return ("yes/no",)
    return (component.minimum, component.maximum, component.step)


def spec_range(name: str) -> tuple:
    from inference import SynthesisOptions

    spec = SynthesisOptions.specs()[name]
    if spec.presets:
        return tuple(value for _, value in spec.presets)
    if spec.low is None:
        return ("yes/no",)
    if name == "seed":  # the box adds -1 (= pick one) below the seeds
        return (-1, spec.high, 1)
    return (spec.low, spec.high, spec.step)


def test_every_options_control_offers_its_specs_range() -> None:
    """Through the public endpoints' parameters (an option's name) and through every control labelled as an option
    anywhere in the UI: the range, step and presets are inference/options.py's, and the other ranged parameters use
    their module's limits."""
    import gradio as gr

    from inference import SynthesisOptions
    from inference.studio import dialogue, dubbing, variations

    specs = SynthesisOptions.specs()
    others = {"n": (1, variations.MAX_VARIATIONS, 1), "pause": (0, dialogue.MAX_PAUSE_S, 0.05)}
    others["max_speedup"] = (1, dubbing.MAX_SPEEDUP, 0.05)
    demo = build_ui(Studio(Engine(EngineSettings())))
    wrong, checked = [], 0
    for f in public_endpoints(demo):
        for name, component in zip(handler_parameters(f), f.inputs, strict=False):
            want = spec_range(name) if name in specs else others.get(name)
            if want is None or (isinstance(component, gr.Number) and component.maximum is None):
                continue  # no range offered here (a hidden box): the engine checks the value
            checked += 1
            if control_range(component) != want:
                wrong.append(f"/{f.api_name} {name}: {control_range(component)} != {want}")
    by_label = {spec.label: name for name, spec in specs.items()}
    for component in demo.blocks.values():
        name = by_label.get(getattr(component, "label", None))
        if name and isinstance(component, (gr.Slider, gr.Radio, gr.Checkbox, gr.Number)):
            checked += 1
            if control_range(component) != spec_range(name):
                wrong.append(f"{component.label!r}: {control_range(component)} != {spec_range(name)}")
    assert not wrong, wrong
    assert checked > 40, checked
