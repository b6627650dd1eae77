"""Find the files a model needs: config, checkpoint, vocab, vocoder. Local paths or hf://owner/repo/path URLs.

Hub files resolve through the standard Hugging Face cache under HF_HOME, so HF_HUB_OFFLINE=1 works once they are
cached. Every failure is a ModelUnavailable that says what was missing, where we looked and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import yaml

from ..errors import ModelUnavailable
from ..settings import DEFAULT_VOCAB, EngineSettings

FIX_DOWNLOAD = "Run `python app.py download` while online (or generate once online), or point {var} at a local file."


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


def hf_file(repo_id: str, filename: str, what: str, var: str) -> Path:
    """Download (or find in the cache) one file of a hub repo."""
    from huggingface_hub import constants, hf_hub_download

    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename))
    except Exception as e:  # offline, not cached, repo or file missing, network down: all end the same way
        offline = constants.HF_HUB_OFFLINE
        why = "offline mode is on (HF_HUB_OFFLINE=1)" if offline else f"the download failed ({type(e).__name__})"
        raise ModelUnavailable(
            f"The {what} hf://{repo_id}/{filename} is not in the Hugging Face cache at {hub_cache_dir()}, and {why}.",
            FIX_DOWNLOAD.format(var=var),
        ) from e


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
