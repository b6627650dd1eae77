"""Find the files a model needs: config, checkpoint, vocab, vocoder. Local paths or hf://owner/repo/path URLs.

Hub files resolve through the standard Hugging Face cache under HF_HOME, so HF_HUB_OFFLINE=1 works once they are
cached. Before that, RunPod's model cache is consulted: an endpoint with a cached model gets that hub repo at
RUNPOD_HF_CACHE, and a file found there is used as it is, with no download. Every failure is a ModelUnavailable that
says what was missing, where we looked and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import yaml

from ..errors import ModelUnavailable
from ..settings import DEFAULT_VOCAB, EngineSettings
from . import hub

FIX_DOWNLOAD = "Run `python app.py download` while online (or generate once online), or point {var} at a local file."
# Where RunPod's "cached models" feature puts the hub repo an endpoint caches (a Hugging Face hub cache layout:
# models--{org}--{name}/snapshots/{commit}/...). RunPod caches one repo per endpoint and expects offline mode.
RUNPOD_HF_CACHE = Path("/runpod-volume/huggingface-cache/hub")
FIX_RUNPOD = (
    " RunPod caches one model per endpoint: put the others on the network volume (`python app.py download` "
    "with HF_HOME=/runpod-volume/hf) or into the image (build it with BAKE_WEIGHTS=1)."
)


@dataclass(frozen=True)
class ModelFiles:
    config: dict  # the `model:` section of an f5-tts YAML (backbone, arch, mel_spec)
    ckpt: Path
    vocab: Path
    vocoder_config: Path
    vocoder_weights: Path


@dataclass(frozen=True)
class WeightFile:
    """One file a model needs: what it is (for messages), where (a local path or hf://owner/repo/path), and the
    setting that points at it."""

    what: str
    spec: str
    var: str

    @property
    def on_hub(self) -> bool:
        return self.spec.startswith("hf://")


def weight_files(settings: EngineSettings) -> list[WeightFile]:
    """The files the settings point at: checkpoint, vocab, and the vocoder's config and weights. The one list that
    both loading (resolve) and `python app.py download` use."""
    files = [WeightFile("F5-TTS checkpoint", settings.ckpt, "F5_CKPT"), WeightFile("vocab", settings.vocab, "F5_VOCAB")]
    if settings.vocoder.startswith("hf://"):
        repo, _ = split_hf_url(settings.vocoder)
        folder = f"hf://{repo}"
    else:
        folder = str(Path(settings.vocoder).expanduser())
    files += [
        WeightFile("vocoder config", f"{folder}/config.yaml", "F5_VOCODER"),
        WeightFile("vocoder weights", f"{folder}/pytorch_model.bin", "F5_VOCODER"),
    ]
    return files


def hub_cache_dir() -> str:
    """The hub cache folder huggingface_hub and transformers read (HF_HUB_CACHE, by default <HF_HOME>/hub)."""
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
        return Path(
            hf_hub_download(repo_id=repo_id, filename=filename, cache_dir=RUNPOD_HF_CACHE, local_files_only=True)
        )
    except Exception:  # no refs/main, or not this file: look in the snapshots themselves
        found = [p for p in (repo_dir / "snapshots").glob(f"*/{filename}") if p.is_file()]  # is_file: no dangling link
        return max(found, key=lambda p: p.parent.stat().st_mtime, default=None)


def hf_file(repo_id: str, filename: str, what: str, var: str) -> Path:
    """Find one file of a hub repo in RunPod's model cache or the HF cache, or download it into the HF cache."""
    from huggingface_hub import constants, hf_hub_download

    cached = runpod_cached(repo_id, filename)
    if cached is not None:
        return cached
    online = hub.reachable()  # a quick probe: without network, fail now rather than after the hub client's retries
    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename, local_files_only=not online))
    except Exception as e:  # offline, not cached, repo or file missing, network down: all end the same way
        if not online:
            raise hub.unreachable_error(f"the {what} hf://{repo_id}/{filename}") from e
        offline = constants.HF_HUB_OFFLINE
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
        model["arch"], model["backbone"]
    except Exception as e:
        raise ModelUnavailable(
            f"The model config {path} is not an f5-tts model YAML.",
            "Compare it with f5_tts/configs/F5TTS_v1_Base.yaml (model.backbone, model.arch, model.mel_spec).",
        ) from e
    return model


def resolve(settings: EngineSettings) -> ModelFiles:
    """Everything the engine needs, resolved (and downloaded when online) before any model code runs."""
    config = model_config(settings.model)
    ckpt, vocab, vocoder_config, vocoder_weights = weight_files(settings)
    ckpt_path = resolve_file(ckpt.spec, ckpt.what, ckpt.var)
    try:
        vocab_path = resolve_file(vocab.spec, vocab.what, vocab.var)
    except ModelUnavailable:
        if settings.vocab != DEFAULT_VOCAB:
            raise
        vocab_path = Path(str(files("f5_tts").joinpath("infer/examples/vocab.txt")))  # the same vocab, shipped
    vocoder = (vocoder_config, vocoder_weights)
    missing = [Path(f.spec).name for f in vocoder if not f.on_hub and not Path(f.spec).is_file()]
    if missing:
        raise ModelUnavailable(
            f"The vocoder folder {Path(vocoder_config.spec).parent} lacks {' and '.join(missing)}.",
            "F5_VOCODER must be a Vocos folder holding config.yaml and pytorch_model.bin "
            "(as charactr/vocos-mel-24khz).",
        )
    config_path, weights_path = (resolve_file(f.spec, f.what, f.var) for f in vocoder)
    return ModelFiles(config, ckpt_path, vocab_path, config_path, weights_path)
