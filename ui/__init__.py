"""Gradio UI: layout in layout.py, handlers (Gradio values <-> engine types) in handlers.py."""

from .layout import API_NAMES, build_ui

__all__ = ["API_NAMES", "build_ui"]
