"""Opt-in pytest fixtures for the fake Exact Online and every source fake.

Enable them in your ``conftest.py``::

    pytest_plugins = ["exactbridge.testing.pytest_plugin"]

Every fixture but ``exactbridge_ca`` is function-scoped (a fresh fake per test) and
typed, so a test that annotates its parameters gets the fakes' and clients' methods
checked by mypy. All fakes of one test share one clock, :func:`exactbridge_clock`.

Exact Online:

* ``exact_division``: the division code the fixtures seed (``123456``; override the
  fixture to choose another);
* ``exact_fake``: a fresh :class:`~exactbridge.testing.FakeExactOnline` with that
  division seeded from the Dutch template;
* ``exact_client``: a real :class:`~exactbridge.exact.ExactClient` wired to the fake
  with a valid token, closed after the test;
* ``async_exact_client``: the :class:`~exactbridge.exact.AsyncExactClient` twin (only
  defined when pytest-asyncio is installed; mark the test ``@pytest.mark.asyncio``);
* ``exact_server``: the same fake served over real HTTP on 127.0.0.1;
* ``exact_tls_server``: the same fake served over HTTPS, its certificate issued by
  ``exactbridge_ca`` (needs ``trustme``, in the ``testing`` extra);
* ``exactbridge_ca``: the :class:`~exactbridge.testing.tls.LocalCA` of the TLS servers,
  one per test session (``.ca_path`` is the CA file for ``SSL_CERT_FILE`` / ``verify=``,
  ``.client_context()`` an ``ssl.SSLContext`` that trusts it).

Sources (``virtuagym``, ``eduframe``, ``coachview``, ``paynl``), three fixtures each:

* ``<source>_fake``: an empty fake (add the data your test needs; the fakes'
  ``seed_...`` methods fill them at scale);
* ``<source>_client``: a real exactbridge client of that source, wired to the fake;
* ``<source>_server``: the same fake on a real socket, a
  :class:`~exactbridge.testing.served.ServedSource` with ``.base_url`` and
  ``.credentials``, for code that calls the source with its own HTTP library.

And ``clubassistent_files``: a seeded Club-assistent export (``incasso.xml`` and
``facturen.csv``) written to the test's temporary folder.
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from exactbridge.testing._exact.fake import FakeExactOnline
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.coachview import FakeCoachview
from exactbridge.testing.eduframe import FakeEduframe
from exactbridge.testing.paynl import FakePay
from exactbridge.testing.served import (
    COACHVIEW_CLIENT_ID,
    COACHVIEW_CLIENT_SECRET,
    ServedSource,
    make_source_fake,
    serve_source,
    write_clubassistent_files,
)
from exactbridge.testing.server import RunningServer, serve
from exactbridge.testing.virtuagym import FakeVirtuagym

if TYPE_CHECKING:
    from exactbridge.exact import AsyncExactClient, ExactClient
    from exactbridge.sources.coachview import CoachviewClient
    from exactbridge.sources.eduframe import EduframeClient
    from exactbridge.sources.paynl import PayClient
    from exactbridge.sources.virtuagym import VirtuagymClient
    from exactbridge.testing.tls import LocalCA

__all__ = [
    "async_exact_client",
    "clubassistent_files",
    "coachview_client",
    "coachview_fake",
    "coachview_server",
    "eduframe_client",
    "eduframe_fake",
    "eduframe_server",
    "exact_client",
    "exact_division",
    "exact_fake",
    "exact_server",
    "exact_tls_server",
    "exactbridge_ca",
    "exactbridge_clock",
    "paynl_client",
    "paynl_fake",
    "paynl_server",
    "virtuagym_client",
    "virtuagym_fake",
    "virtuagym_server",
]


@pytest.fixture
def exactbridge_clock() -> FakeClock:
    """The one simulated clock of every fake (and client) the fixtures make."""
    return FakeClock()


# -- Exact Online ---------------------------------------------------------------------------


@pytest.fixture
def exact_division() -> int:
    """The division code the other fixtures seed."""
    return 123456


@pytest.fixture
def exact_fake(exact_division: int, exactbridge_clock: FakeClock) -> FakeExactOnline:
    """A fresh fake Exact Online with ``exact_division`` seeded from the Dutch template."""
    fake = FakeExactOnline(clock=exactbridge_clock)
    fake.add_division(exact_division, template="nl")
    return fake


@pytest.fixture
def exact_client(exact_fake: FakeExactOnline, exact_division: int) -> Iterator[ExactClient]:
    """A real sync ``ExactClient`` wired to ``exact_fake`` with a valid token."""
    client = cast("ExactClient", exact_fake.client(exact_division))
    try:
        yield client
    finally:
        client.close()


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def async_exact_client(
        exact_fake: FakeExactOnline, exact_division: int
    ) -> AsyncIterator[AsyncExactClient]:
        """A real ``AsyncExactClient`` wired to ``exact_fake``, closed after the test."""
        client = cast("AsyncExactClient", exact_fake.async_client(exact_division))
        try:
            yield client
        finally:
            await client.aclose()


@pytest.fixture
def exact_server(exact_fake: FakeExactOnline) -> Iterator[RunningServer]:
    """``exact_fake`` served over real HTTP on 127.0.0.1 (a free port)."""
    with serve(exact_fake, "127.0.0.1", 0) as server:
        yield server


def _require_trustme() -> None:
    if importlib.util.find_spec("trustme") is None:
        pytest.fail(
            "the TLS fixtures need trustme: pip install 'exactbridge[testing]'", pytrace=False
        )


@pytest.fixture(scope="session")
def exactbridge_ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    """A local certificate authority for the HTTPS fixtures (``.ca_path``: its CA file)."""
    _require_trustme()
    from exactbridge.testing.tls import local_ca

    return local_ca(tmp_path_factory.mktemp("exactbridge-ca"))


@pytest.fixture
def exact_tls_server(
    exact_fake: FakeExactOnline, exactbridge_ca: LocalCA
) -> Iterator[RunningServer]:
    """``exact_fake`` served over HTTPS on 127.0.0.1; trust ``exactbridge_ca.ca_path``."""
    with serve(exact_fake, "127.0.0.1", 0, tls=exactbridge_ca) as server:
        yield server


# -- sources --------------------------------------------------------------------------------


def _empty(name: str, clock: FakeClock) -> Any:
    return make_source_fake(name, clock=clock, seed=False)


@pytest.fixture
def virtuagym_fake(exactbridge_clock: FakeClock) -> FakeVirtuagym:
    """An empty :class:`~exactbridge.testing.FakeVirtuagym` (club 8633)."""
    fake: FakeVirtuagym = _empty("virtuagym", exactbridge_clock)
    return fake


@pytest.fixture
def virtuagym_client(
    virtuagym_fake: FakeVirtuagym, exactbridge_clock: FakeClock
) -> Iterator[VirtuagymClient]:
    """A real ``VirtuagymClient`` wired to ``virtuagym_fake``, closed after the test."""
    from exactbridge.sources.virtuagym import VirtuagymClient

    with VirtuagymClient(
        virtuagym_fake.credentials, transport=virtuagym_fake.transport(), clock=exactbridge_clock
    ) as client:
        yield client


@pytest.fixture
def virtuagym_server(virtuagym_fake: FakeVirtuagym) -> Iterator[ServedSource]:
    """``virtuagym_fake`` on a real socket (``.base_url`` ends in ``/api/v1``)."""
    with serve_source("virtuagym", fake=virtuagym_fake) as served:
        yield served


@pytest.fixture
def eduframe_fake(exactbridge_clock: FakeClock) -> FakeEduframe:
    """An empty :class:`~exactbridge.testing.FakeEduframe`."""
    fake: FakeEduframe = _empty("eduframe", exactbridge_clock)
    return fake


@pytest.fixture
def eduframe_client(
    eduframe_fake: FakeEduframe, exactbridge_clock: FakeClock
) -> Iterator[EduframeClient]:
    """A real ``EduframeClient`` wired to ``eduframe_fake``, closed after the test."""
    from exactbridge.sources.eduframe import EduframeClient

    with EduframeClient(
        eduframe_fake.credentials, transport=eduframe_fake.transport(), clock=exactbridge_clock
    ) as client:
        yield client


@pytest.fixture
def eduframe_server(eduframe_fake: FakeEduframe) -> Iterator[ServedSource]:
    """``eduframe_fake`` on a real socket (its ``Link`` headers point at the server)."""
    with serve_source("eduframe", fake=eduframe_fake) as served:
        yield served


@pytest.fixture
def coachview_fake(exactbridge_clock: FakeClock) -> FakeCoachview:
    """An empty :class:`~exactbridge.testing.FakeCoachview` with the API client
    :data:`~exactbridge.testing.served.COACHVIEW_CLIENT_ID` registered."""
    fake: FakeCoachview = _empty("coachview", exactbridge_clock)
    return fake


@pytest.fixture
def coachview_client(
    coachview_fake: FakeCoachview, exactbridge_clock: FakeClock
) -> Iterator[CoachviewClient]:
    """A real ``CoachviewClient`` wired to ``coachview_fake``, closed after the test."""
    from exactbridge.sources.coachview import CoachviewClient

    with CoachviewClient(
        COACHVIEW_CLIENT_ID,
        COACHVIEW_CLIENT_SECRET,
        transport=coachview_fake.transport(),
        clock=exactbridge_clock,
    ) as client:
        yield client


@pytest.fixture
def coachview_server(coachview_fake: FakeCoachview) -> Iterator[ServedSource]:
    """``coachview_fake`` on a real socket (token endpoint ``/auth/connect/token``)."""
    with serve_source("coachview", fake=coachview_fake) as served:
        yield served


@pytest.fixture
def paynl_fake() -> FakePay:
    """An empty :class:`~exactbridge.testing.FakePay` (Pay. has no clock-driven rules)."""
    fake: FakePay = make_source_fake("paynl", seed=False)
    return fake


@pytest.fixture
def paynl_client(paynl_fake: FakePay, exactbridge_clock: FakeClock) -> Iterator[PayClient]:
    """A real ``PayClient`` wired to ``paynl_fake`` (token and service credentials)."""
    from exactbridge.sources.paynl import PayClient

    with PayClient(
        paynl_fake.token_code,
        paynl_fake.api_token,
        service_id=paynl_fake.service_id,
        service_secret=paynl_fake.service_secret,
        transport=paynl_fake.transport(),
        clock=exactbridge_clock,
    ) as client:
        yield client


@pytest.fixture
def paynl_server(paynl_fake: FakePay) -> Iterator[ServedSource]:
    """``paynl_fake`` on a real socket (HTTP Basic with the token code and API token)."""
    with serve_source("paynl", fake=paynl_fake) as served:
        yield served


@pytest.fixture
def clubassistent_files(tmp_path: Path) -> list[Path]:
    """A seeded Club-assistent export in ``tmp_path``: ``incasso.xml``, ``facturen.csv``."""
    return write_clubassistent_files(tmp_path / "clubassistent")
