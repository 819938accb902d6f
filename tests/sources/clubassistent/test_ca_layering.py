"""Layering and exports of the Coachview, Pay. and Club-assistent connectors."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import exactbridge

PACKAGES = ("coachview", "paynl", "clubassistent")
FORBIDDEN = ("exactbridge.exact", "exactbridge.sync", "exactbridge.mapping", "exactbridge.testing")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_sources_import_no_other_layer_or_source(package: str) -> None:
    root = Path(exactbridge.__file__).parent / "sources" / package
    others = [f"exactbridge.sources.{p}" for p in PACKAGES if p != package]
    for path in root.glob("*.py"):
        for name in _imports(path):
            assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
            assert not name.startswith(tuple(others)), f"{path.name} imports {name}"
            if name.startswith("exactbridge.sources."):
                assert name in (f"exactbridge.sources.{package}", "exactbridge.sources._http")


@pytest.mark.parametrize("package", PACKAGES)
def test_all_names_exist_and_are_documented(package: str) -> None:
    module = importlib.import_module(f"exactbridge.sources.{package}")
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
    for name in module.__all__:
        value = getattr(module, name)
        if callable(value) and not isinstance(value, type(dict)):
            assert value.__doc__, f"{package}.{name} has no docstring"


@pytest.mark.parametrize("module", ["coachview", "paynl", "clubassistent"])
def test_fakes_do_not_reuse_client_parsing(module: str) -> None:
    path = Path(exactbridge.__file__).parent / "testing" / f"{module}.py"
    for name in _imports(path):
        assert not name.startswith("exactbridge.sources"), f"the {module} fake imports {name}"
