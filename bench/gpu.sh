#!/usr/bin/env bash
# GPU figures on a lent H100/H200, in under 8 minutes: RTF at 7/16/32 NFE, fp16 vs bf16, torch.compile on/off,
# chunk batching, throughput at concurrency 1/4/16, on full-size random weights built on the machine.
#
#   bash bench/gpu.sh            # from the repository root; results in $OUT (if set) or bench/.cache/gpu
#   bash bench/gpu.sh --tiny     # a CPU smoke test of this script on tiny random weights
#
# Needs the repo tree and a Python with torch. What else is missing is installed from wheels in $WHEELS (default
# .whl/, for a machine with no network: see bench/README.md), else from requirements.txt with pip.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
OUT_DIR="${OUT:-bench/.cache/gpu}"
mkdir -p "$OUT_DIR"
START=$(date +%s)
log() { echo "[gpu.sh $(( $(date +%s) - START ))s] $*" | tee -a "$OUT_DIR/gpu.log"; }

log "python: $($PY --version 2>&1)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$OUT_DIR/gpu.log" || true

WHEELS="${WHEELS:-.whl}"
if ! "$PY" -c "import torch, f5_tts, vocos, yaml, soundfile" 2>/dev/null && compgen -G "$WHEELS/*.whl" >/dev/null; then
  wheels=("$WHEELS"/*.whl)
  log "installing ${#wheels[@]} wheels from $WHEELS into /tmp/bench-site (no network needed)"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/bench-site \
    "$WHEELS"/*.whl 2>&1 | tail -5 | tee -a "$OUT_DIR/gpu.log"
  export PYTHONPATH="/tmp/bench-site${PYTHONPATH:+:$PYTHONPATH}"
fi
if ! "$PY" -c "import torch, f5_tts, vocos, yaml, soundfile" 2>/dev/null; then
  log "installing requirements.txt"
  timeout 240 "$PY" -m pip install -q -r requirements.txt 2>&1 | tail -5 | tee -a "$OUT_DIR/gpu.log" \
    || log "pip install failed (offline?): continuing with what is installed"
fi
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$OUT_DIR/gpu.log"

# The mark (inference/audio/watermark.py) runs on the CPU, and its network (resemble-perth, 34 MB) would double the
# carried wheels: without it the figures here are of unmarked outputs, and bench/watermark_cost.py gives its cost.
if ! "$PY" -c "import perth" 2>/dev/null; then
  log "resemble-perth not installed: F5_WATERMARK=0 (outputs unmarked; the mark's cost: bench/watermark_cost.py)"
  export F5_WATERMARK=0
fi
export HF_HUB_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

# Before any GPU time is spent: every import each section needs, in the environment it runs in (the app is
# launched with this PYTHONPATH too). A section whose imports fail is named here, not 5 minutes in.
log "checking imports"
if ! "$PY" bench/gpu_preflight.py 2>&1 | tee -a "$OUT_DIR/gpu.log"; then
  log "imports missing (above): fix the carried wheels (bench/gpu_wheels.sh) before spending GPU time"
  exit 3
fi

if [ "${1:-}" != "--tiny" ]; then
  log "building full-size random weights (once)"
  timeout 150 "$PY" -m bench.weights 2>&1 | tail -3 | tee -a "$OUT_DIR/gpu.log"
fi

ELAPSED=$(( $(date +%s) - START ))
LEFT=$(( ${GPU_BUDGET:-470} - ELAPSED ))  # GPU_BUDGET: seconds for the whole script (default 8 min less margin)
if [ "$LEFT" -lt 60 ]; then
  log "only ${LEFT}s left of the 8-minute budget: stopping before the measurements"
  exit 1
fi
log "measuring (limit ${LEFT}s)"
set +e
timeout "$LEFT" "$PY" -m bench.gpu --out "$OUT_DIR" "$@" 2>&1 | tee -a "$OUT_DIR/gpu.log"
rc=${PIPESTATUS[0]}
set -e
log "done (exit $rc); results: $OUT_DIR/gpu_results.md and gpu_results.jsonl"
exit "$rc"
