"""The adapters' contract with inference: api/, serverless/, tools/ and app.py import only names that `inference`
exports (`from inference import X`, never `inference.something`), and reach the model through the Studio's methods,
never through `studio.engine`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import inference

REPO = Path(__file__).resolve().parent.parent
ADAPTERS = sorted(
    [REPO / "app.py", *(p for d in ("api", "serverless", "tools") for p in (REPO / d).rglob("*.py"))],
)
MERGING = "# MERGE: build_ui(studio)"  # app.py's one line until ui/ takes a Studio


def _name(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", ADAPTERS, ids=_name)
def test_adapters_import_only_what_inference_exports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            deep = [a.name for a in node.names if a.name.startswith("inference.")]
            assert not deep, f"{_name(path)}:{node.lineno} imports {deep}: use `from inference import ...`"
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "inference":
            assert node.module == "inference", f"{_name(path)}:{node.lineno} imports from {node.module}"
            missing = [a.name for a in node.names if a.name not in inference.__all__]
            assert not missing, f"{_name(path)}:{node.lineno}: {missing} are not in inference.__all__"


@pytest.mark.parametrize("path", ADAPTERS, ids=_name)
def test_adapters_never_reach_past_the_studio(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Attribute) and node.attr == "engine" and MERGING not in lines[node.lineno - 1]:
            owner = ast.unparse(node.value)
            assert "studio" not in owner, f"{_name(path)}:{node.lineno} uses {owner}.engine: call a Studio method"
