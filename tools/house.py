"""The house read from its own imports: modules, rooms (a package folder below inference/ is one room), circles, the
inference module paths that adapters import, and the largest functions. Every import counts: at module level, inside
a function, or under TYPE_CHECKING. tests/test_architecture.py holds the house to it; this prints the figures:

    .venv/bin/python tools/house.py
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("inference", "ui", "api", "serverless", "tools", "app.py")
ADAPTERS = ("ui", "api", "serverless", "app")  # tools/ are developer tools, like bench/: they may reach inside
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


def adapter_imports() -> dict[str, list[str]]:
    """inference module path -> the adapter places importing it (`inference` itself included)."""
    found: dict[str, list[str]] = defaultdict(list)
    for name, file in product_files().items():
        if name.split(".")[0] in ADAPTERS:
            for target, _, line in imports_of(name, file):
                if target == "inference" or target.startswith("inference."):
                    found[target].append(f"{file.relative_to(ROOT)}:{line}")
    return dict(found)


def largest_functions(n: int = 10) -> list[tuple[int, str]]:
    """The n longest functions of the product code: (lines, file:name)."""
    sizes = []
    for file in product_files().values():
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                sizes.append(
                    ((node.end_lineno or node.lineno) - node.lineno + 1, f"{file.relative_to(ROOT)}:{node.name}")
                )
    return sorted(sizes, reverse=True)[:n]


def main() -> None:
    edges = graph()
    print("circles of modules:", circles(edges) or "none")
    print("circles of rooms (arrows back up):", circles(rooms_graph(edges)) or "none")
    paths = adapter_imports()
    inner = sorted(p for p in paths if p != "inference")
    print(f"inference module paths adapters import, past `inference` itself: {len(inner)}")
    for p in inner:
        print(f"  {p}: {', '.join(paths[p])}")
    print("largest functions:")
    for lines, where in largest_functions():
        print(f"  {lines:4d}  {where}")
    big = [(len(f.read_text().splitlines()), str(f.relative_to(ROOT))) for f in product_files().values()]
    print("modules over 400 lines:", ", ".join(f"{p} ({n})" for n, p in sorted(big, reverse=True) if n > 400) or "none")


if __name__ == "__main__":
    main()
