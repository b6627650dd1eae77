"""The house as docs/DESIGN.md draws it, read from its own imports by tools/house.py:

- no import circle between product modules, and none between rooms (a package folder such as inference/studio/ is
  one room, a top-level module another): an arrow that runs back up a floor closes such a circle;
- adapters (ui/, api/, serverless/, app.py) reach inference/ only through the names `inference` exports;
- inference/ never imports an adapter, Gradio, FastAPI or RunPod.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import inference
from tools.house import ADAPTERS, NEVER_IN_INFERENCE, ROOT, circles, graph, imports_of, product_files, rooms_graph


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


def test_adapters_never_reach_past_the_studio() -> None:
    """No `studio.engine` (or `self.engine`) in an adapter: every operation is a Studio method."""
    offenders = [
        f"{file.relative_to(ROOT)}:{node.lineno} uses {ast.unparse(node)}"
        for name, file in product_files().items()
        if name.split(".")[0] in ADAPTERS
        for node in ast.walk(ast.parse(file.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "engine"
    ]
    assert offenders == []


def test_only_the_studio_picks_a_seed() -> None:
    """Seed resolution lives in inference/options.py (resolve_seed): no adapter or operation draws its own."""
    import re

    draws = re.compile(r"randbelow|randint|randrange|MAX_SEED \+ 1|random\.seed\(")
    offenders = [
        f"{file.relative_to(ROOT)}:{n}"
        for name, file in product_files().items()
        if name != "inference.options"
        for n, line in enumerate(file.read_text().splitlines(), 1)
        if draws.search(line.split("#")[0])
    ]
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


LONG_FUNCTION, LONG_MODULE = 50, 400  # lines


def test_long_functions_and_modules_say_why() -> None:
    """A function over LONG_FUNCTION lines carries `# long: <reason>` on its def line or just above it (decorators
    included); a module over LONG_MODULE lines carries it within its first 40 lines."""
    import ast

    unexplained = []
    for file in product_files().values():
        lines = file.read_text().splitlines()
        if len(lines) > LONG_MODULE and not any("# long:" in line for line in lines[:40]):
            unexplained.append(f"{file.relative_to(ROOT)} ({len(lines)} lines)")
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if size > LONG_FUNCTION and not any("# long:" in line for line in lines[first - 2 : node.lineno]):
                    unexplained.append(f"{file.relative_to(ROOT)}:{node.lineno} {node.name} ({size} lines)")
    assert unexplained == []
