"""A new option is one field in inference/options.py: the UI offers it with no edit (a control in the Clone tab, the
last option parameter of every cloning endpoint, described in the API), and what a client sends reaches the request.
The field is added in a subprocess (a SynthesisOptions with one more field), so this process's options stay as they
are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLONING = ("/synthesize", "/synthesize_variations", "/synthesize_captions")

# The cloning endpoints' public parameters as clients call them (positionally, in this order): name, default and
# the type gradio_client describes. A client's script breaks if any of these moves.
FIRST = [("ref_audio", None, "filepath"), ("ref_text", None, "str"), ("text", None, "str")]
FORM = [
    ("seed", -1, "int"),
    ("nfe_step", 32, "Literal['7', '16', '32']"),
    ("speed", 1.0, "float"),
    ("cross_fade", 0.15, "float"),
    ("cfg_strength", 2.0, "float"),
    ("remove_silence", False, "bool"),
    ("voice", None, "a saved voice's name"),
    ("normalize", True, "bool"),
    ("check", False, "bool"),
    ("min_duration", True, "bool"),
    ("check_threshold", 0.25, "float"),
    ("check_tries", 3, "float"),
    ("volume_db", 0.0, "float"),  # the option added as the proof that an option is one field
]
PUBLIC = {
    "/synthesize": [*FIRST, *FORM],
    "/synthesize_variations": [*FIRST, ("n", 3, "float"), *FORM],
    "/synthesize_captions": [*FIRST, *FORM, ("words", False, "bool")],
}


def test_the_cloning_endpoints_keep_their_public_parameters() -> None:
    from inference import Engine, EngineSettings, Studio
    from ui import build_ui

    named = build_ui(Studio(Engine(EngineSettings()))).get_api_info()["named_endpoints"]
    for name, want in PUBLIC.items():
        got = [
            (p["parameter_name"], p["parameter_default"], p["python_type"]["type"])
            if p["parameter_name"] != "voice"  # a dropdown of the saved voices: its type lists them
            else ("voice", p["parameter_default"], "a saved voice's name")
            for p in named[name]["parameters"]
        ]
        assert got == want, name


def test_the_cloning_handlers_keep_their_python_signatures() -> None:
    """What Gradio reads to check the inputs, and a direct call (`synthesize(ref, "", text, 1, nfe_step=4)`) uses."""
    import inspect

    from inference import Engine, EngineSettings, Studio
    from ui.captions import CaptionsEndpoint
    from ui.clone import CloneHandlers

    studio = Studio(Engine(EngineSettings()))
    handlers = CloneHandlers(studio)
    fns = {
        "/synthesize": handlers.synthesize,
        "/synthesize_variations": handlers.synthesize_variations,
        "/synthesize_captions": CaptionsEndpoint(studio).synthesize_captions,
    }
    first = [("ref_audio", inspect.Parameter.empty, "str | None"), ("ref_text", "", "str"), ("text", "", "str")]
    for name, fn in fns.items():
        got = [(p.name, p.default, p.annotation) for p in inspect.signature(fn).parameters.values()]
        assert got[-1][0] == "progress", name
        assert [(n, d) for n, d, _ in got[:-1]] == [(n, d) for n, d, _ in first + PUBLIC[name][3:]], name
        assert got[:3] == first, name


WIDER = """
import dataclasses, json, sys
import gradio as gr
from gradio.utils import get_function_description
from inference import options as o

@dataclasses.dataclass(frozen=True)
class Wider(o.SynthesisOptions):
    loudness: float = o.option(0.0, o.Spec("Loudness (dB)", "how much louder the take is", -6.0, 6.0, 0.5))

narrow = o.SynthesisOptions
for module in list(sys.modules.values()):  # every `from .options import SynthesisOptions` sees the wider one
    if getattr(module, "SynthesisOptions", None) is narrow:
        module.SynthesisOptions = Wider

from inference import Engine, EngineSettings, Studio
from ui import build_ui
from ui.clone import CloneHandlers

studio = Studio(Engine(EngineSettings()))
demo = build_ui(studio)
named = demo.get_api_info()["named_endpoints"]
out = {"parameters": {n: [p["parameter_name"] for p in named[n]["parameters"]] for n in %(cloning)r}}
out["defaults"] = {n: named[n]["parameters"][-1 - (n == "/synthesize_captions")]["parameter_default"] for n in named
                   if n in %(cloning)r}
out["described"] = {f.api_name: get_function_description(f.fn)[1].get("loudness", "") for f in demo.fns.values()
                    if f.api_name in ("synthesize", "synthesize_variations", "synthesize_captions")}
out["controls"] = [(type(b).__name__, b.minimum, b.maximum, b.step) for b in demo.blocks.values()
                   if getattr(b, "label", None) == "Loudness (dB)"]
sent = []

def capture(request, progress=None):
    sent.append(request.options.loudness)
    raise RuntimeError("captured")

studio.synthesize = capture
try:
    CloneHandlers(studio).synthesize("voice.wav", "Hello.", "Hello there.", 7, loudness=2.5)
except gr.Error:
    pass
out["sent"] = sent
print(json.dumps(out))
"""


def test_a_new_option_is_one_field() -> None:
    code = WIDER % {"cloning": CLONING}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    for name, params in out["parameters"].items():
        last = params[-2:] if name == "/synthesize_captions" else params[-1:]
        assert last == (["loudness", "words"] if name == "/synthesize_captions" else ["loudness"]), (name, params)
        assert params[params.index("loudness") - 1] == "volume_db", (name, params)  # after the other options
    assert out["defaults"] == dict.fromkeys(CLONING, 0.0), out["defaults"]
    assert all(text.startswith("how much louder the take is (-6 to 6") for text in out["described"].values()), out
    assert out["controls"] == [["Slider", -6.0, 6.0, 0.5]], out["controls"]  # once, in the Clone tab
    assert out["sent"] == [2.5], out["sent"]  # the value a client sent reached the request
