"""Output of the ``exactbridge`` command: plain-text tables, ``--json``, progress, messages.

Every command prints through these helpers, so tables look alike, JSON is always
the same dialect (decimals, dates and times as strings) and progress never mixes
with a command's output:

* :func:`format_table` / :func:`print_table`: aligned columns, numbers on the right;
* :func:`to_jsonable` / :func:`print_json`: ``--json`` output on stdout;
* :class:`Progress`: a one-line counter on stderr, only when stderr is a terminal;
* :func:`error` / :func:`note`: messages on stderr.

>>> print("\\n".join(format_table(["code", "name"], [[7, "Gym"], [1001, "Club"]])))
code  name
----  ----
   7  Gym
1001  Club
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import PurePath
from types import TracebackType
from typing import Any, TextIO

import attrs

__all__ = [
    "Progress",
    "error",
    "format_cell",
    "format_table",
    "note",
    "print_json",
    "print_table",
    "to_jsonable",
]


def format_cell(value: object) -> str:
    """How one value is shown in a table.

    ``None`` is ``-``; booleans ``yes``/``no``; decimals as written (never in
    exponent form); times in UTC to the second; enums by their value.

    >>> format_cell(Decimal("1.50")), format_cell(None), format_cell(True)
    ('1.50', '-', 'yes')
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.strftime("%Y-%m-%d %H:%M:%S")
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _duration(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)


def _duration(value: dt.timedelta) -> str:
    seconds = int(value.total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if seconds < 0 else ""
    if hours:
        return f"{sign}{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{sign}{minutes}m{secs:02d}s"
    return f"{sign}{secs}s"


def _numeric(value: object) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def format_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    indent: str = "",
) -> list[str]:
    """Lay ``rows`` out under ``headers`` in aligned columns; returns the lines.

    A column whose values are all numbers (or empty) is right-aligned, others
    left-aligned. The last column is not padded, so a long text (an error
    reason) simply runs on. Cells are shown with :func:`format_cell`.
    """
    raw = [list(row) for row in rows]
    for row in raw:
        if len(row) != len(headers):
            raise ValueError(f"a row has {len(row)} cells for {len(headers)} columns")
    cells = [[format_cell(value) for value in row] for row in raw]
    right = [
        all(_numeric(row[i]) or row[i] is None for row in raw)
        and any(_numeric(row[i]) for row in raw)
        for i in range(len(headers))
    ]
    widths = [max([len(headers[i]), *(len(row[i]) for row in cells)]) for i in range(len(headers))]
    last = len(headers) - 1

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, text in enumerate(values):
            if right[i]:
                parts.append(text.rjust(widths[i]))
            elif i == last:
                parts.append(text)
            else:
                parts.append(text.ljust(widths[i]))
        return (indent + "  ".join(parts)).rstrip()

    out = [line(list(headers)), line(["-" * width for width in widths])]
    out.extend(line(row) for row in cells)
    return out


def print_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    indent: str = "",
    stream: TextIO | None = None,
) -> None:
    """Print :func:`format_table` to ``stream`` (default stdout)."""
    out = stream if stream is not None else sys.stdout
    for text in format_table(headers, rows, indent=indent):
        print(text, file=out)


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON data: decimals, dates, times, ids and paths become strings.

    Decimals keep their digits (``"1.50"``, never a binary float); aware datetimes
    are ISO 8601 in UTC; a timedelta is its whole seconds as a string; enums give
    their value; attrs instances and mappings become objects; sequences arrays.

    >>> to_jsonable({"amount": Decimal("9.90"), "day": dt.date(2025, 1, 31)})
    {'amount': '9.90', 'day': '2025-01-31'}
    """
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        # Whole seconds, as docs/cli.md promises; half a second and more rounds up.
        whole = value.days * 86400 + value.seconds + (1 if value.microseconds >= 500_000 else 0)
        return str(whole)
    if isinstance(value, (uuid.UUID, PurePath)):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if attrs.has(type(value)):
        return {
            field.name: to_jsonable(getattr(value, field.name))
            for field in attrs.fields(type(value))
            if field.repr is not False
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(item) for item in items]
    if isinstance(value, float):
        return value
    raise TypeError(f"cannot show a {type(value).__name__} as JSON")


def print_json(value: Any, *, stream: TextIO | None = None) -> None:
    """Print ``value`` (through :func:`to_jsonable`) as indented JSON on ``stream`` (stdout)."""
    out = stream if stream is not None else sys.stdout
    print(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False), file=out)


def error(message: str, *, kind: str = "error", stream: TextIO | None = None) -> None:
    """Print ``exactbridge: <kind>: <message>`` on stderr."""
    out = stream if stream is not None else sys.stderr
    print(f"exactbridge: {kind}: {message}", file=out)


def note(message: str, *, stream: TextIO | None = None) -> None:
    """Print a remark for people on stderr (never mixed into stdout or ``--json``)."""
    out = stream if stream is not None else sys.stderr
    print(message, file=out, flush=True)


class Progress:
    """A one-line progress counter for long work, on stderr.

    It writes only when ``stream`` (default: stderr) is a terminal, so redirected
    output, logs and ``--json`` stay clean; ``enabled`` forces it on or off. With
    a ``total`` it shows ``label  42/1000  4%``, without one ``label  42``. The
    line is rewritten in place and cleared on :meth:`close` (or leaving a ``with``
    block)::

        with Progress("booking invoices", total=len(invoices)) as progress:
            for invoice in invoices:
                book(invoice)
                progress.advance()
    """

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self._stream, "isatty", None)
            try:
                enabled = bool(isatty()) if callable(isatty) else False
            except (OSError, ValueError):
                enabled = False
        self.enabled = enabled
        self._shown = ""
        self._width = 0
        self._closed = False

    def _text(self) -> str:
        if self.total is None:
            return f"{self.label}  {self.done}"
        if self.total <= 0:
            return f"{self.label}  {self.done}/{self.total}"
        percent = min(100, self.done * 100 // self.total)
        return f"{self.label}  {self.done}/{self.total}  {percent}%"

    def _render(self) -> None:
        if not self.enabled or self._closed:
            return
        text = self._text()
        if text == self._shown:
            return
        pad = " " * max(0, self._width - len(text))
        self._stream.write("\r" + text + pad)
        self._stream.flush()
        self._shown = text
        self._width = max(self._width, len(text))

    def start(self) -> Progress:
        """Show the line (at 0) now."""
        self._render()
        return self

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done."""
        self.done += count
        self._render()

    def update(self, done: int, total: int | None = None) -> None:
        """Set the count (and, if given, the total) directly."""
        self.done = done
        if total is not None:
            self.total = total
        self._render()

    def close(self) -> None:
        """Clear the line; later updates are ignored."""
        if self.enabled and not self._closed and self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
        self._closed = True

    def __enter__(self) -> Progress:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Progress({self.label!r}, done={self.done}, total={self.total})"
