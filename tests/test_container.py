"""The container, built from the project's Dockerfile and run for real, the way RunPod runs it (marker `container`).

One image is built per session with podman (its layer cache makes later sessions quick) and most tests run it:
pod mode with a volume at /workspace, the faults the entrypoint promises to report, the serverless worker with a
volume at /runpod-volume and RunPod's model cache, and an image with baked weights. The volumes hold random-weight
models written by inference/model/random_weights.py in the layouts production reads, and every container runs offline
(HF_HUB_OFFLINE=1): nothing comes from the Hugging Face Hub.

How this machine kind builds and runs containers (see deploy/README.md, "Building without a registry"):
- Base image: a STAND-IN. No container registry is reachable here, so the official python:3.11-slim-bookworm cannot
  be pulled; deploy/standin_base.sh builds a look-alike from Debian packages under that tag (set-up below does it
  when it is missing) and builds use --pull=never. The Dockerfile itself is written for the official image.
- torch: PyTorch's cu128 index is not reachable either; the build takes PyPI's torch 2.11.0 (a CUDA 13 build that
  runs on the CPU) through the TORCH_INDEX_URL build argument.
- podman build --isolation=chroot --network host --format docker: crun refuses the host's hybrid cgroups and runc
  cannot set rlimits inside a build; --format docker keeps HEALTHCHECK.
- podman --runtime runc run --network host, with the open-files limit set to this process's own: podman's default
  (1048576) is above what this host lets a process raise it to, and podman 4.3 ignores `--ulimit host`.

Measured figures (build times, layers, start to /health, stop time) and the fault table are printed at the end.
"""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from inference.model.random_weights import F5_CKPT, F5_REPO, F5_VOCAB, VOCOS_REPO, hub_snapshot
from tests.conftest import REF_TEXT
from tests.live import free_port

pytestmark = [pytest.mark.container, pytest.mark.timeout(2400)]  # the first test waits for the cold build

REPO = Path(__file__).resolve().parents[1]
IMAGE = "localhost/f5-studio:test"  # kept between sessions: it anchors the layer cache
BAKED = "localhost/f5-studio:test-baked"
EDITED = "localhost/f5-studio:test-edited"
BUILD = [
    "build",
    "--isolation=chroot",
    "--network",
    "host",
    "--format",
    "docker",
    "--pull=never",
    "--build-arg",
    "TORCH_INDEX_URL=https://pypi.org/simple",
]
FAST = {"nfe_step": 7}  # the Fast preset: the models are random anyway
OFFLINE = {"HF_HUB_OFFLINE": "1"}
REPORT: dict[str, object] = {}
FAULTS: list[tuple[str, int | str, str]] = []  # (case, exit status, what it printed)


# ---- podman --------------------------------------------------------------------------------------------------------
def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(
            f"podman {' '.join(args[:3])} ... failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def run_flags() -> list[str]:
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 1048576)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 32768)
    return [
        "--runtime",
        "runc",
        "run",
        "--network",
        "host",
        "--ulimit",
        f"nofile={nofile}:{nofile}",
        "--ulimit",
        f"nproc={nproc}:{nproc}",
    ]


def _podman() -> str:
    found = shutil.which("podman")
    if found is None:
        pytest.fail(
            "podman is not installed: `make test` installs it (apt-get install podman buildah runc "
            "debootstrap), or deselect these tests with -m 'not container'."
        )
    if os.geteuid() != 0:
        pytest.fail(
            "the container tests run podman and debootstrap as root (as CI does): run them as root, or "
            "deselect them with -m 'not container'."
        )
    return found


PODMAN = shutil.which("podman") or "podman"


