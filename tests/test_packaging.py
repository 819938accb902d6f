"""Published-package truths: links that work on an index page, an sdist with what packagers need."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]+\]\(([^)]+)\)")


def test_readme_links_are_absolute_so_they_work_on_pypi() -> None:
    targets = LINK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert targets
    relative = [t for t in targets if not re.match(r"https?://", t)]
    assert relative == []


def test_readme_links_point_at_files_that_exist() -> None:
    prefix = "https://github.com/exactbridge/exactbridge/blob/main/"
    for target in LINK.findall((ROOT / "README.md").read_text(encoding="utf-8")):
        if target.startswith(prefix):
            assert (ROOT / target[len(prefix) :]).exists(), target


def test_the_sdist_carries_what_a_packager_expects() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = set(config["tool"]["hatch"]["build"]["targets"]["sdist"]["include"])
    for needed in ("exactbridge", "tests", "docs", "LICENSE", "README.md", "CHANGELOG.md"):
        assert needed in include
        assert (ROOT / needed).exists()
    assert (ROOT / "exactbridge" / "py.typed").exists()
    urls = config["project"]["urls"]
    assert {"Homepage", "Source", "Issues", "Documentation", "Changelog"} <= set(urls)


def test_the_quickstart_says_how_to_install_before_a_release_exists() -> None:
    text = (ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8")
    install = text.split("## 2.", 1)[0]
    assert "no release on PyPI yet" in install
    assert "git clone https://github.com/exactbridge/exactbridge.git" in install
    assert "pip install -e ." in install
