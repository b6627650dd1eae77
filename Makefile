# make run       - set up (first time) and serve the studio on http://127.0.0.1:7860
# make test      - set up (first time) and run every test
# make test-fast - the unit tests alone (no launched app, browser, container or load test): the edit-test loop
# make lint      - ruff (lint and format), mypy, shellcheck, hadolint
# make bench     - side-by-side benchmark against the official f5_tts pipeline
# make image     - build the Docker image with podman or docker, whichever is present (deploy/README.md)

PY      := .venv/bin/python
# Debian packages. Running needs ffmpeg (audio decoding) alone; the tests add chromium (browser tests), espeak-ng
# and sox (test speech), shellcheck (lint), podman, buildah, runc and debootstrap (the container tests).
RUN_APT  := ffmpeg
TEST_APT := chromium espeak-ng sox shellcheck podman buildah runc debootstrap
RUN_STAMP  := .venv/.installed-run
TEST_STAMP := .venv/.installed-test

.PHONY: run test test-fast lint bench audit system system-test install install-test clean image

run: install
	$(PY) app.py $(ARGS)

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install-test
	$(PY) -m pytest -m "not e2e and not browser and not slow and not container" $(PYTEST_ARGS)

lint: install-test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	shellcheck .ci/run deploy/*.sh bench/*.sh
	.venv/bin/hadolint Dockerfile

audit: install-test
	$(PY) tools/audit.py

bench: install-test
	$(PY) -m bench $(ARGS)

# The image (deploy/README.md). IMAGE_ARGS adds build flags, e.g. IMAGE_ARGS="--build-arg BAKE_WEIGHTS=1".
# podman: chroot isolation and the host network build where crun/runc cannot (see deploy/README.md);
# --format docker keeps the HEALTHCHECK. No registry here? First: sudo deploy/standin_base.sh
IMAGE ?= f5-studio
IMAGE_ARGS ?=
image:
	@if command -v podman >/dev/null 2>&1; then \
	  podman build --isolation=chroot --network host --format docker --pull=missing $(IMAGE_ARGS) -t $(IMAGE) .; \
	elif command -v docker >/dev/null 2>&1; then \
	  docker build $(IMAGE_ARGS) -t $(IMAGE) .; \
	else echo "make image needs podman or docker: apt-get install podman buildah runc, or install Docker" >&2; exit 1; fi

# Installs whichever of APT_PKGS is missing (apt-get; sudo unless root). Without dpkg (macOS, other Linux) it only
# names the commands that are missing: install them with your package manager (README: Requirements).
APT_PKGS ?= $(RUN_APT)
system:
	@if ! command -v dpkg >/dev/null 2>&1; then \
	  for p in $(APT_PKGS); do command -v $$p >/dev/null 2>&1 || echo "not found: $$p (install it with your package manager)"; done; \
	  exit 0; \
	fi; \
	missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

system-test:
	@$(MAKE) --no-print-directory system APT_PKGS="$(RUN_APT) $(TEST_APT)"

# What running needs: ffmpeg, requirements.txt and the project itself, editable (`f5-studio` on the PATH).
$(RUN_STAMP): requirements.txt pyproject.toml
	@$(MAKE) --no-print-directory system
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# resemblyzer 0.1.4 asks for webrtcvad (sdist) and typing; webrtcvad-wheels (requirements.txt) provides the module
	$(PY) -m pip install -q --no-deps resemblyzer==0.1.4
	$(PY) -m pip install -q --no-deps -e .
	touch $(RUN_STAMP)

# What the tests, lint, audit and benchmarks add: the test packages, the dev tools and the serverless worker.
$(TEST_STAMP): $(RUN_STAMP) requirements-dev.txt requirements-serverless.txt
	@$(MAKE) --no-print-directory system-test
	$(PY) -m pip install -q -r requirements-dev.txt -r requirements-serverless.txt
	# runpod 1.12.0 wants tomlkit>=0.15.1, gradio wants <0.15: see requirements-serverless.txt
	$(PY) -m pip install -q --no-deps runpod==1.12.0
	touch $(TEST_STAMP)

install: $(RUN_STAMP)

install-test: $(TEST_STAMP)

clean:
	rm -rf .venv .pytest_cache
