"""Sphinx configuration for the exactbridge documentation."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path
from typing import Any, cast

from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.ext.napoleon import Config as NapoleonConfig
from sphinx.ext.napoleon.docstring import GoogleDocstring

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exactbridge import __version__

_BUILTIN_NAMES = frozenset(dir(builtins))
_GOOGLE_STYLE = NapoleonConfig(napoleon_numpy_docstring=False)

project = "exactbridge"
author = "exactbridge developers"
copyright = "2026, exactbridge developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": True, "show-inheritance": True}
nitpicky = False

# Doctests: the ``{doctest}`` blocks of the guide pages run with ``sphinx-build -b
# doctest``. Docstring examples (plain ``>>>`` blocks, also pulled in by autodoc) need
# their module's globals, so they run with ``pytest --doctest-modules exactbridge``
# instead; do not run them twice here.
doctest_test_doctest_blocks = ""
html_theme = "furo"
html_title = "exactbridge"


def _builtin_types_are_not_fuzzy(app: Sphinx, doctree: Any) -> None:
    """Resolve ``int``, ``str``, ``type``... in type fields as exact names.

    With ``autodoc_typehints = "description"`` the types land in ``:type:`` fields, whose
    references Sphinx resolves fuzzily: ``type`` would then match every documented
    attribute named ``type`` (``Account.type``, ``Journal.type``...) and warn about the
    ambiguity. A builtin name never means one of our attributes.
    """
    for node in doctree.findall(addnodes.pending_xref):
        if node.get("refdomain") == "py" and node.get("reftarget") in _BUILTIN_NAMES:
            # The Python domain searches fuzzily whenever the attribute is present.
            node.attributes.pop("refspecific", None)


def _google_sections(
    app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """Turn Google-style sections (``Arguments:``) into field lists, as napoleon does.

    The docstrings are reST; a few classes list their arguments Google-style. napoleon
    as an extension would also read the first line of every property and attribute
    docstring as ``type: description`` ("The earliest moment ...: 570 s after ..."
    became a type), so its parser runs here for everything else only.
    """
    if what in ("attribute", "data", "property"):
        return
    # napoleon documents passing its own Config here; its annotations are narrower.
    config = cast(Any, _GOOGLE_STYLE)
    lines[:] = GoogleDocstring(lines, config, app, cast(Any, what), name, obj, options).lines()


def setup(app: Sphinx) -> None:
    app.connect("autodoc-process-docstring", _google_sections)
    app.connect("doctree-read", _builtin_types_are_not_fuzzy)
