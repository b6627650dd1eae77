#!/usr/bin/env bash
# Fetch, here, the wheels bench/gpu.sh needs on a GPU machine that has torch but no network and none of the
# packages below (the device image: Python 3.12 with torch, torchaudio, transformers, numpy, scipy, numba...).
#
#   bash bench/gpu_wheels.sh [DIR] [PYTHON_VERSION]     # defaults: .whl 3.12
#
# Then carry DIR to that machine and run `bash bench/gpu.sh`: it installs them with --no-index into /tmp/bench-site.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-.whl}"
PYV="${2:-3.12}"
PIP="${PIP:-.venv/bin/python -m pip}"
mkdir -p "$DIR"
# The versions this project pins or resolves (requirements.txt and its dependencies), less what the image has.
PKGS=(f5-tts==1.1.22 vocos==0.1.0 encodec==0.1.1 einx==0.4.3 frozendict==2.5.1 x-transformers==2.31.10
      torch-einops-utils==0.2.0 soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 pypinyin==0.55.0 rjieba==0.2.2
      librosa==0.11.0 soxr==1.1.0 audioread==3.1.0 decorator==5.3.1 pooch==1.9.0 platformdirs==4.14.8 loguru==0.7.3
      pydub==0.25.1
      # the text front end every request meets (inference/text: num2words at import, wetext's prebuilt grammars)
      num2words==0.5.14 docopt==0.6.2 wetext==0.1.8 kaldifst==1.8.3 contractions==0.1.73 textsearch==0.0.24
      anyascii==0.3.3 pyahocorasick==2.3.1 srt==3.5.3 webvtt-py==0.6.0
      # the per-chunk check's WER and its normalizer (inference/check.py)
      jiwer==4.0.0 rapidfuzz==3.14.6 whisper-normalizer==0.1.15 indic-numtowords==1.1.0 more-itertools==11.2.1
      text2num==3.1.0)
plat=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  plat+=(--platform "$p")
done
for pkg in "${PKGS[@]}"; do
  if ! $PIP download -q --no-deps --only-binary=:all: --python-version "$PYV" --implementation cp "${plat[@]}" \
      -d "$DIR" "$pkg" 2>/dev/null; then
    echo "no wheel for $pkg: building one (pure Python packages only)"
    $PIP wheel -q --no-deps -w "$DIR" "$pkg"
  fi
done
# The serving stack for the "interfaces" figure (the launched app, gradio_client, the OpenAI client, the serverless
# worker), with its dependencies resolved for that Python; what the device image already has is dropped again.
# huggingface_hub is pinned to the device image's own 1.33.0 (this project's pin too): left free, gradio resolves 2.x,
# which shadows the image's copy and makes its transformers refuse to import (the official pipeline's section).
SERVING=("gradio[mcp]==6.31.0" gradio_client==2.7.2 openai==3.57.0 prometheus_client==0.26.0 huggingface_hub==1.33.0)
if ! $PIP download -q --only-binary=:all: --python-version "$PYV" --implementation cp "${plat[@]}" -d "$DIR" \
    "${SERVING[@]}"; then
  echo "could not fetch the serving stack: the interfaces figure will report that it could not run" >&2
fi
# what the device image already has (KINDS.md of the device tool lists it): its own copies are used
rm -f "$DIR"/numpy-*.whl "$DIR"/torch-*.whl "$DIR"/nvidia_*.whl "$DIR"/triton-*.whl "$DIR"/huggingface_hub-*.whl
for w in "$DIR"/*.whl; do
  case "$w" in
    *-none-any.whl | *-cp"${PYV/./}"-* | *-abi3-* | *-none-manylinux*) ;;
    *) echo "$w does not fit Python $PYV" >&2; exit 1 ;;
  esac
done
ls "$DIR"
du -sh "$DIR"
