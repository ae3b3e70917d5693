"""The shape of the batch's job code (batch/jobs/), checked by machine: no function over 60
lines (a long one is split into named steps, as the coordinator's day is in day.py) and no
import cycle among its modules (model and config at the bottom, the runner on top), counting
imports under `if TYPE_CHECKING:` and inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
JOBS = ROOT / "batch" / "jobs"
PACKAGE = "batch.jobs"
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(), str(path))
        for path in sorted(JOBS.rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def long_functions(tree: ast.Module, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """(name, lines) of every function or method longer than `limit` lines, its decorators,
    signature, docstring and nested functions included."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            lines = (node.end_lineno or node.lineno) - first + 1
            if lines > limit:
                found.append((node.name, lines))
    return found


def imported_modules(module: str, tree: ast.Module, modules: set[str]) -> set[str]:
    """The modules of `modules` that `module` imports, wherever the import statement is."""
    package = module if module in modules and _is_package(module) else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(_within(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).rstrip(".")
            found.add(_within(base, modules))
            found.update(_within(f"{base}.{alias.name}", modules) for alias in node.names)
    return found - {"", module, PACKAGE}


def _is_package(module: str) -> bool:
    return (ROOT.joinpath(*module.split(".")) / "__init__.py").exists()


def _within(name: str, modules: set[str]) -> str:
    """`name` itself when it is one of `modules`, else "" (a name imported from a module
    counts as an import of that module, through the ImportFrom's own base)."""
    return name if name in modules else ""


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of `graph` as [a, b, ..., a], or [] when there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_no_function_in_batch_jobs_is_over_60_lines():
    too_long = [
        f"{module}.{name}: {lines} lines" for module, tree in _modules().items() for name, lines in long_functions(tree)
    ]
    assert too_long == [], f"split into named steps (at most {MAX_FUNCTION_LINES} lines each): {too_long}"


def test_the_modules_of_batch_jobs_import_each_other_without_a_cycle():
    modules = _modules()
    graph = {module: imported_modules(module, tree, set(modules)) for module, tree in modules.items()}
    assert find_cycle(graph) == []
    # The bottom of the package imports nothing of it but the model.
    assert graph["batch.jobs.model"] == set()
    assert graph["batch.jobs.config"] == set()
    assert graph["batch.jobs.coordinator"].isdisjoint({"batch.jobs.runner", "batch.jobs.worker", "batch.jobs.dispatch"})


def test_the_checks_see_what_they_look_for():
    long_source = "def f():\n" + "    x = 1\n" * 60
    assert long_functions(ast.parse(long_source)) == [("f", 61)]
    assert long_functions(ast.parse("def f():\n" + "    x = 1\n" * 59)) == []
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from batch.jobs.runner import JobRunner\n"
    modules = {"batch.jobs.runner", "batch.jobs.coordinator", "batch.jobs.repository"}
    assert imported_modules("batch.jobs.coordinator", ast.parse(source), modules) == {"batch.jobs.runner"}
    assert imported_modules(
        "batch.jobs.coordinator", ast.parse("from batch.jobs import repository as repo\n"), modules
    ) == {"batch.jobs.repository"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
