"""The project as an installable package: a wheel with exactly the project's packages, an `f5-studio` entry point,
one version that /health reports, and no sys.path edits anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("inference", "ui", "api", "serverless")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the tracked files (setuptools writes build/ and *.egg-info beside the sources)."""
    out, source = tmp_path_factory.mktemp("wheel"), tmp_path_factory.mktemp("source")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in tracked.decode().split("\0"):
        if name and (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (found,) = out.glob("f5_voice_studio-*.whl")
    return found


def test_the_wheel_holds_the_project_and_nothing_else(wheel: Path) -> None:
    from inference import __version__

    assert wheel.name.startswith(f"f5_voice_studio-{__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names if not n.startswith("f5_voice_studio-")}
    assert tops == {"app.py", *PACKAGES}, tops
    for module in (
        "inference/model/sampling.py",
        "inference/text/chunking.py",
        "api/openai/router.py",
        "ui/clone.py",
        "serverless/handler.py",
    ):
        assert module in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "f5-studio = app:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_installed_it_runs_from_anywhere(wheel: Path, tmp_path: Path) -> None:
    """Installed into a folder of its own (its dependencies are the venv's): imported from another directory, the
    version is the one /health reports, and the entry point answers --help."""
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import app, inference; "
        "assert inference.__file__.startswith(sys.argv[1]), inference.__file__; print(inference.__version__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(target)], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    from inference import __version__

    assert out.returncode == 0 and out.stdout.strip() == __version__, out.stderr[-2000:]
    script = target / "bin" / "f5-studio"
    assert script.is_file()
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    help_out = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120
    )
    assert help_out.returncode == 0 and "download" in help_out.stdout, help_out.stderr[-2000:]


def test_health_reports_the_one_version() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from api.auth import Access
    from api.health import health_router
    from inference import Engine, EngineSettings, Studio, __version__

    app = FastAPI()
    app.include_router(health_router(Studio(Engine(EngineSettings())), Access()))
    assert TestClient(app).get("/health").json()["version"] == __version__


def test_no_module_edits_sys_path() -> None:
    sources = [REPO / "app.py", *(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py"))]
    assert [str(p) for p in sources if "sys.path" in p.read_text()] == []


@pytest.mark.slow
def test_pip_install_then_f5_studio_serve_outside_the_checkout(wheel: Path, tmp_path: Path) -> None:
    """The README's path without make (macOS, Windows): a plain venv, `pip install`, `f5-studio serve`, run from a
    folder that is not the checkout; /health answers with the installed version. The dependencies come from this
    venv (a .pth line), so nothing is downloaded: `pip install .` resolving them is checked by hand (README)."""
    import json
    import sysconfig
    import urllib.request

    from inference import __version__
    from tests.live import free_port, wait_http

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True
    ).stdout.strip()
    Path(site, "deps-from-the-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    where = subprocess.run(
        [python, "-c", "import inference; print(inference.__file__)"], capture_output=True, text=True, cwd=tmp_path
    )
    assert where.stdout.strip().startswith(site), where.stdout + where.stderr  # the installed copy, not the checkout
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "PORT_HEALTH", "PYTHONPATH")}
    env.update(GRADIO_SERVER_PORT=str(port), VOICES_DIR=str(tmp_path / "voices"))
    script = python.parent / "f5-studio"
    server = subprocess.Popen(
        [script, "serve"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/health", timeout=120, proc=server)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health") as r:
            assert json.load(r)["version"] == __version__
    finally:
        server.terminate()
        server.wait(timeout=30)
