"""The layering the README describes, checked on the source: ``lab`` computes, ``lab.ui``
renders, pages are thin scripts; and no module of ``lab`` imports one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.quick


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    return name.removesuffix(".__init__")


MODULES = {_module_name(path): path for path in sorted((ROOT / "lab").rglob("*.py"))}


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of its code (deferred imports count):
    ``from package import module`` names the module, not the package."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in MODULES else node.module)
    return names


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in graph[module]:
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while not component or component[-1] != module:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                found.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return found


def test_no_module_of_lab_imports_one_that_imports_it_back():
    graph = {name: {other for other in imported(path) if other in MODULES and other != name}
             for name, path in MODULES.items()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_engine_knows_nothing_of_streamlit_or_the_ui():
    """Data flows one way: lab.ui reads lab; nothing outside lab.ui reads lab.ui or Streamlit."""
    for name, path in MODULES.items():
        if name.startswith("lab.ui"):
            continue
        wrong = {module for module in imported(path)
                 if module.split(".")[0] == "streamlit" or module.startswith("lab.ui")}
        assert not wrong, f"{name} imports {sorted(wrong)}"


def test_pages_are_thin_scripts_that_leave_the_computing_to_lab():
    for page in sorted((ROOT / "pages").glob("*.py")):
        heavy = {module for module in imported(page)
                 if module.split(".")[0] in ("torch", "torchviz", "sympy", "numpy")}
        assert not heavy, f"{page.name} imports {sorted(heavy)}"
