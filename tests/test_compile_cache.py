"""F5_COMPILE: compiled once per volume, in the background, and shown.

| who / what                                      | gets                                            | test            |
|-------------------------------------------------|-------------------------------------------------|-----------------|
| first start on an empty volume, a visitor asks  | answered at once, uncompiled, while "compiling" | first_start     |
|                                                 | then "compiled", the cache written on the volume| first_start     |
| a later start with that cache                   | Inductor compiles no graph (all cache hits)     | first_start     |
| texts of new lengths after the warm-up          | no graph compiled again (dynamic shapes)        | first_start     |
| the compiled model's audio                      | within 1e-4 of the eager model's (fp32)         | test_engine.py  |
| a compiler that fails                           | the eager model serves on, "failed" and why     | failed_compile  |
| the UI status line, /health, /metrics           | "compiling" then "compiled" (nothing when off)  | state_is_shown  |
| a corrupt or foreign artifacts file             | ignored with a log line, compiled anew          | corrupt_cache   |
| another GPU, torch, checkpoint, dtype, batching | a cache folder of its own                       | key_follows     |
| the studio and the serverless worker            | one cache folder, from one setting              | share_one_folder|
| F5_COMPILE_MODE=reduce-overhead (CUDA graphs)   | torch.compile gets that mode; its own folder    | mode_reaches    |
| F5_COMPILE_MODE=fast                            | refused at start, naming the modes              | mode_reaches    |
(test names abbreviated: test_first_start_serves_while_compiling_..., test_a_failed_compile_..., ...)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from inference import Engine, EngineSettings


@pytest.mark.slow
def test_first_start_serves_while_compiling_and_a_second_start_compiles_nothing(tiny, tmp_path: Path) -> None:
    """Each start is a process of its own (bench/compile_cache.py's), on the tiny model, on the CPU."""
    from bench.compile_cache import start, tiny_env

    folder, env = tmp_path / "compiled", tiny_env(tiny["root"])
    first = start(folder, env)
    assert first["state"] == "compiled" and first["answered_while"] == "compiling"  # served before compiled
    (key,) = folder.iterdir()
    assert first["misses"] > 0 and (key / "artifacts.bin").is_file() and (key / "inductor").is_dir()
    assert first["new_length_compiles"] == 0
    second = start(folder, env)
    assert second["state"] == "compiled"
    assert second["misses"] == 0 and second["hits"] > 0, second  # nothing compiled: every graph from the cache
    assert second["new_length_compiles"] == 0


def test_a_failed_compile_says_so_and_serves_eager(tiny_settings, ref_wav: Path, monkeypatch) -> None:
    import torch
    from prometheus_client import generate_latest

    from tests.test_engine import request

    def broken(*_a, **_k):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(torch, "compile", broken)
    engine = Engine(tiny_settings.replace(compile=True))
    assert engine.synthesize(request(ref_wav)).duration > 0
    assert engine.compilation is not None and engine.compilation.wait(60) == "failed"
    assert engine.status().compile == "failed" and "no C++ compiler" in (engine.compilation.error or "")
    metrics = generate_latest(engine.metrics.registry).decode()
    assert 'studio_compile_state{studio_compile_state="failed"} 1.0' in metrics  # the engine's gauge follows
    assert engine.synthesize(request(ref_wav)).duration > 0


def test_the_state_is_shown_everywhere(tiny_settings) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from prometheus_client import generate_latest

    from api.auth import Access
    from api.health import health_router
    from inference import Studio
    from inference.model.compiled import Compilation
    from ui.handlers import status_markdown

    engine = Engine(tiny_settings)
    studio = Studio(engine)
    app = FastAPI()
    app.include_router(health_router(studio, Access()))
    client = TestClient(app)
    assert client.get("/health").json()["compile"] == "off" and "ompil" not in status_markdown(studio)
    engine.compilation = Compilation(None, None, False, engine.metrics.compile_state.state)  # type: ignore[arg-type]
    for state, shown in (("compiling", "Compiling it in the background"), ("compiled", "Compiled.")):
        engine.compilation._set(state)
        assert client.get("/health").json()["compile"] == state
        assert shown in status_markdown(studio)
        assert (
            f'studio_compile_state{{studio_compile_state="{state}"}} 1.0'
            in generate_latest(engine.metrics.registry).decode()
        )


def test_a_corrupt_cache_is_ignored(tmp_path: Path, caplog, monkeypatch) -> None:
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    from inference.model.compiled import ARTIFACTS, Compilation

    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", default_cache_dir())  # torch's default, set by torch once used
    (tmp_path / ARTIFACTS).write_bytes(b"not a cache, or another torch's")
    with caplog.at_level("INFO", logger="inference"):
        Compilation(None, tmp_path, False)._load_cache()  # type: ignore[arg-type]
    assert "cannot be read" in caplog.text
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "inductor")  # Inductor's cache on the volume


