"""Exact Online's padded codes, in one place.

Exact stores account codes as 18-character strings, right-aligned with leading
spaces (``"              1001"``), VAT codes as 3-character strings, left-aligned with
trailing spaces (``"2  "``), and country codes as 3 characters (``"NL "``). An equality
filter without the padding finds nothing, so the client pads whatever it sends and
strips whatever it reads. The client, the mapping functions and the sync engine all
use these functions; no other module pads or strips codes.

>>> pad_account_code("1001")
'              1001'
>>> strip_code("              1001")
'1001'
>>> pad_vat_code("2")
'2  '
"""

from __future__ import annotations

from exactbridge.errors import ConfigurationError

__all__ = [
    "ACCOUNT_CODE_LENGTH",
    "VAT_CODE_LENGTH",
    "pad_account_code",
    "pad_country_code",
    "pad_vat_code",
    "strip_code",
]

ACCOUNT_CODE_LENGTH = 18
VAT_CODE_LENGTH = 3
_COUNTRY_CODE_LENGTH = 3


def strip_code(code: str) -> str:
    """Remove Exact's padding from a code read from the API."""
    return code.strip()


def pad_account_code(code: str | int) -> str:
    """Right-align an account (relation) code to Exact's 18 characters.

    Raises :class:`~exactbridge.errors.ConfigurationError` for an empty code or one
    longer than 18 characters.
    """
    text = str(code).strip()
    if not text:
        raise ConfigurationError("an account code cannot be empty", expected="1 to 18 characters")
    if len(text) > ACCOUNT_CODE_LENGTH:
        raise ConfigurationError(
            f"account code {text!r} is {len(text)} characters long",
            expected=f"at most {ACCOUNT_CODE_LENGTH} characters",
        )
    return text.rjust(ACCOUNT_CODE_LENGTH)


def pad_vat_code(code: str) -> str:
    """Left-align a VAT code to Exact's 3 characters (``"2"`` -> ``"2  "``)."""
    text = code.strip()
    if not text or len(text) > VAT_CODE_LENGTH:
        raise ConfigurationError(
            f"VAT code {code!r} is not valid", expected=f"1 to {VAT_CODE_LENGTH} characters"
        )
    return text.ljust(VAT_CODE_LENGTH)


def pad_country_code(code: str) -> str:
    """Left-align an ISO country code to Exact's 3 characters (``"NL"`` -> ``"NL "``)."""
    text = code.strip().upper()
    if len(text) != 2 or not text.isalpha():
        raise ConfigurationError(
            f"country code {code!r} is not valid", expected="an ISO 3166-1 alpha-2 code"
        )
    return text.ljust(_COUNTRY_CODE_LENGTH)
