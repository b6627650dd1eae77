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
        assert params[params.index("loudness") - 1] == "check_tries", (name, params)  # after the other options
    assert out["defaults"] == dict.fromkeys(CLONING, 0.0), out["defaults"]
    assert all(text.startswith("how much louder the take is (-6 to 6") for text in out["described"].values()), out
    assert out["controls"] == [["Slider", -6.0, 6.0, 0.5]], out["controls"]  # once, in the Clone tab
    assert out["sent"] == [2.5], out["sent"]  # the value a client sent reached the request
