"""Record real sessions with vcrpy, with secrets and personal data scrubbed, and replay them.

A cassette recorded against a real Exact Online administration or a real source is a
fine regression test, and a liability if it carries an access token, a client secret,
a Virtuagym API key or a member's IBAN. :func:`recorder` gives a ``vcr.VCR`` whose
hooks scrub every request and response *before* it is written::

    from exactbridge.testing.recording import recorder

    vcr = recorder("tests/cassettes")
    with vcr.use_cassette("virtuagym-invoices.yaml"):
        invoices = list(client.invoices())     # recorded once, replayed afterwards

What is scrubbed (names compared case-insensitively):

* query parameters in :data:`SECRET_PARAMETERS` (``api_key``, ``club_secret``,
  ``code``, ``token``...): their value becomes ``SCRUBBED``;
* headers in :data:`SECRET_HEADERS` (``Authorization``, cookies, API-key headers);
* form-encoded and JSON request bodies: the fields of :data:`SECRET_PARAMETERS`
  (the OAuth ``client_secret``, ``code``, ``refresh_token``...);
* JSON response bodies: token fields (``access_token``, ``refresh_token``...) and,
  with ``personal_data=True`` (the default), the text values of
  :data:`PERSONAL_FIELDS` (names, e-mail, phone, IBAN, address) at any depth.

The placeholders are stable (``SCRUBBED``, ``scrubbed-email``...), and a replayed
request is scrubbed the same way before it is matched, so a test replays with real
or fake credentials alike. Needs ``vcrpy`` (in the ``testing`` and ``dev`` extras).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "PERSONAL_FIELDS",
    "SCRUBBED",
    "SECRET_HEADERS",
    "SECRET_PARAMETERS",
    "recorder",
    "scrub_json",
    "scrub_request",
    "scrub_response",
]

#: What a secret becomes in a cassette.
SCRUBBED = "SCRUBBED"

#: Query, form and JSON fields whose values are secrets.
SECRET_PARAMETERS = frozenset(
    {
        "api_key",
        "apikey",
        "club_secret",
        "client_secret",
        "client_id_secret",
        "code",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_token",
        "service_secret",
        "password",
        "secret",
    }
)

#: Headers whose values are secrets.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)

#: JSON fields holding personal data (text values are replaced).
PERSONAL_FIELDS = frozenset(
    {
        "name",
        "firstname",
        "first_name",
        "lastname",
        "last_name",
        "middlename",
        "fullname",
        "full_name",
        "email",
        "e_mail",
        "phone",
        "mobile",
        "phone_number",
        "iban",
        "bic",
        "bankaccount",
        "street",
        "address",
        "addressline1",
        "addressline2",
        "address_line1",
        "address_line2",
        "housenumber",
        "postcode",
        "postal_code",
        "zipcode",
        "city",
        "birthdate",
        "birthday",
        "date_of_birth",
        "holder",
        "accountholder",
    }
)


def _placeholder(key: str) -> str:
    return f"scrubbed-{key.lower()}"


def scrub_json(value: Any, *, personal_data: bool = True) -> Any:
    """``value`` (decoded JSON) with secret and personal fields replaced, at any depth."""
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if lowered in SECRET_PARAMETERS and isinstance(item, (str, int)):
                cleaned[key] = SCRUBBED
            elif personal_data and lowered in PERSONAL_FIELDS and isinstance(item, str) and item:
                cleaned[key] = _placeholder(lowered)
            else:
                cleaned[key] = scrub_json(item, personal_data=personal_data)
        return cleaned
    if isinstance(value, list):
        return [scrub_json(item, personal_data=personal_data) for item in value]
    return value


def _scrub_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, SCRUBBED if k.lower() in SECRET_PARAMETERS else v) for k, v in pairs]


def _scrub_body(body: Any, content_type: str, personal_data: bool) -> Any:
    if body is None or body == b"" or body == "":
        return body
    raw = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    if "json" in content_type or raw.lstrip().startswith(("{", "[")):
        try:
            decoded = json.loads(raw)
        except ValueError:
            return body
        text = json.dumps(scrub_json(decoded, personal_data=personal_data), ensure_ascii=False)
        return text.encode("utf-8") if isinstance(body, bytes) else text
    if "=" in raw and " " not in raw.strip():
        pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True)
        text = urllib.parse.urlencode(_scrub_pairs(pairs))
        return text.encode("utf-8") if isinstance(body, bytes) else text
    return body


def scrub_request(request: Any, *, personal_data: bool = True) -> Any:
    """A vcrpy ``before_record_request`` hook: the request with its secrets replaced."""
    parts = urllib.parse.urlsplit(request.uri)
    if parts.query:
        query = urllib.parse.urlencode(
            _scrub_pairs(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        )
        request.uri = urllib.parse.urlunsplit(parts._replace(query=query))
    content_type = ""
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            request.headers[name] = SCRUBBED
        elif name.lower() == "content-type":
            content_type = str(request.headers[name]).lower()
    request.body = _scrub_body(request.body, content_type, personal_data)
    return request


def scrub_response(response: dict[str, Any], *, personal_data: bool = True) -> dict[str, Any]:
    """A vcrpy ``before_record_response`` hook: the response with secrets replaced."""
    headers = response.get("headers") or {}
    content_type = ""
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            headers[name] = [SCRUBBED]
        elif name.lower() == "content-type":
            value = headers[name]
            content_type = (value[0] if isinstance(value, list) and value else str(value)).lower()
    body = response.get("body") or {}
    if "string" in body:
        body["string"] = _scrub_body(body["string"], content_type, personal_data)
    return response


def recorder(
    cassette_dir: str | Path,
    *,
    record_mode: str = "once",
    personal_data: bool = True,
    **options: Any,
) -> Any:
    """A ``vcr.VCR`` writing scrubbed cassettes under ``cassette_dir``.

    ``record_mode`` is vcrpy's (``"once"``: record when the cassette is missing, then
    only replay; ``"none"``: replay only, fail on a request not in the cassette).
    ``personal_data=False`` keeps names and addresses (secrets are always scrubbed).
    Further ``options`` go to ``vcr.VCR`` (e.g. ``match_on``).
    """
    import vcr

    def request_hook(request: Any) -> Any:
        return scrub_request(request, personal_data=personal_data)

    def response_hook(response: dict[str, Any]) -> dict[str, Any]:
        return scrub_response(response, personal_data=personal_data)

    options.setdefault("decode_compressed_response", True)
    return vcr.VCR(
        cassette_library_dir=str(cassette_dir),
        record_mode=record_mode,
        before_record_request=request_hook,
        before_record_response=response_hook,
        **options,
    )
