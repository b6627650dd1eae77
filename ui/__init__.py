"""Gradio UI over the Studio: the Blocks in layout.py, one module per tab (clone.py and clone_api.py, dialogue.py and
dialogue_api.py, dub.py, edit.py, voices.py), shared handler helpers in handlers.py, option controls and endpoint
signatures in options.py, and mounting on the FastAPI app in mount.py."""

from .gradio_import import skip_stub_regeneration

skip_stub_regeneration()  # before anything imports gradio: about 1 s less before the UI answers

from .layout import API_NAMES, build_ui  # noqa: E402
from .mount import end_sessions, mount, queue_depth  # noqa: E402

__all__ = ["API_NAMES", "build_ui", "end_sessions", "mount", "queue_depth"]
