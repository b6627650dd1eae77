"""Build F5-TTS (CFM + backbone) and Vocos from resolved files, fast and without copying weights twice.

- Model code is imported here, at load time, never at module import (see `import_model_code`).
- Modules are built with weight initialisation switched off (the checkpoint overwrites every weight anyway),
  then the checkpoint is memory-mapped and assigned in place: no random init, no second copy in RAM.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import mmap
import os
import struct
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ModelUnavailable
from .mel import MEL_SPEC
from .weights import ModelFiles

MEL_KEYS_DROPPED = ("mel_spec.mel_stft.mel_scale.fb", "mel_spec.mel_stft.spectrogram.window")  # old releases
_INIT_FUNCS = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "xavier_uniform_",
    "xavier_normal_",
    "constant_",
    "zeros_",
    "ones_",
    "orthogonal_",
)
_ST_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}


def import_model_code() -> types.ModuleType:
    """Import f5_tts's model modules without running `f5_tts.model/__init__`, which imports the trainer
    (wandb, datasets, accelerate: seconds and hundreds of MB that inference never uses).

    If the package was already imported normally, that one is used as it is.
    """
    name = "f5_tts.model"
    if name not in sys.modules:
        spec = importlib.util.find_spec("f5_tts")
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(
                "The f5-tts package is not installed.", "Run `make install` (pip install -r requirements.txt)."
            )
        package = types.ModuleType(name)
        package.__path__ = [os.path.join(next(iter(spec.submodule_search_locations)), "model")]
        package.__package__ = name
        sys.modules[name] = package
    package = sys.modules[name]
    from f5_tts.model import backbones  # noqa: F401  (registers the subpackage)
    from f5_tts.model.backbones.dit import DiT
    from f5_tts.model.backbones.mmdit import MMDiT
    from f5_tts.model.backbones.unett import UNetT
    from f5_tts.model.cfm import CFM

    for cls in (CFM, DiT, MMDiT, UNetT):  # what `from f5_tts.model import CFM` expects, if someone does it later
        setattr(package, cls.__name__, cls)
    return package


@contextlib.contextmanager
def no_weight_init() -> Iterator[None]:
    """Make torch.nn.init a no-op while modules are built: their weights are about to be replaced."""
    import torch.nn.init as init

    saved = {name: getattr(init, name) for name in _INIT_FUNCS}
    for name in _INIT_FUNCS:
        setattr(init, name, lambda tensor, *args, **kwargs: tensor)
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(init, name, fn)


def read_safetensors(path: Path, mmap_file: bool = True) -> dict[str, Any]:
    """Memory-map a .safetensors file: tensors share pages with the file (copy-on-write), nothing is read yet.
    `mmap_file=False` reads it into memory instead (F5_MMAP=0)."""
    import torch

    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError("file shorter than its header")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > min(size - 8, 100_000_000):
            raise ValueError("header length beyond the end of the file")
        header = json.loads(f.read(header_len))
        if not mmap_file:
            buffer: Any = bytearray(f.read())
            base = 0
        else:
            buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
            base = 8 + header_len
    data = torch.frombuffer(buffer, dtype=torch.uint8)
    tensors = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if base + end > len(data) or start > end:
            raise ValueError(f"tensor {key} lies beyond the end of the file (truncated download?)")
        dtype = getattr(torch, _ST_DTYPES[info["dtype"]])
        tensors[key] = data[base + start : base + end].view(dtype).reshape(info["shape"])
    return tensors


def read_checkpoint(path: Path, mmap_file: bool = True) -> dict[str, Any]:
    """State dict of an F5-TTS checkpoint (.safetensors or .pt), EMA keys as released -> model keys."""
    import torch

    try:
        if path.suffix == ".safetensors":
            raw = read_safetensors(path, mmap_file)
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            raw = raw.get("ema_model_state_dict", raw.get("model_state_dict", raw))
    except Exception as e:
        raise ModelUnavailable(
            f"The checkpoint {path} is corrupt or incomplete ({e}).",
            "Delete it and download it again (`python app.py download`), or point F5_CKPT at a good copy.",
        ) from e
    state = {k.removeprefix("ema_model."): v for k, v in raw.items() if k not in ("initted", "step")}
    for key in MEL_KEYS_DROPPED:
        state.pop(key, None)
    return state


def load_tts(files: ModelFiles, device: str, dtype: Any, mmap: bool = True) -> Any:
    """CFM with its backbone, weights from the checkpoint, eval mode, on `device` in `dtype`."""
    package = import_model_code()
    from f5_tts.model.utils import get_tokenizer

    cfg = files.config
    vocab_char_map, vocab_size = get_tokenizer(str(files.vocab), "custom")
    mel = cfg.get("mel_spec", {})
    backbone = getattr(package, cfg["backbone"], None)
    if backbone is None:
        raise ModelUnavailable(f"Unknown backbone {cfg['backbone']!r} in the model config.", "Use DiT, UNetT or MMDiT.")
    mel_kwargs = {k: mel.get(k, v) for k, v in MEL_SPEC.items()}
    with no_weight_init():
        model = package.CFM(
            transformer=backbone(**cfg["arch"], text_num_embeds=vocab_size, mel_dim=mel_kwargs["n_mel_channels"]),
            mel_spec_kwargs=mel_kwargs,
            odeint_kwargs=dict(method="euler"),
            vocab_char_map=vocab_char_map,
        )
    state = read_checkpoint(files.ckpt, mmap)
    try:
        model.load_state_dict(state, strict=True, assign=True)
    except RuntimeError as e:
        raise ModelUnavailable(
            f"The checkpoint {files.ckpt} does not fit the model config {cfg.get('name', '?')} ({str(e)[:300]}).",
            "F5_MODEL, F5_CKPT and F5_VOCAB must belong together: use the config and vocab the checkpoint was "
            "trained with.",
        ) from e
    return model.to(device=device, dtype=dtype).eval().requires_grad_(False)


def load_vocoder(files: ModelFiles, device: str) -> Any:
    """Vocos from its config.yaml and pytorch_model.bin (fp32, as F5-TTS uses it)."""
    import torch
    from vocos import Vocos
    from vocos.feature_extractors import EncodecFeatures

    try:
        with no_weight_init():
            vocoder = Vocos.from_hparams(str(files.vocoder_config))
        state = torch.load(files.vocoder_weights, map_location="cpu", weights_only=True, mmap=True)
        if isinstance(vocoder.feature_extractor, EncodecFeatures):
            encodec = vocoder.feature_extractor.encodec.state_dict()
            state.update({f"feature_extractor.encodec.{k}": v for k, v in encodec.items()})
        vocoder.load_state_dict(state, strict=True, assign=True)
    except Exception as e:
        raise ModelUnavailable(
            f"The vocoder at {files.vocoder_weights.parent} could not be loaded ({str(e)[:300]}).",
            "Delete it and download again (`python app.py download`), or set F5_VOCODER to a good Vocos folder.",
        ) from e
    return vocoder.to(device).eval().requires_grad_(False)
