"""Measurements that run in their own fresh process: `python -m bench.workers KIND 'JSON args'`.

Each prints its results as `@@BENCH {...}` lines (see common.emit), as it goes, so a worker stopped by its timeout
still reports what it measured. Times inside a process use time.perf_counter(); times relative to the process
start use time.time() against the parent's spawn time.

kinds:
  cold_official / cold_ours  figures 2 and 3: imports -> load (peak RSS) -> one synthesis, from process start
  pair                       figures 4 and 5: both pipelines loaded in one process, alternating official / ours
  ours                       figures 6, 7 and 8: presets, concurrency and bf16, on our engine only
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

T_START = time.time()

from .common import SCRATCH, SEED, RssSampler, emit, rss_now  # noqa: E402

F5_CKPT_URL = "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors"
F5_VOCAB_URL = "hf://SWivid/F5-TTS/F5TTS_v1_Base/vocab.txt"


def noop(*_: Any, **__: Any) -> None:
    pass


# ---- official pipeline ----------------------------------------------------------------------------------------
def official_imports() -> Any:
    import torch  # noqa: F401
    from cached_path import cached_path  # noqa: F401  (what the official app resolves hf:// with)
    from f5_tts.infer import utils_infer
    from f5_tts.model import DiT  # noqa: F401

    return utils_infer


def official_load() -> tuple[Any, Any]:
    """As f5_tts's app and CLI do: cached_path(hf://...) -> load_model(DiT, arch, ckpt, vocab) + load_vocoder()."""
    from cached_path import cached_path
    from f5_tts.infer.utils_infer import load_model, load_vocoder
    from f5_tts.model import DiT

    from .weights import real_arch

    ckpt = str(cached_path(F5_CKPT_URL))
    vocab = str(cached_path(F5_VOCAB_URL))
    model = load_model(DiT, real_arch(), ckpt, vocab_file=vocab)
    vocoder = load_vocoder()  # charactr/vocos-mel-24khz through the HF cache (HF_HOME), as the official app does
    return model, vocoder


def official_synth(
    utils_infer: Any, model: Any, vocoder: Any, ref_file: str, ref_text: str, text: str, nfe: int, seed: int
) -> tuple[Any, int]:
    import torch

    torch.manual_seed(seed)
    wave, sr, _ = utils_infer.infer_process(
        ref_file, ref_text, text, model, vocoder, nfe_step=nfe, show_info=noop, progress=None, device="cpu"
    )
    return wave, sr


# ---- our engine ------------------------------------------------------------------------------------------------
def ours_imports() -> None:
    """What Engine.load imports lazily, imported up front so only the load itself is timed."""
    import huggingface_hub  # noqa: F401
    import torch  # noqa: F401
    import torchdiffeq  # noqa: F401
    import vocos  # noqa: F401
    from vocos.feature_extractors import EncodecFeatures  # noqa: F401

    from inference.model.loader import import_model_code

    import_model_code()
    import f5_tts.model.utils  # noqa: F401


def ours_engine() -> Any:
    from inference import Engine, EngineSettings

    return Engine(EngineSettings.from_env())


def ours_request(text: str, ref_file: str, ref_text: str, nfe: int, seed: int) -> Any:
    from inference import Reference, SynthesisOptions, SynthesisRequest

    return SynthesisRequest(text, Reference(Path(ref_file), ref_text), SynthesisOptions(nfe_step=nfe, seed=seed))


# ---- warm-up ---------------------------------------------------------------------------------------------------
def warm_up(tts: Any, vocoder: Any) -> float:
    """Pay first-call costs without a full synthesis: jieba's dictionary, paging the weights in, one small forward
    of the transformer (CFG batch) and of the vocoder."""
    import torch
    from f5_tts.model.utils import convert_char_to_pinyin

    start = time.perf_counter()
    convert_char_to_pinyin(["warm up"])
    dtype = next(tts.parameters()).dtype
    with torch.inference_mode():
        for module in (tts, vocoder):
            for p in module.parameters():
                p.sum()
        x = torch.randn(1, 48, 100, dtype=dtype)
        tts.transformer(
            x=x,
            cond=torch.zeros_like(x),
            text=torch.zeros(1, 12, dtype=torch.long),
            time=torch.tensor(0.5, dtype=dtype),
            mask=None,
            cfg_infer=True,
            cache=True,
        )
        tts.transformer.clear_cache()
        vocoder.decode(torch.randn(1, 100, 24))
    return time.perf_counter() - start