@dataclass
class Box:
    """A running container, reachable on 127.0.0.1:port (host network)."""

    name: str
    port: int
    started: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        proc = podman("logs", self.name, check=False)
        return proc.stdout + proc.stderr

    def running(self) -> bool:
        return podman("inspect", "--format", "{{.State.Running}}", self.name, check=False).stdout.strip() == "true"

    def wait_http(self, path: str = "/health", timeout: float = 120) -> float:
        """Seconds from `podman run` to the first 200 on `path`; fails with the log if the container stops."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as r:
                    if r.status == 200:
                        return time.perf_counter() - self.started
            except (OSError, urllib.error.URLError):
                pass
            if not self.running():
                pytest.fail(f"container {self.name} stopped before serving {path}:\n{self.logs()[-4000:]}")
            time.sleep(0.1)
        pytest.fail(f"{self.url}{path} did not answer within {timeout} s:\n{self.logs()[-4000:]}")

    def stop(self) -> tuple[float, int]:
        """SIGTERM, as `docker stop` and RunPod send it; returns (seconds until it exited, exit status)."""
        start = time.perf_counter()
        podman("kill", "--signal", "TERM", self.name)
        status = int(podman("wait", self.name, timeout=60).stdout.strip().splitlines()[-1])
        return time.perf_counter() - start, status


@contextmanager
def container(
    image: str = IMAGE,
    *command: str,
    env: dict[str, str] | None = None,
    volumes: dict[Path, str] | None = None,
    name: str = "studio",
    port: int | None = None,
) -> Iterator[Box]:
    """`podman run -d` the image (its entrypoint, then `command` or its CMD); removed afterwards. The studio
    listens on `port` (GRADIO_SERVER_PORT; a free one by default)."""
    port = port or free_port()
    box = Box(f"f5-test-{name}-{os.getpid()}-{port}", port, time.perf_counter())
    args = [*run_flags(), "-d", "--name", box.name, "-e", f"GRADIO_SERVER_PORT={port}"]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    for host, target in (volumes or {}).items():
        args += ["-v", f"{host}:{target}"]
    box.started = time.perf_counter()
    podman(*args, image, *command)
    try:
        yield box
    finally:
        podman("rm", "-f", "-t", "0", box.name, check=False)


@dataclass
class Ran:
    status: int
    stdout: str
    stderr: str  # the entrypoint's messages and the app's errors
    seconds: float

    def line(self, marker: str) -> str:
        """The first line of stderr holding `marker`."""
        return next((line for line in self.stderr.splitlines() if marker in line), f"(no line with {marker!r})")


def run_once(
    *command: str,
    env: dict[str, str] | None = None,
    volumes: dict[Path, str] | None = None,
    image: str = IMAGE,
    timeout: float = 120,
) -> Ran:
    """Run a container to its end in the foreground (its entrypoint, then `command` or its CMD)."""
    args = [*run_flags(), "--rm"]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    for host, target in (volumes or {}).items():
        args += ["-v", f"{host}:{target}"]
    start = time.perf_counter()
    proc = podman(*args, image, *command, timeout=timeout, check=False)
    return Ran(proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)


def build(tag: str, context: Path, *extra: str, timeout: float = 1800) -> tuple[float, str]:
    start = time.perf_counter()
    proc = podman(*BUILD, *extra, "-t", tag, str(context), timeout=timeout)
    return time.perf_counter() - start, proc.stdout + proc.stderr


def cached_steps(log: str) -> dict[str, bool]:
    """{instruction: reused from the cache} for each build step in a podman build log."""
    steps: dict[str, bool] = {}
    current = None
    for line in log.splitlines():
        m = re.match(r"STEP \d+/\d+: (.*)", line)
        if m:
            current = m[1]
            steps[current] = False
        elif current and line.startswith("--> Using cache"):
            steps[current] = True
    return steps


# ---- session set-up: the stand-in base, the image, the volumes ----------------------------------------------------
# The cold build (~10 min: the stand-in base, then pip's downloads and layer commits, mostly waiting on the network and
# the disk) starts in the background as soon as the session's tests are collected (conftest calls start_build; the
# container tests run last) at a low CPU priority, so it overlaps the other tests instead of adding to the suite.
@dataclass
class Build:
    thread: threading.Thread
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    base: tuple[subprocess.CompletedProcess[str], float] | None = None  # (its run, seconds)
    image: tuple[subprocess.CompletedProcess[str], float, bool] | None = None  # (its run, seconds, cold)
    error: Exception | None = None


_BUILD: list[Build] = []  # at most one per session


def start_build() -> None:
    """Build the stand-in base and the image in a background thread, once per session."""
    if _BUILD or shutil.which("podman") is None or os.geteuid() != 0:
        return  # not here: the image fixture says what is missing
    build = Build(threading.Thread(target=lambda: _build_all(build), name="container-build", daemon=True))
    _BUILD.append(build)
    build.thread.start()


def stop_build() -> None:
    """End a build still running when the session ends (interrupted, or no container test got to it)."""
    for proc in (p for b in _BUILD for p in b.procs):
        if proc.poll() is None:
            proc.terminate()


def _low_priority(build: Build, *cmd: str, timeout: float) -> subprocess.CompletedProcess[str]:
    # nice: its children (pip, the layer commits) inherit the low priority
    proc = subprocess.Popen(["nice", "-n", "10", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    build.procs.append(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\n(killed after {timeout:.0f} s)"
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _build_all(build: Build) -> None:
    try:
        start = time.perf_counter()
        base = _low_priority(build, str(REPO / "deploy" / "standin_base.sh"), timeout=900)
        build.base = (base, time.perf_counter() - start)
        if base.returncode != 0:
            return
        cold = podman("image", "exists", IMAGE, check=False).returncode != 0
        start = time.perf_counter()
        built = _low_priority(build, PODMAN, *BUILD, "-t", IMAGE, str(REPO), timeout=1800)
        build.image = (built, time.perf_counter() - start, cold)
    except Exception as e:  # reported by the image fixture
        build.error = e


@pytest.fixture(scope="session")
def image() -> str:
    _podman()
    start_build()  # already running when the session collected this module; here for a direct call
    build = _BUILD[0]
    build.thread.join(timeout=2700)
    assert not build.thread.is_alive(), "the image build did not finish in 45 min"
    if build.error is not None:
        raise AssertionError(f"building the image failed: {build.error!r}")
    assert build.base is not None
    base, seconds = build.base
    assert base.returncode == 0, f"building the stand-in base image failed:\n{base.stderr[-3000:]}"
    REPORT["stand-in base (s)"] = round(seconds, 1)
    assert build.image is not None
    built, seconds, cold = build.image
    log = built.stdout + built.stderr
    assert built.returncode == 0, f"podman build failed ({built.returncode}):\n{log[-6000:]}"
    key = "build, cold (s)" if cold else "build, this session (s)"
    REPORT[f"{key}, in the background beside the other tests"] = round(seconds, 1)
    REPORT["build steps reused"] = f"{sum(cached_steps(log).values())} of {len(cached_steps(log))}"
    return IMAGE


@pytest.fixture(scope="module", autouse=True)
def _print_report(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not (REPORT or FAULTS):
        return
    with capture.global_and_fixture_disabled():  # teardown output is captured otherwise, and never shown
        reporter.write_line("")
        reporter.write_sep("-", "container figures")
        for key, value in REPORT.items():
            reporter.write_line(f"{key}: {value}" if "\n" not in str(value) else f"{key}:\n{value}")
        if FAULTS:
            reporter.write_line("faults (case | exit status | printed):")
            for case, status, text in FAULTS:
                reporter.write_line(f"  {case} | {status} | {text}")


def tiny_volume(tiny: dict[str, Path], folder: Path) -> Path:
    """A volume holding the tiny model in the default model's HF cache layout (hf/hub/models--SWivid--F5-TTS,
    models--charactr--vocos-mel-24khz, and the tiny Whisper) plus its config at custom/model.yaml."""
    shutil.copytree(tiny["hf_home"], folder / "hf", symlinks=True)
    (folder / "custom").mkdir(parents=True)
    shutil.copy(tiny["yaml"], folder / "custom" / "model.yaml")
    return folder


@pytest.fixture(scope="module")
def workspace(tiny: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_volume(tiny, tmp_path_factory.mktemp("volume") / "workspace")


POD_ENV = {"F5_MODEL": "/workspace/custom/model.yaml", **OFFLINE}


@pytest.fixture(scope="module")
def pod(image: str, workspace: Path) -> Iterator[Box]:
    """Pod mode: the image's own command, the volume at /workspace, F5_MODEL naming the tiny config on it."""
    with container(image, env=POD_ENV, volumes={workspace: "/workspace"}, name="pod") as box:
        REPORT["pod: start to /health (s)"] = round(box.wait_http(), 2)
        yield box


