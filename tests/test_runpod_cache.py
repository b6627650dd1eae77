"""RunPod's cached models: an endpoint with a cached model gets that hub repo under RUNPOD_HF_CACHE (an HF hub cache
layout), and the worker finds the F5-TTS files there, with no setting and no download (the tests run offline).

The container tests (tests/test_container.py) run the same with the real folder, /runpod-volume/huggingface-cache/hub.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import inference.model.weights as weights
from inference import EngineSettings, ModelUnavailable
from inference.model.random_weights import F5_CKPT, F5_REPO, F5_VOCAB, VOCOS_REPO, hub_snapshot


@pytest.fixture()
def runpod_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty RunPod model cache folder, in place of /runpod-volume/huggingface-cache/hub."""
    cache = tmp_path / "huggingface-cache" / "hub"
    cache.mkdir(parents=True)
    monkeypatch.setattr(weights, "RUNPOD_HF_CACHE", cache)
    return cache


def cache_f5(cache: Path, tiny: dict[str, Path], refs: bool = True) -> Path:
    """Put the tiny F5-TTS repo (checkpoint + vocab) into a RunPod cache; returns its snapshot folder."""
    snapshot = hub_snapshot(cache.parent, F5_REPO)  # hub_snapshot(X) writes X/hub/models--...
    (snapshot / F5_CKPT).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(tiny["ckpt"], snapshot / F5_CKPT)
    shutil.copy(tiny["vocab"], snapshot / F5_VOCAB)
    if not refs:
        shutil.rmtree(snapshot.parent.parent / "refs")
    return snapshot


def test_f5_files_come_from_the_runpod_cache_and_the_vocoder_from_hf_home(tiny, runpod_cache):
    snapshot = cache_f5(runpod_cache, tiny)
    files = weights.resolve(EngineSettings(model=str(tiny["yaml"])))
    assert files.ckpt == snapshot / F5_CKPT
    assert files.vocab == snapshot / F5_VOCAB
    # RunPod caches one repo per endpoint: the vocoder is not there, so it comes from the HF cache (HF_HOME).
    assert Path(weights.hub_cache_dir()) in files.vocoder_weights.parents
    assert not (runpod_cache / f"models--{VOCOS_REPO.replace('/', '--')}").exists(), "nothing written to the cache"


def test_a_cache_without_refs_is_found_through_its_snapshot(tiny, runpod_cache):
    snapshot = cache_f5(runpod_cache, tiny, refs=False)
    assert weights.resolve_file(f"hf://{F5_REPO}/{F5_CKPT}", "F5-TTS checkpoint", "F5_CKPT") == snapshot / F5_CKPT


def test_the_newest_snapshot_wins_without_refs(tiny, runpod_cache):
    import os

    old = cache_f5(runpod_cache, tiny, refs=False)
    new = old.parent / ("f" * 40)
    shutil.copytree(old, new)
    os.utime(old, (1_000_000_000, 1_000_000_000))
    assert weights.runpod_cached(F5_REPO, F5_CKPT) == new / F5_CKPT


def test_a_dangling_link_in_the_runpod_cache_falls_back_to_hf_home(tiny, runpod_cache):
    snapshot = cache_f5(runpod_cache, tiny)
    (snapshot / F5_CKPT).unlink()
    (snapshot / F5_CKPT).symlink_to(runpod_cache / "blobs" / "never-finished")
    path = weights.resolve_file(f"hf://{F5_REPO}/{F5_CKPT}", "F5-TTS checkpoint", "F5_CKPT")
    assert Path(weights.hub_cache_dir()) in path.parents


def test_without_a_runpod_cache_nothing_changes(tiny, runpod_cache):
    shutil.rmtree(runpod_cache)
    path = weights.resolve_file(f"hf://{F5_REPO}/{F5_CKPT}", "F5-TTS checkpoint", "F5_CKPT")
    assert Path(weights.hub_cache_dir()) in path.parents


def test_missing_everywhere_names_both_caches_and_what_to_do_on_runpod(runpod_cache):
    with pytest.raises(ModelUnavailable) as info:
        weights.hf_file("nobody/nothing", "weights.bin", "vocoder weights", "F5_VOCODER")
    message = str(info.value)
    assert weights.hub_cache_dir() in message and str(runpod_cache) in message
    assert "offline mode is on" in message
    assert "one model per endpoint" in message and "BAKE_WEIGHTS=1" in message


def test_missing_without_a_runpod_cache_does_not_mention_it(runpod_cache):
    shutil.rmtree(runpod_cache)
    with pytest.raises(ModelUnavailable) as info:
        weights.hf_file("nobody/nothing", "weights.bin", "vocoder weights", "F5_VOCODER")
    assert "RunPod" not in str(info.value)
