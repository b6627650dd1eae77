"""The engine on a tiny random model: lazy once-only loading, synthesis shape/rate/duration, seeds, errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inference import Engine, InputError, ModelUnavailable, Reference, SynthesisOptions, SynthesisRequest
from tests.conftest import REF_TEXT, wait_idle

FAST = SynthesisOptions(nfe_step=7, seed=123)


def request(ref: Path, text: str = "Hello world, this is a test.", **options) -> SynthesisRequest:
    return SynthesisRequest(text, Reference(ref, REF_TEXT), SynthesisOptions(**{"nfe_step": 7, "seed": 123, **options}))


def test_importing_the_app_loads_no_model_code() -> None:
    code = "import app, sys; print(sorted(m for m in ('torch', 'f5_tts', 'transformers', 'vocos') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent
    )
    assert out.stdout.strip() == "[]"


def test_engine_is_cheap_and_reports_not_loaded(tiny_settings) -> None:
    e = Engine(tiny_settings)
    s = e.status()
    assert (s.state, s.error, e.load_count) == ("not_loaded", None, 0)


def test_concurrent_first_requests_load_once(tiny_settings, ref_wav: Path) -> None:
    e = Engine(tiny_settings)
    results, errors = [], []

    def go() -> None:
        try:
            results.append(e.synthesize(request(ref_wav)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4
    assert e.load_count == 1 and e.status().state == "ready"
    assert all(np.array_equal(r.wave, results[0].wave) for r in results)  # same seed under concurrency


def test_preload_loads_in_the_background(tiny_settings) -> None:
    e = Engine(tiny_settings)
    e.preload().join(timeout=120)
    assert e.status().state == "ready" and e.load_count == 1


def test_failed_load_reports_why_and_the_next_call_retries(tiny, tiny_settings, tmp_path: Path, ref_wav) -> None:
    ckpt = tmp_path / "model.safetensors"
    e = Engine(tiny_settings.replace(ckpt=str(ckpt)))
    with pytest.raises(ModelUnavailable, match="does not exist"):
        e.synthesize(request(ref_wav))
    assert e.status().state == "failed" and str(ckpt) in e.status().error
    shutil.copy(tiny["ckpt"], ckpt)  # the user fixes it: no restart needed
    assert e.synthesize(request(ref_wav)).duration > 0
    assert e.status().state == "ready" and e.load_count == 1


def test_truncated_checkpoint_is_reported_as_corrupt(tiny, tiny_settings, tmp_path: Path, ref_wav) -> None:
    ckpt = tmp_path / "model.safetensors"
    ckpt.write_bytes(tiny["ckpt"].read_bytes()[: tiny["ckpt"].stat().st_size // 2])
    e = Engine(tiny_settings.replace(ckpt=str(ckpt)))
    with pytest.raises(ModelUnavailable, match="corrupt or incomplete") as info:
        e.load()
    assert "download" in info.value.hint


def test_custom_paths_layout_loads(tiny, ref_wav) -> None:
    from inference import EngineSettings

    s = EngineSettings(
        model=str(tiny["yaml"]), ckpt=str(tiny["ckpt"]), vocab=str(tiny["vocab"]), vocoder=str(tiny["vocoder"])
    )
    result = Engine(s).synthesize(request(ref_wav))
    assert result.sample_rate == 24000 and result.wave.ndim == 1


def test_synthesis_shape_rate_and_duration_grow_with_text(engine: Engine, ref_wav: Path) -> None:
    short = engine.synthesize(request(ref_wav, "Hello there, my friend."))
    long = engine.synthesize(request(ref_wav, "Hello there, my friend. " * 4))
    for r in (short, long):
        assert r.sample_rate == 24000 and r.wave.ndim == 1 and r.wave.dtype == np.float32
        assert np.isfinite(r.wave).all() and r.seed == 123 and r.ref_text == REF_TEXT
    assert long.duration > 2 * short.duration > 0
    assert short.mel is not None and short.mel.shape[0] == 100
    assert short.timings.generate_s > 0


def test_same_seed_same_audio_different_seed_different_audio(engine: Engine, ref_wav: Path) -> None:
    a, b = engine.synthesize(request(ref_wav, seed=7)), engine.synthesize(request(ref_wav, seed=7))
    c = engine.synthesize(request(ref_wav, seed=8))
    assert np.array_equal(a.wave, b.wave)
    assert a.wave.shape == c.wave.shape and not np.allclose(a.wave, c.wave)


def test_random_seed_is_returned_and_reproduces(engine: Engine, ref_wav: Path) -> None:
    first = engine.synthesize(
        SynthesisRequest("Hello world, again.", Reference(ref_wav, REF_TEXT), SynthesisOptions(nfe_step=7))
    )
    again = engine.synthesize(request(ref_wav, "Hello world, again.", seed=first.seed))
    assert np.array_equal(first.wave, again.wave)


def test_global_rng_does_not_change_the_result(engine: Engine, ref_wav: Path) -> None:
    import torch

    torch.manual_seed(1)
    a = engine.synthesize(request(ref_wav))
    torch.manual_seed(999)
    torch.randn(1000)
    assert np.array_equal(a.wave, engine.synthesize(request(ref_wav)).wave)


def test_stream_joins_to_the_full_result(engine: Engine, ref_wav: Path) -> None:
    text = "The first sentence is here. " * 6
    full = engine.synthesize(request(ref_wav, text))
    parts = list(engine.stream(request(ref_wav, text)))
    assert len(parts) == len(full.chunks) > 1
    assert [p.index for p in parts] == list(range(len(parts)))
    np.testing.assert_array_equal(np.concatenate([p.wave for p in parts]), full.wave)


def test_progress_advances_per_chunk(engine: Engine, ref_wav: Path) -> None:
    seen: list[tuple[int, int]] = []
    result = engine.synthesize(request(ref_wav, "One sentence here. " * 6), progress=lambda d, t: seen.append((d, t)))
    n = len(result.chunks)
    assert seen == [(i, n) for i in range(1, n + 1)]


def test_remove_silence_shortens_a_known_pause_and_nothing_else() -> None:
    """1 s of tone, a 2 s pause, 1 s of tone: the pause becomes keep_s (0.5 s); the tones stay sample for sample."""
    from inference.audio.postprocess import shorten_silences

    sr = 24000
    tone = (0.3 * np.sin(np.arange(sr) * 2 * np.pi * 220 / sr)).astype(np.float32)
    wave = np.concatenate([tone, np.zeros(2 * sr, np.float32), tone])
    out = shorten_silences(wave, sr, max_pause_s=1.0, keep_s=0.5)
    assert len(out) / sr == pytest.approx(2.5, abs=0.02)
    np.testing.assert_array_equal(out[:sr], tone)
    np.testing.assert_array_equal(out[-sr:], tone)
    short_pause = np.concatenate([tone, np.zeros(sr // 2, np.float32), tone])  # 0.5 s: under max_pause_s
    np.testing.assert_array_equal(shorten_silences(short_pause, sr), short_pause)


def test_remove_silence_never_lengthens(engine: Engine, ref_wav: Path) -> None:
    plain = engine.synthesize(request(ref_wav))
    trimmed = engine.synthesize(request(ref_wav, remove_silence=True))
    assert len(trimmed.wave) <= len(plain.wave)


@pytest.mark.parametrize("text", ["", "   \n\t", "?!...", "🙂🙂", "\x00\x07"])
def test_nothing_to_say_is_refused(engine: Engine, ref_wav: Path, text: str) -> None:
    with pytest.raises(InputError):
        engine.synthesize(request(ref_wav, text))


def test_text_over_the_limit_is_refused(tiny_settings, ref_wav: Path) -> None:
    e = Engine(tiny_settings.replace(max_text_chars=50))
    with pytest.raises(InputError, match="limit is 50"):
        e.synthesize(request(ref_wav, "word " * 20))
    assert e.load_count == 0  # refused before loading anything


def test_reference_errors(engine: Engine, tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(24000 * 3, dtype=np.float32), 24000)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text_file = tmp_path / "notes.wav"
    text_file.write_text("this is not audio at all " * 100)
    for bad, words in [(silent, "silent"), (empty, "empty"), (text_file, "could not read")]:
        with pytest.raises(InputError, match=words):
            engine.synthesize(request(bad))
    with pytest.raises(InputError, match="No reference"):
        engine.synthesize(SynthesisRequest("Hello.", Reference(b"", "")))


def test_bad_options_name_the_valid_range() -> None:
    for kwargs, words in [
        ({"nfe_step": 0}, "from 4 to 64"),
        ({"speed": float("nan")}, "number"),
        ({"seed": 2**63}, "out of range"),
        ({"cfg_strength": -1}, "out of range"),
    ]:
        with pytest.raises(InputError, match=words):
            SynthesisOptions(**kwargs)


def test_reference_cache_is_bounded(tiny_settings, tmp_path: Path, ref_wav: Path) -> None:
    e = Engine(tiny_settings.replace(ref_cache_size=2))
    data, sr = sf.read(ref_wav)
    for i in range(4):
        path = tmp_path / f"r{i}.wav"
        sf.write(path, data * (0.5 + 0.1 * i), sr)
        e.prepare(path)
    assert len(e._refs) == 2


def test_out_of_memory_is_reported_and_the_engine_stays_usable(engine: Engine, engine_hooks, ref_wav: Path) -> None:
    import torch

    from inference import StudioError

    def oom(_item) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    engine_hooks.fault = oom
    try:
        with pytest.raises(StudioError, match="ran out of memory") as info:
            engine.synthesize(request(ref_wav))
        assert "shorter text" in info.value.hint
    finally:
        engine_hooks.fault = None
    assert engine.synthesize(request(ref_wav)).duration > 0


def test_an_exception_inside_generation_leaves_the_engine_working(engine: Engine, engine_hooks, ref_wav: Path) -> None:
    def boom(_item) -> None:
        raise RuntimeError("simulated failure inside a generation")

    engine_hooks.fault = boom
    try:
        with pytest.raises(RuntimeError, match="simulated"):
            engine.synthesize(request(ref_wav))
    finally:
        engine_hooks.fault = None
    assert engine.status().state == "ready" and engine.synthesize(request(ref_wav)).duration > 0


def test_cross_request_batching_matches_one_at_a_time(tiny_settings, ref_wav: Path, ref_zh: Path) -> None:
    """Requests waiting together share one forward pass: different references, texts, lengths and seeds,
    each with its own noise, and each result matches what it would be alone."""
    alone = Engine(tiny_settings.replace(batch_size=1))
    batched = Engine(tiny_settings.replace(batch_size=4))
    zh_text = "对，这就是我，万人敬仰的太乙真人。"
    jobs = [
        SynthesisRequest("Hello there, this is the first voice.", Reference(ref_wav, REF_TEXT), FAST),
        SynthesisRequest("你好，我们去公园吧。", Reference(ref_zh, zh_text), SynthesisOptions(nfe_step=7, seed=5)),
        SynthesisRequest(
            "A much longer sentence, to make the lengths differ a lot from the others.",
            Reference(ref_wav, REF_TEXT),
            SynthesisOptions(nfe_step=7, seed=9),
        ),
        SynthesisRequest("Short.", Reference(ref_zh, zh_text), SynthesisOptions(nfe_step=7, seed=11)),
    ]
    expected = [alone.synthesize(job) for job in jobs]
    batched.load()
    gate = threading.Barrier(len(jobs))
    results: dict[int, object] = {}

    def go(i: int) -> None:
        gate.wait()
        results[i] = batched.synthesize(jobs[i])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert batched.scheduler.largest_batch > 1  # they really shared a pass
    for i, want in enumerate(expected):
        got = results[i]
        assert got.wave.shape == want.wave.shape and got.seed == want.seed
        assert np.max(np.abs(got.wave - want.wave)) < 1e-3, i


def test_closing_a_stream_cancels_its_queued_chunks(engine: Engine, ref_wav: Path) -> None:
    stream = engine.stream(request(ref_wav, "One sentence here. " * 40))
    first = next(stream)
    before = engine.scheduler.batches_run
    stream.close()
    assert wait_idle(engine), "the engine kept working after the stream closed"
    assert first.total > 3
    assert engine.scheduler.batches_run - before <= 1  # at most the chunk under way; the rest never ran


def test_bf16_on_request(tiny_settings, ref_wav: Path) -> None:
    import torch

    e = Engine(tiny_settings.replace(dtype="bf16"))
    for nfe in (16, 32):  # the step schedule must survive bf16 rounding
        assert e.synthesize(request(ref_wav, nfe_step=nfe)).duration > 0
    result = e.synthesize(request(ref_wav))
    assert next(e.load().tts.parameters()).dtype == torch.bfloat16
    assert result.wave.dtype == np.float32 and np.isfinite(result.wave).all() and result.duration > 0


def test_compile_option_compiles_once_and_keeps_the_output(tiny_settings, ref_wav: Path, caplog) -> None:
    """F5_COMPILE: compiled at load (dynamic shapes), then other text lengths run without compiling again, and the
    audio matches the uncompiled engine's at the same seed."""
    import torch
    from torch._dynamo.eval_frame import OptimizedModule
    from torch._dynamo.utils import counters

    plain = Engine(tiny_settings).synthesize(request(ref_wav, "Hello there, how are you today?"))
    compiled = Engine(tiny_settings.replace(compile=True))
    with caplog.at_level("INFO", logger="inference"):
        models = compiled.load()
        assert compiled.compilation is not None and compiled.compilation.wait(600) == "compiled"  # in the background
    assert isinstance(models.tts.transformer, OptimizedModule)
    assert "model compiled" in caplog.text
    graphs = counters["stats"]["unique_graphs"]
    assert graphs > 0
    out = compiled.synthesize(request(ref_wav, "Hello there, how are you today?"))
    for text in ("Short.", "A rather longer sentence than the others, to change every shape in the model."):
        compiled.synthesize(request(ref_wav, text))
    assert counters["stats"]["unique_graphs"] == graphs, "a new text length compiled again"
    assert out.wave.shape == plain.wave.shape
    assert float(np.abs(out.wave - plain.wave).max()) < 1e-4
    torch._dynamo.reset()