def short_ref_b64(short_ref: Path) -> str:
    return base64.b64encode(short_ref.read_bytes()).decode("ascii")


def post(url: str, payload: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def wav_seconds(data: bytes) -> float:
    import io

    import soundfile as sf

    info = sf.info(io.BytesIO(data))
    assert info.samplerate == 24000
    return info.frames / info.samplerate


def synthesize(url: str, short_ref: Path, text: str = "Hello from the container.", **options) -> tuple[Path, int]:
    from gradio_client import Client, handle_file

    client = Client(url + "/", verbose=False)
    audio, _, seed, ref_text = client.predict(
        handle_file(str(short_ref)), REF_TEXT, text, 42, api_name="/synthesize", **{**FAST, **options}
    )
    assert ref_text == REF_TEXT
    return Path(audio), seed


# ---- the image ----------------------------------------------------------------------------------------------------
def test_layers_and_contents(image: str) -> None:
    layers = json.loads(podman("history", "--format", "json", image).stdout)
    rows = [
        (int(layer.get("size", 0)), re.sub(r"\s+", " ", layer.get("CreatedBy", layer.get("created_by", ""))))
        for layer in layers
    ]
    total = int(json.loads(podman("image", "inspect", image).stdout)[0]["Size"])
    REPORT["image size (GB)"] = round(total / 1e9, 2)
    REPORT["layers (MB, instruction), newest first"] = "\n".join(
        f"  {size / 1e6:9.1f}  {what[:110]}" for size, what in rows if size > 0
    )
    by_step = {what: size for size, what in rows}
    torch = next(size for what, size in by_step.items() if "torch==" in what and "--index-url" in what)
    deps = next(size for what, size in by_step.items() if "-r requirements.txt" in what)
    assert torch == max(by_step.values()), "torch is the largest layer"
    code = sum(size for what, size in by_step.items() if "COPY" in what and "requirements" not in what)
    assert code < 5e6, f"the code layers take {code / 1e6:.1f} MB: something besides the code is copied"
    assert torch + deps > 0.8 * total, "the dependency layers make up the image"

    ran = run_once(
        "sh",
        "-c",
        "ls -A /app /app/deploy; find /app -name __pycache__; ls -d /root/.cache/pip; "
        "python -c 'import app, serverless.handler; print(\"imports-ok\")'",
        env=OFFLINE,
    )
    assert ran.status == 0 and "imports-ok" in ran.stdout, ran.stderr
    assert "'/root/.cache/pip': No such file" in ran.stderr, "no pip cache in the image"
    listing = ran.stdout.split()
    listing.remove("imports-ok")
    assert sorted(listing) == sorted(
        [
            "/app:",
            "api",
            "app.py",
            "deploy",
            "inference",
            "pyproject.toml",
            "requirements-serverless.txt",
            "requirements.txt",
            "serverless",
            "ui",
            "/app/deploy:",
            "entrypoint.sh",
        ]
    ), listing


def test_a_code_only_change_reuses_the_dependency_layers(image: str, tmp_path: Path) -> None:
    from tests.test_deploy import copied_paths

    context = tmp_path / "context"
    for rel in [*copied_paths(), "Dockerfile", ".dockerignore"]:
        src, dst = REPO / rel, context / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        (
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
            if src.is_dir()
            else shutil.copy2(src, dst)
        )
    with open(context / "app.py", "a") as f:
        f.write("\n# a code-only change\n")
    try:
        seconds, log = build(EDITED, context, timeout=900)
    finally:
        podman("rmi", "-f", EDITED, check=False)
    REPORT["rebuild after a code-only change (s)"] = round(seconds, 1)
    steps = cached_steps(log)
    for step, reused in steps.items():
        if "apt-get install" in step or "pip install" in step or "requirements" in step:
            assert reused, f"not reused after a code-only change: {step}"
        if step.startswith("COPY pyproject.toml app.py"):
            assert not reused, "the changed code must be copied again"
    assert seconds < 120, f"a code-only rebuild took {seconds:.0f} s"


# ---- pod mode -----------------------------------------------------------------------------------------------------
def test_health_and_the_entrypoint_log(pod: Box) -> None:
    with urllib.request.urlopen(pod.url + "/health", timeout=5) as r:
        health = json.loads(r.read())
    assert health["status"] == "ok" and health["model"] in ("not_loaded", "loading", "ready")
    log = pod.logs()
    assert "[entrypoint] volume: /workspace" in log
    assert "[entrypoint] HF_HOME=/workspace/hf (volume); weights present" in log
    assert "[entrypoint] VOICES_DIR=/workspace/voices" in log


def test_healthcheck_passes(pod: Box) -> None:
    config = json.loads(podman("inspect", pod.name).stdout)[0]["Config"]
    assert config.get("Healthcheck", {}).get("Test"), "the image keeps its HEALTHCHECK (--format docker)"
    proc = podman("healthcheck", "run", pod.name, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_generate_through_gradio_client(pod: Box, short_ref: Path) -> None:
    start = time.perf_counter()
    audio, seed = synthesize(pod.url, short_ref)
    REPORT["pod: first Generate, tiny model (s)"] = round(time.perf_counter() - start, 2)
    assert seed == 42 and wav_seconds(audio.read_bytes()) > 0.3


def test_save_a_voice_and_speak_it_through_the_openai_client(pod: Box, workspace: Path, short_ref: Path) -> None:
    from gradio_client import Client, handle_file
    from openai import OpenAI

    client = Client(pod.url + "/", verbose=False)
    assert client.predict(handle_file(str(short_ref)), "alice", REF_TEXT, api_name="/save_voice") == "alice"
    assert (workspace / "voices" / "alice.txt").read_text().strip() == REF_TEXT, "saved onto the volume"
    speech = OpenAI(base_url=pod.url + "/v1", api_key="unused").audio.speech.create(
        model="f5-tts",
        voice="alice",
        input="Hello from the OpenAI client.",
        response_format="wav",
        extra_body={"seed": 7, **FAST},
    )
    assert speech.content[:4] == b"RIFF" and wav_seconds(speech.content) > 0.3


def test_a_saved_voice_is_there_in_the_next_container(pod: Box, workspace: Path, image: str) -> None:
    from gradio_client import Client

    assert (workspace / "voices" / "alice.txt").is_file(), "saved by the test before"
    with container(image, env=POD_ENV, volumes={workspace: "/workspace"}, name="next") as box:
        box.wait_http()
        client = Client(box.url + "/", verbose=False)
        assert "alice" in [v["name"] for v in client.predict(api_name="/list_voices")]
        seconds, status = box.stop()  # with the client's session (its heartbeat stream) still open, as a browser's
        client.close()
    REPORT["SIGTERM to exit, a session open (s)"] = round(seconds, 2)
    assert seconds < 10 and status == 0


def test_sigterm_stops_it_within_10_seconds(pod: Box) -> None:
    """Last of the pod tests: the model is loaded and it has served requests."""
    seconds, status = pod.stop()
    REPORT["SIGTERM to exit, after generating (s)"] = round(seconds, 2)
    assert seconds < 10, f"{seconds:.1f} s"
    assert status == 0, f"exit status {status} (137 would mean it had to be killed)\n{pod.logs()[-2000:]}"


# ---- faults -------------------------------------------------------------------------------------------------------
def test_no_volume_warns_and_still_serves(image: str) -> None:
    with container(image, env=OFFLINE, name="novolume") as box:
        box.wait_http()
        log = box.logs()
        seconds, status = box.stop()
    assert "NOTHING WILL PERSIST" in log and "To fix: attach a volume" in log
    assert "[entrypoint] volume: none (container disk /tmp/studio, not persistent)" in log
    warning = next(line for line in log.splitlines() if "NOTHING WILL PERSIST" in line)
    FAULTS.append(("no volume", f"serves; exits {status} on SIGTERM", warning))
    assert status == 0 and seconds < 10


def test_read_only_volume_stops_with_73(image: str, tmp_path: Path) -> None:
    ran = run_once(volumes={tmp_path: "/workspace:ro"})
    line = ran.line("[entrypoint] ERROR:")
    FAULTS.append(("read-only volume", ran.status, line))
    assert ran.status == 73 and "read-only" in line and "attached read-write" in line and ran.seconds < 30
    assert ran.stdout == "", "the app did not start"


def test_nearly_full_volume_stops_with_75(image: str, tmp_path: Path) -> None:
    ran = run_once(env={"MIN_FREE_GB": "100000"}, volumes={tmp_path: "/workspace"})
    line = ran.line("[entrypoint] ERROR:")
    FAULTS.append(("nearly full volume (MIN_FREE_GB=100000, no weights)", ran.status, line))
    assert ran.status == 75 and re.search(r"only \d+\.\d GB free at /workspace/hf", line)
    assert "at least 100000 GB (MIN_FREE_GB)" in line and "Grow the volume" in line


def test_missing_volume_dir_stops_with_78(image: str) -> None:
    ran = run_once(env={"VOLUME_DIR": "/mnt/not-mounted"})
    line = ran.line("[entrypoint] ERROR:")
    FAULTS.append(("VOLUME_DIR not mounted", ran.status, line))
    assert ran.status == 78 and "VOLUME_DIR=/mnt/not-mounted does not exist" in line


def test_bad_setting_is_one_clear_message_and_exit_2(image: str, workspace: Path) -> None:
    ran = run_once(env={"F5_DEVICE": "gpu", **OFFLINE}, volumes={workspace: "/workspace"})
    line = ran.line("error:")
    FAULTS.append(("F5_DEVICE=gpu", ran.status, line))
    assert ran.status == 2 and line == "error: F5_DEVICE='gpu' is not a device. Use auto, cpu, cuda or cuda:N."
    assert ran.stderr.count("error:") == 1 and ran.seconds < 30, "it stops at once, saying so once"


def test_local_f5_ckpt_is_reported_present(image: str, workspace: Path) -> None:
    ckpt = "/workspace/hf/hub/models--SWivid--F5-TTS/snapshots"
    ckpt = f"{ckpt}/{next((workspace / ckpt.removeprefix('/workspace/')).iterdir()).name}/{F5_CKPT}"
    ran = run_once(
        "true",
        env={"F5_CKPT": ckpt, "HF_HOME": "/workspace/empty-hf", "MIN_FREE_GB": "100000"},
        volumes={workspace: "/workspace"},
    )
    FAULTS.append(("F5_CKPT a local file (empty HF_HOME, MIN_FREE_GB=100000)", ran.status, ran.line("HF_HOME=")))
    assert ran.status == 0 and f"weights present (F5_CKPT={ckpt}, a local file)" in ran.stderr
    assert "missing" not in ran.stderr


def test_empty_volume_offline_serves_and_generate_says_what_is_missing(
    image: str, tmp_path: Path, short_ref: Path
) -> None:
    from gradio_client.exceptions import AppError
    from openai import APIStatusError, OpenAI

    with container(image, env=OFFLINE, volumes={tmp_path: "/workspace"}, name="empty") as box:
        box.wait_http()
        with pytest.raises(AppError) as info:
            synthesize(box.url, short_ref)
        with pytest.raises(APIStatusError) as rest:
            OpenAI(base_url=box.url + "/v1", api_key="unused").audio.speech.create(
                model="f5-tts", voice="nobody", input="Hello."
            )
        log = box.logs()
    message = str(info.value)
    FAULTS.append(("empty volume, offline", "serves; Generate fails", message))
    assert (
        "hf://SWivid/F5-TTS/F5TTS_v1_Base/model_1250000.safetensors is not in the Hugging Face cache at "
        "/workspace/hf/hub" in message
    )
    assert "offline mode is on (HF_HUB_OFFLINE=1)" in message and "python app.py download" in message
    assert "weights missing" in log and "will be downloaded on first use" in log
    assert rest.value.status_code in (404, 503)


# ---- serverless ---------------------------------------------------------------------------------------------------
@contextmanager
def worker(image: str, env: dict[str, str], volume: Path) -> Iterator[Box]:
    """The serverless worker (RunPod's local API server) with the volume at /runpod-volume."""
    port = free_port()
    command = (
        "python",
        "serverless/handler.py",
        "--rp_serve_api",
        "--rp_api_host",
        "127.0.0.1",
        "--rp_api_port",
        str(port),
    )
    with container(image, *command, env=env, volumes={volume: "/runpod-volume"}, name="worker", port=port) as box:
        REPORT.setdefault("serverless: start to API up (s)", round(box.wait_http("/openapi.json"), 2))
        yield box


def runsync_audio(box: Box, short_ref: Path) -> dict:
    job = {
        "input": {
            "text": "Hello from the worker.",
            "ref_audio_base64": short_ref_b64(short_ref),
            "ref_text": REF_TEXT,
            "seed": 7,
            **FAST,
        }
    }
    out = post(box.url + "/runsync", job)
    assert out.get("status") == "COMPLETED", f"{out}\n{box.logs()[-3000:]}"
    assert out["output"]["seed"] == 7
    assert wav_seconds(base64.b64decode(out["output"]["audio_base64"])) > 0.3
    return out


def test_serverless_worker_runsync_returns_audio(
    image: str, tiny: dict[str, Path], tmp_path: Path, short_ref: Path
) -> None:
    volume = tiny_volume(tiny, tmp_path / "runpod-volume")
    with worker(image, {"F5_MODEL": "/runpod-volume/custom/model.yaml", **OFFLINE}, volume) as box:
        runsync_audio(box, short_ref)
        log = box.logs()
    assert "[entrypoint] HF_HOME=/runpod-volume/hf (volume); weights present" in log


def test_serverless_worker_with_a_bad_setting_stays_up_and_says_why(
    image: str, tmp_path: Path, short_ref: Path
) -> None:
    """No restart loop on serverless: the worker keeps taking jobs and each one answers with the setting to fix."""
    with worker(image, {"F5_DEVICE": "gpu", **OFFLINE}, tmp_path) as box:
        job = {"input": {"text": "Hello.", "ref_audio_base64": short_ref_b64(short_ref), "ref_text": REF_TEXT}}
        out = post(box.url + "/runsync", job)
        assert box.running()
    FAULTS.append(("F5_DEVICE=gpu, serverless worker", "stays up; each job FAILED", out.get("error", out)))
    assert out["status"] == "FAILED"
    assert out["error"] == (
        "The worker is misconfigured: F5_DEVICE='gpu' is not a device. Use auto, cpu, cuda or "
        "cuda:N. Fix the endpoint's environment variables."
    )


def runpod_cache_volume(tiny: dict[str, Path], folder: Path, vocoder: bool, refs: bool) -> Path:
    """/runpod-volume as RunPod's model caching lays it out: huggingface-cache/hub/models--SWivid--F5-TTS, and
    (vocoder=True) the vocoder in the volume's own HF cache; the tiny config at custom/model.yaml."""
    snapshot = hub_snapshot(folder / "huggingface-cache", F5_REPO)
    (snapshot / F5_CKPT).parent.mkdir(parents=True)
    shutil.copy(tiny["ckpt"], snapshot / F5_CKPT)
    shutil.copy(tiny["vocab"], snapshot / F5_VOCAB)
    if not refs:
        shutil.rmtree(snapshot.parent.parent / "refs")
    if vocoder:
        vocos = hub_snapshot(folder / "hf", VOCOS_REPO)
        for name in ("config.yaml", "pytorch_model.bin"):
            shutil.copy(tiny["vocoder"] / name, vocos / name)
    (folder / "custom").mkdir()
    shutil.copy(tiny["yaml"], folder / "custom" / "model.yaml")
    return folder


def test_runpod_cached_model_with_the_vocoder_from_the_volume(
    image: str, tiny: dict[str, Path], tmp_path: Path, short_ref: Path
) -> None:
    volume = runpod_cache_volume(tiny, tmp_path / "runpod-volume", vocoder=True, refs=True)
    with worker(image, {"F5_MODEL": "/runpod-volume/custom/model.yaml", **OFFLINE}, volume) as box:
        runsync_audio(box, short_ref)
        log = box.logs()
    assert "weights present (RunPod model cache at /runpod-volume/huggingface-cache/hub)" in log
    assert not (volume / "hf" / "hub" / "models--SWivid--F5-TTS").exists(), "nothing was downloaded"


# ---- baked weights ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def baked(image: str, tiny: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An image built with BAKE_WEIGHTS=1 from the local hub look-alike: full-size random F5TTS_v1_Base weights, a
    full-size Vocos and the tiny Whisper, exactly where `python app.py download` puts the real ones."""
    from bench.weights import real_arch
    from inference.model.random_weights import FULL_VOCOS
    from inference.model.random_weights import build as build_model
    from tests.hub_server import HubServer

    root = tmp_path_factory.mktemp("full-size")
    start = time.perf_counter()
    full = build_model(root, arch=real_arch(), vocos_dims=FULL_VOCOS)
    REPORT["full-size random weights written (s)"] = round(time.perf_counter() - start, 1)
    whisper = next((tiny["hf_home"] / "hub" / "models--openai--whisper-large-v3-turbo" / "snapshots").iterdir())
    repos = {
        F5_REPO: {F5_CKPT: full["ckpt"], F5_VOCAB: full["vocab"]},
        VOCOS_REPO: {name: full["vocoder"] / name for name in ("config.yaml", "pytorch_model.bin")},
        "openai/whisper-large-v3-turbo": {
            p.relative_to(whisper).as_posix(): p for p in sorted(whisper.rglob("*")) if p.is_file()
        },
    }
    shutil.rmtree(full["hf_home"])  # the served copies under custom/ are enough
    with HubServer(repos) as hub:
        seconds, log = build(BAKED, REPO, "--build-arg", "BAKE_WEIGHTS=1", "--build-arg", f"HF_ENDPOINT={hub.url}")
        gets = hub.gets()
    REPORT["build with BAKE_WEIGHTS=1, dependencies cached (s)"] = round(seconds, 1)
    assert "All 5 present and verified." in log, log[-3000:]
    assert any(F5_CKPT in path for _, path, _ in gets), "the weights came from the local hub"
    shutil.rmtree(root)
    try:
        yield BAKED
    finally:
        podman("rmi", "-f", BAKED, check=False)


def test_baked_image_generates_with_no_volume_offline_and_no_settings(baked: str, short_ref: Path) -> None:
    """Full-size random weights baked into the image; no F5_* variable at all, no volume, offline."""
    with container(baked, env=OFFLINE, name="baked") as box:
        REPORT["baked, full size: start to /health (s)"] = round(box.wait_http(), 2)
        start = time.perf_counter()
        audio, _ = synthesize(box.url, short_ref, text="Hi.")
        REPORT["baked, full size: first Generate incl. load (s)"] = round(time.perf_counter() - start, 1)
        log = box.logs()
        seconds, status = box.stop()
    assert wav_seconds(audio.read_bytes()) > 0.3
    assert "HF_HOME=/opt/hf (baked into the image" in log and "weights present" in log
    assert "NOTHING WILL PERSIST" in log, "no volume: it says so"
    assert seconds < 10 and status == 0


def test_runpod_cached_model_with_the_vocoder_from_the_image(
    baked: str, tiny: dict[str, Path], tmp_path: Path, short_ref: Path
) -> None:
    """RunPod caches one repo per endpoint: F5-TTS from its cache (tiny, no refs/main), the vocoder baked in. The
    baked checkpoint is full size, so a tiny config loads only if the checkpoint really came from RunPod's cache."""
    volume = runpod_cache_volume(tiny, tmp_path / "runpod-volume", vocoder=False, refs=False)
    with worker(baked, {"F5_MODEL": "/runpod-volume/custom/model.yaml", **OFFLINE}, volume) as box:
        runsync_audio(box, short_ref)
        log = box.logs()
    assert "HF_HOME=/opt/hf (baked into the image" in log
    assert not (volume / "hf").exists() or not any((volume / "hf").rglob("*.safetensors")), "nothing was downloaded"
