"""Find the files a model needs: config, checkpoint, vocab, vocoder. Local paths or hf://owner/repo/path URLs.

Hub files resolve through the standard Hugging Face cache under HF_HOME, so HF_HUB_OFFLINE=1 works once they are
cached. Before that, RunPod's model cache is consulted: an endpoint with a cached model gets that hub repo at
RUNPOD_HF_CACHE, and a file found there is used as it is, with no download. Every failure is a ModelUnavailable that
says what was missing, where we looked and how to fix it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import yaml

from .errors import ModelUnavailable
from .settings import DEFAULT_VOCAB, Settings

FIX_DOWNLOAD = "Run `python app.py download` while online (or generate once online), or point {var} at a local file."
# Where RunPod's "cached models" feature puts the hub repo an endpoint caches (a Hugging Face hub cache layout:
# models--{org}--{name}/snapshots/{commit}/...). RunPod caches one repo per endpoint and expects offline mode.
RUNPOD_HF_CACHE = Path("/runpod-volume/huggingface-cache/hub")
FIX_RUNPOD = (" RunPod caches one model per endpoint: put the others on the network volume (`python app.py download` "
              "with HF_HOME=/runpod-volume/hf) or into the image (build it with BAKE_WEIGHTS=1).")


@dataclass(frozen=True)
class ModelFiles:
    config: dict  # the `model:` section of an f5-tts YAML (backbone, arch, mel_spec)
    ckpt: Path
    vocab: Path
    vocoder_config: Path
    vocoder_weights: Path


def hub_cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def split_hf_url(url: str) -> tuple[str, str]:
    """'hf://SWivid/F5-TTS/F5TTS_v1_Base/vocab.txt' -> ('SWivid/F5-TTS', 'F5TTS_v1_Base/vocab.txt')."""
    parts = url.removeprefix("hf://").strip("/").split("/", 2)
    if len(parts) < 2 or not all(parts[:2]):
        raise ModelUnavailable(f"{url!r} is not a valid hf:// URL.", "Use hf://owner/repo/path/to/file.")
    return f"{parts[0]}/{parts[1]}", parts[2] if len(parts) == 3 else ""


def runpod_cached(repo_id: str, filename: str) -> Path | None:
    """The file from RunPod's model cache when that cache holds the repo and the file; None otherwise. Never
    downloads. The cache's refs/main is used when present; without it, the newest snapshot holding the file."""
    repo_dir = RUNPOD_HF_CACHE / f"models--{repo_id.replace('/', '--')}"
    if not repo_dir.is_dir():
        return None
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename, cache_dir=RUNPOD_HF_CACHE,
                                    local_files_only=True))
    except Exception:  # no refs/main, or not this file: look in the snapshots themselves
        found = [p for p in (repo_dir / "snapshots").glob(f"*/{filename}") if p.is_file()]  # is_file: no dangling link
        return max(found, key=lambda p: p.parent.stat().st_mtime, default=None)


def hf_file(repo_id: str, filename: str, what: str, var: str) -> Path:
    """Find one file of a hub repo in RunPod's model cache or the HF cache, or download it into the HF cache."""
    from huggingface_hub import hf_hub_download

    cached = runpod_cached(repo_id, filename)
    if cached is not None:
        return cached
    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename))
    except Exception as e:  # offline, not cached, repo or file missing, network down: all end the same way
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        why = "offline mode is on (HF_HUB_OFFLINE=1)" if offline else f"the download failed ({type(e).__name__})"
        where, fix = f"the Hugging Face cache at {hub_cache_dir()}", FIX_DOWNLOAD.format(var=var)
        if RUNPOD_HF_CACHE.is_dir():
            where, fix = f"{where} nor in RunPod's model cache at {RUNPOD_HF_CACHE}", fix + FIX_RUNPOD
        raise ModelUnavailable(f"The {what} hf://{repo_id}/{filename} is not in {where}, and {why}.", fix) from e


def resolve_file(spec: str, what: str, var: str) -> Path:
    """A local path, or an hf:// URL resolved through the cache."""
    if spec.startswith("hf://"):
        repo_id, filename = split_hf_url(spec)
        return hf_file(repo_id, filename, what, var)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ModelUnavailable(f"The {what} file {path} does not exist.", f"Check {var}, or unset it for the default.")
    return path


def model_config(name_or_path: str) -> dict:
    """The `model:` section of a config shipped with f5-tts (by name) or of a YAML file in the same format."""
    shipped = files("f5_tts").joinpath("configs")
    path = Path(name_or_path).expanduser()
    if not (name_or_path.endswith((".yaml", ".yml")) or path.is_file()):
        path = Path(str(shipped.joinpath(f"{name_or_path}.yaml")))
    if not path.is_file():
        names = sorted(p.name.removesuffix(".yaml") for p in Path(str(shipped)).glob("*.yaml"))
        raise ModelUnavailable(
            f"Unknown model config {name_or_path!r}.", f"Set F5_MODEL to one of {', '.join(names)} or a YAML path."
        )
    try:
        model = yaml.safe_load(path.read_text())["model"]
        model["arch"], model["backbone"]  # noqa: B018 - both are required
    except Exception as e:
        raise ModelUnavailable(f"The model config {path} is not an f5-tts model YAML.", "Compare it with "
                               "f5_tts/configs/F5TTS_v1_Base.yaml (model.backbone, model.arch, model.mel_spec).") from e
    return model


def resolve_vocoder(spec: str) -> tuple[Path, Path]:
    """config.yaml and pytorch_model.bin of a Vocos: a local folder or hf://owner/repo."""
    if spec.startswith("hf://"):
        repo_id, _ = split_hf_url(spec)
        return (
            hf_file(repo_id, "config.yaml", "vocoder config", "F5_VOCODER"),
            hf_file(repo_id, "pytorch_model.bin", "vocoder weights", "F5_VOCODER"),
        )
    folder = Path(spec).expanduser()
    found = [folder / "config.yaml", folder / "pytorch_model.bin"]
    missing = [p.name for p in found if not p.is_file()]
    if missing:
        raise ModelUnavailable(
            f"The vocoder folder {folder} lacks {' and '.join(missing)}.",
            "F5_VOCODER must be a Vocos folder holding config.yaml and pytorch_model.bin "
            "(as charactr/vocos-mel-24khz).",
        )
    return found[0], found[1]


def resolve(settings: Settings) -> ModelFiles:
    """Everything the engine needs, resolved (and downloaded when online) before any model code runs."""
    config = model_config(settings.model)
    ckpt = resolve_file(settings.ckpt, "F5-TTS checkpoint", "F5_CKPT")
    try:
        vocab = resolve_file(settings.vocab, "vocab", "F5_VOCAB")
    except ModelUnavailable:
        if settings.vocab != DEFAULT_VOCAB:
            raise
        vocab = Path(str(files("f5_tts").joinpath("infer/examples/vocab.txt")))  # the same vocab, shipped
    vocoder_config, vocoder_weights = resolve_vocoder(settings.vocoder)
    return ModelFiles(config, ckpt, vocab, vocoder_config, vocoder_weights)
