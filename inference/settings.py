"""Typed settings, read once from the environment (and CLI flags), then passed down.

Each field names its environment variable next to it (`env("F5_MODEL", ...)`), and `from_env` is the one reader
every settings class uses (the engine's here, the server's in app.py, the worker's in serverless/): the variable's
text is converted by the field's type, checked against its range or choices, and refused with a message naming the
variable and what it takes. `parse_bool` is the one yes/no parser.

Defaults work on a laptop; the container entrypoint points HF_HOME and VOICES_DIR at the volume.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .errors import InputError

DEFAULT_MODEL = "F5TTS_v1_Base"
DEFAULT_CKPT = "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"
DEFAULT_VOCAB = "hf://SWivid/F5-TTS/F5TTS_v1_Base/vocab.txt"
DEFAULT_VOCODER = "hf://charactr/vocos-mel-24khz"
DEFAULT_ASR = "openai/whisper-large-v3-turbo"
# The same Whisper converted to CTranslate2 (what faster-whisper itself calls "large-v3-turbo"): the model of
# F5_ASR_BACKEND=ctranslate2 while F5_ASR_MODEL is left at DEFAULT_ASR
DEFAULT_ASR_CT2 = "mobiuslabsgmbh/faster-whisper-large-v3-turbo"
ASR_BACKENDS = ("transformers", "ctranslate2")

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})
T = TypeVar("T")


def parse_bool(name: str, raw: str) -> bool:
    """'1', 'true', 'yes', 'on' -> True; '0', 'false', 'no', 'off', '' -> False; anything else is refused:
    parse_bool("F5_SHARE", "maybe") -> InputError("F5_SHARE='maybe' is not a yes/no value.")."""
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InputError(f"{name}={raw!r} is not a yes/no value.", "Use 1/0, true/false, yes/no or on/off.")


def env(
    name: str | tuple[str, ...],
    default: Any = None,
    *,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    secret: bool = False,
    parse: Callable[[str, str], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """A settings field read from the environment variable `name` (see from_env), or from the first of several
    names that is set. `secret`: also NAME_FILE, never printed. `parse(name, raw)`: a converter instead of the
    field's type."""
    meta = {"env": name, "low": low, "high": high, "choices": choices, "secret": secret, "parse": parse}
    return field(default=default, metadata=meta, repr=not secret, **kwargs)


