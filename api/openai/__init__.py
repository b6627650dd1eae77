"""OpenAI-compatible speech API, split as vLLM's entrypoints are: protocol.py (request, response and error models),
serving.py (validation, admission, streaming the audio) and router.py (the routes)."""

from .router import openai_router

__all__ = ["openai_router"]
