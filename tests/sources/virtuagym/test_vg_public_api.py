"""Public surface of the Virtuagym and Eduframe packages, and a few pure rules."""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys

import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.sources.virtuagym import (
    TimestampUnit,
    VirtuagymCredentials,
    VirtuagymSettings,
    unix_to_datetime,
)
from exactbridge.sources.virtuagym.client import MemberStats, _MemberPager

MODULES = [
    "exactbridge.sources._http",
    "exactbridge.sources.virtuagym",
    "exactbridge.sources.virtuagym.client",
    "exactbridge.sources.virtuagym.models",
    "exactbridge.sources.virtuagym.adapter",
    "exactbridge.sources.eduframe",
    "exactbridge.sources.eduframe.client",
    "exactbridge.sources.eduframe.models",
    "exactbridge.sources.eduframe.adapter",
    "exactbridge.sources.eduframe.webhooks",
    "exactbridge.testing.virtuagym",
    "exactbridge.testing.eduframe",
]


@pytest.mark.parametrize("name", MODULES)
def test_every_exported_name_exists_and_is_documented(name):
    module = importlib.import_module(name)
    assert module.__all__ == sorted(module.__all__, key=lambda n: (not n.isupper(), n))
    for export in module.__all__:
        value = getattr(module, export)
        if callable(value) and not isinstance(value, type(TimestampUnit.SECONDS)):
            assert value.__doc__, f"{name}.{export} has no docstring"


def test_sources_do_not_import_exact_sync_mapping_or_each_other():
    code = (
        "import sys, exactbridge.sources.virtuagym, exactbridge.sources.eduframe;"
        "bad = [m for m in sys.modules if m.startswith(('exactbridge.exact', 'exactbridge.sync',"
        " 'exactbridge.mapping', 'exactbridge.testing'))];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    for vendor, other in (("virtuagym", "eduframe"), ("eduframe", "virtuagym")):
        code = (
            f"import sys, exactbridge.sources.{vendor};"
            f"print(any(m.startswith('exactbridge.sources.{other}') for m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "False"


def test_credentials_validation_and_club_id_from_secret():
    with pytest.raises(ConfigurationError):
        VirtuagymCredentials(club_id=0, api_key="k", club_secret="s")
    with pytest.raises(ConfigurationError):
        VirtuagymCredentials(club_id=1, api_key="", club_secret="s")
    derived = VirtuagymCredentials.from_club_secret("k", "8633-abcdef")
    assert derived.club_id == 8633
    with pytest.raises(ConfigurationError):
        VirtuagymCredentials.from_club_secret("k", "no-digits")


def test_unix_timestamps():
    assert unix_to_datetime(0, TimestampUnit.SECONDS) == dt.datetime(
        1970, 1, 1, tzinfo=dt.timezone.utc
    )
    ms = unix_to_datetime(1_700_000_000_123, TimestampUnit.MILLISECONDS)
    assert ms.microsecond == 123_000
    assert unix_to_datetime(1_700_000_000, TimestampUnit.AUTO) == unix_to_datetime(
        1_700_000_000_000, TimestampUnit.AUTO
    )


def test_member_pager_keeps_the_newer_version_of_a_repeated_member():
    pager = _MemberPager(VirtuagymSettings(), {}, MemberStats())
    old = {"member_id": 1, "firstname": "Old", "timestamp_edit": 1_700_000_000_000}
    new = {"member_id": 1, "firstname": "New", "timestamp_edit": 1_700_000_001_000}
    page = {"status": {"statuscode": 200, "results_remaining": 0}, "result": [old, old, new]}
    members = list(pager.items(page, "GET", "https://x.test"))
    assert [m.firstname for m in members] == ["Old", "New"]
    assert pager.stats.duplicates == 1