def read_secret(env_map: Mapping[str, str], name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/RunPod secrets); None when unset."""
    if env_map.get(name, "").strip():
        return env_map[name].strip()
    path = env_map.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    try:
        value = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as e:
        raise InputError(
            f"{name}_FILE points at {path}, which cannot be read ({e.strerror}).", "Check the path and its permissions."
        ) from e
    if not value:
        raise InputError(f"{name}_FILE points at an empty file.", f"Write the {name} value into {path}.")
    return value


def _convert(name: str, raw: str, kind: Any, meta: Mapping[str, Any]) -> Any:
    if meta["parse"] is not None:
        return meta["parse"](name, raw)
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    kind = args[0] if args else kind
    low, high, choices = meta["low"], meta["high"], meta["choices"]
    if kind is bool:
        return parse_bool(name, raw)
    if kind in (int, float):
        what = "a whole number" if kind is int else "a number"
        span = f"from {low:g} to {high:g}" if low is not None and high is not None else ""
        try:
            value = kind(raw.strip())
        except ValueError as e:
            raise InputError(f"{name}={raw!r} is not {what}.", f"Use {what} {span}.".replace("  ", " ")) from e
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            raise InputError(f"{name}={raw.strip()} is out of range.", f"Use {what} {span}.")
        return value
    value = raw.strip()
    if choices and value not in choices:
        raise InputError(f"{name}={value!r} is not one of the choices.", f"Use {', '.join(choices)}.")
    return Path(value).expanduser() if kind is Path else value


def from_env(cls: type[T], env_map: Mapping[str, str] | None = None, **overrides: Any) -> T:
    """Build a settings dataclass from the environment (default os.environ): every field declared with env() whose
    variable is set and not blank; `overrides` (CLI flags) win when not None."""
    env_map = os.environ if env_map is None else env_map
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        meta = f.metadata
        if "env" not in meta:
            continue
        for name in (meta["env"],) if isinstance(meta["env"], str) else meta["env"]:
            raw = read_secret(env_map, name) if meta["secret"] else env_map.get(name)
            if raw is not None and (raw.strip() or hints[f.name] is bool):
                values[f.name] = _convert(name, raw, hints[f.name], meta)
                break
    values.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**values)


def env_names(cls: type) -> dict[str, str | tuple[str, ...]]:
    """field -> environment variable(s), for documentation and tests."""
    return {f.name: f.metadata["env"] for f in dataclasses.fields(cls) if "env" in f.metadata}


DTYPES = ("auto", "fp32", "fp16", "bf16")


AUDIT_MODES = ("auto", "on", "off")  # F5_AUDIT: auto = with a login


COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")  # torch.compile's


@dataclass(frozen=True)
class EngineSettings:
    """What the engine needs: the model, the device, the limits of one request, and where voices are kept."""

    # The model: a config name shipped with f5-tts or a YAML path; checkpoint and vocab as paths or hf:// URLs.
    model: str = env("F5_MODEL", DEFAULT_MODEL)
    ckpt: str = env("F5_CKPT", DEFAULT_CKPT)
    vocab: str = env("F5_VOCAB", DEFAULT_VOCAB)
    vocoder: str = env("F5_VOCODER", DEFAULT_VOCODER)  # a local Vocos folder (config.yaml + pytorch_model.bin)
    asr_model: str = env("F5_ASR_MODEL", DEFAULT_ASR)  # Whisper repo id or local folder, loaded on first use
    # transformers' Whisper or faster-whisper (CTranslate2); see asr_weights
    asr_backend: str = env("F5_ASR_BACKEND", "transformers", choices=ASR_BACKENDS)
    device: str = env("F5_DEVICE", "auto")  # auto = cuda if available, else cpu; or cpu, cuda, cuda:N
    dtype: str = env("F5_DTYPE", "auto")  # auto: fp16 on CUDA, fp32 on CPU; or fp32, fp16, bf16
    voices_dir: Path = env("VOICES_DIR", Path("voices"))
    # long-form projects (their database and audio); None = a `projects` folder beside voices_dir (see projects_folder)
    projects_dir: Path | None = env("F5_PROJECTS_DIR", None)
    # the audit log (inference/audit.py): auto = kept when a login is set, on = always, off = never; where (None = an
    # `audit` folder beside voices_dir), whether it holds the text itself, a file's size before rotation, files kept
    audit: str = env("F5_AUDIT", "auto", choices=AUDIT_MODES)
    audit_dir: Path | None = env("F5_AUDIT_DIR", None)
    audit_text: bool = env("F5_AUDIT_TEXT", False)
    audit_max_mb: float = env("F5_AUDIT_MAX_MB", 10.0, low=0.001, high=100_000)
    audit_files: int = env("F5_AUDIT_FILES", 5, low=1, high=1000)
    # rendering projects on a RunPod queue endpoint running this image's worker (inference/projects/remote.py):
    # the endpoint's id (unset: this process renders them), the API key, segments per job and jobs sent at once
    render_endpoint: str | None = env("F5_RENDER_ENDPOINT", None)
    render_api_key: str | None = env("RUNPOD_API_KEY", None, secret=True)
    render_batch: int = env("F5_RENDER_BATCH", 16, low=1, high=1000)  # high: the worker's segments per job
    render_jobs: int = env("F5_RENDER_JOBS", 4, low=1, high=256)
    # the inaudible mark on every output (inference/audio/watermark.py): the operator's setting, never a visitor's
    watermark: bool = env("F5_WATERMARK", True)
    # a new voice is used or saved only after its owner reads a phrase made up on the spot (inference/consent.py)
    require_consent: bool = env("F5_REQUIRE_CONSENT", False)
    preload: bool = env("F5_PRELOAD", False)  # start loading in the background as soon as the server is up
    compile: bool = env("F5_COMPILE", False)  # torch.compile the transformer in the background (minutes on a GPU)
    # the compile cache; None = a `compiled` folder beside voices_dir (on the volume with it: see compile_folder)
    compile_cache: Path | None = env("F5_COMPILE_CACHE", None)
    # torch.compile's mode: reduce-overhead adds CUDA graphs (launches recorded once per shape; a GPU only)
    compile_mode: str = env("F5_COMPILE_MODE", "default", choices=COMPILE_MODES)
    batch_size: int = env("F5_BATCH_SIZE", 0, low=0, high=64)  # chunks per forward pass; 0 = auto (8 CUDA, 1 CPU)
    concurrency: int = env("F5_CONCURRENCY", 0, low=0, high=1024)  # generations let in at once; 0 = auto
    mmap: bool = env("F5_MMAP", True)  # memory-map checkpoints (off: read them into memory)
    max_text_chars: int = env("F5_MAX_TEXT_CHARS", 5000, low=1, high=10_000_000)  # longer text is refused
    max_upload_mb: int = env("F5_MAX_UPLOAD_MB", 50, low=1, high=10_000)  # larger uploads refused before decoding
    # what a text becomes before the model sees it (numbers as words, pronunciations): refused beyond, before any
    # generation (docs/LIMITS.md)
    max_spoken_chars: int = env("F5_MAX_SPOKEN_CHARS", 15_000, low=1, high=30_000_000)
    max_audio_seconds: float = env("F5_MAX_AUDIO_SECONDS", 1800.0, low=1, high=86_400)  # estimated speech per request
    max_ref_seconds: float = 12.0  # references are clipped to this at a pause
    ref_cache_size: int = 32  # prepared references kept in memory (LRU, keyed by content hash)
    first_chunk_bytes: int = 60  # long text starts with a chunk this short, so the first audio comes sooner

    def __post_init__(self) -> None:  # CLI flags are checked as well as the environment
        d = self.device
        if not (d in ("auto", "cpu", "cuda") or (d.startswith("cuda:") and d[5:].isdigit())):
            raise InputError(f"F5_DEVICE={d!r} is not a device.", "Use auto, cpu, cuda or cuda:N.")
        if self.dtype not in DTYPES:
            raise InputError(f"F5_DTYPE={self.dtype!r} is not a precision.", f"Use {', '.join(DTYPES)}.")
        if self.asr_backend not in ASR_BACKENDS:
            raise InputError(
                f"F5_ASR_BACKEND={self.asr_backend!r} is not a backend.", f"Use {', '.join(ASR_BACKENDS)}."
            )

    @property
    def asr_weights(self) -> str:
        """The Whisper the backend loads: F5_ASR_MODEL, except that the ctranslate2 backend reads the default
        model in its CTranslate2 conversion (DEFAULT_ASR -> DEFAULT_ASR_CT2)."""
        if self.asr_backend == "ctranslate2" and self.asr_model == DEFAULT_ASR:
            return DEFAULT_ASR_CT2
        return self.asr_model

    @property
    def projects_folder(self) -> Path:
        """Where projects are kept: F5_PROJECTS_DIR, else `projects` beside the voices (on the volume with them):
        VOICES_DIR=/workspace/voices -> /workspace/projects."""
        return self.projects_dir or self.voices_dir.parent / "projects"

    @property
    def audit_folder(self) -> Path:
        """Where the audit log is kept: F5_AUDIT_DIR, else `audit` beside the voices (on the volume with them)."""
        return self.audit_dir or self.voices_dir.parent / "audit"

    @property
    def compile_folder(self) -> Path:
        """Where compiled graphs are kept: F5_COMPILE_CACHE, else `compiled` beside the voices, so that the studio
        and the serverless worker on one volume share them: VOICES_DIR=/runpod-volume/voices ->
        /runpod-volume/compiled."""
        return self.compile_cache or self.voices_dir.parent / "compiled"

    @classmethod
    def from_env(cls, env_map: Mapping[str, str] | None = None, **overrides: Any) -> EngineSettings:
        return from_env(cls, env_map, **overrides)

    def replace(self, **changes: Any) -> EngineSettings:
        return dataclasses.replace(self, **changes)
