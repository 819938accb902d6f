"""Every public package lists exactly its public names in ``__all__``, and each one resolves."""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
import subprocess
import sys

import pytest

PUBLIC_MODULES = [
    "exactbridge",
    "exactbridge.clock",
    "exactbridge.codes",
    "exactbridge.config",
    "exactbridge.errors",
    "exactbridge.records",
    "exactbridge.exact",
    "exactbridge.exact.auth",
    "exactbridge.exact.models",
    "exactbridge.mapping",
    "exactbridge.sources",
    "exactbridge.sources.virtuagym",
    "exactbridge.sources.eduframe",
    "exactbridge.sources.coachview",
    "exactbridge.sources.paynl",
    "exactbridge.sources.clubassistent",
    "exactbridge.sync",
    "exactbridge.sync.celery",
    "exactbridge.testing",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_names_resolve_and_are_unique(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported)), "duplicates in __all__"
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr} is listed in __all__ but missing"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_classes_and_functions_have_docstrings(name):
    module = importlib.import_module(name)
    missing = [
        attr
        for attr in module.__all__
        if (inspect.isclass(obj := getattr(module, attr)) or inspect.isfunction(obj))
        and not (obj.__doc__ or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize(
    "name", ["exactbridge", "exactbridge.exact", "exactbridge.sync", "exactbridge.testing"]
)
def test_no_public_name_is_left_out_of_all(name):
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not inspect.ismodule(value)
        and attr not in {"annotations", "TYPE_CHECKING", "Any", "importlib"}
    }
    assert public - set(module.__all__) == set()


def test_main_client_names_are_importable_from_the_top_level():
    import exactbridge
    from exactbridge.exact import AsyncExactClient, ExactClient

    assert exactbridge.ExactClient is ExactClient
    assert exactbridge.AsyncExactClient is AsyncExactClient
    with pytest.raises(AttributeError):
        _ = exactbridge.NoSuchThing  # type: ignore[attr-defined]


def test_top_level_import_stays_free_of_httpx():
    code = "import sys, exactbridge; assert 'httpx' not in sys.modules, 'httpx imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_py_typed_is_shipped():
    import exactbridge

    assert importlib.resources.files(exactbridge).joinpath("py.typed").is_file()


def test_the_celery_integration_says_which_extra_it_needs(monkeypatch: pytest.MonkeyPatch):
    from exactbridge.errors import ConfigurationError

    monkeypatch.setitem(sys.modules, "celery", None)  # as if Celery were not installed
    monkeypatch.delitem(sys.modules, "exactbridge.sync.celery", raising=False)
    with pytest.raises(ConfigurationError, match=r"exactbridge\[celery\]"):
        importlib.import_module("exactbridge.sync.celery")
    # The sync package itself never needed Celery.
    assert hasattr(importlib.import_module("exactbridge.sync"), "InvoicePipeline")


def test_the_redis_budget_says_which_extra_it_needs(monkeypatch: pytest.MonkeyPatch):
    from exactbridge.errors import ConfigurationError
    from exactbridge.exact import RedisRateLimiter

    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ConfigurationError, match=r"exactbridge\[redis\]"):
        RedisRateLimiter("redis://127.0.0.1:6379/0")
