"""The compiled transformer: compiled once per volume, in the background, while the eager model serves.

With F5_COMPILE on, the engine loads the model eager and serves at once; `Compilation.start` compiles a copy of the
transformer (torch.compile, dynamic shapes) on a thread of its own, warms it up, then swaps it in. The copy shares
the weights (a shallow copy: only the per-run text cache is its own), so the warm-up never touches the eager
module's state while the scheduler steps runs on it. A failed compilation leaves the eager model and says why.

The compile cache lives on the volume (settings.compile_folder, beside VOICES_DIR), one folder per key:

    <compile_folder>/<key>/inductor/       Inductor's own caches (TORCHINDUCTOR_CACHE_DIR: FX graphs, kernels)
    <compile_folder>/<key>/artifacts.bin   torch.compiler.save_cache_artifacts(), written atomically

`key` digests what changes the compiled graphs: the device (GPU name and capability, or "cpu"), torch's version,
the checkpoint (path, size, mtime), the dtype and whether chunks are batched. A corrupt or foreign artifacts file is
ignored with a log line; a later start that finds the cache compiles nothing (Inductor's graphs all hit).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..metrics import COMPILE_STATES
from .runtime import Models, warm_up

log = logging.getLogger(__name__)

OFF, COMPILING, COMPILED, FAILED = COMPILE_STATES
ARTIFACTS = "artifacts.bin"


def device_name(device: str) -> str:
    """'cpu', or the GPU's name and compute capability: 'NVIDIA H200 sm90'."""
    import torch

    if not device.startswith("cuda"):
        return "cpu"
    major, minor = torch.cuda.get_device_capability(device)
    return f"{torch.cuda.get_device_name(device)} sm{major}{minor}"


def cache_key(device: str, dtype: Any, ckpt: Path, batched: bool, mode: str = "default") -> str:
    """A short digest of what the compiled graphs depend on; a different GPU, torch, checkpoint, dtype, batching or
    compile mode gets a folder of its own."""
    import torch

    stat = ckpt.stat()
    parts = [device_name(device), torch.__version__, ckpt.resolve(), stat.st_size, int(stat.st_mtime), dtype, batched]
    parts += [] if mode == "default" else [mode]  # the default's folders stay where they were
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:16]


def compile_transformer(dit: Any, batched: bool, mode: str = "default") -> Any:
    """torch.compile a shallow copy of `dit` (the weights shared, the per-run text cache its own), with dynamic
    shapes. Where chunks are batched, the text embedding is computed first, eager, from the host side (text_first):
    f5_tts's embedding of a batch reads its lengths with `.item()`, which would break the graph."""
    import torch

    compiled = torch.compile(copy.copy(dit), dynamic=True, mode=mode)
    return text_first(compiled) if batched else compiled


