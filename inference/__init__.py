"""Everything model-related. Importing this package is light: no torch, no model code, no weights."""

from .cancel import Stop, stopping
from .engine import Engine, EngineStatus
from .errors import InputError, ModelUnavailable, StudioError
from .options import MAX_SEED, PRESETS, SynthesisOptions
from .settings import EngineSettings
from .types import AudioChunk, Reference, SynthesisRequest, SynthesisResult

__version__ = "0.2.0"

__all__ = [
    "MAX_SEED",
    "PRESETS",
    "AudioChunk",
    "Engine",
    "EngineSettings",
    "EngineStatus",
    "InputError",
    "ModelUnavailable",
    "Reference",
    "Stop",
    "StudioError",
    "SynthesisOptions",
    "SynthesisRequest",
    "SynthesisResult",
    "__version__",
    "stopping",
]
