"""docs/policies.md's option table and this suite agree, both ways.

Every test the table names exists in ``tests/e2e``, and every option test here
(``test_*_options.py``) is named in the table, so the table can be held against the
seed documents line by line and no option test goes undocumented.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
TABLE = HERE.parent.parent / "docs" / "policies.md"
_REFERENCE = re.compile(r"`(test_\w+_options\.py)::(test_\w+)`")


def _named_in_table() -> set[tuple[str, str]]:
    text = TABLE.read_text(encoding="utf-8")
    section = text.split("## Options of the integrations exactbridge replaces", 1)[1]
    section = section.split("\n## ", 1)[0]
    return set(_REFERENCE.findall(section))


def _defined() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(HERE.glob("test_*_options.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.add((path.name, node.name))
    return found


def test_every_test_the_table_names_exists() -> None:
    named = _named_in_table()
    assert len(named) >= 50
    assert sorted(named - _defined()) == []


def test_every_option_test_is_in_the_table() -> None:
    assert sorted(_defined() - _named_in_table()) == []


def test_every_integration_has_a_row() -> None:
    section = TABLE.read_text(encoding="utf-8")
    for integration in ("Virtuagym", "Eduframe", "Coachview", "Club-assistent", "Pay."):
        assert f"\n| {integration} | " in section
