"""Loading a :class:`BookingConfig` from a parsed mapping through one private cattrs converter.

The converter is strict: a text must be a text, a flag a boolean (``"false"`` is
not accepted as one), an amount a text or an integer (``"0.01"``; a TOML float is
refused so no binary fraction enters a money path), and unknown keys are errors.
Every failure becomes a :class:`~exactbridge.errors.ConfigurationError` naming the
dotted key path and what was expected.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    IterableValidationNote,
)
from cattrs.gen import make_dict_structure_fn

from exactbridge.errors import ConfigurationError
from exactbridge.mapping._policies import (
    BookingConfig,
    CreditNotePolicy,
    DebtorPolicy,
    LedgerMapping,
    LedgerTarget,
    NumberingPolicy,
    PaymentMatchingPolicy,
    PaymentTermsPolicy,
    PeriodPolicy,
    SummaryPolicy,
    VatMapping,
)

__all__ = ["structure_config"]


class _BadValue(ValueError):
    """A leaf value of the wrong kind; carries what was expected."""

    def __init__(self, value: Any, expected: str):
        self.value = value
        self.expected = expected
        super().__init__(f"{value!r} is not {expected}")


def _structure_str(value: Any, _: Any) -> str:
    if not isinstance(value, str):
        raise _BadValue(value, "a text")
    return value


def _structure_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise _BadValue(value, "true or false")
    return value


def _structure_int(value: Any, _: Any) -> int:
    if type(value) is not int:
        raise _BadValue(value, "a whole number")
    return value


def _structure_decimal(value: Any, _: Any) -> Decimal:
    if type(value) is int:
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return number
    raise _BadValue(value, 'an amount written as a text, e.g. "0.01"')


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    allowed = [member.value for member in cls]
    if isinstance(value, str):
        for member in cls:
            if member.value == value:
                return member
    raise _BadValue(value, "one of " + ", ".join(repr(item) for item in allowed))


def _structure_mapping(value: Any, _: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise _BadValue(value, "a table of texts")
    result: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise _BadValue({key: item}, "a table of texts")
        result[key] = item
    return result


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_structure_hook_func(
        lambda cls: isinstance(cls, type) and issubclass(cls, enum.Enum), _structure_enum
    )
    converter.register_structure_hook_func(lambda cls: cls == Mapping[str, str], _structure_mapping)

    def structure_tuple(value: Any, cls: Any) -> tuple[Any, ...]:
        if not isinstance(value, (list, tuple)):
            raise _BadValue(value, "a list")
        (item_type, _ellipsis) = cls.__args__
        items = []
        for index, item in enumerate(value):
            try:
                items.append(converter.structure(item, item_type))
            except Exception as exc:
                raise _KeyedErrors([(f"[{index}]", exc)]) from exc
        return tuple(items)

    converter.register_structure_hook_func(
        lambda cls: (
            getattr(cls, "__origin__", None) is tuple
            and len(getattr(cls, "__args__", ())) == 2
            and cls.__args__[1] is Ellipsis
        ),
        structure_tuple,
    )

    target_fn = make_dict_structure_fn(LedgerTarget, converter, _cattrs_forbid_extra_keys=True)

    def structure_target(value: Any, cls: Any) -> LedgerTarget:
        if isinstance(value, str):
            return LedgerTarget(gl_account=value)
        if isinstance(value, Mapping):
            return target_fn(value, cls)
        raise _BadValue(value, "a GL account code or a table of gl_account, cost_center, cost_unit")

    converter.register_structure_hook(LedgerTarget, structure_target)

    def structure_targets(value: Any, _: Any) -> dict[str, LedgerTarget]:
        if not isinstance(value, Mapping):
            raise _BadValue(value, "a table of ledger targets")
        result: dict[str, LedgerTarget] = {}
        errors: list[tuple[str, Exception]] = []
        for key, item in value.items():
            try:
                result[str(key)] = structure_target(item, LedgerTarget)
            except Exception as exc:
                errors.append((str(key), exc))
        if errors:
            raise _KeyedErrors(errors)
        return result

    converter.register_structure_hook_func(
        lambda cls: cls == Mapping[str, LedgerTarget], structure_targets
    )

    for cls in (
        DebtorPolicy,
        PeriodPolicy,
        CreditNotePolicy,
        VatMapping,
        LedgerMapping,
        NumberingPolicy,
        SummaryPolicy,
        PaymentMatchingPolicy,
        PaymentTermsPolicy,
        BookingConfig,
    ):
        attrs.resolve_types(cls)
        converter.register_structure_hook(
            cls, _table_only(make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True))
        )
    attrs.resolve_types(LedgerTarget)
    return converter


def _table_only(function: Any) -> Any:
    def structure(value: Any, cls: Any) -> Any:
        if not isinstance(value, Mapping):
            raise _BadValue(value, "a table")
        return function(value, cls)

    return structure


class _KeyedErrors(Exception):
    """Errors of entries of a table or list, each with its key (``name`` or ``[index]``)."""

    def __init__(self, errors: list[tuple[str, Exception]]):
        self.errors = errors
        super().__init__(f"{len(errors)} bad entries")


_CONVERTER: cattrs.Converter | None = None


def _converter() -> cattrs.Converter:
    global _CONVERTER
    if _CONVERTER is None:
        _CONVERTER = _make_converter()
    return _CONVERTER


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _to_configuration_error(exc: BaseException, path: str) -> ConfigurationError:
    if isinstance(exc, ConfigurationError):
        return exc
    if isinstance(exc, (ClassValidationError, IterableValidationError)):
        for sub in exc.exceptions:
            notes = getattr(sub, "__notes__", [])
            sub_path = path
            for note in notes:
                name = getattr(note, "name", None)
                if isinstance(note, IterableValidationNote):
                    sub_path = f"{path}[{note.index!r}]"
                elif isinstance(name, str):
                    sub_path = _join(path, name)
            return _to_configuration_error(sub, sub_path)
        return ConfigurationError(str(exc), key=path or None, expected="a valid configuration")
    if isinstance(exc, _KeyedErrors):
        key, first = exc.errors[0]
        return _to_configuration_error(
            first, f"{path}{key}" if key.startswith("[") else _join(path, key)
        )
    if isinstance(exc, ForbiddenExtraKeysError):
        extra = sorted(str(key) for key in exc.extra_fields)
        allowed = sorted(field.name for field in attrs.fields(exc.cl) if field.init)
        return ConfigurationError(
            "unknown key" + ("s " if len(extra) > 1 else " ") + ", ".join(repr(k) for k in extra),
            key=_join(path, extra[0]),
            expected="one of " + ", ".join(allowed),
        )
    if isinstance(exc, _BadValue):
        return ConfigurationError(
            f"{exc.value!r} is not accepted", key=path or None, expected=exc.expected
        )
    if isinstance(exc, KeyError):
        return ConfigurationError(
            "a required key is missing", key=_join(path, str(exc.args[0])), expected="a value"
        )
    return ConfigurationError(f"{exc}", key=path or None, expected="a valid value")


def structure_config(data: Mapping[str, Any]) -> BookingConfig:
    """Structure a parsed mapping into a :class:`BookingConfig` (see ``from_mapping``)."""
    if not isinstance(data, Mapping):
        raise ConfigurationError(
            f"{type(data).__name__} is not a table", expected="a mapping of sections"
        )
    try:
        return _converter().structure(dict(data), BookingConfig)
    except ConfigurationError:
        raise
    except Exception as exc:
        raise _to_configuration_error(exc, "") from exc
