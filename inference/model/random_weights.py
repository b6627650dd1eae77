"""Random-weight F5-TTS and Vocos, built from the real classes and written in the layouts production reads.

Tiny (dim 64, depth 2) for tests; full size (F5TTS_v1_Base dims, 337 M params) for benchmarks and the container
tests. Shared by tests/ and bench/ (neither imports the other).
"""

from __future__ import annotations

import hashlib
import shutil
from importlib.resources import files
from pathlib import Path

import yaml

from ..audio import SAMPLE_RATE
from ..settings import DEFAULT_CKPT, DEFAULT_VOCAB, DEFAULT_VOCODER
from .mel import HOP_LENGTH, MEL_SPEC, N_FFT, N_MELS
from .weights import split_hf_url

TINY_ARCH = dict(
    dim=64,
    depth=2,
    heads=2,
    dim_head=32,
    ff_mult=2,
    text_dim=32,
    text_mask_padding=True,
    qk_norm=None,
    conv_layers=1,
    pe_attn_head=None,
    attn_backend="torch",
    attn_mask_enabled=False,
    checkpoint_activations=False,
)
TINY_VOCOS = dict(dim=32, intermediate_dim=64, num_layers=1)
FULL_VOCOS = dict(dim=512, intermediate_dim=1536, num_layers=8)
F5_REPO, F5_CKPT = split_hf_url(DEFAULT_CKPT)  # where the default model's files are, in its hub repo
F5_VOCAB = split_hf_url(DEFAULT_VOCAB)[1]
VOCOS_REPO = split_hf_url(DEFAULT_VOCODER)[0]


def vocab_path() -> Path:
    return Path(str(files("f5_tts").joinpath("infer/examples/vocab.txt")))


def model_yaml(arch: dict | None, name: str) -> dict:
    """The shipped F5TTS_v1_Base config, with `arch` swapped in (None keeps the real one)."""
    cfg = yaml.safe_load(Path(str(files("f5_tts").joinpath("configs/F5TTS_v1_Base.yaml"))).read_text())
    model = cfg["model"]
    model["name"] = name
    if arch is not None:
        model["arch"] = dict(arch)
    return {"model": model}


def vocos_config(dims: dict) -> dict:
    return {
        "feature_extractor": {
            "class_path": "vocos.feature_extractors.MelSpectrogramFeatures",
            "init_args": {
                "sample_rate": SAMPLE_RATE,
                "n_fft": N_FFT,
                "hop_length": HOP_LENGTH,
                "n_mels": N_MELS,
                "padding": "center",
            },
        },
        "backbone": {
            "class_path": "vocos.models.VocosBackbone",
            "init_args": {
                "input_channels": N_MELS,
                "dim": dims["dim"],
                "intermediate_dim": dims["intermediate_dim"],
                "num_layers": dims["num_layers"],
            },
        },
        "head": {
            "class_path": "vocos.heads.ISTFTHead",
            "init_args": {"dim": dims["dim"], "n_fft": N_FFT, "hop_length": HOP_LENGTH, "padding": "center"},
        },
    }


def write_checkpoint(path: Path, arch: dict, seed: int = 0) -> None:
    """A released-style EMA safetensors: keys `ema_model.<name>` plus `initted` and `step`."""
    import torch
    from safetensors.torch import save_file

    from .loader import import_model_code

    package = import_model_code()
    from f5_tts.model.utils import get_tokenizer

    _, vocab_size = get_tokenizer(str(vocab_path()), "custom")
    torch.manual_seed(seed)
    model = package.CFM(
        transformer=package.DiT(**arch, text_num_embeds=vocab_size, mel_dim=N_MELS),
        mel_spec_kwargs=dict(MEL_SPEC),
    )
    with torch.no_grad():
        for p in model.parameters():  # DiT zero-initialises its output layers; make every weight matter
            p.copy_(torch.randn_like(p) * 0.02 + (1.0 if p.ndim == 1 and "norm" in str(p.shape) else 0.0))
    state = {f"ema_model.{k}": v.contiguous() for k, v in model.state_dict().items()}
    state["initted"] = torch.tensor(True)
    state["step"] = torch.tensor(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path))


def write_vocos(folder: Path, dims: dict, seed: int = 0) -> None:
    import torch
    from vocos import Vocos

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(vocos_config(dims)))
    torch.manual_seed(seed)
    vocos = Vocos.from_hparams(str(folder / "config.yaml"))
    torch.save(vocos.state_dict(), folder / "pytorch_model.bin")


def hub_snapshot(hf_home: Path, repo_id: str) -> Path:
    """Create the cache folders for a model repo and return its snapshot dir (refs/main points at it)."""
    repo_dir = Path(hf_home) / "hub" / f"models--{repo_id.replace('/', '--')}"
    commit = hashlib.sha1(repo_id.encode()).hexdigest()
    (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
    (repo_dir / "refs" / "main").write_text(commit)
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    return snapshot


def build(root: Path, arch: dict | None = None, vocos_dims: dict | None = None) -> dict[str, Path]:
    """Write a random model in both layouts under `root`; returns the paths a test or bench needs.

    root/custom/{model.yaml, model.safetensors, vocab.txt, vocos/}  - explicit paths (F5_MODEL, F5_CKPT, ...)
    root/hf/hub/models--SWivid--F5-TTS/...                           - HF cache (HF_HOME=root/hf)
    root/hf/hub/models--charactr--vocos-mel-24khz/...
    """
    arch = TINY_ARCH if arch is None else arch
    vocos_dims = TINY_VOCOS if vocos_dims is None else vocos_dims
    custom = Path(root) / "custom"
    custom.mkdir(parents=True, exist_ok=True)
    (custom / "model.yaml").write_text(yaml.safe_dump(model_yaml(arch, "random")))
    shutil.copy(vocab_path(), custom / "vocab.txt")
    write_checkpoint(custom / "model.safetensors", arch)
    write_vocos(custom / "vocos", vocos_dims)
    hf_home = Path(root) / "hf"
    f5 = hub_snapshot(hf_home, F5_REPO)
    (f5 / F5_CKPT).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(custom / "model.safetensors", f5 / F5_CKPT)
    shutil.copy(custom / "vocab.txt", f5 / F5_VOCAB)
    vocos = hub_snapshot(hf_home, VOCOS_REPO)
    for name in ("config.yaml", "pytorch_model.bin"):
        shutil.copy(custom / "vocos" / name, vocos / name)
    return {
        "root": Path(root),
        "hf_home": hf_home,
        "yaml": custom / "model.yaml",
        "ckpt": custom / "model.safetensors",
        "vocab": custom / "vocab.txt",
        "vocoder": custom / "vocos",
    }