def write_prepared(engine: Any, ref_file: str, name: str) -> str:
    """Our prepared reference (clipped, trimmed, normalised), written as float wav for both pipelines."""
    import soundfile as sf

    _, prepared = engine.prepare(Path(ref_file))
    SCRATCH.mkdir(parents=True, exist_ok=True)
    path = SCRATCH / f"prepared_{name}.wav"
    sf.write(str(path), prepared.wave, prepared.sample_rate, subtype="FLOAT")
    return str(path)


def max_abs_diff(a: Any, b: Any) -> tuple[float | None, bool]:
    import numpy as np

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        n = min(len(a), len(b))
        return (float(np.max(np.abs(a[:n] - b[:n]))) if n else None), False
    return float(np.max(np.abs(a - b))), True


# ---- figures 2 + 3 ---------------------------------------------------------------------------------------------
def timed_load(load: Any) -> Any:
    """Call `load()`, emitting its time and the process RSS before, at its peak and after; returns what it loaded."""
    with RssSampler() as rss:
        start = time.perf_counter()
        loaded = load()
        load_s = time.perf_counter() - start
    emit(
        kind="load",
        seconds=load_s,
        rss_before=rss.before,
        peak=rss.peak,
        sampled_peak=rss.sampled_peak,
        rss_after=rss.after,
    )
    return loaded


def cold_official(args: dict) -> None:
    emit(kind="phase", phase="start", t=T_START)
    utils_infer = official_imports()
    emit(kind="phase", phase="imports")
    model, vocoder = timed_load(official_load)
    if not args.get("synth", True):
        return
    start = time.perf_counter()
    ref_file, ref_text = utils_infer.preprocess_ref_audio_text(args["ref"], args["ref_text"], show_info=noop)
    wave, sr = official_synth(
        utils_infer, model, vocoder, ref_file, ref_text, args["text"], args["nfe"], args.get("seed", SEED)
    )
    emit(kind="synth", seconds=time.perf_counter() - start, audio_s=len(wave) / sr, rss_after=rss_now())


def cold_ours(args: dict) -> None:
    emit(kind="phase", phase="start", t=T_START)
    import inference  # noqa: F401  (light)

    emit(kind="phase", phase="light_import")
    ours_imports()
    emit(kind="phase", phase="imports")
    engine = ours_engine()
    timed_load(engine.load)
    if not args.get("synth", True):
        return
    start = time.perf_counter()
    result = engine.synthesize(
        ours_request(args["text"], args["ref"], args["ref_text"], args["nfe"], args.get("seed", SEED))
    )
    emit(kind="synth", seconds=time.perf_counter() - start, audio_s=result.duration, rss_after=rss_now())


