"""Typed settings, read once from the environment (and CLI flags in app.py), then passed down.

Defaults work on a laptop; the container entrypoint points HF_HOME and VOICES_DIR at the volume.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
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
    voices_dir: Path = Path("voices")
    max_text_chars: int = 5000  # longer text is refused with a message, not truncated
    max_ref_seconds: float = 12.0  # references are clipped to this at a pause
    max_upload_mb: int = 50  # uploads larger than this are refused before decoding
    ref_cache_size: int = 32  # prepared references kept in memory (LRU, keyed by content hash)

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
        }
        for field, var in text.items():
            if env.get(var, "").strip():
                values[field] = env[var].strip()
        if env.get("GRADIO_SERVER_PORT", "").strip():
            values["port"] = _int("GRADIO_SERVER_PORT", env["GRADIO_SERVER_PORT"], 1, 65535)
        if env.get("VOICES_DIR", "").strip():
            values["voices_dir"] = Path(env["VOICES_DIR"]).expanduser()
        for field, var in {"share": "F5_SHARE", "preload": "F5_PRELOAD"}.items():
            if var in env:
                values[field] = _bool(var, env[var])
        if env.get("F5_MAX_TEXT_CHARS", "").strip():
            values["max_text_chars"] = _int("F5_MAX_TEXT_CHARS", env["F5_MAX_TEXT_CHARS"], 1, 10_000_000)
        if env.get("F5_MAX_UPLOAD_MB", "").strip():
            values["max_upload_mb"] = _int("F5_MAX_UPLOAD_MB", env["F5_MAX_UPLOAD_MB"], 1, 10_000)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.device not in ("auto", "cpu") and not settings.device.startswith("cuda"):
            raise InputError(f"F5_DEVICE={settings.device!r} is not a device.", "Use auto, cpu, cuda or cuda:N.")
        return settings

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
