"""exactbridge.toml: loading good files, naming file + key path + expected for bad ones, secrets."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from exactbridge.cli._config import (
    CONFIG_ENV,
    DEFAULT_SECRET_ENV,
    ConfigFileError,
    ExactSettings,
    config_path,
    load_config,
    make_credentials,
    make_exact_client,
    make_token_store,
    read_env,
    relocate,
    resolve_path,
)
from exactbridge.errors import ConfigurationError
from exactbridge.exact import SQLiteTokenStore, Token
from exactbridge.mapping import CreditNoteMode
from exactbridge.sync import default_state_path, project_state_path
from exactbridge.testing import FakeExactOnline
from tests.cli._support import CANARY_SECRET, CLIENT_ID, SECRET_ENV, exact_section, write_config

FULL = """
[exact]
country = "BE"
division = 1234567
client_id = "app-1"
client_secret_env = "CLUB_EXACT_SECRET"
redirect_uri = "http://localhost:8765/callback"
token_store = "secrets/tokens.sqlite3"
token_name = "club"
base_url = "http://127.0.0.1:8765/"

[state]
path = "data/state.sqlite3"

[pipelines.club]
kind = "invoices"
tenant = "club-12"
[pipelines.club.source]
system = "virtuagym"
club_id = 12
api_key_env = "VIRTUAGYM_API_KEY"
export = "exports/invoices.csv"
[pipelines.club.booking]
sales_journal = "71"
credit_notes = { mode = "negative_entry" }
vat.codes = { "1" = "2" }
[pipelines.club.sync]
sync_from = 2025-01-01
backfill = true
rounding = 0.01
statuses = ["paid", "open"]

[pipelines.payouts]
kind = "payouts"
[pipelines.payouts.source]
system = "paynl"
token_code = "AT-0001-0002"
api_token_env = "PAYNL_API_TOKEN"

