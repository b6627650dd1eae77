"""Everything model-related. Importing this package is light: no torch, no model code, no weights."""

from .engine import Engine, EngineStatus
from .errors import InputError, ModelUnavailable, StudioError
from .settings import Settings
from .types import PRESETS, AudioChunk, Reference, SynthesisOptions, SynthesisRequest, SynthesisResult

__all__ = ["PRESETS", "AudioChunk", "Engine", "EngineStatus", "InputError", "ModelUnavailable", "Reference",
           "Settings", "StudioError", "SynthesisOptions", "SynthesisRequest", "SynthesisResult"]