def text_first(compiled: Any) -> Any:
    """A compiled DiT whose per-run text embeddings are computed before the compiled call, eager, when a batch
    has a mask (its items' lengths, `mask.sum(1)`, are read on the host). The compiled graph then always finds the
    cache filled and never reaches the `.item()` in f5_tts's TextEmbedding. The embeddings are the ones f5_tts's
    DiT.get_input_embed computes (the same call), so the output is unchanged."""
    import torch

    class TextFirst(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.compiled = compiled
            self._orig_mod = compiled._orig_mod  # the module (sampling keeps each run's text cache on it)

        def forward(self, *, x: Any, text: Any, mask: Any = None, cache: bool = False, **kwargs: Any) -> Any:
            dit = self._orig_mod
            if cache and mask is not None and (dit.text_cond is None or dit.text_uncond is None):
                lengths = mask.sum(dim=1)
                dit.text_cond = dit.text_embed(text, seq_len=lengths, drop_text=False)
                dit.text_uncond = dit.text_embed(text, seq_len=lengths, drop_text=True)
            return self.compiled(x=x, text=text, mask=mask, cache=cache, **kwargs)

    return TextFirst()


def inductor_dir(folder: Path) -> str:
    """TORCHINDUCTOR_CACHE_DIR where the operator chose one, else `folder`/inductor on the volume. Torch writes its
    own default (/tmp/torchinductor_<user>) into the environment once used, so that value counts as unset."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    chosen = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    return chosen if chosen not in (None, default_cache_dir()) else str(folder / "inductor")


class _WithTransformer:
    """The loaded CFM as sampling reads it, with another transformer in place (for the warm-up of the copy)."""

    def __init__(self, tts: Any, transformer: Any) -> None:
        self._tts, self.transformer = tts, transformer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tts, name)


class Compilation:
    """One background compilation of `models`' transformer, cached under `folder` (None: no cache of ours).
    `on_state(state)` is told each change (the engine's metrics)."""

    def __init__(
        self, models: Models, folder: Path | None, batched: bool, on_state: Callable[[str], None] = lambda s: None,
        mode: str = "default",
    ) -> None:  # fmt: skip
        self.models, self.folder, self.batched, self.on_state = models, folder, batched, on_state
        self.mode = mode  # torch.compile's (F5_COMPILE_MODE)
        self.state = OFF
        self.error: str | None = None  # why it failed
        self.seconds: float | None = None  # how long compiling and the warm-up took
        self._done = threading.Event()

    def start(self) -> threading.Thread:
        self._set(COMPILING)
        thread = threading.Thread(target=self.run, name="model-compile", daemon=True)
        thread.start()
        return thread

    def wait(self, timeout: float | None = None) -> str:
        """The state once the compilation is over (compiled or failed), or still compiling after `timeout`."""
        self._done.wait(timeout)
        return self.state

    def _set(self, state: str) -> None:
        self.state = state
        self.on_state(state)

    def run(self) -> None:

        start = time.perf_counter()
        eager = self.models.tts.transformer
        log.info("compiling the model for %s in the background (F5_COMPILE); serving uncompiled meanwhile",
                 self.models.device)  # fmt: skip
        try:
            self._load_cache()
            compiled = compile_transformer(eager, self.batched, self.mode)
            warm_up(Models(_WithTransformer(self.models.tts, compiled), None, self.models.device), self.batched)
            self.models.tts.transformer = compiled  # runs read it at each step: the next step is compiled
        except Exception as e:  # an unsupported platform or compiler: slower, never broken
            self.error = f"{type(e).__name__}: {str(e)[:300]}"
            log.warning("torch.compile failed (%s); running uncompiled", self.error)
            self._set(FAILED)
            self._done.set()
            return
        self.seconds = time.perf_counter() - start
        log.info("model compiled in %.1f s", self.seconds)
        self._save_cache()
        self._set(COMPILED)
        self._done.set()

    def _load_cache(self) -> None:
        """Point Inductor at the volume's cache (unless TORCHINDUCTOR_CACHE_DIR is set) and load the saved
        artifacts; a corrupt or foreign file is ignored with a log line."""
        import torch

        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = inductor_dir(self.folder)
        path = self.folder / ARTIFACTS
        if not path.is_file():
            log.info("no compile cache in %s yet: compiling from scratch", self.folder)
            return
        try:
            info = torch.compiler.load_cache_artifacts(path.read_bytes())  # torch logs and returns None when corrupt
        except Exception as e:
            info, why = None, f"{type(e).__name__}: {e}"
        else:
            why = "corrupt, or written by another torch"
        if info is None:
            log.warning("the compile cache %s cannot be read (%s); compiling anew", path, why)
            return
        log.info("compile cache loaded from %s", path)

    def _save_cache(self) -> None:
        """Write the artifacts beside the Inductor cache: a temporary file, then a rename (never half a file)."""
        import torch

        if self.folder is None:
            return
        try:
            saved = torch.compiler.save_cache_artifacts()
            if saved is None:
                return
            tmp = self.folder / f".{ARTIFACTS}.{os.getpid()}.tmp"
            tmp.write_bytes(saved[0])
            tmp.replace(self.folder / ARTIFACTS)
        except Exception as e:  # a full or read-only volume: the next start compiles again
            log.warning("the compile cache could not be saved in %s (%s: %s)", self.folder, type(e).__name__, e)
