"""Gradio UI: layout in layout.py, handlers (Gradio values <-> engine types) in handlers.py."""

from .gradio_import import skip_stub_regeneration

skip_stub_regeneration()  # before anything imports gradio: about 1 s less before the UI answers

from .layout import API_NAMES, build_ui  # noqa: E402

__all__ = ["API_NAMES", "build_ui"]
