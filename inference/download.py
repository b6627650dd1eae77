"""`python app.py download`: fetch every weight the app can use into HF_HOME, resumably, and verify it.

Hub downloads skip what is already cached and show progress bars; a transfer cut mid-way is resumed (Range request)
within the run, while a run that fails keeps its finished files, not its partial one (huggingface_hub >= 1.x deletes
it). Each file is then checked (safetensors header and sizes, torch archives readable); a corrupt cached file is
fetched again once. Once the hub proves unreachable, the remaining hub files are skipped rather than each retried.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from .errors import ModelUnavailable
from .settings import Settings
from .weights import split_hf_url

ASR_PATTERNS = ["*.json", "*.txt", "*.safetensors"]  # Whisper: config, tokenizer, weights (no duplicate .bin)


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


def planned_files(settings: Settings) -> list[tuple[str, str, str]]:
    """(what, repo_id, filename) for every hub file the settings point at; local paths are only verified."""
    plan = []
    for what, spec in (("F5-TTS checkpoint", settings.ckpt), ("vocab", settings.vocab)):
        if spec.startswith("hf://"):
            plan.append((what, *split_hf_url(spec)))
    if settings.vocoder.startswith("hf://"):
        repo, _ = split_hf_url(settings.vocoder)
        plan += [("vocoder config", repo, "config.yaml"), ("vocoder weights", repo, "pytorch_model.bin")]
    return plan


def fetch(repo_id: str, filename: str) -> Path:
    from huggingface_hub import hf_hub_download

    path = Path(hf_hub_download(repo_id=repo_id, filename=filename))
    try:
        verify(path)
    except Exception:
        path = Path(hf_hub_download(repo_id=repo_id, filename=filename, force_download=True))
        verify(path)
    return path


def fetch_asr(model: str) -> Path:
    from huggingface_hub import snapshot_download

    if Path(model).expanduser().is_dir():
        folder = Path(model).expanduser()
        for file in folder.glob("*.safetensors"):
            verify(file)
    else:
        folder = Path(snapshot_download(repo_id=model, allow_patterns=ASR_PATTERNS))
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


def download_all(settings: Settings, asr: bool = True, say: Callable[[str], None] = print) -> int:
    """Fetch and verify; returns a process exit code (0 when everything is present and sound)."""
    from huggingface_hub import constants

    say(f"Hugging Face cache: {constants.HF_HUB_CACHE}")
    failures = []
    jobs: list[tuple[str, Callable[[], Path], bool]] = [  # (label, job, uses the hub)
        (f"{what} (hf://{repo}/{name})", lambda repo=repo, name=name: fetch(repo, name), True)
        for what, repo, name in planned_files(settings)
    ]
    for what, spec in (("F5-TTS checkpoint", settings.ckpt), ("vocab", settings.vocab)):
        if not spec.startswith("hf://"):
            jobs.append((f"{what} ({spec})", lambda spec=spec: (verify(Path(spec)), Path(spec))[1], False))
    if asr:
        jobs.append((f"Whisper ({settings.asr_model})", lambda: fetch_asr(settings.asr_model),
                     not Path(settings.asr_model).expanduser().is_dir()))
    hub_down = False
    for label, job, on_hub in jobs:
        say(f"- {label} ...")
        if hub_down and on_hub:  # each try would wait through huggingface_hub's retries (~25 s) for nothing
            failures.append(label)
            say("  skipped: the hub cannot be reached")
            continue
        try:
            path = job()
        except Exception as e:
            failures.append(label)
            say(f"  FAILED: {type(e).__name__}: {str(e)[:300]}")
            if on_hub and unreachable(e):
                hub_down = True
                say(f"  The hub at {constants.ENDPOINT} cannot be reached: the other hub files are skipped.")
            continue
        say(f"  ok: {path}")
    if failures:
        say(f"{len(failures)} of {len(jobs)} failed. Check the network (or HF_ENDPOINT / HF_TOKEN) and run "
            "`python app.py download` again: finished files are kept.")
        return 1
    say(f"All {len(jobs)} present and verified.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    try:
        sys.exit(download_all(Settings.from_env()))
    except ModelUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
