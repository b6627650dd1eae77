"""Everything model-related, behind one contract: `Studio` offers every operation, and adapters (ui/, api/,
serverless/, app.py) import only the names listed here. Importing this package is light: no torch, no model code,
no weights."""

from .audio import SAMPLE_RATE
from .audio.encode import CONTENT_TYPES, FORMATS, bytes_per_second, check_format, encode_audio, stream_audio
from .audio.watermark import MAX_DETECT_S, MIN_DETECT_S, Detection
from .audio.watermark import THRESHOLD as WATERMARK_THRESHOLD
from .cancel import Stop, stopping
from .check import summary as check_summary
from .consent import Proof as ConsentProof
from .engine import Engine, EngineStatus
from .errors import InputError, ModelUnavailable, StudioError, over_limit
from .metrics import RETRY_AFTER_S, Busy
from .model.download import jobs as download_jobs
from .model.download import unreachable
from .model.weights import hub_cache_dir
from .names import sanitize_name
from .options import MAX_SEED, PRESETS, Spec, SynthesisOptions
from .projects.export import FORMATS as PROJECT_FORMATS
from .projects.render import ProjectStatus
from .projects.schema import SegmentRow, Take
from .provenance import Caller, acting, acting_as
from .provenance import current as current_caller
from .settings import EngineSettings, env, from_env
from .studio.captions import Captions, caption_level
from .studio.dialogue import DEFAULT_PAUSE_S, MAX_PAUSE_S, DialogueResult
from .studio.dubbing import (
    DEFAULT_MAX_SPEEDUP,
    MAX_CUES,
    MAX_DUB_SECONDS,
    MAX_SPEEDUP,
    DubResult,
    check_cues,
    check_speedup,
)
from .studio.editing import MAX_RECORDING_S, EditRequest, EditResult
from .studio.editing import OPTION_NAMES as EDIT_OPTION_NAMES
from .studio.edits import SPANS_EXAMPLE, parse_spans
from .studio.facade import Studio
from .studio.project_json import project_json, segment_json, take_json
from .studio.variations import MAX_VARIATIONS
from .studio.variations import score as variation_score
from .text import validate_text
from .text.pronounce import check_entry
from .text.script import DEFAULT_SPEAKER, Turn, max_script_chars, parse_script, speakers
from .text.subtitles import check_size, decode_subtitles, parse_subtitles
from .text.worddiff import ADDED, REMOVED, diff_markup, split_words
from .types import AudioChunk, Reference, SynthesisRequest, SynthesisResult
from .voices import Voice, VoiceNotFound

__version__ = "0.2.0"

__all__ = [
    # the contract
    "Studio",
    "Engine",
    "EngineSettings",
    "EngineStatus",
    "env",
    "from_env",
    # requests, options, results
    "MAX_SEED",
    "PRESETS",
    "Spec",
    "SynthesisOptions",
    "Reference",
    "SynthesisRequest",
    "SynthesisResult",
    "AudioChunk",
    "Captions",
    "caption_level",
    "check_summary",
    "MAX_VARIATIONS",
    "variation_score",
    "Voice",
    # errors, cancelling, being busy
    "InputError",
    "ModelUnavailable",
    "StudioError",
    "VoiceNotFound",
    "over_limit",
    "Stop",
    "stopping",
    # who asks (the audit log, the marks' ids)
    "acting",
    "acting_as",
    "current_caller",
    "Caller",
    "ConsentProof",
    "RETRY_AFTER_S",
    "Busy",
    # audio out
    "SAMPLE_RATE",
    "CONTENT_TYPES",
    "FORMATS",
    "bytes_per_second",
    "check_format",
    "encode_audio",
    "stream_audio",
    # the mark every output carries, and the check that finds it
    "Detection",
    "MAX_DETECT_S",
    "MIN_DETECT_S",
    "WATERMARK_THRESHOLD",
    # text
    "validate_text",
    "check_entry",
    "ADDED",
    "REMOVED",
    "diff_markup",
    "split_words",
    # dialogue and dubbing
    "DEFAULT_PAUSE_S",
    "DEFAULT_SPEAKER",
    "MAX_PAUSE_S",
    "DialogueResult",
    "Turn",
    "max_script_chars",
    "parse_script",
    "speakers",
    "DEFAULT_MAX_SPEEDUP",
    "MAX_CUES",
    "MAX_DUB_SECONDS",
    "MAX_SPEEDUP",
    "DubResult",
    "check_cues",
    "check_speedup",
    "check_size",
    "decode_subtitles",
    "parse_subtitles",
    # speech editing
    "MAX_RECORDING_S",
    "EDIT_OPTION_NAMES",
    "EditRequest",
    "EditResult",
    "SPANS_EXAMPLE",
    "parse_spans",
    # the weights
    "download_jobs",
    "hub_cache_dir",
    "unreachable",
    "__version__",
    "sanitize_name",
    # long-form projects
    "PROJECT_FORMATS",
    "ProjectStatus",
    "SegmentRow",
    "Take",
    "project_json",
    "segment_json",
    "take_json",
]
