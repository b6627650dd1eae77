"""Full-size random weights for the benchmark: F5TTS_v1_Base (337 M params) and a full-size Vocos, laid out as the
Hugging Face cache the default settings resolve (SWivid/F5-TTS, charactr/vocos-mel-24khz), under bench/.cache/.

Built once (a few minutes on 2 cores) and reused; rebuilt only when a file is missing.

Note: `inference.model.random_weights.build(root, arch=None)` swaps in the *tiny* arch for None (only
`model_yaml(None, ...)` keeps the real one), so the real F5TTS_v1_Base arch is read from f5_tts's config and passed
explicitly.
"""

from __future__ import annotations

import os
import sys
import time
from importlib.resources import files
from pathlib import Path

import yaml

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CACHE = Path(os.environ.get("BENCH_CACHE", BENCH_DIR / ".cache"))
HF_HOME = CACHE / "hf"
STAMP = CACHE / ".complete"


def real_arch() -> dict:
    cfg = yaml.safe_load(Path(str(files("f5_tts").joinpath("configs/F5TTS_v1_Base.yaml"))).read_text())
    return dict(cfg["model"]["arch"])


def paths() -> dict[str, Path]:
    from inference.model.random_weights import F5_CKPT, F5_REPO, F5_VOCAB, VOCOS_REPO, hub_snapshot  # noqa: F401

    custom = CACHE / "custom"
    return {
        "root": CACHE,
        "hf_home": HF_HOME,
        "yaml": custom / "model.yaml",
        "ckpt": custom / "model.safetensors",
        "vocab": custom / "vocab.txt",
        "vocoder": custom / "vocos",
    }


def hub_files() -> list[Path]:
    """The files the default settings resolve in the HF cache (what both pipelines read)."""
    from inference.model.random_weights import F5_CKPT, F5_REPO, F5_VOCAB, VOCOS_REPO, hub_snapshot

    f5 = hub_snapshot(HF_HOME, F5_REPO)
    vocos = hub_snapshot(HF_HOME, VOCOS_REPO)
    return [f5 / F5_CKPT, f5 / F5_VOCAB, vocos / "config.yaml", vocos / "pytorch_model.bin"]


def ensure(log=print) -> dict[str, Path]:
    """Build the weights if any file is missing; returns the paths (see inference.model.random_weights.build)."""
    if sys.path[0] != str(REPO):
        sys.path.insert(0, str(REPO))
    p = paths()
    needed = [p["ckpt"], p["vocab"], p["vocoder"] / "config.yaml", p["vocoder"] / "pytorch_model.bin"]
    if STAMP.is_file() and all(f.is_file() for f in needed + hub_files()):
        return p
    from inference.model.random_weights import FULL_VOCOS, build

    log(f"building full-size random F5TTS_v1_Base + Vocos under {CACHE} (once; a few minutes)...")
    start = time.perf_counter()
    STAMP.unlink(missing_ok=True)
    built = build(CACHE, arch=real_arch(), vocos_dims=FULL_VOCOS)
    STAMP.write_text("ok\n")
    log(f"built in {time.perf_counter() - start:.0f} s: {built['ckpt']} ({built['ckpt'].stat().st_size / 1e9:.2f} GB)")
    return built


def ckpt_bytes() -> int:
    return hub_files()[0].stat().st_size


def param_count() -> int:
    """Parameters in the checkpoint (from the safetensors header, nothing loaded)."""
    import json
    import struct

    with open(hub_files()[0], "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    total = 0
    for key, info in header.items():
        if key == "__metadata__" or key in ("initted", "step"):
            continue
        count = 1
        for d in info["shape"]:
            count *= d
        total += count
    return total


if __name__ == "__main__":
    ensure()
    print(param_count(), ckpt_bytes())
