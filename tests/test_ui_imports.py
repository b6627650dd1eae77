"""ui/ reaches the studio through one contract: it imports only names that `inference` exports (never a module under
it), never reaches past the Studio to its engine, and its own modules import one another without a circle (every
import counted: inside functions and under TYPE_CHECKING too)."""

from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parent.parent / "ui"


def imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) for every import in a file: `from . import history` -> (1, 'history'),
    `from inference import Studio` -> (0, 'inference')."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level and not node.module:
            found += [(node.level, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_ui_imports_only_what_inference_exports() -> None:
    wrong = [
        f"{path.name}: {module}"
        for path in sorted(UI.glob("*.py"))
        for level, module in imports(path)
        if level == 0 and (module.startswith("inference.") or module == "secrets")
    ]
    wrong += [path.name for path in UI.glob("*.py") if ".engine" in path.read_text("utf-8")]
    assert not wrong, wrong


def circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle in `graph` (module -> modules it imports), or []."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return []


def test_ui_modules_import_one_another_without_a_circle() -> None:
    graph = {
        path.stem: {module.split(".")[0] for level, module in imports(path) if level == 1}
        for path in UI.glob("*.py")
        if path.stem != "__init__"
    }
    assert "clone" not in graph["captions"]
    assert not circle(graph), circle(graph)


def test_the_circle_finder_finds_one() -> None:
    assert circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert circle({"a": {"b"}, "b": set()}) == []