# ---- figures 4 + 5 ---------------------------------------------------------------------------------------------
def pair(args: dict) -> None:
    utils_infer = official_imports()
    ours_imports()
    off_model, off_vocoder = official_load()
    engine = ours_engine()
    models = engine.load()
    ref = write_prepared(engine, args["ref"], "pair")
    ref_text, seed, nfe = args["ref_text"], args.get("seed", SEED), args["nfe"]
    emit(kind="phase", phase="loaded", rss=rss_now())
    warm = warm_up(off_model, off_vocoder) + warm_up(models.tts, models.vocoder)
    if args.get("warm_full"):
        official_synth(utils_infer, off_model, off_vocoder, ref, ref_text + " ", args["text"], nfe, seed)
        engine.synthesize(ours_request(args["text"], ref, ref_text, nfe, seed))
    emit(kind="phase", phase="warm", seconds=warm, full=bool(args.get("warm_full")))

    if "warm" in args["figures"]:
        for i in range(args["runs"]):
            outputs = {}
            for side in ("official", "ours") if i % 2 == 0 else ("ours", "official"):
                start, cpu = time.perf_counter(), time.process_time()
                if side == "official":  # as tests/test_parity.py lines them up: same prepared wav, text, seed
                    wave, sr = official_synth(
                        utils_infer, off_model, off_vocoder, ref, ref_text + " ", args["text"], nfe, seed
                    )
                else:
                    result = engine.synthesize(ours_request(args["text"], ref, ref_text, nfe, seed))
                    wave, sr = result.wave, result.sample_rate
                emit(
                    kind="warm",
                    side=side,
                    run=i,
                    seconds=time.perf_counter() - start,
                    cpu_s=time.process_time() - cpu,
                    audio_s=len(wave) / sr,
                )
                outputs[side] = wave
            diff, same_shape = max_abs_diff(outputs["official"], outputs["ours"])
            emit(
                kind="parity",
                run=i,
                max_abs=diff,
                same_shape=same_shape,
                shapes=[len(outputs["official"]), len(outputs["ours"])],
                peak=float(max(abs(outputs["ours"]).max(), 1e-12)),
            )

    if "long" in args["figures"]:
        long_text(args, utils_infer, engine, off_model, off_vocoder, ref, ref_text, nfe, seed)


def long_text(
    args: dict,
    utils_infer: Any,
    engine: Any,
    off_model: Any,
    off_vocoder: Any,
    ref: str,
    ref_text: str,
    nfe: int,
    seed: int,
) -> None:
    import torchaudio

    from inference.model.sampling import ref_text_for_model
    from inference.text import chunking

    from .common import FULL_LONG_SENTENCES, LONG_SENTENCES

    limit = args.get("long_chunk_bytes")
    if limit:  # quick mode: short chunks in both pipelines, one sentence each
        official_chunk_text = utils_infer.chunk_text
        utils_infer.chunk_text = lambda text, max_chars=135: official_chunk_text(text, min(max_chars, limit))
        chunking.max_chunk_bytes = lambda *a, **k: limit
    audio, sr = torchaudio.load(ref)
    seconds = audio.shape[-1] / sr
    official_max = int(len((ref_text + " ").encode()) / seconds * (22 - seconds))  # as infer_process computes it
    ours_max = chunking.max_chunk_bytes(ref_text_for_model(ref_text), seconds, 1.0)
    pool = LONG_SENTENCES if limit else FULL_LONG_SENTENCES
    want = args.get("long_chunks", 8)
    sentences: list[str] = []
    while True:
        sentences.append(pool[len(sentences) % len(pool)])
        text = " ".join(sentences)
        n_off = len(utils_infer.chunk_text(text, max_chars=official_max))
        first = getattr(engine.settings, "first_chunk_bytes", None)
        first = min(ours_max, first) if first and chunking.nbytes(text) > ours_max else None
        n_ours = len(chunking.chunk_text(text, ours_max, first_max_bytes=first))
        if min(n_off, n_ours) >= want or len(sentences) > 200:
            break
    emit(
        kind="long_setup",
        chars=len(text),
        chunks_official=n_off,
        chunks_ours=n_ours,
        limit=limit,
        official_max_chars=official_max,
        ours_max_bytes=ours_max,
    )
    request = ours_request(text, ref, ref_text, nfe, seed)
    for i in range(args.get("long_runs", 1)):
        for side in ("official", "ours") if i % 2 == 0 else ("ours", "official"):
            start, cpu = time.perf_counter(), time.process_time()
            if side == "official":
                wave, sr = official_synth(utils_infer, off_model, off_vocoder, ref, ref_text + " ", text, nfe, seed)
                total = time.perf_counter() - start
                emit(
                    kind="long",
                    side=side,
                    run=i,
                    total=total,
                    first=total,
                    audio_s=len(wave) / sr,
                    cpu_s=time.process_time() - cpu,
                )
            else:
                got: dict[str, Any] = {"first": None, "samples": 0, "n": 0}

                def consume(got: dict[str, Any] = got, start: float = start) -> None:
                    for chunk in engine.stream(request):
                        if got["first"] is None:
                            got["first"] = time.perf_counter() - start
                        got["samples"] += len(chunk.wave)
                        got["n"] += 1

                worker = threading.Thread(target=consume, daemon=True)  # a hung engine must not hang the bench
                worker.start()
                worker.join(args.get("long_timeout"))
                total = time.perf_counter() - start
                if worker.is_alive():
                    emit(
                        kind="long",
                        side=side,
                        run=i,
                        total=None,
                        first=got["first"],
                        chunks=got["n"],
                        hung=True,
                        error=f"stream stopped after {got['n']} chunk(s): nothing for {total:.0f} s (hung?)",
                    )
                    return
                emit(
                    kind="long",
                    side=side,
                    run=i,
                    total=total,
                    first=got["first"],
                    audio_s=got["samples"] / 24000,
                    chunks=got["n"],
                    cpu_s=time.process_time() - cpu,
                )


