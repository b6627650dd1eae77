"""GPU figures for a lent H100/H200 (run by bench/gpu.sh): RTF at 7/16/32 NFE against the official `infer_process`
on the same GPU and weights, fp16 vs bf16, torch.compile on/off, chunk batching, throughput at concurrency 1, 4,
8 and 16 (cross-request batching on and off) on the engine, and at 1, 4 and 8 through the launched app's interfaces
(gradio_client, the OpenAI client) and the serverless worker, on full-size random weights.

    python -m bench.gpu [--out DIR] [--tiny]     # --tiny: a CPU smoke test on tiny random weights

Every result is appended to DIR/gpu_results.jsonl as soon as it is measured (a timeout keeps what was done) and the
summary is written to DIR/gpu_results.md at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
TEXT = (
    "The quick brown fox jumps over the lazy dog near the quiet river bank while the evening sun sets slowly "
    "behind the hills."
)  # ~10 s of speech: one chunk
SHORT = "Hello there, this is a short request."
LONG = " ".join(
    [  # ~1400 characters: 9 official chunks with this reference (max ~160 bytes each)
        "The old lighthouse stood at the edge of the cliff, its white paint peeling after a hundred winters of salt.",
        "Every evening the keeper climbed the narrow stairs, counted the steps out loud, and lit the great lamp.",
        "Ships far out at sea would see the beam sweep across the water and know that the rocks were near.",
        "One night a storm came in from the west, louder than any the keeper could remember from his childhood.",
        "The wind howled through the railings, and the rain struck the glass so hard that it seemed to shake the "
        "tower.",
        "Still the lamp turned, slow and steady, throwing its light into the dark as it had always done before.",
        "Near midnight he heard a horn, faint at first and then closer, the sound of a fishing boat lost in the waves.",
        "He rang the bell with all his strength, again and again, until his arms ached and his hands were numb.",
        "At dawn the sea grew calm, and the small boat rested safely in the harbor below the sleeping town.",
        "The fishermen climbed the hill to thank him, carrying bread, fresh fish, and a bottle of warm cider.",
        "He smiled, poured a cup for each of them, and went back up the stairs to polish the glass once more.",
        "Years later the children of the village still told the story, each time with a taller wave and a darker sky.",
        "And on quiet nights, when the beam crossed the water, they would say the old keeper was still counting steps.",
    ]
)
REF_TEXT = "Some call me nature, others call me mother nature."


# In the order they run. A run that meets its time limit keeps what was measured, so the figures still open come
# first (the interfaces and the compile cache through the engine); those earlier GPU runs measured come after.
SECTIONS = (
    "rtf", "official", "interfaces", "compile_engine", "load", "batching", "bf16", "throughput", "compile", "cudagraphs"
)  # fmt: skip
OPT_IN = ("cudagraphs",)  # sections run only when named in --only (two more compilations: minutes of the budget)


class Out:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.jsonl = folder / "gpu_results.jsonl"
        self.md = folder / "gpu_results.md"
        self.lines: list[str] = []
        self.jsonl.write_text("")

    def add(self, name: str, line: str, **data: Any) -> None:
        print(f"[gpu] {name}: {line}", flush=True)
        self.lines.append(f"| {name} | {line} |")
        with open(self.jsonl, "a") as f:
            f.write(json.dumps({"name": name, "summary": line, **data}) + "\n")
        self.md.write_text("| figure | result |\n|---|---|\n" + "\n".join(self.lines) + "\n")


def app_env(base: Any, port: int, model_name: str, device: str) -> dict[str, str]:
    """The launched app's environment: the caller's, with the repository put first on PYTHONPATH, never in place of
    it (on the GPU machine the carried wheels live in /tmp/bench-site, named there by gpu.sh).

    >>> app_env({"PYTHONPATH": "/tmp/site"}, 7, "m", "cuda")["PYTHONPATH"] == f"{REPO}:/tmp/site"
    True
    """
    env = {**base, "GRADIO_SERVER_PORT": str(port), "F5_MODEL": model_name, "F5_DEVICE": device, "F5_PRELOAD": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), base.get("PYTHONPATH", "")]))
    env.pop("PORT", None)  # it would win over GRADIO_SERVER_PORT
    return env


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn: Any, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        out.append(time.perf_counter() - start)
    return out


def concurrent(fn: Any, n: int, timeout: float = 60.0) -> tuple[float, list[float]]:
    """n threads released together, each calling fn(k); returns the total wall time and each latency.
    Raises TimeoutError when some request has not finished after `timeout` seconds (a hung engine)."""
    lat: list[float] = [0.0] * n
    barrier = threading.Barrier(n + 1)

    def call(k: int) -> None:
        barrier.wait()
        t0 = time.perf_counter()
        fn(k)
        lat[k] = time.perf_counter() - t0

    threads = [threading.Thread(target=call, args=(k,), daemon=True) for k in range(n)]
    for th in threads:
        th.start()
    barrier.wait()
    start = time.perf_counter()
    for th in threads:
        th.join(max(0.0, timeout - (time.perf_counter() - start)))
    if any(th.is_alive() for th in threads):
        raise TimeoutError(f"{sum(th.is_alive() for th in threads)} of {n} requests unfinished after {timeout:.0f} s")
    return time.perf_counter() - start, lat


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.environ.get("OUT") or str(REPO / "bench" / ".cache" / "gpu"))
    p.add_argument("--tiny", action="store_true", help="CPU smoke test on tiny random weights")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument(
        "--only",
        help=f"comma-separated sections, in the order they run: {', '.join(SECTIONS)} (default: all but "
        f"{', '.join(OPT_IN)}, which run only when named)",
    )
    args = p.parse_args(argv)
    only = set(args.only.split(",")) if args.only else set(SECTIONS) - set(OPT_IN)
    if only - set(SECTIONS):
        raise SystemExit(f"unknown sections {sorted(only - set(SECTIONS))}: use {', '.join(SECTIONS)}")
    out = Out(Path(args.out))

    if args.tiny:
        root = Path(tempfile.mkdtemp(prefix="bench-gpu-tiny-"))
        os.environ["HF_HOME"] = str(root / "hf")
    else:
        from bench.weights import HF_HOME

        os.environ["HF_HOME"] = str(HF_HOME)
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("VOICES_DIR", str(Path(tempfile.gettempdir()) / "bench-gpu-voices"))
    sys.path.insert(0, str(REPO))

    import torch

    from inference import Engine, EngineSettings, Reference, Studio, SynthesisOptions, SynthesisRequest
    from inference.model.sampling import Item, frames_for, generate_mels, ref_text_for_model

    model_name = "F5TTS_v1_Base"
    if args.tiny:
        from inference.model.random_weights import build

        built = build(root)
        model_name = str(built["yaml"])
    else:
        from bench.weights import ensure

        ensure()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dev_name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    out.add("machine", f"{dev_name}, torch {torch.__version__}, CUDA {torch.version.cuda}", device=dev_name)
    settings = EngineSettings.from_env(model=model_name, device=device)
    from importlib.resources import files

    ref = Path(str(files("f5_tts").joinpath("infer/examples/basic/basic_ref_en.wav")))
    runs = 1 if args.tiny else args.runs

    if device == "cuda":  # CUDA's own start-up, paid once per process, kept out of both sides' load times
        start = time.perf_counter()
        torch.zeros(1, device=device).sum().item()
        out.add("CUDA init", f"{time.perf_counter() - start:.1f} s (context creation, before any model load)")
    start = time.perf_counter()  # model code imported before any load is timed, on both sides (as the CPU bench)
    import torchaudio
    import vocos  # noqa: F401

    from inference.model.loader import import_model_code

    import_model_code()
    out.add("imports", f"{time.perf_counter() - start:.1f} s (f5_tts model code, vocos, torchaudio)")
    engine = Engine(settings)
    start = time.perf_counter()
    models = engine.load()
    load_s = time.perf_counter() - start
    out.add(
        "load", f"{load_s:.2f} s to load on {models.device} ({next(models.tts.parameters()).dtype})", seconds=load_s
    )

    def synth(eng: Engine, text: str, nfe: int, seed: int = 1) -> Any:
        return eng.synthesize(
            SynthesisRequest(text, Reference(ref, REF_TEXT), SynthesisOptions(nfe_step=nfe, seed=seed))
        )

    start = time.perf_counter()
    for nfe in (16, 7, 32, 7):  # warm-up: cuBLAS/cuDNN heuristics, jieba, allocator, clocks up
        audio_s = synth(engine, TEXT, nfe).duration
    out.add("warm-up", f"4 syntheses in {time.perf_counter() - start:.1f} s")

    def rtf() -> None:  # 7, 16, 32 NFE in the engine's dtype (fp16 on CUDA)
        for nfe in (7, 16, 32):
            t = timed(lambda nfe=nfe: synth(engine, TEXT, nfe), runs)
            out.add(
                f"RTF NFE {nfe} ({next(models.tts.parameters()).dtype})",
                f"median {statistics.median(t):.3f} s for {audio_s:.1f} s of audio = RTF "
                f"{statistics.median(t) / audio_s:.4f} (min {min(t):.3f}, max {max(t):.3f})",
                nfe=nfe,
                seconds=t,
                audio_s=audio_s,
            )

    def official_api() -> tuple[Any, Any]:
        """f5_tts.infer.utils_infer, imported as on the bench machine it can be, and its load_model + load_vocoder
        on the bench weights."""
        import importlib.util

        import soundfile as sf

        import_model_code()  # f5_tts.model without its trainer imports (wandb, datasets): not installed there
        from f5_tts.infer import utils_infer
        from f5_tts.model.backbones.dit import DiT

        if importlib.util.find_spec("torchcodec") is None:  # torchaudio.load needs torchcodec + ffmpeg

            def sf_load(path: Any, *_: Any, **__: Any) -> tuple[Any, int]:
                data, sr = sf.read(str(path), dtype="float32", always_2d=True)
                return torch.from_numpy(data.T.copy()), sr

            torchaudio.load = sf_load
        if args.tiny:
            ckpt, vocab, vocos_dir, arch = built["ckpt"], built["vocab"], built["vocoder"], None
        else:
            from bench.weights import paths, real_arch

            p = paths()
            ckpt, vocab, vocos_dir, arch = p["ckpt"], p["vocab"], p["vocoder"], real_arch()
        if arch is None:
            import yaml

            arch = yaml.safe_load(Path(model_name).read_text())["model"]["arch"]

        def load() -> tuple[Any, Any]:
            model = utils_infer.load_model(DiT, arch, str(ckpt), vocab_file=str(vocab), device=device)
            return model, utils_infer.load_vocoder(is_local=True, local_path=str(vocos_dir), device=device)

        return utils_infer, load

    prepared = Path(tempfile.gettempdir()) / "bench-gpu-ref.wav"

    def official() -> None:
        """The official pipeline on the same GPU and weights: load_model + load_vocoder + infer_process, alternating
        run by run with ours on the same prepared reference, text, NFE and seed."""
        import soundfile as sf

        _, ready = engine.prepare(ref)  # our prepared reference, written once, fed to both sides
        sf.write(str(prepared), ready.wave, ready.sample_rate, subtype="FLOAT")
        utils_infer, official_load = official_api()
        start = time.perf_counter()
        model, vocoder = official_load()
        off_load = time.perf_counter() - start
        out.add(
            "official load vs ours",
            f"official {off_load:.2f} s (load_model + load_vocoder, "
            f"{next(model.parameters()).dtype}), ours {load_s:.2f} s = {off_load / load_s:.2f}x; both after CUDA "
            f"init, weights in the page cache",
            official=off_load,
            ours=load_s,
        )

        def off(nfe: int, seed: int = 1, text: str = TEXT) -> Any:
            torch.manual_seed(seed)
            wave, _, _ = utils_infer.infer_process(
                str(prepared),
                REF_TEXT + " ",
                text,
                model,
                vocoder,
                nfe_step=nfe,
                show_info=lambda *a, **k: None,
                progress=None,
                device=device,
            )
            return wave

        def mine(nfe: int, seed: int = 1) -> Any:
            return engine.synthesize(
                SynthesisRequest(TEXT, Reference(prepared, REF_TEXT), SynthesisOptions(nfe_step=nfe, seed=seed))
            )

        off(16)  # warm-up
        mine(16)
        a, b = off(7, seed=5), mine(7, seed=5).wave
        n = min(len(a), len(b))
        out.add(
            "official vs ours, same seed, NFE 7",
            f"max abs diff {float(abs(a[:n] - b[:n]).max()):.3g} (peak "
            f"{float(abs(a).max()):.3g}); lengths {len(a)} / {len(b)}; GPU kernels in fp16 are not bitwise "
            f"reproducible, the CPU bench checks exact parity",
        )
        for nfe in (7, 16, 32):
            t_off: list[float] = []
            t_ours: list[float] = []
            for _ in range(runs):  # alternating, so drift hits both sides alike
                t_off += timed(lambda nfe=nfe: off(nfe), 1)
                t_ours += timed(lambda nfe=nfe: mine(nfe), 1)
            mo, mb = statistics.median(t_off), statistics.median(t_ours)
            out.add(
                f"official vs ours, NFE {nfe}",
                f"official {mo:.3f} s (RTF {mo / audio_s:.4f}), ours {mb:.3f} s "
                f"(RTF {mb / audio_s:.4f}) = {mo / mb:.2f}x; official min/max {min(t_off):.3f}/{max(t_off):.3f}, "
                f"ours {min(t_ours):.3f}/{max(t_ours):.3f}",
                nfe=nfe,
                official=t_off,
                ours=t_ours,
            )

        # Long text: the official infer_process chunks it and runs the chunks in a thread pool, returning at the end;
        # ours streams the first (short) chunk alone, then batches the rest in one forward pass per batch.
        from f5_tts.infer.utils_infer import chunk_text

        max_chars = int(len((REF_TEXT + " ").encode()) / ready.seconds * (22 - ready.seconds))
        n_off = len(chunk_text(LONG, max_chars=max_chars))
        for nfe in (16,):
            t_off, t_ours, first, audio, n_ours = [], [], [], 0.0, 0
            off(nfe)
            list(engine.stream(SynthesisRequest(LONG, Reference(prepared, REF_TEXT), SynthesisOptions(nfe_step=nfe))))
            for _ in range(max(2, runs // 2)):
                t_off += timed(lambda nfe=nfe: off(nfe, text=LONG), 1)
                sync()
                start = time.perf_counter()
                got = 0.0
                n_ours = 0
                for chunk in engine.stream(
                    SynthesisRequest(LONG, Reference(prepared, REF_TEXT), SynthesisOptions(nfe_step=nfe, seed=1))
                ):
                    if n_ours == 0:
                        first.append(time.perf_counter() - start)
                    n_ours += 1
                    got += len(chunk.wave) / chunk.sample_rate
                sync()
                t_ours.append(time.perf_counter() - start)
                audio = got
            mo, mb, mf = statistics.median(t_off), statistics.median(t_ours), statistics.median(first)
            out.add(
                f"long text ({len(LONG)} chars, {audio:.0f} s of audio), NFE {nfe}",
                f"total: official {mo:.2f} s ({n_off} chunks in a thread pool), ours {mb:.2f} s ({n_ours} chunks, "
                f"batched) = {mo / mb:.2f}x; first audio: official {mo:.2f} s (at the end), ours {mf:.2f} s = "
                f"{mo / mf:.1f}x; official min/max {min(t_off):.2f}/{max(t_off):.2f}, ours "
                f"{min(t_ours):.2f}/{max(t_ours):.2f}",
                nfe=nfe,
                official=t_off,
                ours=t_ours,
                first=first,
                chunks_official=n_off,
                chunks_ours=n_ours,
                audio_s=audio,
            )

    def batching() -> None:  # 4 chunks: one generate_mels call each vs one batched call
        import soundfile as sf

        wave, _ = sf.read(str(ref), dtype="float32")
        ref_wave = torch.from_numpy(wave).unsqueeze(0).to(models.device)
        rms = float(torch.sqrt(torch.mean(torch.square(ref_wave))))
        if rms < 0.1:
            ref_wave = ref_wave * 0.1 / rms
        rt = ref_text_for_model(REF_TEXT)
        chunks = [TEXT[:60], TEXT[20:80], TEXT[40:110], TEXT[:90]]
        items = [
            Item(ref_wave, rt + c, frames_for(ref_wave.shape[-1], rt, c, 1.0), seed=i) for i, c in enumerate(chunks)
        ]
        with torch.inference_mode():
            one = timed(lambda: [generate_mels(models.tts, [it], 16, 2.0, -1.0) for it in items], runs)
            batched = timed(lambda: generate_mels(models.tts, items, 16, 2.0, -1.0), runs)
        out.add(
            "chunk batching, 4 chunks, NFE 16",
            f"one by one {statistics.median(one):.3f} s, batched "
            f"{statistics.median(batched):.3f} s = {statistics.median(one) / statistics.median(batched):.2f}x",
            one=one,
            batched=batched,
        )

    def bf16() -> None:  # a second engine on the same weights, cast to bf16, alternating with the first
        other = Engine(settings)
        other.load().tts.to(torch.bfloat16)
        for nfe in (7, 16):
            try:
                synth(other, TEXT, nfe)
                a, b = synth(engine, TEXT, nfe, seed=7).wave, synth(other, TEXT, nfe, seed=7).wave
                t_a = timed(lambda nfe=nfe: synth(engine, TEXT, nfe), runs)
                t_b = timed(lambda nfe=nfe: synth(other, TEXT, nfe), runs)
                n = min(len(a), len(b))
                diff = float(abs(a[:n] - b[:n]).max())
                ma, mb = statistics.median(t_a), statistics.median(t_b)
                out.add(
                    f"default dtype vs bf16, NFE {nfe}",
                    f"default {ma:.3f} s, bf16 {mb:.3f} s (default/bf16 "
                    f"{ma / mb:.2f}x); max abs diff {diff:.3g}, peak {float(abs(a).max()):.3g}",
                    default=t_a,
                    bf16=t_b,
                    max_abs=diff,
                )
            except Exception as e:
                out.add(f"default dtype vs bf16, NFE {nfe}", f"bf16 failed: {type(e).__name__}: {str(e)[:200]}")

    def throughput() -> None:  # own engines: a hung request must not poison the others' engine
        import dataclasses

        for label, batch in (("batched", settings.batch_size), ("batching off", 1)):
            eng = Engine(dataclasses.replace(settings, batch_size=batch))
            eng.load()
            short_audio = synth(eng, SHORT, 16).duration
            synth(eng, SHORT, 16)
            rate: dict[int, float] = {}
            for n in (1, 4, 8, 16) if batch != 1 else (1, 8):
                try:
                    concurrent(lambda k, eng=eng: synth(eng, SHORT, 16, seed=k), n)  # warm this batch shape
                    walls = []
                    for _ in range(runs):
                        wall, lat = concurrent(lambda k, eng=eng: synth(eng, SHORT, 16, seed=k), n)
                        walls.append(wall)
                except TimeoutError as e:
                    out.add(f"throughput ({label}), concurrency {n}, NFE 16", f"HUNG: {e}")
                    return
                wall = statistics.median(walls)
                rate[n] = n / wall
                gain = f"; {rate[n] / rate[1]:.2f}x concurrency 1" if n > 1 else ""
                out.add(
                    f"throughput ({label}), concurrency {n}, NFE 16",
                    f"{n / wall:.2f} requests/s, {n * short_audio / wall:.1f} s of audio per s{gain}; last run's "
                    f"latency median {statistics.median(lat):.2f} s, max {max(lat):.2f} s",
                    n=n,
                    walls=walls,
                    latencies=lat,
                    batch=batch,
                )

    def interfaces() -> None:
        """Throughput at concurrency 1, 4 and 8 through the launched app (`python app.py` on this GPU): gradio_client's
        /synthesize and the OpenAI client; then the serverless worker taking 1 and 4 jobs at once."""
        import asyncio
        import socket
        import subprocess
        import urllib.request

        from gradio_client import Client
        from openai import OpenAI

        from serverless.handler import Worker

        voices = Path(os.environ["VOICES_DIR"])
        voices.mkdir(parents=True, exist_ok=True)
        (voices / "bench.wav").write_bytes(ref.read_bytes())
        (voices / "bench.txt").write_text(REF_TEXT, encoding="utf-8")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = app_env(os.environ, port, model_name, device)
        log = open(Path(args.out) / "app.log", "wb")
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:  # /ping is 200 once the preloaded model is ready
                try:
                    with urllib.request.urlopen(f"{base}/ping", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the app did not get ready; see app.log")
                time.sleep(0.2)
            clients = [Client(base, verbose=False) for _ in range(8)]  # eight visitors, eight sessions
            oa = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0, timeout=120)

            def via_gradio(k: int) -> None:
                clients[k].predict(None, "", SHORT, k, nfe_step=16, voice="bench", api_name="/synthesize")

            def via_openai(k: int) -> None:
                oa.audio.speech.create(
                    model="tts-1",
                    voice="bench",
                    input=SHORT,
                    response_format="pcm",
                    extra_body={"nfe_step": 16, "seed": k},
                ).read()

            for name, call in (("gradio_client", via_gradio), ("openai", via_openai)):
                call(0)
                rate: dict[int, float] = {}
                for n in (1, 4, 8):
                    concurrent(call, n, timeout=120)  # warm this shape
                    walls = [concurrent(call, n, timeout=120)[0] for _ in range(max(2, runs // 2))]
                    rate[n] = n / statistics.median(walls)
                    gain = f"; {rate[n] / rate[1]:.2f}x concurrency 1" if n > 1 else ""
                    out.add(
                        f"through {name}, concurrency {n}, NFE 16",
                        f"{rate[n]:.2f} requests/s{gain}",
                        n=n,
                        walls=walls,
                        interface=name,
                    )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
        worker = Worker(Studio(engine))

        async def jobs(n: int) -> float:
            start = time.perf_counter()
            results = await asyncio.gather(
                *(
                    worker.handler(
                        {
                            "id": str(k),
                            "input": {
                                "text": SHORT,
                                "ref_audio_base64": base64_ref,
                                "ref_text": REF_TEXT,
                                "nfe_step": 16,
                                "seed": k,
                            },
                        }
                    )
                    for k in range(n)
                )
            )
            assert all("audio_base64" in r for r in results), results[0]
            return time.perf_counter() - start

        import base64

        base64_ref = base64.b64encode(ref.read_bytes()).decode()
        asyncio.run(jobs(4))
        one = statistics.median(asyncio.run(jobs(1)) for _ in range(2))
        four = statistics.median(asyncio.run(jobs(4)) for _ in range(2))
        out.add(
            "serverless worker, 4 jobs at once vs 1, NFE 16",
            f"1 job {one:.2f} s, 4 jobs {four:.2f} s: {4 * one / four:.2f}x the throughput of one",
            one=one,
            four=four,
        )

    def loads() -> None:
        """Model load, weights on disk (page cache) to ready, imports and CUDA init excluded: official load_model +
        load_vocoder against our engine's load, alternating, each time a fresh copy."""
        _, official_load = official_api()
        t_off: list[float] = []
        t_ours: list[float] = []
        for _ in range(3):
            start = time.perf_counter()
            pair = official_load()
            sync()
            t_off.append(time.perf_counter() - start)
            del pair
            start = time.perf_counter()
            fresh = Engine(settings)
            fresh.load()
            sync()
            t_ours.append(time.perf_counter() - start)
            del fresh
            if device == "cuda":
                torch.cuda.empty_cache()
        mo, mb = statistics.median(t_off), statistics.median(t_ours)
        out.add(
            "model load, official vs ours",
            f"official {mo:.2f} s, ours {mb:.2f} s = {mo / mb:.2f}x (official "
            f"min/max {min(t_off):.2f}/{max(t_off):.2f}, ours {min(t_ours):.2f}/{max(t_ours):.2f})",
            official=t_off,
            ours=t_ours,
        )

    def compile_engine() -> None:
        """F5_COMPILE=1 through the engine. Two fresh processes first (bench/compile_cache.py), on an empty compile
        cache and then on the cache it left: each answers at once (eager) and is compiled in the background; the
        figure is how long after answering. Then, in this process (on that cache): RTF, and other text lengths and
        batch sizes, none of which may compile again."""
        from bench.compile_cache import start as start_process

        cache = Path(tempfile.mkdtemp(prefix="bench-compile-cache-"))
        env = {**os.environ, "F5_MODEL": model_name, "F5_DEVICE": device}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")]))
        for label in ("empty cache", "warm cache"):
            r = start_process(cache, env, timeout=540)
            out.add(
                f"F5_COMPILE start, {label}",
                f"answered after {r['answered_s']:.1f} s ({r['answered_while']}), compiled "
                f"{r['compiled_s'] - r['answered_s']:.1f} s after answering; graphs compiled {r['misses']}, "
                f"from the cache {r['hits']}; new lengths compiled {r['new_length_compiles']}; compiled/eager "
                f"per chunk {r['compiled_over_eager']:.2f}",
                **r,
            )
        eng = Engine(settings.replace(compile=True, compile_cache=cache))
        start = time.perf_counter()
        eng.load()
        assert eng.compilation is not None
        state = eng.compilation.wait(540)
        out.add("F5_COMPILE load", f"{time.perf_counter() - start:.1f} s to {state} (load, then the warm cache)")
        firsts = []
        for text in (TEXT, SHORT, TEXT[:70], LONG[:400]):
            start = time.perf_counter()
            synth(eng, text, 16)
            firsts.append(round(time.perf_counter() - start, 3))
        out.add(
            "F5_COMPILE first calls, 4 text lengths, NFE 16",
            f"{firsts} s (a recompile would take a minute)",
            firsts=firsts,
        )
        for nfe in (7, 16, 32):
            t = timed(lambda nfe=nfe: synth(eng, TEXT, nfe), runs)
            out.add(
                f"F5_COMPILE RTF NFE {nfe}",
                f"median {statistics.median(t):.3f} s = RTF "
                f"{statistics.median(t) / audio_s:.4f} (min {min(t):.3f}, max {max(t):.3f})",
                nfe=nfe,
                seconds=t,
            )
        wall, lat = concurrent(lambda k: synth(eng, SHORT, 16, seed=k), 8, timeout=120)
        out.add(
            "F5_COMPILE throughput, concurrency 8, NFE 16",
            f"{8 / wall:.2f} requests/s (first batched call, latency max {max(lat):.2f} s)",
            wall=wall,
            latencies=lat,
        )
        wall, lat = concurrent(lambda k: synth(eng, SHORT, 16, seed=k), 8, timeout=120)
        out.add(
            "F5_COMPILE throughput, concurrency 8, NFE 16, again",
            f"{8 / wall:.2f} requests/s, latency max {max(lat):.2f} s",
            wall=wall,
            latencies=lat,
        )

    def compiled() -> None:  # last: it changes the engine's model
        eager = timed(lambda: synth(engine, TEXT, 16), runs)
        models.tts.transformer = torch.compile(models.tts.transformer)
        start = time.perf_counter()
        synth(engine, TEXT, 16)
        first = time.perf_counter() - start
        comp = timed(lambda: synth(engine, TEXT, 16), runs)
        out.add(
            "torch.compile, NFE 16",
            f"eager {statistics.median(eager):.3f} s, compiled "
            f"{statistics.median(comp):.3f} s (= {statistics.median(eager) / statistics.median(comp):.2f}x); "
            f"first compiled call {first:.1f} s",
            eager=eager,
            compiled=comp,
            first=first,
        )
        # What a server would meet: other text lengths. Each new shape may recompile (dynamic shapes after the 2nd).
        for label, text in (("2nd length", SHORT), ("3rd length", TEXT[:70]), ("4th length", TEXT[:40])):
            start = time.perf_counter()
            synth(engine, text, 16)
            new_shape = time.perf_counter() - start
            again = timed(lambda text=text: synth(engine, text, 16), 2)
            out.add(
                f"torch.compile, {label} ({len(text)} chars)",
                f"first call {new_shape:.1f} s, then {statistics.median(again):.3f} s",
                first=new_shape,
                again=again,
            )

    def cudagraphs() -> None:  # after "compile": it changes the engine's model too
        """F5_COMPILE_MODE: torch.compile's default mode against reduce-overhead (CUDA graphs), NFE 16, one request
        alone and 8 at once (batched), each after its own compilation and a call per shape."""
        base = getattr(models.tts.transformer, "_orig_mod", models.tts.transformer)
        for mode in ("default", "reduce-overhead"):
            models.tts.transformer = torch.compile(base, dynamic=True, mode=mode)
            start = time.perf_counter()
            synth(engine, TEXT, 16)
            concurrent(lambda k: synth(engine, SHORT, 16, seed=k), 8, timeout=900)
            compile_s = time.perf_counter() - start
            one = timed(lambda: synth(engine, TEXT, 16), runs)
            wall, lat = concurrent(lambda k: synth(engine, SHORT, 16, seed=k), 8, timeout=600)
            out.add(
                f"torch.compile mode={mode}, NFE 16",
                f"alone {statistics.median(one):.3f} s; 8 at once {wall:.2f} s wall, median latency "
                f"{statistics.median(lat):.3f} s; compiling and first calls {compile_s:.0f} s",
                alone=one,
                wall8=wall,
                latencies8=lat,
            )
        models.tts.transformer = base

    sections = {
        "rtf": rtf,
        "official": official,
        "load": loads,
        "batching": batching,
        "bf16": bf16,
        "throughput": throughput,
        "interfaces": interfaces,
        "compile_engine": compile_engine,
        "compile": compiled,
        "cudagraphs": cudagraphs,
    }
    assert set(sections) == set(SECTIONS)
    for name in SECTIONS:
        section = sections[name]
        if name not in only:
            continue
        if args.tiny and name in ("compile", "cudagraphs"):
            out.add(name, "skipped in --tiny")
            continue
        try:
            section()
        except Exception as e:  # one failed figure must not cost the others
            out.add(name, f"failed: {type(e).__name__}: {str(e)[:300]}")
        if device == "cuda":
            torch.cuda.empty_cache()
    print(out.md.read_text())
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # do not wait for threads a hung request left behind