[pipelines.mandates]
kind = "mandates"
source = "clubassistent"
"""


def _error(tmp_path: Path, text: str) -> ConfigFileError:
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigFileError) as info:
        load_config(path)
    return info.value


def test_a_full_file_loads_into_typed_settings(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, FULL))
    assert config.path == tmp_path / "exactbridge.toml"
    assert config.state_path == tmp_path / "data" / "state.sqlite3"
    exact = config.require_exact()
    assert exact.country == "be"
    assert exact.division == 1234567
    assert exact.client_id == "app-1"
    assert exact.client_secret_env == "CLUB_EXACT_SECRET"
    assert exact.token_store == tmp_path / "secrets" / "tokens.sqlite3"
    assert exact.token_name == "club"
    assert exact.base_url == "http://127.0.0.1:8765"
    assert exact.site_url == "http://127.0.0.1:8765"
    assert list(config.pipelines) == ["club", "payouts", "mandates"]

    club = config.pipeline("club")
    assert (club.kind, club.source, club.tenant) == ("invoices", "virtuagym", "club-12")
    assert dict(club.source_options) == {
        "club_id": 12,
        "api_key_env": "VIRTUAGYM_API_KEY",
        "export": "exports/invoices.csv",
    }
    assert club.path("export") == tmp_path / "exports" / "invoices.csv"
    assert club.booking.sales_journal == "71"
    assert club.booking.credit_notes.mode is CreditNoteMode.NEGATIVE_ENTRY
    assert dict(club.booking.vat.codes) == {"1": "2"}
    assert club.sync["sync_from"] == dt.date(2025, 1, 1)
    assert club.sync["backfill"] is True
    # TOML floats never become binary floats.
    assert club.sync["rounding"] == Decimal("0.01")
    assert isinstance(club.sync["rounding"], Decimal)
    assert club.sync["statuses"] == ("paid", "open")
    with pytest.raises(TypeError):
        club.sync["backfill"] = False  # type: ignore[index]

    payouts = config.pipeline("payouts")
    assert (payouts.source, payouts.tenant) == ("paynl", "payouts")
    assert payouts.source_options["token_code"] == "AT-0001-0002"
    mandates = config.pipeline("mandates")
    assert (mandates.source, dict(mandates.source_options)) == ("clubassistent", {})


def test_defaults_of_a_minimal_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    file = write_config(
        tmp_path, '[exact]\nclient_id = "a"\nredirect_uri = "http://localhost:1/cb"\n'
    )
    config = load_config(file)
    exact = config.require_exact()
    # one state file per configuration file (no division configured: no division suffix)
    assert config.state_path == project_state_path(file)
    assert config.state_path.parent == default_state_path().parent
    assert config.state_path.name.startswith("state-exactbridge-")
    assert exact.country == "nl"
    assert exact.division is None
    assert exact.client_secret_env == DEFAULT_SECRET_ENV
    assert exact.token_store == default_state_path().with_name("tokens.sqlite3")
    assert exact.token_name == "default"
    assert exact.base_url is None
    assert exact.site_url == "https://start.exactonline.nl"
    assert dict(config.pipelines) == {}


def test_a_file_without_exact_section_loads_and_commands_needing_it_say_so(
    tmp_path: Path,
) -> None:
    config = load_config(write_config(tmp_path, '[state]\npath = "s.sqlite3"\n'))
    assert config.exact is None
    with pytest.raises(ConfigFileError) as info:
        config.require_exact()
    assert info.value.key == "exact"
    assert str(tmp_path / "exactbridge.toml") in str(info.value)


def test_paths_expand_home_and_are_relative_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = tmp_path / "project"
    folder.mkdir()
    config = load_config(
        write_config(folder, '[state]\npath = "~/eb/state.sqlite3"\n' + exact_section())
    )
    assert config.state_path == tmp_path / "home" / "eb" / "state.sqlite3"
    assert config.require_exact().token_store == folder / "tokens.sqlite3"
    assert resolve_path("/abs/x", folder) == Path("/abs/x")


def test_config_path_prefers_the_option_then_the_environment_then_the_default() -> None:
    assert config_path("a.toml", environ={CONFIG_ENV: "b.toml"}) == Path("a.toml")
    assert config_path(None, environ={CONFIG_ENV: "b.toml"}) == Path("b.toml")
    assert config_path(None, environ={}) == Path("exactbridge.toml")


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[exact]\nclient_id = "a"\n', "exact.redirect_uri", "a non-empty text"),
        ('[exact]\nredirect_uri = "http://l/cb"\n', "exact.client_id", "a non-empty text"),
        ('[exact]\nclient_id = 5\nredirect_uri = "http://l/cb"\n', "exact.client_id", "text"),
        (
            '[exact]\ncountry = "xx"\nclient_id = "a"\nredirect_uri = "http://l/cb"\n',
            "exact.country",
            '"nl"',
        ),
        (
            '[exact]\ndivision = "12"\nclient_id = "a"\nredirect_uri = "http://l/cb"\n',
            "exact.division",
            "division code",
        ),
        (
            '[exact]\ndivision = -3\nclient_id = "a"\nredirect_uri = "http://l/cb"\n',
            "exact.division",
            "positive whole number",
        ),
        ('[exact]\nclient_id = "a"\nredirect_uri = "callback"\n', "exact.redirect_uri", "URI"),
        (
            '[exact]\nclient_id = "a"\nredirect_uri = "http://l/cb"\nbase_url = "http://exact.example"\n',
            "exact.base_url",
            "https://",
        ),
        (
            '[exact]\nclient_id = "a"\nredirect_uri = "http://l/cb"\nclient_secret_env = "1-BAD"\n',
            "exact.client_secret_env",
            "environment variable",
        ),
        (
            '[exact]\nclient_id = "a"\nredirect_uri = "http://l/cb"\ncolour = 1\n',
            "exact.colour",
            "one of",
        ),
        ("[state]\npath = 7\n", "state.path", "a non-empty text"),
        ("[state]\nfolder = 'x'\n", "state.folder", "one of path"),
        ("[extra]\n", "extra", "one of exact, state, pipelines"),
        ("exact = 3\n", "exact", "a table"),
        ("[pipelines]\nclub = 3\n", "pipelines.club", "a table"),
        ("[pipelines.club]\nsource = 'virtuagym'\n", "pipelines.club.kind", '"invoices"'),
        (
            "[pipelines.club]\nkind = 'sales'\nsource = 'virtuagym'\n",
            "pipelines.club.kind",
            '"invoices", "payouts", "mandates"',
        ),
        ("[pipelines.club]\nkind = 'invoices'\n", "pipelines.club.source", "system ="),
        (
            "[pipelines.club]\nkind = 'invoices'\nsource = 'exact'\n",
            "pipelines.club.source",
            '"virtuagym"',
        ),
        (
            "[pipelines.club]\nkind = 'invoices'\n[pipelines.club.source]\nclub_id = 1\n",
            "pipelines.club.source.system",
            '"virtuagym"',
        ),
        (
            "[pipelines.club]\nkind = 'payouts'\n[pipelines.club.source]\nsystem = 'virtuagym'\n",
            "pipelines.club.source.system",
            '"paynl" for kind = "payouts"',
        ),
        (
            "[pipelines.club]\nkind = 'mandates'\nsource = 'paynl'\n",
            "pipelines.club.source",
            '"clubassistent"',
        ),
        (
            "[pipelines.club]\nkind = 'invoices'\n[pipelines.club.source]\nsystem = 'virtuagym'\n"
            "api_key_env = 'has space'\n",
            "pipelines.club.source.api_key_env",
            "environment variable",
        ),
        (
            "[pipelines.club]\nkind = 'invoices'\nsource = 'virtuagym'\nschedule = 5\n",
            "pipelines.club.schedule",
            "one of kind, source, tenant, booking, sync",
        ),
        (
            "[pipelines.club]\nkind = 'invoices'\nsource = 'virtuagym'\n"
            "[pipelines.club.booking]\nvat.codes = 7\n",
            "pipelines.club.booking.vat.codes",
            "a table of texts",
        ),
        (
            "[pipelines.club]\nkind = 'invoices'\nsource = 'virtuagym'\n"
            "[pipelines.club.booking]\nsales_journal = 70\n",
            "pipelines.club.booking.sales_journal",
            "a text",
        ),
        (
            "[pipelines.club]\nkind = 'invoices'\nsource = 'virtuagym'\n"
            "[pipelines.club.booking]\ndebtor = { colour = 'red' }\n",
            "pipelines.club.booking.debtor.colour",
            "one of",
        ),
        (
            "[pipelines.club]\nkind = 'invoices'\nsource = 'virtuagym'\nsync = 3\n",
            "pipelines.club.sync",
            "a table",
        ),
        (
            '[pipelines."bad name!"]\nkind = "invoices"\nsource = "virtuagym"\n',
            "pipelines.bad name!",
            "letters, digits",
        ),
    ],
)
def test_bad_values_name_the_file_the_key_path_and_what_was_expected(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    exc = _error(tmp_path, text)
    assert isinstance(exc, ConfigurationError)
    assert exc.key == key
    assert exc.expected is not None
    assert expected in exc.expected
    message = str(exc)
    assert message.startswith(f"{tmp_path / 'exactbridge.toml'}: {key}: ")
    assert f"(expected {exc.expected})" in message


def test_a_toml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    exc = _error(tmp_path, '[exact]\nclient_id = "a"\nredirect_uri = \n')
    assert (exc.line, exc.column) == (3, 16)
    assert str(exc).startswith(f"{tmp_path / 'exactbridge.toml'}, line 3, column 16: TOML syntax")


def test_a_missing_or_unreadable_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigFileError, match="does not exist") as info:
        load_config(tmp_path / "nope.toml")
    assert "--config" in str(info.value)
    with pytest.raises(ConfigFileError, match="is a folder"):
        load_config(tmp_path)
    (tmp_path / "latin1.toml").write_bytes(b'[exact]\nclient_id = "caf\xe9"\n')
    with pytest.raises(ConfigFileError, match="UTF-8"):
        load_config(tmp_path / "latin1.toml")


def test_unknown_pipeline_lists_the_known_names(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, FULL))
    with pytest.raises(ConfigFileError) as info:
        config.pipeline("gym")
    assert info.value.key == "pipelines.gym"
    assert "club, mandates, payouts" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            '[exact]\nclient_id = "a"\nredirect_uri = "http://l/cb"\n'
            f'client_secret = "{CANARY_SECRET}"\n',
            "exact.client_secret",
        ),
        (
            "[pipelines.club]\nkind = 'invoices'\n[pipelines.club.source]\n"
            f"system = 'virtuagym'\napi_key = '{CANARY_SECRET}'\n",
            "pipelines.club.source.api_key",
        ),
        (
            "[pipelines.pay]\nkind = 'payouts'\n[pipelines.pay.source]\n"
            f"system = 'paynl'\napi_token = '{CANARY_SECRET}'\n",
            "pipelines.pay.source.api_token",
        ),
        (
            "[pipelines.pay]\nkind = 'payouts'\n[pipelines.pay.source]\n"
            f"system = 'paynl'\nservice_secret = '{CANARY_SECRET}'\n",
            "pipelines.pay.source.service_secret",
        ),
    ],
)
def test_secrets_written_into_the_file_are_refused_without_echoing_them(
    tmp_path: Path, text: str, key: str
) -> None:
    exc = _error(tmp_path, text)
    assert exc.key == key
    assert "environment variable" in str(exc)
    assert CANARY_SECRET not in str(exc)
    assert CANARY_SECRET not in repr(exc)


def test_secrets_come_from_the_environment_and_stay_out_of_reprs(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, exact_section()))
    settings = config.require_exact()
    credentials = make_credentials(settings, environ={SECRET_ENV: CANARY_SECRET})
    assert credentials.client_secret == CANARY_SECRET
    assert credentials.client_id == CLIENT_ID
    for text in (repr(credentials), repr(settings), repr(config), str(config)):
        assert CANARY_SECRET not in text


def test_a_missing_secret_names_the_variable_and_the_key(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, exact_section()))
    with pytest.raises(ConfigFileError) as info:
        make_credentials(config.require_exact(), environ={})
    assert info.value.key == "exact.client_secret_env"
    assert SECRET_ENV in str(info.value)
    assert str(tmp_path / "exactbridge.toml") in str(info.value)


def test_pipeline_env_reads_the_named_variable_and_names_a_missing_one(tmp_path: Path) -> None:
    club = load_config(write_config(tmp_path, FULL)).pipeline("club")
    assert club.env("api_key_env", environ={"VIRTUAGYM_API_KEY": CANARY_SECRET}) == CANARY_SECRET
    with pytest.raises(ConfigFileError) as info:
        club.env("api_key_env", environ={})
    assert "VIRTUAGYM_API_KEY" in str(info.value)
    assert info.value.key == "pipelines.club.source.api_key_env"
    with pytest.raises(ConfigFileError) as missing:
        club.env("password_env", environ={})
    assert missing.value.key == "pipelines.club.source.password_env"
    assert "is missing" in str(missing.value)


def test_read_env_never_shows_the_value() -> None:
    assert read_env("X", key="k", file="f.toml", environ={"X": CANARY_SECRET}) == CANARY_SECRET
    with pytest.raises(ConfigFileError, match="the environment variable X is not set"):
        read_env("X", key="k", file="f.toml", environ={"X": ""})


def test_relocate_prefixes_a_tables_error_with_the_file_and_the_key_path(tmp_path: Path) -> None:
    inner = ConfigurationError("got 'sometimes'", key="sync.on_change", expected="'update'")
    club = load_config(write_config(tmp_path, FULL)).pipeline("club")
    moved = club.relocate(inner)
    assert moved.key == "pipelines.club.sync.on_change"
    assert str(moved) == (
        f"{tmp_path / 'exactbridge.toml'}: pipelines.club.sync.on_change: got 'sometimes' "
        "(expected 'update')"
    )
    assert club.relocate(
        ConfigurationError("bad", key="club_id", expected="a number"), section="source"
    ).key == ("pipelines.club.source.club_id")
    assert relocate(moved, file="other.toml", prefix="x") is moved
    made = club.error("must be positive", key="source.club_id", expected="1 or more")
    assert made.key == "pipelines.club.source.club_id"


def test_with_country_checks_the_code(tmp_path: Path) -> None:
    settings = load_config(write_config(tmp_path, exact_section())).require_exact()
    assert settings.with_country("UK").country == "uk"
    with pytest.raises(ConfigurationError, match="unknown Exact Online country"):
        settings.with_country("xx")


def _settings(tmp_path: Path, *, division: int | None) -> ExactSettings:
    text = exact_section(base_url="http://127.0.0.1:9", division=division)
    return load_config(write_config(tmp_path, text)).require_exact()


def _store_with_token(settings: ExactSettings, fake: FakeExactOnline) -> SQLiteTokenStore:
    store = make_token_store(settings)
    grant = fake.issue_tokens(CLIENT_ID)
    store.save(
        Token(grant.access_token, grant.refresh_token, grant.issued_at, grant.expires_in),
        expected_generation=None,
    )
    return store


def test_make_exact_client_uses_the_configured_division(tmp_path: Path) -> None:
    fake = FakeExactOnline()
    fake.add_division(1001)
    fake.register_app(CLIENT_ID, CANARY_SECRET, "http://localhost:8766/callback")
    settings = _settings(tmp_path, division=1001)
    store = _store_with_token(settings, fake)
    assert store.path == tmp_path / "tokens.sqlite3"
    with make_exact_client(
        settings,
        environ={SECRET_ENV: CANARY_SECRET},
        transport=fake.transport(),
        clock=fake.clock,
    ) as exact:
        assert exact.division == 1001
        assert exact.base_url == "http://127.0.0.1:9"
        assert [d.code for d in exact.divisions()] == [1001]
        assert CANARY_SECRET not in repr(exact)
    assert fake.count(path="current/Me") == 0


def test_make_exact_client_without_division_asks_for_the_current_one(tmp_path: Path) -> None:
    fake = FakeExactOnline()
    fake.add_division(3003)
    fake.register_app(CLIENT_ID, CANARY_SECRET, "http://localhost:8766/callback")
    settings = _settings(tmp_path, division=None)
    _store_with_token(settings, fake)
    with make_exact_client(
        settings,
        environ={SECRET_ENV: CANARY_SECRET},
        transport=fake.transport(),
        clock=fake.clock,
    ) as exact:
        assert exact.division == 3003
    assert fake.count(path="current/Me") == 1
    with make_exact_client(
        settings,
        environ={SECRET_ENV: CANARY_SECRET},
        transport=fake.transport(),
        clock=fake.clock,
        resolve_division=False,
    ) as exact:
        assert exact.division is None
    assert fake.count(path="current/Me") == 1


def test_make_token_store_names_the_key_when_its_folder_cannot_be_made(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder")
    text = exact_section(extra="").replace(
        'token_store = "tokens.sqlite3"', 'token_store = "blocker/sub/tokens.sqlite3"'
    )
    settings = load_config(write_config(tmp_path, text)).require_exact()
    with pytest.raises(ConfigFileError) as info:
        make_token_store(settings)
    assert info.value.key == "exact.token_store"