def run_requests(
    engine: Any, requests: list[Any], concurrent: bool, timeout: float | None = None
) -> tuple[float, list[float], list[str]]:
    """Total wall time, per-request latencies and errors: one thread per request released together, or a loop.
    Requests still running after `timeout` seconds are reported as hung (their threads are left behind)."""
    latencies: list[float] = [0.0] * len(requests)
    errors: list[str] = []

    def call(k: int) -> None:
        if concurrent:
            barrier.wait()
        t0 = time.perf_counter()
        try:
            engine.synthesize(requests[k])
        except Exception as e:  # reported, not hidden
            errors.append(f"{type(e).__name__}: {e}")
        latencies[k] = time.perf_counter() - t0

    if not concurrent:
        start = time.perf_counter()
        for k in range(len(requests)):
            call(k)
        return time.perf_counter() - start, latencies, errors
    barrier = threading.Barrier(len(requests) + 1)
    threads = [threading.Thread(target=call, args=(k,), daemon=True) for k in range(len(requests))]
    for th in threads:
        th.start()
    barrier.wait()
    start = time.perf_counter()
    for th in threads:
        th.join(None if timeout is None else max(0.0, timeout - (time.perf_counter() - start)))
    hung = sum(th.is_alive() for th in threads)
    if hung:
        errors.append(f"{hung} of {len(requests)} requests had not finished after {timeout:.0f} s (hung?)")
    return time.perf_counter() - start, latencies, errors


