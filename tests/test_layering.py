"""The layering rules of DESIGN.md, checked in fresh interpreters."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "exactbridge"


def _run(code: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "module", ["exactbridge.mapping", "exactbridge.records", "exactbridge.codes"]
)
def test_pure_layers_do_not_import_httpx(module):
    _run(
        f"import sys, {module}\n"
        "leaked = sorted(m for m in sys.modules if m == 'httpx' or m.startswith('httpx.'))\n"
        "assert not leaked, leaked\n"
        "assert 'exactbridge.exact' not in sys.modules\n"
        "assert 'exactbridge.sync' not in sys.modules\n"
    )


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules_under(sub: str) -> list[Path]:
    return sorted((PACKAGE / sub).rglob("*.py"))


def _violations(sub: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in _modules_under(sub):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return bad


def test_exact_never_imports_sources_mapping_sync_or_testing():
    assert (
        _violations(
            "exact",
            (
                "exactbridge.sources",
                "exactbridge.mapping",
                "exactbridge.sync",
                "exactbridge.testing",
            ),
        )
        == []
    )


def test_mapping_imports_no_client_and_no_io_layers():
    assert (
        _violations(
            "mapping",
            (
                "httpx",
                "exactbridge.exact",
                "exactbridge.sources",
                "exactbridge.sync",
                "exactbridge.testing",
            ),
        )
        == []
    )


def test_sources_never_import_exact_sync_testing_or_each_other():
    bad = _violations(
        "sources",
        ("exactbridge.exact", "exactbridge.sync", "exactbridge.mapping", "exactbridge.testing"),
    )
    for vendor_dir in sorted(p for p in (PACKAGE / "sources").iterdir() if p.is_dir()):
        if vendor_dir.name.startswith("_"):
            continue
        others = tuple(
            f"exactbridge.sources.{p.name}"
            for p in (PACKAGE / "sources").iterdir()
            if p.is_dir() and p.name != vendor_dir.name and not p.name.startswith("_")
        )
        for path in sorted(vendor_dir.rglob("*.py")):
            for name in _imports(path):
                if any(name == o or name.startswith(o + ".") for o in others):
                    bad.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert bad == []


def test_only_testing_and_cli_import_testing():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] in ("testing", "cli"):
            continue
        for name in _imports(path):
            if name == "exactbridge.testing" or name.startswith("exactbridge.testing."):
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_the_fakes_do_not_reuse_the_clients_parsing_code():
    offenders = []
    for path in sorted((PACKAGE / "testing").rglob("*.py")):
        for name in _imports(path):
            if name.startswith("exactbridge.exact._") or (
                name.startswith("exactbridge.sources.")
                and name.endswith(("._serde", ".models", ".adapter"))
            ):
                offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert offenders == []
