"""HTTPS on localhost for the served fakes: a throwaway certificate authority.

Real Exact Online is HTTPS only, and the most used Exact clients refuse a plain
``http://`` base URL. :func:`local_ca` makes a certificate authority (with
`trustme <https://trustme.readthedocs.io/>`_) and a server certificate for
``127.0.0.1``, ``::1`` and ``localhost``, and writes the CA certificate to a PEM
file that ordinary clients can be told to trust::

    from exactbridge.testing.tls import local_ca

    ca = local_ca()
    ca.ca_path            # PEM file: give it to SSL_CERT_FILE, REQUESTS_CA_BUNDLE, verify=...
    ca.environment()      # {"SSL_CERT_FILE": ..., "REQUESTS_CA_BUNDLE": ...}

:func:`default_ca` is one such authority per process (what ``serve(..., tls=True)``,
``exactbridge fake-server --tls`` and the ``*_tls_server`` fixtures use), and
:func:`ca_bundle_path` its PEM file. The files live in a temporary folder that is
removed when the process exits. The private keys never leave memory except inside
the server's own :class:`ssl.SSLContext`.

Needs the ``trustme`` package: ``pip install 'exactbridge[testing]'``.
"""

from __future__ import annotations

import atexit
import shutil
import ssl
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import trustme

__all__ = ["LOCAL_NAMES", "LocalCA", "ca_bundle_path", "default_ca", "local_ca"]

#: The names the server certificate is valid for.
LOCAL_NAMES = ("127.0.0.1", "::1", "localhost")

_INSTALL_HINT = (
    "HTTPS for the fake servers needs the 'trustme' package: "
    "pip install 'exactbridge[testing]' (or 'exactbridge[dev]')"
)


def _new_ca() -> trustme.CA:
    try:
        import trustme
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(_INSTALL_HINT) from exc
    return trustme.CA()


class LocalCA:
    """A certificate authority for this computer and one certificate it issued.

    ``ca_path`` is the CA certificate (PEM) that clients trust; ``server_context()``
    is what a server wraps its socket with. Build one with :func:`local_ca`.
    """

    def __init__(self, ca: trustme.CA, directory: Path) -> None:
        self._ca = ca
        self._cert = ca.issue_cert(*LOCAL_NAMES)
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_path = directory / "exactbridge-fake-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))

    def server_context(self) -> ssl.SSLContext:
        """A server-side TLS context presenting the localhost certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client-side TLS context that trusts this CA only (hostnames are checked)."""
        return ssl.create_default_context(cafile=str(self.ca_path))

    def environment(self) -> dict[str, str]:
        """Environment variables that make ordinary clients trust this CA.

        ``SSL_CERT_FILE`` is read by OpenSSL's default verify paths (``urllib``,
        ``ssl.create_default_context()``, aiohttp, httpx, curl built on OpenSSL);
        ``REQUESTS_CA_BUNDLE`` by ``requests``. Both replace the default trust store
        for that process, so set them only where the client talks to the fakes.
        """
        path = str(self.ca_path)
        return {"SSL_CERT_FILE": path, "REQUESTS_CA_BUNDLE": path}

    def environment_line(self) -> str:
        """:meth:`environment` as one shell line (``SSL_CERT_FILE=... REQUESTS_CA_BUNDLE=...``)."""
        return " ".join(f"{name}={value}" for name, value in self.environment().items())

    def __repr__(self) -> str:
        return f"LocalCA(ca_path={str(self.ca_path)!r})"


def local_ca(directory: str | Path | None = None) -> LocalCA:
    """Make a new certificate authority and a localhost certificate.

    The CA certificate is written to ``directory`` (a new temporary folder, removed at
    exit, when not given). Raises :class:`ImportError` naming the extra to install when
    ``trustme`` is missing.
    """
    ca = _new_ca()
    if directory is None:
        folder = Path(tempfile.mkdtemp(prefix="exactbridge-fake-tls-"))
        atexit.register(shutil.rmtree, folder, True)
    else:
        folder = Path(directory)
    return LocalCA(ca, folder)


_default: LocalCA | None = None
_default_lock = threading.Lock()


def default_ca() -> LocalCA:
    """This process's certificate authority for the fakes (made on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = local_ca()
        return _default


def ca_bundle_path() -> Path:
    """The PEM file of :func:`default_ca`: what to trust when talking to a TLS fake."""
    return default_ca().ca_path