# ---- figures 6, 7, 8 -------------------------------------------------------------------------------------------
def ours(args: dict) -> None:
    import torch

    from inference import PRESETS

    ours_imports()
    engine = ours_engine()
    models = engine.load()
    ref = write_prepared(engine, args["ref"], "ours")
    ref_text, seed, nfe, text = args["ref_text"], args.get("seed", SEED), args["nfe"], args["text"]
    warm = warm_up(models.tts, models.vocoder)
    if args.get("warm_full"):
        engine.synthesize(ours_request(text, ref, ref_text, nfe, seed))
    emit(kind="phase", phase="warm", seconds=warm, rss=rss_now())

    for figure in args["figures"]:
        if figure == "presets":
            fast, best = PRESETS["Fast (7 steps)"], PRESETS["Best (32 steps)"]
            # Fast, Best, Fast, Best, ..., Fast: every Best run sits between two (cheap) Fast runs, so a load spike
            # on one short Fast run cannot decide the ratio alone.
            order = [("fast", fast), ("best", best)] * args["presets_runs"] + [("fast", fast)]
            for i, (name, steps) in enumerate(order):
                start, cpu = time.perf_counter(), time.process_time()
                result = engine.synthesize(ours_request(text, ref, ref_text, steps, seed))
                emit(
                    kind="preset",
                    preset=name,
                    nfe=steps,
                    run=i,
                    seconds=time.perf_counter() - start,
                    cpu_s=time.process_time() - cpu,
                    audio_s=result.duration,
                )
        elif figure == "concurrency":
            conc_text = args.get("conc_text", text)
            emit(kind="concurrency_setup", rss=rss_now(), load_count=engine.load_count)
            for n in args["conc_levels"]:
                requests = [ours_request(conc_text, ref, ref_text, nfe, seed + k) for k in range(n)]
                for mode in ("sequential", "concurrent"):  # sequential first: a hang must not cost both figures
                    wall, latencies, errors = run_requests(
                        engine, requests, mode == "concurrent", args.get("conc_timeout")
                    )
                    emit(
                        kind="concurrency",
                        n=n,
                        mode=mode,
                        wall=wall,
                        latencies=latencies,
                        errors=errors,
                        rss=rss_now(),
                        load_count=engine.load_count,
                        hung=any("hung" in e for e in errors),
                    )
                    if any("hung" in e for e in errors):
                        break
                else:
                    continue
                break  # the engine hung: later levels would hang too
        elif figure == "bf16":
            from .common import cpu_bf16_flags

            flags = cpu_bf16_flags()
            if not flags and not args.get("bf16_force"):
                emit(kind="bf16_setup", skipped=True, reason="the CPU has neither avx512_bf16 nor amx_bf16")
                continue
            # Two fresh engines on the same weights (fp32, and one cast to bf16), so this figure never depends
            # on the state the figures before it left the main engine in.
            fp32 = ours_engine()
            fp32_models = fp32.load()
            other = ours_engine()
            start = time.perf_counter()
            bf16_models = other.load()
            bf16_models.tts.to(torch.bfloat16)
            cast_s = time.perf_counter() - start
            warm_up(fp32_models.tts, fp32_models.vocoder)
            warm_up(bf16_models.tts, bf16_models.vocoder)
            emit(kind="bf16_setup", skipped=False, flags=flags, load_and_cast_s=cast_s, rss=rss_now())
            try:
                bf16_runs(args, fp32, other, text, ref, ref_text, nfe, seed)
            except Exception as e:  # e.g. timesteps that collapse in bf16 at some NFE
                emit(kind="bf16_error", error=f"{type(e).__name__}: {str(e)[:300]}")


def bf16_runs(args: dict, engine: Any, other: Any, text: str, ref: str, ref_text: str, nfe: int, seed: int) -> None:
    """fp32 and bf16 engines alternating on the same request and seed: times and the output difference."""
    import numpy as np

    for i in range(args["bf16_runs"]):
        waves = {}
        for name, eng in (("fp32", engine), ("bf16", other)) if i % 2 == 0 else (("bf16", other), ("fp32", engine)):
            start, cpu = time.perf_counter(), time.process_time()
            result = eng.synthesize(ours_request(text, ref, ref_text, nfe, seed))
            emit(
                kind="bf16",
                dtype=name,
                run=i,
                seconds=time.perf_counter() - start,
                cpu_s=time.process_time() - cpu,
                audio_s=result.duration,
            )
            waves[name] = result.wave
        diff, same = max_abs_diff(waves["fp32"], waves["bf16"])
        peak = float(np.max(np.abs(waves["fp32"]))) if len(waves["fp32"]) else 0.0
        emit(kind="bf16_diff", run=i, max_abs=diff, same_shape=same, fp32_peak=peak)


KINDS = {"cold_official": cold_official, "cold_ours": cold_ours, "pair": pair, "ours": ours}

if __name__ == "__main__":
    kind, raw = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "{}"
    try:
        KINDS[kind](json.loads(raw))
    except BaseException as e:
        import traceback

        traceback.print_exc()
        emit(kind="error", error=f"{type(e).__name__}: {e}")
        sys.stdout.flush()
        os._exit(1)
    emit(kind="done")
    sys.stdout.flush()
    os._exit(0)  # do not wait for threads left behind by a hung request
