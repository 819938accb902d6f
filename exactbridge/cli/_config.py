"""The ``exactbridge.toml`` configuration file of the ``exactbridge`` command.

One file describes one project: how to reach Exact Online (``[exact]``), where
the sync engine keeps its memory (``[state]``) and the pipelines it runs
(``[pipelines.<name>]``)::

    [exact]
    country = "nl"
    division = 1234567                           # optional: the user's current division
    client_id = "8d1a7f0e-..."
    client_secret_env = "EXACT_CLIENT_SECRET"    # the *name* of an environment variable
    redirect_uri = "http://localhost:8765/callback"

    [state]
    path = "state.sqlite3"                       # relative to this file's folder

    [pipelines.club]
    kind = "invoices"
    [pipelines.club.source]
    system = "virtuagym"
    club_id = 1234
    api_key_env = "VIRTUAGYM_API_KEY"
    [pipelines.club.booking]
    sales_journal = "70"
    [pipelines.club.sync]
    sync_from = 2025-01-01

Secrets never live in the file: it names the environment variables that hold
them (keys ending in ``_env``), and they are read only when a command needs them.
Every problem is a :class:`ConfigFileError` (a
:class:`~exactbridge.errors.ConfigurationError`) that names the file, the dotted
key path and what was expected; a TOML syntax error names the line and column.
Values are never echoed for keys that could hold a secret.

Example (reading ``exactbridge.toml`` from the current folder)::

    config = load_config("exactbridge.toml")
    config.pipeline("club").booking.sales_journal   # '70'
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import attrs
import httpx

from exactbridge.clock import Clock
from exactbridge.errors import ConfigurationError
from exactbridge.exact import (
    COUNTRY_BASE_URLS,
    Credentials,
    ExactClient,
    SQLiteTokenStore,
    base_url_for_country,
)
from exactbridge.mapping import BookingConfig
from exactbridge.sync import project_state_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_NAME",
    "DEFAULT_SECRET_ENV",
    "PIPELINE_KINDS",
    "SOURCE_SYSTEMS",
    "ConfigFileError",
    "ExactSettings",
    "PipelineConfig",
    "ProjectConfig",
    "config_path",
    "load_config",
    "make_credentials",
    "make_exact_client",
    "make_token_store",
    "read_env",
    "relocate",
    "resolve_path",
]

#: The file looked for in the working directory when neither ``--config`` nor
#: :data:`CONFIG_ENV` says otherwise.
DEFAULT_CONFIG_NAME = "exactbridge.toml"
#: The environment variable naming the configuration file.
CONFIG_ENV = "EXACTBRIDGE_CONFIG"
#: The environment variable holding the Exact client secret unless
#: ``exact.client_secret_env`` names another.
DEFAULT_SECRET_ENV = "EXACT_CLIENT_SECRET"
#: What a pipeline books (``pipelines.<name>.kind``).
PIPELINE_KINDS = ("invoices", "payouts", "mandates")
#: The source systems a pipeline reads (``pipelines.<name>.source.system``).
SOURCE_SYSTEMS = ("virtuagym", "eduframe", "coachview", "clubassistent", "paynl")
#: Which source systems deliver each kind (invoices come from every one).
_KIND_SOURCES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "invoices": SOURCE_SYSTEMS,
        "payouts": ("paynl",),
        "mandates": ("clubassistent",),
    }
)

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The same rule as the run lock's file names, so every configured pipeline can be locked.
_PIPELINE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}\Z")
# Option names that look like a secret written into the file instead of an env var name.
_SECRET_PARTS = ("secret", "password", "passwd")
_SECRET_ENDINGS = ("token", "api_key", "apikey")
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*\Z")


class ConfigFileError(ConfigurationError):
    """A problem in a configuration file: names the ``file``, the ``key`` path and ``expected``.

    ``line`` and ``column`` are set for TOML syntax errors. The message reads
    ``<file>: <key>: <what is wrong> (expected <what would do>)``, e.g.::

        /srv/club/exactbridge.toml: pipelines.club.booking.vat.codes: 7 is not accepted
        (expected a table of texts)
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | os.PathLike[str],
        key: str | None = None,
        expected: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message, key=key, expected=expected)
        self.file = str(file)
        self.line = line
        self.column = column
        where = self.file
        if line is not None:
            where += f", line {line}"
            if column is not None:
                where += f", column {column}"
        self.args = (f"{where}: {self.args[0]}",)


