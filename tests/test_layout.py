"""The Blocks as built: every handler takes exactly the inputs it is wired to (Gradio only warns when they differ,
and the call then fails for every visitor), and the public endpoints are the documented ones."""

from __future__ import annotations

import warnings

from inference import Engine, EngineSettings
from ui import API_NAMES, build_ui


def test_every_handler_takes_the_inputs_it_is_wired_to() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        demo = build_ui(Engine(EngineSettings()))
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

    demo = build_ui(Engine(EngineSettings()))
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
