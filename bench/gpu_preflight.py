"""What bench/gpu.sh checks before it spends GPU time: each section's imports, in the environment it runs in.

python bench/gpu_preflight.py   # exit 0 when all import; else 1, naming each section and module that failed
"""

from __future__ import annotations

import importlib
import sys

MODEL_CODE = "f5_tts model code (import_model_code)"

SECTIONS: dict[str, tuple[str, ...]] = {
    # f5_tts's model code as the engine imports it (inference.model.loader.import_model_code: not through
    # f5_tts.model/__init__, whose trainer imports wandb and datasets); then what a request imports lazily
    "engine (rtf, batching, bf16, throughput, compile)": (
        "torch",
        "torchaudio",
        "vocos",
        "soundfile",
        "inference",
        MODEL_CODE,
        "wetext",
        "jiwer",
        "whisper_normalizer.english",
    ),
    "official pipeline": (MODEL_CODE, "f5_tts.infer.utils_infer", "transformers"),
    "interfaces (the launched app, gradio_client, openai, serverless)": (
        "starlette",
        "fastapi",
        "gradio",
        "gradio_client",
        "openai",
        "prometheus_client",
        "app",
        "serverless.handler",
    ),
}


def main() -> int:
    failed = 0
    for section, modules in SECTIONS.items():
        for name in modules:
            try:
                if name == MODEL_CODE:
                    from inference.model.loader import import_model_code

                    import_model_code()
                else:
                    importlib.import_module(name)
            except Exception as e:  # any failure to import is what this reports
                failed += 1
                print(f"preflight: {section}: import {name} failed: {type(e).__name__}: {e}")
    print("preflight: every section's imports work" if not failed else f"preflight: {failed} imports failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
