"""Conversion between Exact Online rows and the typed models (one private cattrs converter).

The models in :mod:`exactbridge.exact.models` name their Exact property with
``wire("VATCode")``; this module is the only place that reads those names. It owns a
private :class:`cattrs.Converter` (never the global one) with hooks for Exact's
formats:

* ``/Date(ms)/`` and ISO text -> ``date`` / aware Amsterdam ``datetime`` (and back to
  ISO text when writing);
* JSON numbers (already ``Decimal`` from :func:`~exactbridge.exact._envelope.loads`)
  -> ``Decimal``; a ``float`` is refused in both directions;
* GUID text <-> :class:`uuid.UUID`; base64 text <-> ``bytes``;
* padded codes stripped on read and padded on write through :mod:`exactbridge.codes`;
* small code sets -> enums, keeping unknown codes as plain ``int``/``str``;
* expanded child collections (``{"results": [...]}``) -> tuples of line models;
  deferred ones (``{"__deferred": ...}``) -> ``None``.

Unknown properties of a row go to the model's ``extra`` mapping. A value of the wrong
shape raises :class:`~exactbridge.errors.DecodeError` naming the entity, the field,
the value and what was expected; no cattrs exception escapes.

>>> from exactbridge.exact.models import Account
>>> account = structure(Account, {"Code": "              1001", "Name": "Gym", "Foo": 1})
>>> (account.code, account.name, dict(account.extra))
('1001', 'Gym', {'Foo': 1})
>>> unstructure(account)
{'Code': '              1001', 'Name': 'Gym'}
"""

from __future__ import annotations

import datetime as _dt
import decimal
import difflib
import enum
import types
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs

from exactbridge import codes
from exactbridge.errors import ConfigurationError, DecodeError, ExactBridgeError
from exactbridge.exact import _envelope
from exactbridge.exact._odata import AMSTERDAM
from exactbridge.exact.models import CODEC, SYNC_ONLY, WIRE, Codec, ExactModel, WriteModel

__all__ = [
    "field_for_wire",
    "structure",
    "unstructure",
    "update_payload",
    "wire_name",
    "wire_names",
]

T = TypeVar("T")


class _Invalid(ValueError):
    """Raised by a value hook; ``expected`` says what would have been accepted."""

    def __init__(self, expected: str, detail: str = "") -> None:
        self.expected = expected
        self.detail = detail
        super().__init__(detail or f"expected {expected}")


# --------------------------------------------------------------------------- read hooks


def _read_str(value: object, _: type) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise _Invalid("text")


