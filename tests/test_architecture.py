"""The house as docs/DESIGN.md draws it, read from the code's own imports (every import counts: at module level,
inside a function, or under TYPE_CHECKING):

- no import circle between product modules, and none between rooms (a package folder such as inference/studio/ is
  one room, a top-level module another): an arrow that runs back up a floor closes such a circle;
- adapters (ui/, api/, serverless/, tools/, app.py) reach inference/ only through the names `inference` exports;
- inference/ never imports an adapter, Gradio, FastAPI or RunPod.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

import inference

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("inference", "ui", "api", "serverless", "tools", "app.py")
ADAPTERS = ("ui", "api", "serverless", "tools", "app")
NEVER_IN_INFERENCE = ("ui", "api", "serverless", "tools", "app", "gradio", "fastapi", "starlette", "runpod")


def product_files() -> dict[str, Path]:
    """Dotted module name -> file, for every product module."""
    modules = {}
    for top in PRODUCT:
        path = ROOT / top
        for file in [path] if path.suffix == ".py" else sorted(path.rglob("*.py")):
            parts = list(file.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = file
    return modules


def imports_of(name: str, file: Path) -> Iterable[tuple[str, tuple[str, ...], int]]:
    """(module imported, names taken from it, line) for every import in the file, relative ones resolved."""
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, (), node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, tuple(a.name for a in node.names), node.lineno


def graph() -> dict[str, set[str]]:
    """module -> the product modules it imports (`from pkg import sub` counts as importing pkg.sub)."""
    modules = product_files()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, file in modules.items():
        for target, names, _ in imports_of(name, file):
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            for t in subs or ([target] if target in modules else []):
                if t != name:
                    edges[name].add(t)
        edges.setdefault(name, set())
    return edges


def room(module: str) -> str:
    """The room a module stands in: its package folder below inference/, or the top-level package, or itself."""
    parts = module.split(".")
    if parts[0] == "inference" and len(parts) > 2:
        return ".".join(parts[:2])  # inference.studio, inference.model, inference.text, inference.audio
    if parts[0] == "inference":
        return module  # inference.engine, inference.options, ... (and the package's face, `inference`)
    return parts[0]


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(edges):
        if v not in index:
            visit(v)
    return found


def rooms_graph(edges: dict[str, set[str]], face: str = "inference") -> dict[str, set[str]]:
    """The rooms and the arrows between them. The package's face (inference/__init__.py) only hands names on to the
    adapters above it; its own arrows down are left out, as an arrow into it from inside inference/ is not."""
    out: dict[str, set[str]] = defaultdict(set)
    for a, targets in edges.items():
        for b in targets:
            if room(a) != room(b) and a != face:
                out[room(a)].add(room(b))
        out.setdefault(room(a), set())
    return out


def test_no_import_circles_between_modules() -> None:
    assert circles(graph()) == []


def test_no_arrow_runs_back_up_between_rooms() -> None:
    """Rooms stand on floors: each above every room it imports. An arrow back up a floor makes a circle of rooms
    (e.g. the engine importing a module of studio/, whose operations import the engine)."""
    assert circles(rooms_graph(graph())) == []


def test_nothing_inside_inference_imports_its_own_face() -> None:
    """inference/__init__.py is for the adapters: a module inside that imported it would import everything."""
    offenders = [
        f"{name}:{line}"
        for name, file in product_files().items()
        if name.startswith("inference.")
        for target, _, line in imports_of(name, file)
        if target == "inference"
    ]
    assert offenders == []


def test_adapters_import_only_what_inference_exports() -> None:
    exported = set(inference.__all__)
    offenders = []
    for name, file in product_files().items():
        if name.split(".")[0] not in ADAPTERS:
            continue
        for target, names, line in imports_of(name, file):
            if target.startswith("inference."):
                offenders.append(f"{file.relative_to(ROOT)}:{line} imports {target}")
            elif target == "inference":
                offenders += [f"{file.relative_to(ROOT)}:{line} takes {n}" for n in names if n not in exported]
    assert offenders == []


def test_inference_imports_no_adapter_and_no_web_framework() -> None:
    offenders = [
        f"{file.relative_to(ROOT)}:{line} imports {target}"
        for name, file in product_files().items()
        if name.startswith("inference")
        for target, _, line in imports_of(name, file)
        if target.split(".")[0] in NEVER_IN_INFERENCE
    ]
    assert offenders == []


def test_every_exported_name_exists() -> None:
    missing = [n for n in inference.__all__ if not hasattr(inference, n)]
    assert missing == []


# ---- the reader itself: each rule fails on a house that breaks it ---------------------------------------------------
@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_circles_are_found(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert circles(edges) == expected


def test_an_arrow_back_up_is_a_circle_of_rooms() -> None:
    """The engine importing studio/guard while studio/ operations import the engine: the shape this house had."""
    edges = {
        "inference.engine": {"inference.studio.guard"},
        "inference.studio.dialogue": {"inference.engine"},
        "inference.studio.guard": set(),
    }
    assert circles(edges) == []  # no circle of modules...
    assert circles(rooms_graph(edges)) == [["inference.engine", "inference.studio"]]  # ...but one of rooms


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    file = tmp_path / "engine.py"
    file.write_text("from .studio import guard\nfrom ..x import y\nfrom . import options\n")
    found = [(t, n) for t, n, _ in imports_of("inference.engine", file)]
    assert found == [("inference.studio", ("guard",)), ("x", ("y",)), ("inference", ("options",))]


def test_the_design_notes_name_only_files_that_exist() -> None:
    """docs/DESIGN.md describes the house as it is: every product path it names in backticks is there."""
    import re

    text = (ROOT / "docs" / "DESIGN.md").read_text()
    named = set(re.findall(r"`((?:inference|ui|api|serverless|tools|bench|tests|deploy)/[\w/.-]*?\.(?:py|sh))", text))
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert missing == []
