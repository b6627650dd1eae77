"""Import Gradio about a second faster.

Every time it is imported, Gradio 6 regenerates the type stubs (.pyi) of its ~80 components: for each component class
its metaclass reads the module's source, parses it with `ast`, renders a template and compares the result with the
.pyi on disk (`gradio.component_meta.create_or_modify_pyi`). That is for editors, never used at run time, and costs
about 1 s of the ~3 s `import gradio` takes on 2 CPU cores: a third of the time before the UI answers. (In a read-only
image it also tries, and fails quietly, to write into site-packages.)

`skip_stub_regeneration()` installs an import hook that replaces that one function with a no-op as soon as
`gradio.component_meta` is loaded, before any component class is created. It changes nothing else, does nothing if
Gradio is already imported, and nothing if a later Gradio drops the function.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType
from typing import Any

TARGET = "gradio.component_meta"


def _no_stub(*_: Any, **__: Any) -> None:
    return None


class _SkipStubs(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        exec_module = spec.loader.exec_module

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            if hasattr(module, "create_or_modify_pyi"):
                module.create_or_modify_pyi = _no_stub  # type: ignore[attr-defined]  # ModuleType declares none

        spec.loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


def skip_stub_regeneration() -> bool:
    """Install the hook (once). Returns False when it is too late: Gradio is already imported."""
    if TARGET in sys.modules:
        return False
    if not any(isinstance(f, _SkipStubs) for f in sys.meta_path):
        sys.meta_path.insert(0, _SkipStubs())
    return True