# --------------------------------------------------------------------------- settings


@attrs.frozen
class ExactSettings:
    """The ``[exact]`` section: how to reach Exact Online.

    Holds no secret: ``client_secret_env`` is the name of the environment
    variable with the client secret (read by :func:`make_credentials`).
    ``token_store`` is the SQLite token database (absolute, ``~`` expanded) and
    ``token_name`` the row in it. ``base_url`` overrides the country's site (a
    local fake). ``file`` is the configuration file, for messages.
    """

    client_id: str
    redirect_uri: str
    token_store: Path
    file: Path
    country: str = "nl"
    division: int | None = None
    client_secret_env: str = DEFAULT_SECRET_ENV
    token_name: str = "default"
    base_url: str | None = None

    @property
    def site_url(self) -> str:
        """The Exact Online site to talk to: ``base_url`` or the country's site."""
        return self.base_url if self.base_url is not None else base_url_for_country(self.country)

    def with_country(self, country: str) -> ExactSettings:
        """A copy for another country (``exactbridge login --country``); checks the code."""
        base_url_for_country(country)  # raises ConfigurationError naming the choices
        return attrs.evolve(self, country=country.strip().lower())


@attrs.frozen
class PipelineConfig:
    """One ``[pipelines.<name>]`` table: what to read, how to book it, engine settings.

    - ``kind``: ``"invoices"``, ``"payouts"`` or ``"mandates"``;
    - ``source``: the source system (``"virtuagym"``...); ``source_options`` the
      rest of the ``source`` table, unvalidated (the pipeline factory checks
      them). Keys ending in ``_env`` name environment variables: read them with
      :meth:`env`;
    - ``tenant``: the club, institute or merchant under which records are kept
      in the state store (default: the pipeline name);
    - ``booking``: the validated :class:`~exactbridge.mapping.BookingConfig`;
    - ``sync``: the engine settings, unvalidated (``sync_from``, ``backfill``...).

    Tables are read-only mappings, arrays are tuples; TOML floats arrive as
    :class:`~decimal.Decimal`.
    """

    name: str
    kind: str
    source: str
    tenant: str
    booking: BookingConfig
    file: Path
    source_options: Mapping[str, Any] = attrs.field(factory=lambda: MappingProxyType({}))
    sync: Mapping[str, Any] = attrs.field(factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> str:
        """This pipeline's key path in the file (``pipelines.<name>``)."""
        return f"pipelines.{self.name}"

    def error(self, message: str, *, key: str, expected: str) -> ConfigFileError:
        """A :class:`ConfigFileError` for ``key`` inside this pipeline (``"sync.backfill"``).

        For the pipeline factory: ``raise pipeline.error("...", key="source.club_id",
        expected="a whole number")`` names the file and the full key path.
        """
        return ConfigFileError(message, file=self.file, key=f"{self.key}.{key}", expected=expected)

    def relocate(self, exc: ConfigurationError, *, section: str | None = None) -> ConfigFileError:
        """``exc`` from a check of this pipeline's ``section`` (``"source"``, ``"sync"``; or
        ``None`` when its key already starts with the section, like ``sync.on_change``) as a
        :class:`ConfigFileError` naming the file and the full key path."""
        prefix = self.key if section is None else f"{self.key}.{section}"
        return relocate(exc, file=self.file, prefix=prefix)

    def env(
        self, option: str, *, section: str = "source", environ: Mapping[str, str] | None = None
    ) -> str:
        """Read the environment variable named by option ``option`` (e.g. ``"api_key_env"``).

        ``section`` is ``"source"`` (default) or ``"sync"``. Raises
        :class:`ConfigFileError` when the option is missing or the variable is not
        set; the message names the variable, never a value.
        """
        table = self.source_options if section == "source" else self.sync
        key = f"{self.key}.{section}.{option}"
        name = table.get(option)
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ConfigFileError(
                "is missing" if name is None else "is not an environment variable name",
                file=self.file,
                key=key,
                expected='the name of an environment variable, e.g. "VIRTUAGYM_API_KEY"',
            )
        return read_env(name, key=key, file=self.file, environ=environ)

    def path(self, option: str, *, section: str = "source") -> Path:
        """Option ``option`` as a path: ``~`` expanded, relative to the file's folder."""
        table = self.source_options if section == "source" else self.sync
        value = table.get(option)
        if not isinstance(value, str) or not value:
            raise ConfigFileError(
                "is missing" if value is None else f"got {_kind(value)}",
                file=self.file,
                key=f"{self.key}.{section}.{option}",
                expected="a file path",
            )
        return resolve_path(value, self.file.parent)


@attrs.frozen
class ProjectConfig:
    """A loaded ``exactbridge.toml`` (see :func:`load_config`).

    ``path`` is the file (absolute), ``exact`` the ``[exact]`` section (``None``
    when the file has none: commands that need Exact call :meth:`require_exact`),
    ``state_path`` the SQLite state database and ``pipelines`` the pipelines by
    name, in file order.
    """

    path: Path
    state_path: Path
    exact: ExactSettings | None = None
    pipelines: Mapping[str, PipelineConfig] = attrs.field(factory=lambda: MappingProxyType({}))

    def pipeline(self, name: str) -> PipelineConfig:
        """The pipeline ``name``; a :class:`ConfigFileError` listing the known names otherwise."""
        found = self.pipelines.get(name)
        if found is not None:
            return found
        known = ", ".join(sorted(self.pipelines)) or "none: add a [pipelines.<name>] table"
        raise ConfigFileError(
            f"no pipeline named {name!r}",
            file=self.path,
            key=f"pipelines.{name}",
            expected=f"one of the configured pipelines ({known})",
        )

    def require_exact(self) -> ExactSettings:
        """The ``[exact]`` section, or a :class:`ConfigFileError` saying it is missing."""
        if self.exact is None:
            raise ConfigFileError(
                "the section is missing",
                file=self.path,
                key="exact",
                expected="an [exact] table with at least client_id and redirect_uri",
            )
        return self.exact


# ------------------------------------------------------------------------ helpers


def resolve_path(value: str | os.PathLike[str], base: Path) -> Path:
    """``value`` with ``~`` expanded, made absolute relative to ``base``.

    >>> resolve_path("state.sqlite3", Path("/srv/club"))
    PosixPath('/srv/club/state.sqlite3')
    """
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


def relocate(
    exc: ConfigurationError, *, file: str | os.PathLike[str], prefix: str
) -> ConfigFileError:
    """``exc`` (keyed relative to a table, e.g. ``vat.codes``) as a :class:`ConfigFileError`
    naming ``file`` and the full key path (``prefix`` + ``.`` + its key).

    For checks that know only their own table, such as
    :meth:`~exactbridge.mapping.BookingConfig.from_mapping`::

        except ConfigurationError as exc:
            raise relocate(exc, file=path, prefix="pipelines.club.booking") from exc
    """
    if isinstance(exc, ConfigFileError):
        return exc
    inner = exc.key
    message = str(exc)
    if inner is not None and message.startswith(f"{inner}: "):
        message = message[len(inner) + 2 :]
    if exc.expected is not None and message.endswith(f" (expected {exc.expected})"):
        message = message[: -len(f" (expected {exc.expected})")]
    key = (f"{prefix}.{inner}" if prefix else inner) if inner else (prefix or None)
    return ConfigFileError(message, file=file, key=key, expected=exc.expected or "a valid value")


def config_path(
    explicit: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """The configuration file to use: ``explicit`` (``--config``), else ``$EXACTBRIDGE_CONFIG``,
    else ``./exactbridge.toml``."""
    env = os.environ if environ is None else environ
    if explicit is not None and str(explicit):
        return Path(explicit).expanduser()
    from_env = env.get(CONFIG_ENV, "")
    if from_env:
        return Path(from_env).expanduser()
    return Path(DEFAULT_CONFIG_NAME)


def read_env(
    name: str,
    *,
    key: str,
    file: str | os.PathLike[str],
    environ: Mapping[str, str] | None = None,
) -> str:
    """The value of environment variable ``name``, named by ``key`` in ``file``.

    A missing or empty variable raises :class:`ConfigFileError` naming the variable
    and the key; the value itself never appears in a message.
    """
    env = os.environ if environ is None else environ
    value = env.get(name, "")
    if not value:
        raise ConfigFileError(
            f"the environment variable {name} is not set",
            file=file,
            key=key,
            expected=f"{name} to hold the secret (set it in the environment, not in the file)",
        )
    return value


def _kind(value: object) -> str:
    """A TOML-flavoured name of a value's type (values themselves are not echoed)."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, (Decimal, float)):
        return "a decimal number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, dt.datetime):
        return "a date and time"
    if isinstance(value, dt.date):
        return "a date"
    if isinstance(value, dt.time):
        return "a time"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return type(value).__name__


def _freeze(value: Any) -> Any:
    """Read-only copies of parsed TOML: tables become mapping proxies, arrays tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Reader:
    """Typed access to one table of the file, with key paths for every error."""

    def __init__(self, data: Mapping[str, Any], key: str, file: Path) -> None:
        self.data = data
        self.key = key
        self.file = file

    def path_of(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def fail(self, name: str, message: str, expected: str) -> ConfigFileError:
        return ConfigFileError(message, file=self.file, key=self.path_of(name), expected=expected)

    def only(self, allowed: tuple[str, ...]) -> None:
        for name in self.data:
            if name in allowed:
                continue
            if name in ("client_secret", "secret") and self.key == "exact":
                raise self.fail(
                    name,
                    "secrets are not kept in the configuration file",
                    "client_secret_env = the name of the environment variable holding it",
                )
            raise self.fail(name, "unknown key", "one of " + ", ".join(allowed))

    def text(self, name: str, *, default: str | None = None, required: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is missing", "a non-empty text")
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                name,
                "is empty" if isinstance(value, str) else f"got {_kind(value)}",
                "a non-empty text",
            )
        return value.strip()

    def required_text(self, name: str) -> str:
        value = self.text(name, required=True)
        if value is None:  # pragma: no cover - text() raised already
            raise self.fail(name, "is missing", "a non-empty text")
        return value

    def choice(self, name: str, choices: tuple[str, ...], *, default: str | None = None) -> str:
        expected = "one of " + ", ".join(f'"{c}"' for c in choices)
        value = self.data.get(name, default)
        if value is None:
            raise self.fail(name, "is missing", expected)
        if not isinstance(value, str):
            raise self.fail(name, f"got {_kind(value)}", expected)
        if value.strip().lower() not in choices:
            raise self.fail(name, f"{value!r} is not known", expected)
        return value.strip().lower()

    def env_name(self, name: str, *, default: str) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str) or not _ENV_NAME.match(value):
            raise self.fail(
                name,
                "is not an environment variable name"
                if isinstance(value, str)
                else f"got {_kind(value)}",
                'the name of an environment variable, e.g. "EXACT_CLIENT_SECRET"',
            )
        return value

    def table(self, name: str) -> _Reader:
        value = self.data.get(name, {})
        if not isinstance(value, Mapping):
            raise self.fail(name, f"got {_kind(value)}", "a table")
        return _Reader(value, self.path_of(name), self.file)


# ------------------------------------------------------------------------- loading


def _parse(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle, parse_float=Decimal)
            return data
    except FileNotFoundError:
        raise ConfigFileError(
            "the configuration file does not exist",
            file=path,
            expected=f"an {DEFAULT_CONFIG_NAME} (pass --config FILE or set {CONFIG_ENV})",
        ) from None
    except IsADirectoryError:
        raise ConfigFileError(
            "is a folder, not a file", file=path, expected="a TOML configuration file"
        ) from None
    except OSError as exc:
        raise ConfigFileError(
            f"cannot be read ({exc.strerror or type(exc).__name__})",
            file=path,
            expected="a readable TOML configuration file",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigFileError(
            f"is not UTF-8 text (byte {exc.start})", file=path, expected="a UTF-8 encoded TOML file"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = column = None
        found = _TOML_POSITION.search(message)
        if found is not None:
            line, column = int(found.group(1)), int(found.group(2))
            message = message[: found.start()]
        raise ConfigFileError(
            f"TOML syntax error: {message}",
            file=path,
            expected="valid TOML (https://toml.io)",
            line=line,
            column=column,
        ) from None


def _exact_settings(reader: _Reader, state_path: Path, base: Path) -> ExactSettings:
    reader.only(
        (
            "country",
            "division",
            "client_id",
            "client_secret_env",
            "redirect_uri",
            "token_store",
            "token_name",
            "base_url",
        )
    )
    country = reader.choice("country", tuple(sorted(COUNTRY_BASE_URLS)), default="nl")
    division = reader.data.get("division")
    if division is not None and (
        isinstance(division, bool) or not isinstance(division, int) or division <= 0
    ):
        raise reader.fail(
            "division",
            f"got {_kind(division)}" if not isinstance(division, int) else f"{division} is not",
            "a positive whole number, the Exact division code (e.g. 1234567)",
        )
    client_id = reader.required_text("client_id")
    redirect_uri = reader.required_text("redirect_uri")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise reader.fail(
            "redirect_uri",
            f"{redirect_uri!r} is not a URL",
            'the redirect URI of the app registration, e.g. "http://localhost:8765/callback"',
        )
    base_url = reader.text("base_url")
    if base_url is not None:
        site = urlsplit(base_url)
        if not site.hostname or not (
            site.scheme == "https" or (site.scheme == "http" and _is_loopback(site.hostname))
        ):
            raise reader.fail(
                "base_url",
                f"{base_url!r} is not usable",
                "an https:// URL (plain http:// only for localhost, e.g. the fake server)",
            )
        base_url = base_url.rstrip("/")
    token_text = reader.text("token_store")
    token_store = (
        resolve_path(token_text, base)
        if token_text is not None
        else state_path.with_name("tokens.sqlite3")
    )
    return ExactSettings(
        client_id=client_id,
        redirect_uri=redirect_uri,
        token_store=token_store,
        file=reader.file,
        country=country,
        division=division,
        client_secret_env=reader.env_name("client_secret_env", default=DEFAULT_SECRET_ENV),
        token_name=reader.text("token_name", default="default") or "default",
        base_url=base_url,
    )


def _check_options(reader: _Reader, *, forbid_secrets: bool) -> None:
    for name, value in reader.data.items():
        if name.endswith("_env"):
            if not isinstance(value, str) or not _ENV_NAME.match(value):
                raise reader.fail(
                    name,
                    "is not an environment variable name"
                    if isinstance(value, str)
                    else f"got {_kind(value)}",
                    "the name of the environment variable that holds the value",
                )
        elif forbid_secrets and _looks_secret(name):
            raise reader.fail(
                name,
                "secrets are not kept in the configuration file",
                f"{name}_env = the name of the environment variable holding it",
            )


def _looks_secret(name: str) -> bool:
    """True for option names that hold a secret (``api_token``, ``service_secret``...)."""
    lowered = name.lower()
    return any(part in lowered for part in _SECRET_PARTS) or lowered.endswith(_SECRET_ENDINGS)


def _booking(reader: _Reader) -> BookingConfig:
    try:
        return BookingConfig.from_mapping(_thaw(reader.data))
    except ConfigurationError as exc:
        raise relocate(exc, file=reader.file, prefix=reader.key) from exc


def _pipeline(name: str, reader: _Reader) -> PipelineConfig:
    if not _PIPELINE_NAME.match(name):
        raise ConfigFileError(
            f"{name!r} is not a usable pipeline name",
            file=reader.file,
            key=reader.key,
            expected="up to 64 letters, digits, '_', '-' or '.', not starting with '.'",
        )
    reader.only(("kind", "source", "tenant", "booking", "sync"))
    kind = reader.choice("kind", PIPELINE_KINDS)
    raw_source = reader.data.get("source")
    if isinstance(raw_source, str):
        source = reader.choice("source", SOURCE_SYSTEMS)
        options: _Reader = _Reader({}, reader.path_of("source"), reader.file)
    elif isinstance(raw_source, Mapping):
        options = reader.table("source")
        source = options.choice("system", SOURCE_SYSTEMS)
        options = _Reader(
            {k: v for k, v in options.data.items() if k != "system"}, options.key, options.file
        )
    else:
        raise reader.fail(
            "source",
            "is missing" if raw_source is None else f"got {_kind(raw_source)}",
            'a [source] table with system = "virtuagym" (or another source system) '
            "and the source's options",
        )
    allowed = _KIND_SOURCES[kind]
    if source not in allowed:
        raise reader.fail(
            "source.system" if isinstance(raw_source, Mapping) else "source",
            f"{kind} do not come from {source!r}",
            "one of " + ", ".join(f'"{s}"' for s in allowed) + f' for kind = "{kind}"',
        )
    _check_options(options, forbid_secrets=True)
    sync = reader.table("sync")
    _check_options(sync, forbid_secrets=False)
    tenant = reader.text("tenant", default=name) or name
    return PipelineConfig(
        name=name,
        kind=kind,
        source=source,
        tenant=tenant,
        booking=_booking(reader.table("booking")),
        file=reader.file,
        source_options=_freeze(options.data),
        sync=_freeze(sync.data),
    )


def load_config(path: str | os.PathLike[str]) -> ProjectConfig:
    """Read and check ``path`` (an ``exactbridge.toml``); see the module documentation.

    Relative paths in the file are relative to the file's folder; ``~`` is
    expanded. Nothing is read from the environment here: secrets are read when a
    command needs them (:func:`make_credentials`, :meth:`PipelineConfig.env`).
    Raises :class:`ConfigFileError`.
    """
    file = Path(path).expanduser().absolute()
    data = _parse(file)
    root = _Reader(data, "", file)
    root.only(("exact", "state", "pipelines"))
    base = file.parent

    state = root.table("state")
    state.only(("path",))
    state_text = state.text("path")
    if state_text is not None:
        state_path = resolve_path(state_text, base)
    else:
        raw_exact = data.get("exact")
        division = raw_exact.get("division") if isinstance(raw_exact, Mapping) else None
        state_path = project_state_path(
            file, division if isinstance(division, int) and not isinstance(division, bool) else None
        )

    exact = None
    if "exact" in data:
        exact = _exact_settings(root.table("exact"), state_path, base)

    pipelines_reader = root.table("pipelines")
    pipelines: dict[str, PipelineConfig] = {}
    for name in pipelines_reader.data:
        pipelines[name] = _pipeline(name, pipelines_reader.table(name))
    return ProjectConfig(
        path=file,
        state_path=state_path,
        exact=exact,
        pipelines=MappingProxyType(pipelines),
    )


# --------------------------------------------------------------- the Exact pieces


def make_credentials(
    settings: ExactSettings, *, environ: Mapping[str, str] | None = None
) -> Credentials:
    """The app's :class:`~exactbridge.exact.Credentials`, with the secret from the environment.

    Raises :class:`ConfigFileError` naming the variable when it is not set.
    """
    secret = read_env(
        settings.client_secret_env,
        key="exact.client_secret_env",
        file=settings.file,
        environ=environ,
    )
    return Credentials(settings.client_id, secret, settings.redirect_uri)


def make_token_store(settings: ExactSettings) -> SQLiteTokenStore:
    """The SQLite token store of ``exact.token_store`` (its folder is created if missing)."""
    folder = settings.token_store.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigFileError(
            f"cannot create the folder {folder} ({exc.strerror or type(exc).__name__})",
            file=settings.file,
            key="exact.token_store",
            expected="a token database path in a folder you may write to",
        ) from exc
    return SQLiteTokenStore(settings.token_store, name=settings.token_name)


def make_exact_client(
    settings: ExactSettings,
    *,
    environ: Mapping[str, str] | None = None,
    token_store: SQLiteTokenStore | None = None,
    resolve_division: bool = True,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
) -> ExactClient:
    """An :class:`~exactbridge.exact.ExactClient` for the ``[exact]`` section.

    Without ``exact.division`` and with ``resolve_division`` the user's current
    division is asked once (``current/Me``) and used; with
    ``resolve_division=False`` the client has no division (discovery calls only,
    such as :meth:`~exactbridge.exact.ExactClient.divisions`). ``transport`` and
    ``clock`` are the test seams of the client. The caller closes the client.
    """
    credentials = make_credentials(settings, environ=environ)
    store = token_store if token_store is not None else make_token_store(settings)

    def build(division: int | None) -> ExactClient:
        return ExactClient(
            division=division,
            credentials=credentials,
            token_store=store,
            country=settings.country,
            base_url=settings.base_url,
            transport=transport,
            clock=clock,
        )

    division = settings.division
    if division is None and resolve_division:
        probe = build(None)
        try:
            division = probe.me().current_division
        finally:
            if transport is None:  # a caller's transport stays open for its next client
                probe.close()
        if division is None:
            raise ConfigFileError(
                "Exact Online reports no current division for this user",
                file=settings.file,
                key="exact.division",
                expected="the division code to use (see 'exactbridge divisions')",
            )
    return build(division)
