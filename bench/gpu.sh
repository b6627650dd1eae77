#!/usr/bin/env bash
# GPU figures on a lent H100/H200, in under 8 minutes: RTF at 7/16/32 NFE, fp16 vs bf16, torch.compile on/off,
# chunk batching, throughput at concurrency 1/4/16, on full-size random weights built on the machine.
#
#   bash bench/gpu.sh            # from the repository root; results in $OUT (if set) or bench/.cache/gpu
#
# Needs the repo tree and a Python with pip. Installs requirements.txt only when torch/f5_tts are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
OUT_DIR="${OUT:-bench/.cache/gpu}"
mkdir -p "$OUT_DIR"
START=$(date +%s)
log() { echo "[gpu.sh $(( $(date +%s) - START ))s] $*" | tee -a "$OUT_DIR/gpu.log"; }

log "python: $($PY --version 2>&1)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$OUT_DIR/gpu.log" || true

if ! "$PY" -c "import torch, f5_tts, vocos, yaml, soundfile" 2>/dev/null; then
  log "installing requirements.txt"
  timeout 240 "$PY" -m pip install -q -r requirements.txt 2>&1 | tail -5 | tee -a "$OUT_DIR/gpu.log" \
    || log "pip install failed (offline?): continuing with what is installed"
fi
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT_DIR/gpu.log"

export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

log "building full-size random weights (once)"
timeout 150 "$PY" -m bench.weights 2>&1 | tail -3 | tee -a "$OUT_DIR/gpu.log"

ELAPSED=$(( $(date +%s) - START ))
LEFT=$(( 470 - ELAPSED ))
if [ "$LEFT" -lt 60 ]; then
  log "only ${LEFT}s left of the 8-minute budget: stopping before the measurements"
  exit 1
fi
log "measuring (limit ${LEFT}s)"
set +e
timeout "$LEFT" "$PY" -m bench.gpu --out "$OUT_DIR" 2>&1 | tee -a "$OUT_DIR/gpu.log"
rc=${PIPESTATUS[0]}
set -e
log "done (exit $rc); results: $OUT_DIR/gpu_results.md and gpu_results.jsonl"
exit "$rc"
