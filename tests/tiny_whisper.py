"""The tiny random Whisper of the tests (built by inference/model/random_whisper.py, which benchmarks use too)."""

from inference.model.random_whisper import build_tiny_whisper, install_into_hf_cache

__all__ = ["build_tiny_whisper", "install_into_hf_cache"]
