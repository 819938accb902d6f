"""The API reference in ``docs/api`` documents every public name.

A module is public when no part of its dotted name starts with ``_``. Each name in a
public module's ``__all__`` must be documented by an autodoc directive on a page of
``docs/api``: an ``automodule`` that documents members, or an explicit
``autoclass``/``autofunction``/``autodata``/``autoexception``. A class or function
re-exported by several modules needs documenting once (where users import it from); a
constant is covered when the same object is documented under the same name.

Building the pages (``sphinx-build -W``) and running their doctests is a CI step; these
tests need no Sphinx and catch a name that was added to an ``__all__`` but not to the
reference, which the build would not notice.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import exactbridge

ROOT = Path(__file__).resolve().parent.parent
API_DIR = ROOT / "docs" / "api"
CONF = ROOT / "docs" / "conf.py"

_DIRECTIVE = re.compile(r"^\.\. (auto\w+):: (\S+)\s*$")
_OPTION = re.compile(r"^\s+:([\w-]+):")
_EXPLICIT = {"autoclass", "autoexception", "autofunction", "autodata", "autoattribute"}


def _public_modules() -> list[str]:
    names = ["exactbridge"]
    for info in pkgutil.walk_packages(exactbridge.__path__, "exactbridge."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        if info.name.endswith(".__main__"):
            continue
        names.append(info.name)
    return sorted(names)


PUBLIC_MODULES = [
    name for name in _public_modules() if hasattr(importlib.import_module(name), "__all__")
]


def _directives() -> list[tuple[str, str, set[str], str]]:
    """Every autodoc directive of the API pages: (kind, target, options, page)."""
    found: list[tuple[str, str, set[str], str]] = []
    for page in sorted(API_DIR.glob("*.md")):
        lines = page.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            match = _DIRECTIVE.match(line.strip())
            if match is None:
                continue
            options: set[str] = set()
            for following in lines[index + 1 :]:
                option = _OPTION.match(following)
                if option is None:
                    break
                options.add(option.group(1))
            found.append((match.group(1), match.group(2), options, page.name))
    return found


def _split_target(target: str) -> tuple[str, str]:
    """``exactbridge.exact.ExactClient`` -> (``exactbridge.exact``, ``ExactClient``)."""
    module, _, name = target.rpartition(".")
    importlib.import_module(module)
    return module, name


def _default_documents_members() -> bool:
    namespace: dict[str, Any] = {"__file__": str(CONF), "__name__": "conf"}
    exec(compile(CONF.read_text(encoding="utf-8"), str(CONF), "exec"), namespace)
    options = namespace["autodoc_default_options"]
    return bool(options.get("members")) and bool(options.get("undoc-members"))


def _documented() -> set[tuple[str, str]]:
    """(module, name) pairs the API pages document."""
    members_by_default = _default_documents_members()
    pairs: set[tuple[str, str]] = set()
    for kind, target, options, _page in _directives():
        if kind == "automodule":
            wants_members = ("members" in options or members_by_default) and (
                "no-members" not in options
            )
            if wants_members:
                module = importlib.import_module(target)
                pairs.update((target, name) for name in getattr(module, "__all__", []))
        elif kind in _EXPLICIT:
            pairs.add(_split_target(target))
    return pairs


DOCUMENTED = _documented()


def _is_covered(module_name: str, name: str) -> bool:
    if (module_name, name) in DOCUMENTED:
        return True
    obj = getattr(importlib.import_module(module_name), name)
    by_identity = callable(obj)  # classes, functions, fixtures: one page is enough
    for other_module, other_name in DOCUMENTED:
        other = getattr(importlib.import_module(other_module), other_name, None)
        if other is obj and (by_identity or other_name == name):
            return True
    return False


def test_every_directive_names_an_existing_object():
    for kind, target, _options, page in _directives():
        if kind == "automodule":
            importlib.import_module(target)
            continue
        module, name = _split_target(target)
        assert hasattr(importlib.import_module(module), name), f"{page}: {target} does not exist"


def test_explicit_directives_only_document_public_names():
    for kind, target, _options, page in _directives():
        if kind not in _EXPLICIT:
            continue
        module, name = _split_target(target)
        listed = getattr(importlib.import_module(module), "__all__", [])
        assert name in listed or name == "__version__", (
            f"{page}: {target} is documented but not in {module}.__all__"
        )


def test_the_public_packages_have_pages():
    documented_modules = {module for module, _name in DOCUMENTED}
    automodules = {target for kind, target, _o, _p in _directives() if kind == "automodule"}
    for package in (
        "exactbridge",
        "exactbridge.errors",
        "exactbridge.records",
        "exactbridge.codes",
        "exactbridge.clock",
        "exactbridge.exact",
        "exactbridge.mapping",
        "exactbridge.sources.virtuagym",
        "exactbridge.sources.eduframe",
        "exactbridge.sources.coachview",
        "exactbridge.sources.paynl",
        "exactbridge.sources.clubassistent",
        "exactbridge.sync",
        "exactbridge.testing",
    ):
        assert package in automodules | documented_modules, f"no API page for {package}"


def test_sync_is_documented_with_automodule_members():
    # The sync engine grows new names; automodule picks them up without editing pages.
    assert ("exactbridge.sync", "StateStore") in DOCUMENTED
    modules = [
        options
        for kind, target, options, _page in _directives()
        if kind == "automodule" and target == "exactbridge.sync"
    ]
    assert modules
    assert all("no-members" not in options for options in modules)


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_is_in_the_api_reference(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not _is_covered(module_name, name)]
    assert missing == [], (
        f"{module_name}: {missing} are public but not documented in docs/api "
        "(add them to a page, or export them from a documented package)"
    )


def test_the_top_level_page_lists_every_top_level_name():
    text = (API_DIR / "exactbridge.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in exactbridge.__all__
        if name != "__version__" and not re.search(rf"[.`]{re.escape(name)}`", text)
    ]
    assert missing == []