def test_the_key_follows_what_changes_the_graphs(tmp_path: Path) -> None:
    import torch

    from inference.model.compiled import cache_key

    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(b"weights")
    key = cache_key("cpu", torch.float32, ckpt, False)
    assert key == cache_key("cpu", torch.float32, ckpt, False)  # a later start finds it
    assert key != cache_key("cpu", torch.float16, ckpt, False)
    assert key != cache_key("cpu", torch.float32, ckpt, True)
    other = tmp_path / "other.safetensors"
    other.write_bytes(b"weights")
    assert key != cache_key("cpu", torch.float32, other, False)
    ckpt.write_bytes(b"new weights")
    assert key != cache_key("cpu", torch.float32, ckpt, False)


def test_the_compile_mode_reaches_torch_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from inference import InputError
    from inference.model.compiled import cache_key, compile_transformer

    seen: list[dict] = []
    monkeypatch.setattr(torch, "compile", lambda module, **kw: seen.append(kw) or module)
    compile_transformer(
        torch.nn.Linear(2, 2), False, EngineSettings.from_env({"F5_COMPILE_MODE": "reduce-overhead"}).compile_mode
    )
    assert seen == [{"dynamic": True, "mode": "reduce-overhead"}]
    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(b"weights")
    assert cache_key("cpu", torch.float32, ckpt, False, "reduce-overhead") != cache_key(
        "cpu", torch.float32, ckpt, False
    )
    with pytest.raises(InputError, match="reduce-overhead"):
        EngineSettings.from_env({"F5_COMPILE_MODE": "fast"})


def test_studio_and_worker_share_one_folder() -> None:
    """The studio and the serverless worker build their engines from the same EngineSettings.from_env."""
    volume = {"VOICES_DIR": "/runpod-volume/voices"}
    assert EngineSettings.from_env(volume).compile_folder == Path("/runpod-volume/compiled")
    chosen = {**volume, "F5_COMPILE_CACHE": "/runpod-volume/cache/compiled"}
    assert EngineSettings.from_env(chosen).compile_folder == Path("/runpod-volume/cache/compiled")


@pytest.mark.slow
def test_a_batch_compiles_without_a_graph_break_and_keeps_the_output(tiny_settings) -> None:
    """Batched chunks (a GPU's): f5_tts's text embedding reads a batch's lengths with `.item()`, a graph break;
    compile_transformer computes that embedding first, eager, so the compiled graph has none, its mels stay within
    1e-4 of eager (fp32), and batches of new lengths compile nothing more."""
    import copy

    import torch
    from torch._dynamo.utils import counters

    from inference.model.compiled import _WithTransformer, compile_transformer
    from inference.model.sampling import Item, generate_mels

    tts = Engine(tiny_settings).load().tts
    ref = torch.sin(torch.arange(24000) * 0.06).unsqueeze(0) * 0.1

    def batch(*texts: str) -> list[Item]:
        return [Item(ref, "Reference words.  " + t, 94 + 4 * len(t), seed=i) for i, t in enumerate(texts)]

    def mels(transformer, items: list[Item]) -> list:
        with torch.inference_mode():
            return generate_mels(_WithTransformer(tts, transformer), items, 3, 2.0, -1.0)

    def breaks() -> int:
        return sum(counters["graph_break"].values())

    first = batch("A short one.", "And a second, longer line of text.")
    eager = mels(tts.transformer, first)
    torch._dynamo.reset()
    counters.clear()
    mels(torch.compile(copy.copy(tts.transformer), dynamic=True), first)
    assert breaks() > 0, "f5_tts's text embedding no longer breaks the graph: text_first may go"
    torch._dynamo.reset()
    counters.clear()
    compiled = compile_transformer(tts.transformer, batched=True)
    out = mels(compiled, first)
    assert breaks() == 0, dict(counters["graph_break"])
    assert max(float((a - b).abs().max()) for a, b in zip(out, eager, strict=True)) < 1e-4
    graphs = counters["stats"]["unique_graphs"]
    mels(compiled, batch("Tiny.", "Another pair of lengths, longer than before, much longer.", "And a third."))
    assert counters["stats"]["unique_graphs"] == graphs, (
        "a new length or batch size compiled again (a batch of 1 is warmed up apart)"
    )
    torch._dynamo.reset()