def test_compile_failure_leaves_a_working_engine(tiny_settings, ref_wav: Path, monkeypatch, caplog) -> None:
    import torch

    def broken(*_a, **_k):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(torch, "compile", broken)
    engine = Engine(tiny_settings.replace(compile=True))
    with caplog.at_level("WARNING", logger="inference"):
        result = engine.synthesize(request(ref_wav))
        assert engine.compilation is not None and engine.compilation.wait(600) == "failed"  # in the background
    assert result.duration > 0 and engine.status().state == "ready"
    assert "torch.compile failed" in caplog.text and "no C++ compiler" in caplog.text
    assert not isinstance(engine.load().tts.transformer, torch._dynamo.eval_frame.OptimizedModule)


def test_a_seed_n_places_later_wraps_past_the_largest() -> None:
    """One rule for the seed of a take's next chunk, retry, dialogue turn or variation."""
    from inference.check import chunk_seed
    from inference.options import MAX_SEED, seed_after

    assert seed_after(41, 2) == 43 and seed_after(MAX_SEED, 1) == 0 and seed_after(MAX_SEED - 1, 3) == 1
    assert chunk_seed(41, 2, 1) == 44 and chunk_seed(MAX_SEED, 1) == 0


def test_load_count_is_read_only(engine: Engine) -> None:
    with pytest.raises(AttributeError):
        engine.load_count = 0  # type: ignore[misc]
    assert engine.load_count == 1


def test_the_mel_is_the_one_f5_tts_ships() -> None:
    """The loader's defaults and the random-weight models share one mel definition: F5-TTS's own."""
    from importlib.resources import files

    import yaml

    from inference.model.mel import MEL_SPEC

    shipped = yaml.safe_load(files("f5_tts").joinpath("configs/F5TTS_v1_Base.yaml").read_text())
    assert dict(MEL_SPEC) == shipped["model"]["mel_spec"]
