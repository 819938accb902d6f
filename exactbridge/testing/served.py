"""The source fakes served over real sockets, seeded, with what a client needs to reach them.

:func:`exactbridge.testing.server.serve` serves any fake; this module adds what a
test or a person at a terminal needs next to the socket: a seeded fake per source,
the base URL to give that source's client, and the credentials the fake accepts
(public test values)::

    from exactbridge.testing.served import serve_source

    with serve_source("virtuagym", seed_options={"members": 20}) as served:
        served.base_url       # http://127.0.0.1:<port>/api/v1
        served.credentials    # {"club_id": "8633", "api_key": ..., "club_secret": ...}
        served.fake           # the FakeVirtuagym answering (inspect .calls, add data)

``SOURCES`` names what can be served: ``virtuagym``, ``eduframe``, ``coachview`` and
``paynl``. Club-assistent has no API (its exports are files):
:func:`write_clubassistent_files` writes a seeded pain.008 file and invoice CSV to a
folder instead.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from exactbridge.clock import Clock
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.clubassistent import (
    sample_direct_debits,
    sample_invoices,
    write_invoice_csv,
    write_pain008,
)
from exactbridge.testing.coachview import FakeCoachview
from exactbridge.testing.eduframe import FakeEduframe
from exactbridge.testing.paynl import FakePay
from exactbridge.testing.server import RunningServer, serve
from exactbridge.testing.virtuagym import FakeVirtuagym

if TYPE_CHECKING:
    from types import TracebackType

    from exactbridge.testing.tls import LocalCA

__all__ = [
    "COACHVIEW_CLIENT_ID",
    "COACHVIEW_CLIENT_SECRET",
    "SOURCES",
    "ServedSource",
    "make_source_fake",
    "seed_parameters",
    "serve_source",
    "write_clubassistent_files",
]

#: The source fakes that can be served (Club-assistent is files, see
#: :func:`write_clubassistent_files`).
SOURCES = ("virtuagym", "eduframe", "coachview", "paynl")

#: The API client a served :class:`FakeCoachview` accepts (public test values).
COACHVIEW_CLIENT_ID = "fake-coachview-client"
COACHVIEW_CLIENT_SECRET = "fake-coachview-secret"

# Small by default: a served fake is for trying things and for other projects' tests.
_DEFAULT_SEEDS: dict[str, dict[str, Any]] = {
    "virtuagym": {"members": 40, "months": 3},
    "eduframe": {"courses": 3, "editions_per_course": 2, "accounts": 20, "invoices": 60},
    "coachview": {"count": 60},
    "paynl": {"settlements": 3, "transactions": 20},
}


def _seeder(name: str, fake: Any) -> Callable[..., Any]:
    methods = {
        "virtuagym": "seed_gym",
        "eduframe": "seed_institute",
        "coachview": "seed_invoices",
        "paynl": "seed",
    }
    method: Callable[..., Any] = getattr(fake, methods[name])
    return method


def _check_name(name: str) -> None:
    if name not in SOURCES:
        raise ValueError(f"{name!r} is not a served source fake (expected one of {SOURCES})")


def seed_parameters(name: str) -> dict[str, Any]:
    """The keyword arguments ``name``'s seed method takes, with their defaults here.

    They are those of the in-process fakes' own seed methods
    (:meth:`FakeVirtuagym.seed_gym`, :meth:`FakeEduframe.seed_institute`,
    :meth:`FakeCoachview.seed_invoices`, :meth:`FakePay.seed`), with smaller sizes.
    """
    _check_name(name)
    signature = inspect.signature(_seeder(name, _bare_fake(name, None)))
    found: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        default = parameter.default
        found[parameter.name] = None if default is inspect.Parameter.empty else default
    found.update(_DEFAULT_SEEDS[name])
    return found


def _bare_fake(name: str, clock: Clock | None) -> Any:
    if name == "virtuagym":
        return FakeVirtuagym(clock=clock)
    if name == "eduframe":
        return FakeEduframe(clock=clock)
    if name == "coachview":
        fake = FakeCoachview(clock=clock)
        fake.add_client(COACHVIEW_CLIENT_ID, COACHVIEW_CLIENT_SECRET)
        return fake
    return FakePay()


def make_source_fake(
    name: str,
    *,
    seed_options: Mapping[str, Any] | None = None,
    clock: Clock | None = None,
    seed: bool = True,
) -> Any:
    """A new fake of source ``name``, seeded through its own seed method.

    ``seed_options`` override :func:`seed_parameters` (unknown names raise
    ``TypeError`` from the seed method); ``seed=False`` leaves it empty. A served
    Coachview fake has the API client :data:`COACHVIEW_CLIENT_ID` registered.
    """
    _check_name(name)
    fake = _bare_fake(name, clock or FakeClock())
    if seed:
        options = {**_DEFAULT_SEEDS[name], **(seed_options or {})}
        _seeder(name, fake)(**options)
    return fake


def _base_url(name: str, url: str) -> str:
    return url + "/api/v1" if name in ("virtuagym", "eduframe") else url


def _credentials(name: str, fake: Any) -> dict[str, str]:
    if name == "virtuagym":
        creds = fake.credentials
        return {
            "club_id": str(creds.club_id),
            "api_key": creds.api_key,
            "club_secret": creds.club_secret,
        }
    if name == "eduframe":
        return {"api_key": fake.credentials.api_key}
    if name == "coachview":
        return {
            "client_id": COACHVIEW_CLIENT_ID,
            "client_secret": COACHVIEW_CLIENT_SECRET,
            "scope": " ".join(sorted(fake.clients[COACHVIEW_CLIENT_ID].scopes)),
        }
    return {
        "token_code": fake.token_code,
        "api_token": fake.api_token,
        "service_id": fake.service_id,
        "service_secret": fake.service_secret,
    }


def _how(name: str) -> str:
    return {
        "virtuagym": "api_key and club_secret as query parameters",
        "eduframe": "Authorization: Bearer <api_key>",
        "coachview": "POST /auth/connect/token (client_credentials, the scope listed), then Bearer",
        "paynl": "HTTP Basic: token_code:api_token (or service_id:service_secret)",
    }[name]


@attrs.define(eq=False)
class ServedSource:
    """A source fake on a real socket: where it is and what it accepts.

    ``base_url`` is what the source's client takes as its base URL; ``credentials``
    the public test values the fake accepts; ``auth`` how they are sent; ``fake`` the
    fake itself. ``close()`` (or leaving a ``with`` block) stops the server.
    """

    name: str
    server: RunningServer
    base_url: str
    credentials: dict[str, str] = attrs.field(repr=False)
    auth: str

    @property
    def fake(self) -> Any:
        """The fake answering the requests."""
        return self.server.fake

    @property
    def url(self) -> str:
        """The server's origin (``http(s)://127.0.0.1:<port>``)."""
        return self.server.url

    def close(self) -> None:
        """Stop the server."""
        self.server.close()

    def __enter__(self) -> ServedSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def serve_source(
    name: str,
    *,
    fake: Any = None,
    seed_options: Mapping[str, Any] | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool | LocalCA = False,
    follow_wall_clock: bool = False,
) -> ServedSource:
    """Serve the fake of source ``name`` (a new seeded one unless ``fake`` is given).

    Arguments are those of :func:`~exactbridge.testing.server.serve` and
    :func:`make_source_fake`.
    """
    _check_name(name)
    if fake is None:
        fake = make_source_fake(name, seed_options=seed_options)
    server = serve(fake, host, port, tls=tls, follow_wall_clock=follow_wall_clock)
    return ServedSource(
        name=name,
        server=server,
        base_url=_base_url(name, server.url),
        credentials=_credentials(name, fake),
        auth=_how(name),
    )


def write_clubassistent_files(
    folder: str | Path,
    *,
    debits: int = 50,
    invoices: int = 50,
    seed: int = 1,
    collection_date: dt.date = dt.date(2026, 2, 1),
) -> list[Path]:
    """Write a seeded Club-assistent export to ``folder``: ``incasso.xml`` (pain.008.001.02)
    and ``facturen.csv`` (the invoice export). Returns the paths written."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    pain = target / "incasso.xml"
    csv = target / "facturen.csv"
    write_pain008(pain, sample_direct_debits(debits, seed=seed), collection_date=collection_date)
    write_invoice_csv(csv, sample_invoices(invoices, seed=seed))
    return [pain, csv]
