# F5-TTS voice studio: Gradio UI + REST API on port 7860.
#
#   docker build -t you/f5-studio .
#   docker build -t you/f5-studio --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu130 .
#   docker build -t you/f5-studio:baked --build-arg BAKE_WEIGHTS=1 .
#
# No model weights are in the image by default: deploy/entrypoint.sh points HF_HOME and VOICES_DIR
# at the mounted volume (/workspace on RunPod pods), where the weights are downloaded once.
# See deploy/README.md.
FROM python:3.11-slim-bookworm

# ffmpeg decodes uploaded reference audio (mp3, m4a, ...).
# Not version-pinned: Debian's security updates replace old versions, so pins break rebuilds.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg \
    && rm -rf /var/lib/apt/lists/*

# PYTHONPATH: `python serverless/handler.py`, a script in a subfolder, imports the packages from /app.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    PYTHONPATH=/app

WORKDIR /app

# The CUDA build of torch comes from PyTorch's own index. cu128 (CUDA 12.8) runs on the CUDA 12
# drivers common on RunPod hosts; PyPI's torch 2.11.0 is a CUDA 13 build that needs driver >= 580.
# Another build: e.g. .../whl/cu130 (CUDA 13) or .../whl/cpu (small CPU-only image).
# Keep these versions equal to the pins in requirements.txt (tests/test_deploy.py checks it).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128
RUN pip install --no-cache-dir --index-url "${TORCH_INDEX_URL}" torch==2.11.0 torchaudio==2.11.0

# Dependencies before the code, so editing the code does not reinstall them.
# torch/torchaudio are already satisfied by the step above (a +cu128 build matches ==2.11.0).
COPY requirements.txt requirements-serverless.txt ./
# The same image serves the pod (python app.py) and the serverless worker (python serverless/handler.py).
# runpod 1.12.0 asks for tomlkit>=0.15.1 while gradio needs <0.15; runpod's worker never uses tomlkit,
# so it is installed without its declared dependencies (listed in requirements-serverless.txt). So is resemblyzer:
# it asks for webrtcvad (an sdist) and the typing backport; webrtcvad-wheels in requirements.txt provides the module.
RUN pip install --no-cache-dir -r requirements.txt -r requirements-serverless.txt \
 && pip install --no-cache-dir --no-deps runpod==1.12.0 resemblyzer==0.1.4

# Only what runs in the container: no tests, benchmarks, docs or tools (.dockerignore keeps caches,
# weights and secrets out of the build context as well). Python code only changes the layers from here on.
COPY pyproject.toml app.py ./
COPY inference/ inference/
COPY ui/ ui/
COPY api/ api/
COPY serverless/ serverless/
COPY --chmod=0755 deploy/entrypoint.sh deploy/entrypoint.sh

# BAKE_WEIGHTS=1 downloads the weights into the image (/opt/hf, several GB) so a pod starts without
# downloading; the entrypoint uses them when HF_HOME is unset and the volume has none of its own.
# HF_ENDPOINT: the hub to download from (a mirror, for instance). Declared here so changing them does
# not invalidate the dependency layers above. Note that with BAKE_WEIGHTS=1 any change to the code
# re-runs the download (it needs the code, so it comes after it).
ARG BAKE_WEIGHTS=0
ARG HF_ENDPOINT=https://huggingface.co
RUN case "${BAKE_WEIGHTS}" in \
        0) echo "BAKE_WEIGHTS=0: no weights in the image; they are downloaded to the volume" ;; \
        1) HF_HOME=/opt/hf python app.py download ;; \
        *) echo "BAKE_WEIGHTS must be 0 or 1, got '${BAKE_WEIGHTS}'" >&2; exit 1 ;; \
    esac

# Runs as root on purpose: RunPod mounts the volume (/workspace, /runpod-volume) owned by root, and
# a non-root user could not create HF_HOME and VOICES_DIR there without a root chown at start.
# The container is the isolation boundary on a pod; the app itself needs no privileges.

EXPOSE 7860

# Python instead of curl keeps curl out of the image. /health must answer without loading the
# model; the start period covers imports and a slow first start from a network volume. It asks the
# port the studio listens on (GRADIO_SERVER_PORT, 7860 by default). The serverless worker
# (python serverless/handler.py) serves no /health: RunPod serverless does not run Docker health checks.
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; e = os.environ.get; urllib.request.urlopen('http://127.0.0.1:%s/health' % (e('PORT_HEALTH') or e('PORT') or e('GRADIO_SERVER_PORT', '7860')), timeout=5)"]

ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["python", "app.py"]
