"""Typed settings, read once from the environment (and CLI flags in app.py), then passed down.

Defaults work on a laptop; the container entrypoint points HF_HOME and VOICES_DIR at the volume.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError

DEFAULT_MODEL = "F5TTS_v1_Base"
DEFAULT_CKPT = "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"
DEFAULT_VOCAB = "hf://SWivid/F5-TTS/F5TTS_v1_Base/vocab.txt"
DEFAULT_VOCODER = "hf://charactr/vocos-mel-24khz"
DEFAULT_ASR = "openai/whisper-large-v3-turbo"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(f"{name}={raw!r} is not a yes/no value.", "Use 1/0, true/false, yes/no or on/off.")


def _int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError as e:
        raise InputError(f"{name}={raw!r} is not a whole number.", f"Use a number from {low} to {high}.") from e
    if not low <= value <= high:
        raise InputError(f"{name}={value} is out of range.", f"Use a number from {low} to {high}.")
    return value


def _secret(env: dict[str, str], name: str) -> str | None:
    """A secret from NAME, or from the file named by NAME_FILE (Docker/RunPod secrets); None when unset."""
    if env.get(name, "").strip():
        return env[name].strip()
    path = env.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    try:
        value = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as e:
        raise InputError(f"{name}_FILE points at {path}, which cannot be read ({e.strerror}).",
                         "Check the path and its permissions.") from e
    if not value:
        raise InputError(f"{name}_FILE points at an empty file.", f"Write the {name} value into {path}.")
    return value


@dataclass(frozen=True)
class Settings:
    # Where the server listens. Gradio's own variable names, so its docs apply.
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False  # create a public *.gradio.live link as well
    preload: bool = False  # start loading the model in the background once the server is up
    # The model: a config name shipped with f5-tts or a YAML path; checkpoint and vocab as paths or hf:// URLs.
    model: str = DEFAULT_MODEL
    ckpt: str = DEFAULT_CKPT
    vocab: str = DEFAULT_VOCAB
    vocoder: str = DEFAULT_VOCODER  # a local Vocos folder (config.yaml + pytorch_model.bin) or hf:// repo
    asr_model: str = DEFAULT_ASR  # Whisper repo id or local folder, loaded on the first empty transcript
    device: str = "auto"  # auto = cuda if available, else cpu
    dtype: str = "auto"  # model weights: auto = fp16 on CUDA, fp32 on CPU; or fp32, fp16, bf16
    voices_dir: Path = Path("voices")
    max_text_chars: int = 5000  # longer text is refused with a message, not truncated
    max_ref_seconds: float = 12.0  # references are clipped to this at a pause
    max_upload_mb: int = 50  # uploads larger than this are refused before decoding
    ref_cache_size: int = 32  # prepared references kept in memory (LRU, keyed by content hash)
    first_chunk_bytes: int = 60  # long text starts with a chunk this short, so the first audio comes sooner
    batch_size: int = 0  # chunks per forward pass, across requests; 0 = auto (8 on CUDA, 1 on CPU)
    compile: bool = False  # torch.compile the transformer at load: ~1 min more loading, then 2.7-5x faster on a GPU
    queue_max: int = 32  # generations waiting at once; beyond this, visitors are told the studio is busy
    mcp: bool = False  # expose synthesis as an MCP tool (Gradio's MCP server)
    # Secrets: never printed (repr=False), never logged, never in /health.
    auth: tuple[str, str] | None = field(default=None, repr=False)  # UI login (and HTTP Basic on REST)
    api_token: str | None = field(default=None, repr=False)  # bearer token for REST

    @property
    def protected(self) -> bool:
        return self.auth is not None or self.api_token is not None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read every setting from `env` (default os.environ); `overrides` (CLI flags) win when not None."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        text = {
            "host": "GRADIO_SERVER_NAME",
            "model": "F5_MODEL",
            "ckpt": "F5_CKPT",
            "vocab": "F5_VOCAB",
            "vocoder": "F5_VOCODER",
            "asr_model": "F5_ASR_MODEL",
            "device": "F5_DEVICE",
            "dtype": "F5_DTYPE",
        }
        for name, var in text.items():
            if env.get(var, "").strip():
                values[name] = env[var].strip()
        if env.get("GRADIO_SERVER_PORT", "").strip():
            values["port"] = _int("GRADIO_SERVER_PORT", env["GRADIO_SERVER_PORT"], 1, 65535)
        if env.get("VOICES_DIR", "").strip():
            values["voices_dir"] = Path(env["VOICES_DIR"]).expanduser()
        for name, var in {"share": "F5_SHARE", "preload": "F5_PRELOAD", "compile": "F5_COMPILE"}.items():
            if var in env:
                values[name] = _bool(var, env[var])
        if env.get("F5_MAX_TEXT_CHARS", "").strip():
            values["max_text_chars"] = _int("F5_MAX_TEXT_CHARS", env["F5_MAX_TEXT_CHARS"], 1, 10_000_000)
        if env.get("F5_MAX_UPLOAD_MB", "").strip():
            values["max_upload_mb"] = _int("F5_MAX_UPLOAD_MB", env["F5_MAX_UPLOAD_MB"], 1, 10_000)
        if env.get("F5_QUEUE_MAX", "").strip():
            values["queue_max"] = _int("F5_QUEUE_MAX", env["F5_QUEUE_MAX"], 1, 10_000)
        if env.get("F5_BATCH_SIZE", "").strip():
            values["batch_size"] = _int("F5_BATCH_SIZE", env["F5_BATCH_SIZE"], 0, 64)
        if "F5_MCP" in env:
            values["mcp"] = _bool("F5_MCP", env["F5_MCP"])
        auth = _secret(env, "STUDIO_AUTH")
        if auth is not None:
            user, sep, password = auth.partition(":")
            if not sep or not user or not password:
                raise InputError("STUDIO_AUTH must look like user:password.", "Set both, separated by a colon.")
            values["auth"] = (user, password)
        values["api_token"] = _secret(env, "STUDIO_API_TOKEN")
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.dtype not in ("auto", "fp32", "fp16", "bf16"):
            raise InputError(f"F5_DTYPE={settings.dtype!r} is not a precision.", "Use auto, fp32, fp16 or bf16.")
        if settings.device not in ("auto", "cpu") and not settings.device.startswith("cuda"):
            raise InputError(f"F5_DEVICE={settings.device!r} is not a device.", "Use auto, cpu, cuda or cuda:N.")
        return settings

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
