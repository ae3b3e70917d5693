"""The layers, the lint rules and the types, checked by machine (settings in pyproject.toml).

import-linter keeps the dependency direction (the layers: entry points -> migrations -> owners
-> read path -> plumbing -> domain | generated stubs; owners meet only at each other's
published module; the domain free of infrastructure; the CLI off the repositories); ruff keeps
the lint rules; mypy checks the types of domain/, entrypoints/, migrations/, services/ and
batch/ (strictly in the domain and the batch); the AST walk below keeps `_private` names
private to their module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("entrypoints", "migrations", "services", "batch", "domain", "tests", "bench")
TOOLS = Path(sys.executable).parent


def _run(tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    executable = TOOLS / tool
    assert executable.exists(), f"{executable} is missing: pip install -e '.[test]'"
    return subprocess.run(
        [str(executable), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_import_contracts_hold():
    result = _run("lint-imports", "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_finds_nothing():
    result = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted_as_ruff_formats_it():
    result = _run("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, "run `ruff format .`:\n" + result.stdout + result.stderr


def test_mypy_finds_no_type_error():
    # [tool.mypy] names the files and the strict modules. Its cache (.mypy_cache/) only
    # speeds up the next run: about 25 s of CPU cold, 2 s warm.
    result = _run("mypy", "--no-error-summary", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _project_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    }


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_uses(module: str, tree: ast.Module, modules: set[str]) -> list[str]:
    """`from m import _x` and `alias._x` where m / alias is another project module."""
    found = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                if name.name in modules and name.asname:
                    aliases[name.asname] = name.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for name in node.names:
                target = f"{node.module}.{name.name}"
                if target in modules:
                    aliases[name.asname or name.name] = target
                elif node.module in modules and node.module != module and _is_private(name.name):
                    found.append(f"line {node.lineno}: from {node.module} import {name.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and aliases.get(node.value.id, module) != module
            and _is_private(node.attr)
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr} ({aliases[node.value.id]})")
    return found


def test_no_module_uses_a_private_name_of_another_module():
    modules = _project_modules()
    offences = []
    for module, path in sorted(modules.items()):
        tree = ast.parse(path.read_text(), filename=str(path))
        offences += [f"{path.relative_to(ROOT)} {use}" for use in _private_uses(module, tree, set(modules))]
    assert offences == [], "\n".join(offences)


def test_the_private_name_check_sees_both_forms():
    modules = {"services.a", "services.b"}
    tree = ast.parse(
        "from services.a import _hidden\nfrom services import a\na._inner()\nfrom services.a import shown\n"
    )
    assert _private_uses("services.b", tree, modules) == [
        "line 1: from services.a import _hidden",
        "line 3: a._inner (services.a)",
    ]
    assert _private_uses("services.a", ast.parse("from services.a import _own"), modules) == []
