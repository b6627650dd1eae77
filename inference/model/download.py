"""Fetch every weight the app can use into HF_HOME, resumably, and verify it (`python app.py download` prints it).

Hub downloads skip what is already cached and show progress bars; a transfer cut mid-way is resumed (Range request)
within the run, while a run that fails keeps its finished files, not its partial one (huggingface_hub >= 1.x deletes
it). Each file is then checked (safetensors header and sizes, torch archives readable); a corrupt cached file is
fetched again once. Once the hub proves unreachable, the remaining hub files are skipped rather than each retried.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from ..settings import EngineSettings
from .weights import split_hf_url, weight_files

ASR_PATTERNS = ["*.json", "*.txt", "*.safetensors"]  # Whisper: config, tokenizer, weights (no duplicate .bin)
# Whisper in CTranslate2 format (F5_ASR_BACKEND=ctranslate2): config, tokenizer, vocabulary, and its one model.bin
CT2_PATTERNS = ["*.json", "*.txt", "model.bin"]


def verify(path: Path) -> None:
    """Raise ValueError when a weight file is truncated or unreadable."""
    if not path.is_file() or path.stat().st_size == 0:
        raise ValueError(f"{path} is missing or empty")
    if path.suffix == ".safetensors":
        from .loader import read_safetensors

        read_safetensors(path)
    elif path.suffix in (".bin", ".pt", ".pth"):
        import torch

        torch.load(path, map_location="cpu", weights_only=True, mmap=True)


def jobs(settings: EngineSettings, asr: bool = True) -> list[tuple[str, Callable[[], Path], bool]]:
    """(label, fetch-and-verify, uses the hub) for every file the settings point at (model/weights.weight_files),
    and Whisper: hub files are fetched into the cache, local ones only verified."""
    out: list[tuple[str, Callable[[], Path], bool]] = []
    for f in weight_files(settings):
        if f.on_hub:
            out.append((f"{f.what} ({f.spec})", functools.partial(fetch, *split_hf_url(f.spec)), True))
        else:
            out.append((f"{f.what} ({f.spec})", functools.partial(verified, Path(f.spec)), False))
    if asr:
        model, ct2 = settings.asr_weights, settings.asr_backend == "ctranslate2"
        local = Path(model).expanduser().is_dir()
        out.append((f"Whisper ({model})", functools.partial(fetch_asr, model, ct2), not local))
    return out


def verified(path: Path) -> Path:
    verify(path)
    return path


def fetch(repo_id: str, filename: str) -> Path:
    from huggingface_hub import hf_hub_download

    path = Path(hf_hub_download(repo_id=repo_id, filename=filename))
    try:
        verify(path)
    except Exception:
        path = Path(hf_hub_download(repo_id=repo_id, filename=filename, force_download=True))
        verify(path)
    return path


def fetch_asr(model: str, ct2: bool = False) -> Path:
    from huggingface_hub import snapshot_download

    if Path(model).expanduser().is_dir():
        folder = Path(model).expanduser()
        for file in folder.glob("*.safetensors"):
            verify(file)
    else:
        folder = Path(snapshot_download(repo_id=model, allow_patterns=CT2_PATTERNS if ct2 else ASR_PATTERNS))
        for file in folder.glob("*.safetensors"):
            try:
                verify(file)
            except Exception:  # corrupt in the cache: fetch that file again, once (folder.name is the commit)
                from huggingface_hub import hf_hub_download

                hf_hub_download(repo_id=model, filename=file.name, revision=folder.name, force_download=True)
                verify(file)
    if not (folder / "config.json").is_file():
        raise ValueError(f"{folder} has no config.json")
    return folder


def unreachable(error: BaseException | None) -> bool:
    """True when the error comes from not reaching the hub at all (no network, wrong HF_ENDPOINT, host down)."""
    import httpx

    for _ in range(10):  # the connection error is a few causes down
        if error is None:
            return False
        if isinstance(error, (httpx.ConnectError, httpx.ConnectTimeout)):
            return True
        error = error.__cause__ or error.__context__
    return False
