"""ui/gradio_import.py: Gradio's per-import stub regeneration is skipped, and nothing else changes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parent.parent


def run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, timeout=120
    )
    return out.stdout.strip()


def test_app_imports_gradio_with_the_stub_writer_replaced() -> None:
    code = """
import app
from inference import Engine, EngineSettings, Studio
app.create_app(app.ServerSettings(), Studio(Engine(EngineSettings())))
import gradio.component_meta as cm, ui.gradio_import as gi
print(cm.create_or_modify_pyi is gi._no_stub)
"""
    assert run(code) == "True"


def test_the_function_it_replaces_still_exists_in_this_gradio() -> None:
    """If a Gradio upgrade renames it, the hook silently saves nothing: this test says so."""
    code = """
import inspect, gradio.component_meta as cm
src = inspect.getsource(cm.ComponentMeta.__new__)
print(callable(getattr(cm, 'create_or_modify_pyi', None)) and 'create_or_modify_pyi(' in src)
"""
    assert run(code) == "True"


# ui/gradio_import.py on its own (importing the `ui` package would import gradio through ui/layout.py first)
STANDALONE = """
import importlib.util
spec = importlib.util.spec_from_file_location("gi", "ui/gradio_import.py")
gi = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gi)
"""


def test_components_still_work_after_the_hook() -> None:
    code = (
        STANDALONE
        + """
assert gi.skip_stub_regeneration() is True
import gradio as gr, gradio.component_meta as cm
with gr.Blocks() as demo:
    t = gr.Textbox(value="hi")
    b = gr.Button()
    b.click(lambda s: s, t, t)
print(cm.create_or_modify_pyi is gi._no_stub, type(t).__name__, hasattr(gr.Textbox, "change"),
      gi.skip_stub_regeneration())
"""
    )
    assert run(code) == "True Textbox True False"  # False: too late once gradio is imported


def test_without_the_hook_gradio_keeps_its_own_function() -> None:
    code = (
        STANDALONE
        + """
import gradio.component_meta as cm
print(cm.create_or_modify_pyi is gi._no_stub, gi.skip_stub_regeneration())
"""
    )
    assert run(code) == "False False"
