"""The CLI's output helpers: tables, JSON, progress on a terminal only."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from exactbridge.cli._output import (
    Progress,
    error,
    format_cell,
    format_table,
    note,
    print_json,
    to_jsonable,
)
from exactbridge.sync import RunStatus


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_table_aligns_text_left_and_numbers_right() -> None:
    lines = format_table(
        ["code", "name", "amount", "note"],
        [[7, "Gym", Decimal("9.50"), "a"], [1001, "Sportclub", Decimal("-120.00"), None]],
    )
    assert lines == [
        "code  name        amount  note",
        "----  ---------  -------  ----",
        "   7  Gym           9.50  a",
        "1001  Sportclub  -120.00  -",
    ]


def test_table_columns_line_up_whatever_the_cell_widths() -> None:
    lines = format_table(["a", "bb"], [["xxxxx", 1], ["y", 22222]], indent="  ")
    assert all(line.startswith("  ") for line in lines)
    # The right-aligned last column ends at one position on every line.
    assert {len(line) for line in lines} == {len("  xxxxx     bb")}
    assert lines[3] == "  y      22222"


def test_table_last_column_is_not_padded_and_rows_must_fit() -> None:
    lines = format_table(["id", "reason"], [["1", "short"], ["2", "a much longer reason"]])
    assert lines[2] == "1   short"
    assert lines[3] == "2   a much longer reason"
    with pytest.raises(ValueError, match="2 columns"):
        format_table(["a", "b"], [["only one"]])


def test_cells_show_none_booleans_decimals_times_and_durations() -> None:
    assert format_cell(None) == "-"
    assert (format_cell(True), format_cell(False)) == ("yes", "no")
    assert format_cell(Decimal("1E+2")) == "100"
    assert format_cell(Decimal("0.10")) == "0.10"
    amsterdam = dt.timezone(dt.timedelta(hours=1))
    assert format_cell(dt.datetime(2026, 1, 5, 10, 0, tzinfo=amsterdam)) == "2026-01-05 09:00:00Z"
    assert format_cell(dt.date(2026, 1, 5)) == "2026-01-05"
    assert format_cell(dt.timedelta(seconds=42)) == "42s"
    assert format_cell(dt.timedelta(minutes=3, seconds=5)) == "3m05s"
    assert format_cell(dt.timedelta(hours=2, seconds=1)) == "2h00m01s"
    assert format_cell(RunStatus.PARTIAL) == "partial"
    assert format_cell("two\nlines") == "two lines"


@attrs.frozen
class _Row:
    amount: Decimal
    when: dt.datetime
    secret: str = attrs.field(repr=False)


def test_json_keeps_decimals_and_dates_as_strings_and_leaves_secrets_out() -> None:
    row = _Row(Decimal("12.30"), dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc), "s3cret")
    data = to_jsonable(
        {
            "row": row,
            "day": dt.date(2026, 1, 31),
            "took": dt.timedelta(seconds=95, microseconds=500000),
            "whole": dt.timedelta(seconds=3),
            "id": uuid.UUID(int=1),
            "path": Path("/tmp/x"),
            "status": RunStatus.SUCCEEDED,
            "items": (1, "a", None, True),
        }
    )
    assert data == {
        "row": {"amount": "12.30", "when": "2026-01-05T09:00:00+00:00"},
        "day": "2026-01-31",
        "took": "96",
        "whole": "3",
        "id": "00000000-0000-0000-0000-000000000001",
        "path": "/tmp/x",
        "status": "succeeded",
        "items": [1, "a", None, True],
    }
    assert type(data["status"]) is str
    with pytest.raises(TypeError, match="object"):
        to_jsonable(object())


def test_print_json_writes_parseable_json() -> None:
    out = io.StringIO()
    print_json({"amount": Decimal("0.01")}, stream=out)
    assert json.loads(out.getvalue()) == {"amount": "0.01"}


def test_progress_writes_only_to_a_terminal() -> None:
    quiet = io.StringIO()
    with Progress("booking", total=3, stream=quiet) as progress:
        for _ in range(3):
            progress.advance()
    assert quiet.getvalue() == ""
    assert progress.done == 3

    terminal = _Terminal()
    with Progress("booking", total=4, stream=terminal) as progress:
        progress.advance()
        progress.advance(3)
    text = terminal.getvalue()
    assert "\rbooking  0/4  0%" in text
    assert "\rbooking  1/4  25%" in text
    assert "\rbooking  4/4  100%" in text
    assert text.endswith("\r")  # the line is cleared at the end
    assert "\n" not in text


def test_progress_without_total_and_forced_settings() -> None:
    terminal = _Terminal()
    progress = Progress("reading", stream=terminal).start()
    progress.update(10)
    progress.update(10)  # unchanged text is not written again
    progress.close()
    progress.advance()  # ignored after close
    assert terminal.getvalue().count("reading  10") == 1
    assert "reading  11" not in terminal.getvalue()
    forced_off = _Terminal()
    Progress("x", total=1, stream=forced_off, enabled=False).start().advance()
    assert forced_off.getvalue() == ""
    forced_on = io.StringIO()
    Progress("x", total=0, stream=forced_on, enabled=True).start()
    assert "x  0/0" in forced_on.getvalue()


def test_progress_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with Progress("work", total=2) as progress:  # captured stderr is not a terminal
        progress.advance(2)
    note("a remark")
    error("it broke")
    error("bad key", kind="configuration error")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "a remark\nexactbridge: error: it broke\nexactbridge: configuration error: bad key\n"
    )