def _read_int(value: object, _: type) -> int:
    if isinstance(value, bool):
        raise _Invalid("an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, decimal.Decimal) and value.is_finite() and value == value.to_integral():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise _Invalid("an integer")


def _read_bool(value: object, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):  # Exact's Byte flags
        return bool(value)
    raise _Invalid("true/false (or 0/1)")


def _read_decimal(value: object, _: type) -> decimal.Decimal:
    if isinstance(value, bool):
        raise _Invalid("a decimal number")
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise _Invalid("a finite decimal number")
        return value
    if isinstance(value, int):
        return decimal.Decimal(value)
    if isinstance(value, float):
        raise _Invalid("a decimal number parsed as Decimal", "a float reached a money field")
    if isinstance(value, str):
        try:
            parsed = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            raise _Invalid("a decimal number") from None
        if parsed.is_finite():
            return parsed
    raise _Invalid("a decimal number")


def _read_uuid(value: object, _: type) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise _Invalid("a GUID")


def _read_date(value: object, _: type) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        try:
            return _envelope.parse_odata_date(value)
        except ValueError:
            pass
    raise _Invalid("a date ('/Date(ms)/' or ISO 8601)")


def _read_datetime(value: object, _: type) -> _dt.datetime:
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(AMSTERDAM)
    if isinstance(value, str):
        try:
            return _envelope.parse_odata_datetime(value)
        except ValueError:
            pass
    raise _Invalid("a date-time ('/Date(ms)/' or ISO 8601)")


def _read_bytes(value: object, _: type) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        try:
            return _envelope.b64decode(value)
        except ValueError:
            pass
    raise _Invalid("base64 text")


# --------------------------------------------------------------------------- write hooks


def _write_str(value: object) -> str:
    if isinstance(value, str):
        return value
    raise _Invalid("text")


def _write_int(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    raise _Invalid("an int")


def _write_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise _Invalid("a bool")


def _write_decimal(value: object) -> decimal.Decimal:
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return decimal.Decimal(value)
    if isinstance(value, float):
        raise _Invalid("decimal.Decimal", "amounts must be Decimal, not float")
    raise _Invalid("decimal.Decimal")


def _write_uuid(value: object) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise _Invalid("a uuid.UUID")


def _write_date(value: object) -> str:
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return _envelope.format_date(value)
    raise _Invalid("a datetime.date")


def _write_datetime(value: object) -> str:
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return _envelope.format_datetime(value)
    raise _Invalid("an aware datetime.datetime")


def _write_bytes(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return _envelope.b64encode(bytes(value))
    raise _Invalid("bytes")


_WRITERS: dict[type, Callable[[object], Any]] = {
    str: _write_str,
    int: _write_int,
    bool: _write_bool,
    decimal.Decimal: _write_decimal,
    uuid.UUID: _write_uuid,
    _dt.date: _write_date,
    _dt.datetime: _write_datetime,
    bytes: _write_bytes,
}


def _pad(codec: Codec, value: object) -> str:
    if codec is Codec.ACCOUNT_CODE:
        if isinstance(value, int) and not isinstance(value, bool):
            return codes.pad_account_code(value)
        return codes.pad_account_code(_write_str(value))
    text = _write_str(value)
    if codec is Codec.VAT_CODE:
        return codes.pad_vat_code(text)
    if codec is Codec.COUNTRY:
        return codes.pad_country_code(text)
    return text


# --------------------------------------------------------------------------- field plans


def _is_model(cls: object) -> bool:
    return isinstance(cls, type) and attrs.has(cls) and issubclass(cls, (ExactModel, WriteModel))


@attrs.frozen
class _FieldPlan:
    name: str
    wire: str
    codec: Codec | None
    kind: str  # "scalar", "enum", "children"
    base: type  # scalar type, enum's plain type, or child model
    enum_cls: type[enum.Enum] | None = None
    sync_only: bool = False


def _union_args(tp: Any) -> tuple[Any, ...] | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return typing.get_args(tp)
    return None


def _plan_field(cls: type, field: attrs.Attribute[Any], hint: Any) -> _FieldPlan:
    wire = field.metadata[WIRE]
    codec = field.metadata.get(CODEC)
    args = _union_args(hint)
    members = [a for a in args if a is not type(None)] if args is not None else [hint]
    enums = [a for a in members if isinstance(a, type) and issubclass(a, enum.Enum)]
    if enums:
        enum_cls = enums[0]
        plain = [a for a in members if a not in enums]
        base = plain[0] if plain else (int if issubclass(enum_cls, int) else str)
        return _FieldPlan(field.name, wire, codec, "enum", base, enum_cls)
    if len(members) != 1:
        raise TypeError(f"{cls.__name__}.{field.name}: unsupported type {hint!r}")
    inner = members[0]
    if typing.get_origin(inner) is tuple:
        child = typing.get_args(inner)[0]
        if not _is_model(child):
            raise TypeError(f"{cls.__name__}.{field.name}: unsupported type {hint!r}")
        return _FieldPlan(field.name, wire, codec, "children", child)
    if inner not in _WRITERS:
        raise TypeError(f"{cls.__name__}.{field.name}: unsupported type {hint!r}")
    return _FieldPlan(field.name, wire, codec, "scalar", inner)


_PLANS: dict[type, tuple[_FieldPlan, ...]] = {}


def _plans(cls: type) -> tuple[_FieldPlan, ...]:
    found = _PLANS.get(cls)
    if found is None:
        if not _is_model(cls):
            raise ConfigurationError(
                f"{getattr(cls, '__name__', cls)!r} is not an exactbridge Exact model",
                expected="a class from exactbridge.exact.models",
            )
        hints = typing.get_type_hints(cls)
        found = tuple(
            attrs.evolve(
                _plan_field(cls, field, hints[field.name]),
                sync_only=bool(field.metadata.get(SYNC_ONLY)),
            )
            for field in attrs.fields(cls)
            if WIRE in field.metadata
        )
        _PLANS[cls] = found
    return found


def _plan_by_name(cls: type) -> dict[str, _FieldPlan]:
    return {plan.name: plan for plan in _plans(cls)}


def _plan_by_wire(cls: type) -> dict[str, _FieldPlan]:
    return {plan.wire: plan for plan in _plans(cls)}


# --------------------------------------------------------------------------- converter

_converter = cattrs.Converter()
for _type, _hook in (
    (str, _read_str),
    (int, _read_int),
    (bool, _read_bool),
    (decimal.Decimal, _read_decimal),
    (uuid.UUID, _read_uuid),
    (_dt.date, _read_date),
    (_dt.datetime, _read_datetime),
    (bytes, _read_bytes),
):
    _converter.register_structure_hook(_type, _hook)


def _child_rows(value: object) -> list[Any] | None:
    if isinstance(value, dict):
        if "__deferred" in value:
            return None
        if "results" in value:
            value = value["results"]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise _Invalid('an expanded collection ({"results": [...]}) or a list')


def _read_field(plan: _FieldPlan, value: object, entity: str) -> Any:
    if plan.kind == "children":
        rows = _child_rows(value)
        if rows is None:
            return None
        items: list[Any] = []
        for index, row in enumerate(rows):
            try:
                items.append(_converter.structure(row, plan.base))
            except DecodeError as exc:
                inner = f"[{index}].{exc.field}" if exc.field else f"[{index}]"
                raise DecodeError(
                    f"line {index} of {plan.wire} is invalid",
                    entity=entity,
                    field=f"{plan.name}{inner}",
                    value=exc.value,
                    expected=exc.expected,
                ) from None
        return tuple(items)
    result: Any = _converter.structure(value, plan.base)
    if plan.kind == "enum" and plan.enum_cls is not None:
        try:
            return plan.enum_cls(result)
        except ValueError:
            return result  # an unknown code is kept as it came
    if plan.codec is not None and isinstance(result, str):
        return codes.strip_code(result)
    return result


def _is_deferred(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"__deferred"}


def _make_structure_fn(cls: type[T]) -> Callable[[Any, Any], T]:
    plans = _plans(cls)
    by_wire = {plan.wire: plan for plan in plans}
    entity = cls.__name__
    is_write = issubclass(cls, WriteModel)

    def structure_row(row: Any, _: Any) -> T:
        if not isinstance(row, Mapping):
            raise DecodeError(
                "a row is not a JSON object", entity=entity, value=row, expected="a JSON object"
            )
        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in row.items():
            plan = by_wire.get(key)
            if plan is None:
                if isinstance(key, str) and not key.startswith("__") and not _is_deferred(value):
                    extra[key] = value
                continue
            if value is None:
                continue
            try:
                values[plan.name] = _read_field(plan, value, entity)
            except _Invalid as exc:
                raise DecodeError(
                    f"property {plan.wire!r}: {exc.detail or 'unexpected value'}",
                    entity=entity,
                    field=plan.name,
                    value=value,
                    expected=exc.expected,
                ) from None
        if is_write:
            if extra:
                raise DecodeError(
                    f"unknown properties {sorted(extra)}",
                    entity=entity,
                    value=sorted(extra),
                    expected="only the properties the model declares",
                )
        else:
            values["extra"] = extra
        try:
            return cls(**values)
        except ExactBridgeError as exc:
            raise DecodeError(str(exc), entity=entity) from None
        except TypeError as exc:
            raise DecodeError(
                f"cannot build the model ({exc})", entity=entity, expected="its required properties"
            ) from None

    return structure_row


def _write_field(plan: _FieldPlan, value: object, entity: str) -> Any:
    try:
        if plan.kind == "children":
            if not isinstance(value, (tuple, list)):
                raise _Invalid(f"a tuple of {plan.base.__name__}")
            out = []
            for item in value:
                if not isinstance(item, plan.base):
                    raise _Invalid(f"a tuple of {plan.base.__name__}")
                out.append(_converter.unstructure(item))
            return out
        if plan.kind == "enum":
            if plan.enum_cls is not None and isinstance(value, plan.enum_cls):
                value = value.value
            return _WRITERS[plan.base](value)
        if plan.codec is not None:
            return _pad(plan.codec, value)
        return _WRITERS[plan.base](value)
    except _Invalid as exc:
        raise ConfigurationError(
            f"cannot send {value!r} as {plan.wire}" + (f": {exc.detail}" if exc.detail else ""),
            key=f"{entity}.{plan.name}",
            expected=exc.expected,
        ) from None
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"cannot send {value!r} as {plan.wire}: {exc}",
            key=f"{entity}.{plan.name}",
            expected=exc.expected,
        ) from None


def _make_unstructure_fn(cls: type) -> Callable[[Any], dict[str, Any]]:
    plans = _plans(cls)
    entity = cls.__name__

    def unstructure_model(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for plan in plans:
            value = getattr(obj, plan.name)
            if value is None:
                continue
            out[plan.wire] = _write_field(plan, value, entity)
        return out

    return unstructure_model


_converter.register_structure_hook_factory(_is_model, _make_structure_fn)
_converter.register_unstructure_hook_factory(_is_model, _make_unstructure_fn)


# --------------------------------------------------------------------------- public API


def structure(model_cls: type[T], row: Mapping[str, Any]) -> T:
    """Build a model from one row of an Exact response.

    Missing and ``null`` properties become ``None``; unknown ones go to ``extra``
    (read models). Raises :class:`~exactbridge.errors.DecodeError` naming the entity,
    the field, the value and what was expected.

    >>> from exactbridge.exact.models import SalesEntry
    >>> structure(SalesEntry, {"EntryDate": "/Date(1782345600000)/"}).entry_date
    datetime.date(2026, 6, 25)
    """
    _plans(model_cls)  # refuses non-models with ConfigurationError
    try:
        return _converter.structure(row, model_cls)
    except DecodeError:
        raise
    except Exception as exc:  # a cattrs or unexpected error must not escape
        raise DecodeError(
            f"cannot decode the row ({type(exc).__name__}: {exc})", entity=model_cls.__name__
        ) from None


def unstructure(obj: object) -> dict[str, Any]:
    """Turn a model into a JSON-ready dict keyed by Exact's property names.

    ``None`` fields are left out; ``Decimal`` stays ``Decimal`` (for
    :func:`~exactbridge.exact._envelope.dumps`); dates become ``YYYY-MM-DD``, aware
    datetimes Amsterdam wall-clock ISO text, GUIDs text, bytes base64; codes are
    padded; line tuples become lists. ``extra`` is never sent. A value of the wrong
    type (e.g. a ``float`` amount) raises :class:`~exactbridge.errors.ConfigurationError`
    naming the entity and field.
    """
    cls = type(obj)
    _plans(cls)
    try:
        result: dict[str, Any] = _converter.unstructure(obj)
    except ConfigurationError:
        raise
    except Exception as exc:  # pragma: no cover - defensive: nothing else should escape
        raise ConfigurationError(
            f"cannot encode {cls.__name__} ({type(exc).__name__}: {exc})"
        ) from None
    return result


def wire_name(model_cls: type, field_name: str) -> str:
    """Exact's property name for a model field (``wire_name(SalesEntry, "your_ref")``)."""
    plan = _plan_by_name(model_cls).get(field_name)
    if plan is None:
        raise _unknown_field(model_cls, field_name)
    return plan.wire


def field_for_wire(model_cls: type, wire: str) -> str | None:
    """The model field for an Exact property name, or ``None`` if the model has none."""
    plan = _plan_by_wire(model_cls).get(wire)
    return plan.name if plan is not None else None


def wire_names(
    model_cls: type, *, include_children: bool = False, include_sync_only: bool = False
) -> tuple[str, ...]:
    """Every Exact property a model reads, in declaration order (for ``$select``).

    Child collections (``SalesEntryLines``...) and properties only the ``sync/``
    endpoints have (``Timestamp``) are left out unless asked for.

    >>> from exactbridge.exact.models import CostCenter
    >>> wire_names(CostCenter)[-5:]
    ('ID', 'Code', 'Description', 'Active', 'EndDate')
    """
    return tuple(
        plan.wire
        for plan in _plans(model_cls)
        if (include_children or plan.kind != "children")
        and (include_sync_only or not plan.sync_only)
    )


def _unknown_field(model_cls: type, name: object) -> ConfigurationError:
    known = list(_plan_by_name(model_cls))
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigurationError(
        f"{model_cls.__name__} has no field {name!r}{hint}",
        key=f"{model_cls.__name__}.{name}",
        expected="a snake_case field of the model",
    )


def update_payload(model_cls: type, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The PUT body for changing some fields of an entity (checked before any request).

    ``changes`` uses the model's snake_case field names; values are converted as in
    :func:`unstructure`, and ``None`` is sent as ``null`` (it clears the property).
    Unknown names, child collections and values of the wrong type raise
    :class:`~exactbridge.errors.ConfigurationError`.

    >>> from exactbridge.exact.models import Account
    >>> update_payload(Account, {"code": "12", "email": None})
    {'Code': '                12', 'Email': None}
    """
    by_name = _plan_by_name(model_cls)
    entity = model_cls.__name__
    body: dict[str, Any] = {}
    for name, value in changes.items():
        plan = by_name.get(name)
        if plan is None:
            raise _unknown_field(model_cls, name)
        if plan.kind == "children":
            raise ConfigurationError(
                f"{entity}.{name} cannot be changed with a PUT on the entry; add or delete "
                "lines through their own endpoint (add before deleting: removing the last "
                "line deletes the entry)",
                key=f"{entity}.{name}",
            )
        body[plan.wire] = None if value is None else _write_field(plan, value, entity)
    return body
