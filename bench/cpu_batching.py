"""Does batching chunks into one forward pass pay on this CPU? Four chunk-sized items (a 2.45 s reference, one
sentence each) generated one by one and then as one batch, on the full-size random weights, alternating.

    python -m bench.cpu_batching [--nfe 4] [--runs 2]

Prints wall and CPU time per side, the ratio, and how far the batched output is from the one-by-one output (padding
and masking change the float rounding, not the result's meaning). The engine's auto batch size (1 on CPU, 8 on CUDA)
rests on this figure and on bench/gpu.py's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench.weights import REPO, ensure

TEXTS = [
    "The cat sat on the mat today.",
    "It was a sunny day outside.",
    "Birds sang in the old tree.",
    "Then it rained for an hour.",
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nfe", type=int, default=4)
    p.add_argument("--runs", type=int, default=2)
    args = p.parse_args(argv)
    sys.path.insert(0, str(REPO))
    built = ensure()
    import torch

    from bench.common import reference
    from inference import Engine, EngineSettings
    from inference.model.sampling import Item, frames_for, generate_mels, ref_text_for_model

    engine = Engine(
        EngineSettings.from_env(
            model=str(built["yaml"]),
            ckpt=str(built["ckpt"]),
            vocab=str(built["vocab"]),
            vocoder=str(built["vocoder"]),
            device="cpu",
        )
    )
    models = engine.load()
    ref_file, ref_text = reference(True)
    _, prepared = engine.prepare(ref_file)
    ref = torch.from_numpy(prepared.wave).unsqueeze(0)
    rt = ref_text_for_model(ref_text)
    items = [Item(ref, rt + t, frames_for(ref.shape[-1], rt, t, 1.0), seed=i) for i, t in enumerate(TEXTS)]
    one: list[float] = []
    batched: list[float] = []
    cpu_one: list[float] = []
    cpu_batched: list[float] = []
    with torch.inference_mode():
        generate_mels(models.tts, items[:1], args.nfe, 2.0, -1.0)  # warm-up: pages the weights in
        for _ in range(args.runs):
            t, c = time.perf_counter(), time.process_time()
            single = [generate_mels(models.tts, [it], args.nfe, 2.0, -1.0)[0] for it in items]
            one.append(time.perf_counter() - t)
            cpu_one.append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            together = generate_mels(models.tts, items, args.nfe, 2.0, -1.0)
            batched.append(time.perf_counter() - t)
            cpu_batched.append(time.process_time() - c)
    diff = max(float((a - b).abs().max()) for a, b in zip(single, together, strict=True))
    peak = max(float(a.abs().max()) for a in single)
    mo, mb = statistics.median(one), statistics.median(batched)
    co, cb = statistics.median(cpu_one), statistics.median(cpu_batched)
    print(
        f"4 chunks ({[it.frames for it in items]} frames), NFE {args.nfe}, {torch.get_num_threads()} threads, "
        f"{args.runs} runs per side"
    )
    print(f"one by one: wall {mo:.2f} s (min {min(one):.2f}, max {max(one):.2f}), CPU {co:.2f} s")
    print(f"batched:    wall {mb:.2f} s (min {min(batched):.2f}, max {max(batched):.2f}), CPU {cb:.2f} s")
    print(f"one by one / batched: wall {mo / mb:.2f}x, CPU {co / cb:.2f}x")
    print(f"batched vs one by one mel: max abs difference {diff:.3g} (mel peak {peak:.3g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
