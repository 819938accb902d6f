"""OData query options of the fake Exact Online (reference §2.4, §6)."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactbridge.testing._exact.odata import (
    QueryError,
    format_literal,
    parse_filter,
    parse_key,
    parse_literal_list,
    parse_orderby,
    parse_select,
)
from exactbridge.testing._exact.schema import EdmType, EntitySet, Field

ACCOUNTS = "/api/v1/123/crm/Accounts"
KEY = uuid.UUID("40d4c49d-1790-4a13-b890-42909af24348")

SET = EntitySet(
    "crm/Accounts",
    "Accounts",
    "ID",
    "Exact.Web.Api.Models.Account",
    {
        "ID": Field("ID", EdmType.GUID),
        "Code": Field("Code", EdmType.STRING),
        "Name": Field("Name", EdmType.STRING),
        "Amount": Field("Amount", EdmType.DOUBLE),
        "Count": Field("Count", EdmType.INT32),
        "Timestamp": Field("Timestamp", EdmType.INT64),
        "Blocked": Field("Blocked", EdmType.BOOLEAN),
        "IsMailing": Field("IsMailing", EdmType.BYTE),
        "Modified": Field("Modified", EdmType.DATETIME),
    },
    children={"BankAccounts": "crm/BankAccounts"},
)

ROW = {
    "ID": KEY,
    "Code": "                 8",
    "Name": "O'Brien & Zn",
    "Amount": decimal.Decimal("12.50"),
    "Count": 3,
    "Timestamp": 123456789,
    "Blocked": False,
    "IsMailing": 1,
    "Modified": dt.datetime(2024, 9, 9, 12, 40, 29, 900000),
}


def matches(text: str, row=ROW) -> bool:
    return parse_filter(text, SET)(row)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Code eq '                 8'", True),
        ("Code eq '8'", False),
        ("trim(Code) eq '8'", True),
        ("Name eq 'O''Brien & Zn'", True),
        ("ID eq guid'40d4c49d-1790-4a13-b890-42909af24348'", True),
        ("ID ne guid'40D4C49D-1790-4A13-B890-42909AF24348'", False),
        ("Timestamp gt 123456788L", True),
        ("Timestamp ge 123456790L", False),
        ("Amount eq 12.5", True),
        ("Amount lt 12.51M", True),
        ("Count le 3 and Count gt 2", True),
        ("Count eq 4 or Blocked eq false", True),
        ("not (Count eq 3)", False),
        ("not Blocked eq true", True),
        ("(Count eq 4 or Count eq 3) and Name ne null", True),
        ("IsMailing eq 1", True),
        ("Modified gt datetime'2024-09-09T12:40:29'", True),
        ("Modified eq datetime'2024-09-09T12:40:29.9'", True),
        ("Modified lt datetime'2015-01-01'", False),
        ("substringof('Brien', Name)", True),
        ("substringof('brien', Name) eq true", False),
        ("startswith(Name,'O''B')", True),
        ("endswith(Name,'Zn')", True),
        ("tolower(Name) eq 'o''brien & zn'", True),
        ("length(trim(Code)) eq 1", True),
        ("year(Modified) eq 2024 and month(Modified) eq 9 and day(Modified) eq 9", True),
        ("Name eq null", False),
        ("Amount gt -1", True),
    ],
)
def test_filter_evaluation(text, expected):
    assert matches(text) is expected


def test_null_values_compare_only_with_eq_and_ne():
    row = {**ROW, "Name": None}
    assert matches("Name eq null", row)
    assert not matches("Name gt 'a'", row)
    assert not matches("startswith(Name,'a')", row)
    assert matches("not startswith(Name,'a')", row)


def test_filter_reports_the_fields_it_reads():
    assert parse_filter("trim(Code) eq '1' or Timestamp gt 1L", SET).fields == {"Code", "Timestamp"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Nope eq 1",
            "No property 'Nope' exists in type 'Exact.Web.Api.Models.Account' at position 0.",
        ),
        (
            "Code eq 1",
            "Operator 'eq' incompatible with operand types 'System.String' and 'System.Decimal'",
        ),
        ("ID eq 'x'", "incompatible with operand types 'System.Guid' and 'System.String'"),
        ("Count", "Expression of type 'System.Boolean' expected"),
        ("Count eq", "Expression expected"),
        ("(Count eq 1", "')' expected"),
        ("Count eq 1 Count", "Syntax error at position 11."),
        ("Name eq 'open", "unterminated string literal"),
        ("ID eq guid'nope'", "Unrecognized 'Edm.Guid' literal"),
        ("Modified eq datetime'yesterday'", "Unrecognized 'Edm.DateTime' literal"),
        ("foo(Name)", "Unknown function 'foo'"),
        ("trim(Count) eq '1'", "No applicable function found for 'trim'"),
        ("Count add 1 eq 2", "Arithmetic operators are not supported"),
        ("Blocked gt true", "Operator 'gt' incompatible"),
        ("Count eq 1 and Name", "Operator 'and' incompatible"),
        ("Name eq 'a' ; drop", "character ';' is not valid"),
        ("Timestamp gt 1.5L", "Unrecognized 'Edm.Int64' literal"),
    ],
)
def test_filter_errors(text, message):
    with pytest.raises(QueryError) as info:
        parse_filter(text, SET)
    assert message in info.value.message


def test_select_orderby_and_literals():
    assert parse_select("ID, Name,BankAccounts", SET) == ["ID", "Name", "BankAccounts"]
    assert parse_select("*", SET) is None
    with pytest.raises(QueryError, match="No property 'Nope'"):
        parse_select("ID,Nope", SET)
    assert parse_orderby("Modified desc, Name", SET) == [("Modified", True), ("Name", False)]
    with pytest.raises(QueryError):
        parse_orderby("Name sideways", SET)
    assert parse_key("guid'40d4c49d-1790-4a13-b890-42909af24348'") == KEY
    assert parse_key("123") == 123
    assert parse_key("ID=guid'40d4c49d-1790-4a13-b890-42909af24348'") == KEY
    for bad in ("'x'", "true", "", "1,2"):
        with pytest.raises(QueryError):
            parse_key(bad)


literal_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.uuids(),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(literal_values, min_size=1, max_size=3))
def test_literals_round_trip_through_the_skiptoken_format(values):
    text = ",".join(format_literal(value) for value in values)
    assert parse_literal_list(text) == values


# -- over HTTP --------------------------------------------------------------------------------


def error_value(response) -> str:
    return str(json.loads(response.text)["error"]["message"]["value"])


def test_filter_select_orderby_over_http(proto_http, add_accounts):
    add_accounts(12)
    response = proto_http.get(
        ACCOUNTS,
        params={
            "$filter": "trim(Code) eq '3' or substringof('01', Name)",
            "$select": "Name,Code",
            "$orderby": "Name desc",
        },
    )
    assert response.status_code == 200
    rows = json.loads(response.text)["d"]["results"]
    assert [row["Name"] for row in rows] == [
        "Customer 0012",
        "Customer 0011",
        "Customer 0010",
        "Customer 0003",
        "Customer 0001",
    ]
    assert set(rows[0]) == {"__metadata", "Name", "Code"}


def test_top_skip_and_inlinecount(proto_http, add_accounts):
    add_accounts(10)
    response = proto_http.get(
        ACCOUNTS,
        params={
            "$filter": "Name ne 'x'",
            "$orderby": "Code",
            "$skip": "2",
            "$top": "3",
            "$inlinecount": "allpages",
        },
    )
    d = json.loads(response.text)["d"]
    assert d["__count"] == "10"
    assert [row["Name"] for row in d["results"]] == [
        "Customer 0003",
        "Customer 0004",
        "Customer 0005",
    ]
    assert "__next" not in d


def test_orderby_pages_use_a_composite_skiptoken(proto_http, add_accounts):
    add_accounts(70)
    first = json.loads(
        proto_http.get(ACCOUNTS, params={"$filter": "Name ne null", "$orderby": "Name desc"}).text
    )["d"]
    assert first["results"][0]["Name"] == "Customer 0070"
    assert "$skiptoken='Customer%200011',guid'" in first["__next"]
    second = json.loads(proto_http.get(first["__next"]).text)["d"]
    assert [row["Name"] for row in second["results"]][:2] == ["Customer 0010", "Customer 0009"]
    assert len(second["results"]) == 10


def test_mandatory_filter_on_the_accounts_list(proto_http, add_accounts):
    add_accounts(1)
    expected = (
        "This endpoint has mandatory filtering applied. A GET request for this endpoint must have "
        "a $filter parameter with one of the following fields in the url:"
        "AccountManager,Code,Email,ID,Name."
    )
    for params in ({}, {"$select": "ID"}, {"$filter": "Status eq 'C'"}):
        response = proto_http.get(ACCOUNTS, params=params)
        assert response.status_code == 400
        assert error_value(response) == expected
    assert proto_http.get(ACCOUNTS, params={"$filter": "trim(Code) eq '1'"}).status_code == 200
    # GET by key is not affected
    key = json.loads(proto_http.get(ACCOUNTS, params={"$filter": "trim(Code) eq '1'"}).text)["d"][
        "results"
    ][0]["ID"]
    assert proto_http.get(f"{ACCOUNTS}(guid'{key}')").status_code == 200


def test_empty_filter_is_not_supported(proto_http):
    response = proto_http.get("/api/v1/123/crm/Contacts", params={"$filter": ""})
    assert response.status_code == 400
    assert error_value(response) == "This $filter parameter is not supported for this resource"


def test_select_or_top_rule(proto_http):
    path = "/api/v1/123/generaljournalentry/GeneralJournalEntries"
    response = proto_http.get(path)
    assert response.status_code == 400
    assert (
        error_value(response) == "Please add a $select or a $top=1 statement to the query string."
    )
    assert proto_http.get(path, params={"$top": "1"}).status_code == 200
    assert proto_http.get(path, params={"$select": "EntryID"}).status_code == 200


def test_bulk_needs_select(proto_http):
    response = proto_http.get("/api/v1/123/bulk/CRM/Accounts")
    assert response.status_code == 400
    assert "$select" in error_value(response)


def test_sync_allows_only_timestamp_in_filter(proto_http, add_accounts):
    add_accounts(3)
    path = "/api/v1/123/sync/CRM/Accounts"
    ok = proto_http.get(path, params={"$filter": "Timestamp gt 1001L"})
    assert ok.status_code == 200
    assert len(json.loads(ok.text)["d"]["results"]) == 1
    for bad in ("Name eq 'x'", "Timestamp gt 1L and Code eq '1'", ""):
        response = proto_http.get(path, params={"$filter": bad})
        assert response.status_code == 400, bad
        assert error_value(response) == "This $filter parameter is not supported for this resource"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"$filter": "Nope eq 1"}, "No property 'Nope'"),
        ({"$filter": "Name eq 'x'", "$select": "Nope"}, "No property 'Nope'"),
        ({"$filter": "Name eq 'x'", "$expand": "Lines"}, "No property 'Lines'"),
        ({"$filter": "Name eq 'x'", "$orderby": "Nope"}, "No property 'Nope'"),
        ({"$filter": "Name eq 'x'", "$top": "-1"}, "$top query option requires"),
        ({"$filter": "Name eq 'x'", "$skip": "x"}, "$skip query option requires"),
        ({"$filter": "Name eq 'x'", "$inlinecount": "some"}, "Invalid $inlinecount"),
        ({"$filter": "Name eq 'x'", "$skiptoken": "guid'nope"}, "$skiptoken"),
        ({"$filter": "Name eq 'x'", "$search": "x"}, "system-reserved '$' character"),
    ],
)
def test_bad_query_options_are_400(proto_http, params, fragment):
    response = proto_http.get(ACCOUNTS, params=params)
    assert response.status_code == 400
    assert fragment in error_value(response)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.none() | st.text(max_size=3), st.none() | st.integers(-5, 5)),
        max_size=25,
    ),
    st.sampled_from(["Name", "Count"]),
    st.booleans(),
)
def test_sorting_and_skiptokens_agree(values, field, descending):
    from exactbridge.testing._exact.odata import compare_keys, first_after, sort_rows

    rows = [
        {"ID": uuid.UUID(int=index * 7919 % 1000), "Name": name, "Count": count}
        for index, (name, count) in enumerate(values)
    ]
    order = [(field, descending), ("ID", False)]
    ordered = sort_rows(rows, order)
    names = [name for name, _ in order]
    flags = [desc for _, desc in order]
    for left, right in itertools.pairwise(ordered):
        assert compare_keys([left[n] for n in names], [right[n] for n in names], flags) < 0
    for index, row in enumerate(ordered):
        assert first_after(ordered, order, [row[n] for n in names]) == index + 1
