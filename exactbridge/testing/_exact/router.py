"""The protocol layer of the fake Exact Online: turns an httpx.Request into an httpx.Response.

:class:`Backend` holds the whole state behind one re-entrant lock (domain, OAuth,
rate limits, error budget, pending faults, call log) and answers requests with
Exact's shapes. ``FakeExactOnline`` (``fake.py``) is its public face; the httpx
transports and the HTTP server (``exactbridge.testing.server``) both call
:meth:`Backend.handle`.

Order of checks for a division-scoped request:
error-budget block (403) -> access token (401) -> division known (403) ->
rate limit (429) -> endpoint known (404) -> method allowed (405) -> query/body rules
(400) -> the domain (its own 4xx/5xx). Calls refused by the rate limiter or the
error-budget block are not counted against the rate limit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import httpx

from exactbridge.testing._exact.domain import ExactDomain, FakeODataError
from exactbridge.testing._exact.faults import CallRecord, Fault, FaultRule, TokenCall
from exactbridge.testing._exact.limits import ErrorBudget, RateLimiter, epoch_ms
from exactbridge.testing._exact.oauth import OAuthError, OAuthServer
from exactbridge.testing._exact.odata import (
    QueryError,
    format_literal,
    parse_expand,
    parse_filter,
    parse_key,
    parse_literal_list,
    parse_orderby,
    parse_select,
    select_page,
)
from exactbridge.testing._exact.schema import EdmType, EntitySet, SetKind
from exactbridge.testing._exact.wire import (
    JSON_CONTENT_TYPE,
    WireError,
    dumps,
    error_body,
    loads_object,
)
from exactbridge.testing.clock import FakeClock

__all__ = ["Backend", "Outcome"]

BARE_LIST_MAX_TOP = 60

GENERIC_SERVER_ERROR = (
    "A problem has occurred. The cause of this issue will be investigated as soon as possible."
)
FILTER_NOT_SUPPORTED = "This $filter parameter is not supported for this resource"
SELECT_OR_TOP = "Please add a $select or a $top=1 statement to the query string."
BULK_SELECT = (
    "It is mandatory to provide the $select query option with a selection of one or more of the "
    "resource properties."
)
MANDATORY_FILTER = (
    "This endpoint has mandatory filtering applied. A GET request for this endpoint must have a "
    "$filter parameter with one of the following fields in the url:"
)
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Exact Online - Maintenance</title></head><body>"
    "<h1>Exact Online is temporarily unavailable</h1><p>We are performing maintenance. "
    "Please try again later.</p></body></html>"
)
_KNOWN_OPTIONS = frozenset(
    {
        "$filter",
        "$select",
        "$expand",
        "$orderby",
        "$top",
        "$skip",
        "$skiptoken",
        "$inlinecount",
        "$format",
    }
)
_INT_TYPES = frozenset({EdmType.INT16, EdmType.INT32, EdmType.INT64, EdmType.BYTE})
# the Python types a $skiptoken literal may have for a property of each type (or null)
_TOKEN_TYPES: dict[EdmType, tuple[type, ...]] = {
    EdmType.STRING: (str,),
    EdmType.INT16: (int,),
    EdmType.INT32: (int,),
    EdmType.INT64: (int,),
    EdmType.BYTE: (int,),
    EdmType.DOUBLE: (int, decimal.Decimal),
    EdmType.BOOLEAN: (bool,),
    EdmType.GUID: (uuid.UUID,),
    EdmType.DATETIME: (dt.datetime,),
    EdmType.BINARY: (bytes,),
}

_Rows = Sequence[Mapping[str, Any]]
# picks the rows to answer with from rows lent by the domain (see ExactDomain.pick_rows)
_Chooser = Callable[[_Rows], Iterable[Mapping[str, Any]]]


@attrs.frozen
class Outcome:
    """An answer before it becomes an httpx.Response."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = attrs.field(factory=dict)
    division: int | None = None
    endpoint: str = ""
    content_type: str | None = JSON_CONTENT_TYPE


def _error(status: int, message: str) -> Outcome:
    return Outcome(status, error_body(message))


class _Refusal(Exception):
    """Internal: stop handling and answer with ``outcome``."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.status)
        self.outcome = outcome


@attrs.frozen
class _Target:
    """A parsed division-scoped path: entity set path, key, navigation, $count."""

    set_path: str
    key: str | None = None
    navigation: str | None = None
    count: bool = False


def _parse_target(sub: str) -> _Target:
    if sub.endswith("/$count"):
        return _Target(sub[: -len("/$count")], count=True)
    open_paren = sub.find("(")
    if open_paren < 0:
        return _Target(sub.rstrip("/"))
    close = sub.find(")", open_paren)
    if close < 0:
        raise _Refusal(_error(400, "Bad Request - Error in query syntax."))
    rest = sub[close + 1 :].strip("/")
    return _Target(sub[:open_paren], sub[open_paren + 1 : close], rest or None)


def _describe(path: str) -> tuple[int | None, str]:
    """Best-effort (division, endpoint) of a URL path, for the call log of faulted calls."""
    lowered = path.lower()
    if lowered.startswith("/api/oauth2/"):
        return None, lowered[len("/api/") :]
    if lowered.startswith("/api/v1/current/me"):
        return None, "current/Me"
    if not lowered.startswith("/api/v1/"):
        return None, ""
    division_text, _, rest = path[len("/api/v1/") :].partition("/")
    if not division_text.isdigit():
        return None, ""
    set_path = rest.split("(", 1)[0]
    if set_path.endswith("/$count"):
        set_path = set_path[: -len("/$count")]
    return int(division_text), set_path


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="'(),*$")


class Backend:
    """All state and request handling of one fake Exact Online (thread-safe)."""

    def __init__(
        self,
        *,
        clock: FakeClock,
        domain: ExactDomain,
        minutely_limit: int,
        daily_limit: int,
        error_budget: int,
        post_status: int,
        bare_list_for_small_top: bool,
        key_only_post_tables: frozenset[str],
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.domain = domain
        self.oauth = OAuthServer(clock.now)
        self.limiter = RateLimiter(minutely_limit, daily_limit)
        self.budget = ErrorBudget(error_budget)
        self.post_status = post_status
        self.bare_list_for_small_top = bare_list_for_small_top
        self.key_only_post_tables = key_only_post_tables
        self.faults: list[FaultRule] = []
        self.calls: list[CallRecord] = []
        self.token_calls: list[TokenCall] = []

    # -- entry point ----------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (its body must already be read)."""
        with self.lock:
            method = request.method.upper()
            path = request.url.path
            query = request.url.query.decode("ascii", "replace")
            now = self.clock.now()
            rule = self._take_fault(method, path)
            if rule is not None and rule.kind is not Fault.LOST_RESPONSE:
                return self._fault(rule, request, method, path, query, now)
            try:
                outcome = self._dispatch(request, method, path)
            except _Refusal as refusal:
                outcome = refusal.outcome
            fault = rule.kind if rule is not None else None
            self.calls.append(
                CallRecord(
                    method,
                    path,
                    query,
                    outcome.status,
                    outcome.division,
                    now,
                    outcome.endpoint,
                    fault,
                )
            )
            if rule is not None:
                raise httpx.ReadTimeout(
                    "fake Exact Online: the response was lost after the request was processed",
                    request=request,
                )
            headers = dict(outcome.headers)
            if outcome.content_type is not None and outcome.body:
                headers["Content-Type"] = outcome.content_type
            return httpx.Response(
                outcome.status, headers=headers, content=outcome.body, request=request
            )

    # -- faults ---------------------------------------------------------------------------
    def add_fault(self, rule: FaultRule) -> None:
        """Queue a fault rule (rules are tried in the order they were added)."""
        with self.lock:
            self.faults.append(rule)

    def _take_fault(self, method: str, path: str) -> FaultRule | None:
        for rule in self.faults:
            if rule.matches(method, path):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self.faults.remove(rule)
                return rule
        return None

    def _fault(
        self,
        rule: FaultRule,
        request: httpx.Request,
        method: str,
        path: str,
        query: str,
        now: dt.datetime,
    ) -> httpx.Response:
        status: int | None
        headers: dict[str, str] = {}
        body = b""
        if rule.kind is Fault.TIMEOUT or rule.kind is Fault.CONNECTION_ERROR:
            status = None
        elif rule.kind is Fault.SERVER_ERROR:
            status = rule.status or 500
            if status == 500:
                body = error_body(GENERIC_SERVER_ERROR)
                headers["Content-Type"] = JSON_CONTENT_TYPE
            else:
                body = b"<html><body><h1>Service Unavailable</h1></body></html>"
                headers["Content-Type"] = "text/html; charset=utf-8"
        elif rule.kind is Fault.RATE_LIMIT:
            status = 429
            reset = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
            headers = {
                "X-RateLimit-Minutely-Limit": str(self.limiter.minutely),
                "X-RateLimit-Minutely-Remaining": "0",
                "X-RateLimit-Minutely-Reset": str(epoch_ms(reset)),
            }
        else:  # MAINTENANCE
            status = 200
            body = MAINTENANCE_PAGE.encode("utf-8")
            headers["Content-Type"] = "text/html; charset=utf-8"
        division, endpoint = _describe(path)
        self.calls.append(
            CallRecord(method, path, query, status, division, now, endpoint, rule.kind)
        )
        if endpoint == "oauth2/token":
            self.token_calls.append(TokenCall("", status or 0, now))
        if rule.kind is Fault.TIMEOUT:
            raise httpx.ReadTimeout("fake Exact Online: timed out (injected)", request=request)
        if rule.kind is Fault.CONNECTION_ERROR:
            raise httpx.ConnectError(
                "fake Exact Online: connection refused (injected)", request=request
            )
        assert status is not None
        return httpx.Response(status, headers=headers, content=body, request=request)

    # -- routing --------------------------------------------------------------------------
    def _dispatch(self, request: httpx.Request, method: str, path: str) -> Outcome:
        origin = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        lowered = path.lower()
        if lowered == "/api/oauth2/auth":
            return self._authorize(request, method)
        if lowered == "/api/oauth2/token":
            return self._token(request, method)
        if not lowered.startswith("/api/v1/"):
            return _error(404, "Not found")
        sub = path[len("/api/v1/") :]
        if sub.lower().rstrip("/") in ("current/me", "current/me/"):
            return attrs.evolve(self._me(request, method, origin), endpoint="current/Me")
        division_text, _, rest = sub.partition("/")
        if not division_text.isdigit() or not rest:
            return _error(404, "Not found")
        division = int(division_text)
        try:
            target = _parse_target(rest)
        except _Refusal as refusal:
            return attrs.evolve(refusal.outcome, division=division, endpoint=rest)
        entity_set = self.domain.entity_set(target.set_path)
        endpoint = entity_set.path if entity_set is not None else target.set_path
        outcome = self._scoped(request, method, origin, division, target, entity_set, endpoint)
        return attrs.evolve(outcome, division=division, endpoint=endpoint)

    def _scoped(
        self,
        request: httpx.Request,
        method: str,
        origin: str,
        division: int,
        target: _Target,
        entity_set: EntitySet | None,
        endpoint: str,
    ) -> Outcome:
        now = self.clock.now()
        budget_key = (division, endpoint.lower())
        until = self.budget.blocked_until(budget_key, now)
        if until is not None:
            return _error(
                403,
                f"Too many errors: more than {self.budget.budget} failed calls to endpoint "
                f"'{endpoint}' within one hour. This endpoint is blocked for this app until "
                f"{until.strftime('%Y-%m-%dT%H:%M:%SZ')}.",
            )
        outcome = self._scoped_inner(request, method, origin, division, target, entity_set, now)
        self.budget.record(budget_key, outcome.status, now)
        return outcome

    def _scoped_inner(
        self,
        request: httpx.Request,
        method: str,
        origin: str,
        division: int,
        target: _Target,
        entity_set: EntitySet | None,
        now: dt.datetime,
    ) -> Outcome:
        unauthorized = self._check_token(request)
        if unauthorized is not None:
            return unauthorized
        if not self.domain.has_division(division):
            return _error(403, f"Forbidden: you have no access to division {division}.")
        decision = self.limiter.take(division, now)
        if not decision.allowed:
            return Outcome(429, b"", decision.headers, content_type=None)
        try:
            if entity_set is None or not entity_set.division_scoped:
                raise _Refusal(_error(404, f"Resource not found: {target.set_path}"))
            outcome = self._entity_request(request, method, origin, division, target, entity_set)
        except _Refusal as refusal:
            outcome = refusal.outcome
        except FakeODataError as exc:
            outcome = _error(exc.status, exc.message)
        except QueryError as exc:
            outcome = _error(400, exc.message)
        except WireError as exc:
            outcome = _error(400, exc.message)
        if 200 <= outcome.status < 300:
            outcome = attrs.evolve(outcome, headers={**outcome.headers, **decision.headers})
        return outcome

    def _check_token(self, request: httpx.Request) -> Outcome | None:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not self.oauth.access_token_valid(token.strip()):
            return Outcome(
                401,
                error_body("Unauthorized: the access token is missing, unknown or expired."),
                {"WWW-Authenticate": "Bearer"},
            )
        return None

    # -- OAuth ----------------------------------------------------------------------------
    def _authorize(self, request: httpx.Request, method: str) -> Outcome:
        endpoint = "oauth2/auth"
        if method != "GET":
            return attrs.evolve(_error(405, "Method not allowed"), endpoint=endpoint)
        params = dict(urllib.parse.parse_qsl(request.url.query.decode("ascii"), True))
        html = "text/html; charset=utf-8"
        if params.get("response_type") != "code":
            body = b"<html><body>The response_type must be 'code'.</body></html>"
            return Outcome(400, body, {}, None, endpoint, html)
        redirect_uri = params.get("redirect_uri", "")
        try:
            code = self.oauth.authorize(params.get("client_id", ""), redirect_uri)
        except OAuthError as exc:
            body = f"<html><body>{exc.message}</body></html>".encode()
            return Outcome(400, body, {}, None, endpoint, html)
        answer = {"code": code}
        if "state" in params:
            answer["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urllib.parse.urlencode(answer)
        return Outcome(302, b"", {"Location": location}, None, endpoint, None)

    def _token(self, request: httpx.Request, method: str) -> Outcome:
        endpoint = "oauth2/token"
        now = self.clock.now()
        if method != "POST":
            return attrs.evolve(_error(405, "Method not allowed"), endpoint=endpoint)
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            self.token_calls.append(TokenCall("", 400, now))
            body = dumps(
                {
                    "error": "invalid_request",
                    "error_description": "The token request must be form-encoded.",
                }
            )
            return Outcome(400, body, {}, None, endpoint)
        try:
            text = request.content.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        form = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        reply = self.oauth.token_request(
            form, authorization_header="authorization" in request.headers
        )
        self.token_calls.append(TokenCall(reply.grant_type, reply.status, now))
        return Outcome(reply.status, reply.body, dict(reply.headers), None, endpoint)

    # -- current/Me -----------------------------------------------------------------------
    def _me(self, request: httpx.Request, method: str, origin: str) -> Outcome:
        now = self.clock.now()
        budget_key = (None, "current/me")
        if self.budget.blocked_until(budget_key, now) is not None:
            return _error(403, "Too many errors: this endpoint is temporarily blocked.")
        outcome = self._me_inner(request, method, origin)
        self.budget.record(budget_key, outcome.status, now)
        return outcome

    def _me_inner(self, request: httpx.Request, method: str, origin: str) -> Outcome:
        unauthorized = self._check_token(request)
        if unauthorized is not None:
            return unauthorized
        if method != "GET":
            return _error(405, "Method not allowed")
        row = self.domain.current_user()
        me_set = self.domain.entity_set("current/Me")
        params = self._params(request)
        select: list[str] | None = None
        try:
            if me_set is not None and params.get("$select"):
                select = parse_select(params["$select"], me_set)
        except QueryError as exc:
            return _error(400, exc.message)
        key = row.get("UserID")
        entity: dict[str, Any] = {
            "__metadata": {
                "uri": f"{origin}/api/v1/current/Me({format_literal(key)})",
                "type": me_set.type_name if me_set else "Exact.Web.Api.Models.System.Me",
            }
        }
        names: Iterable[str] = me_set.fields if me_set is not None else row
        for name in names:
            if select is None or name in select:
                entity[name] = row.get(name)
        return Outcome(200, dumps({"d": {"results": [entity]}}))

    # -- entity sets ----------------------------------------------------------------------
    @staticmethod
    def _params(request: httpx.Request) -> dict[str, str]:
        query = request.url.query.decode("ascii", "replace")
        params: dict[str, str] = {}
        for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[name] = value
        return params

    def _key(self, entity_set: EntitySet, text: str) -> uuid.UUID | int:
        try:
            key = parse_key(text)
        except QueryError:
            raise _Refusal(_error(400, "Bad Request - Error in query syntax.")) from None
        field = entity_set.fields.get(entity_set.key)
        edm = field.type if field is not None else None
        if (edm is EdmType.GUID and not isinstance(key, uuid.UUID)) or (
            edm in _INT_TYPES and (not isinstance(key, int) or isinstance(key, bool))
        ):
            raise _Refusal(_error(400, "Bad Request - Error in query syntax."))
        return key

    def _entity_request(
        self,
        request: httpx.Request,
        method: str,
        origin: str,
        division: int,
        target: _Target,
        entity_set: EntitySet,
    ) -> Outcome:
        if method not in entity_set.verbs:
            raise _Refusal(_error(405, f"Method {method} is not allowed on {entity_set.path}."))
        params = self._params(request)
        for name in params:
            if name.startswith("$") and name not in _KNOWN_OPTIONS:
                raise QueryError(
                    f"The query parameter '{name}' begins with a system-reserved '$' character "
                    "but is not recognized."
                )
        collection = f"{origin}/api/v1/{division}/{entity_set.path}"
        if target.count:
            if method != "GET":
                raise _Refusal(_error(405, "Method not allowed"))
            count_filter = (
                parse_filter(params["$filter"], entity_set) if params.get("$filter") else None
            )
            count = 0

            def count_rows(rows: _Rows) -> list[Mapping[str, Any]]:
                nonlocal count
                if count_filter is None:
                    count = len(rows)
                else:
                    count = sum(map(count_filter.predicate, rows))
                return []  # nothing to copy

            equal = count_filter.equal if count_filter is not None else None
            self.domain.pick_rows(division, entity_set, count_rows, equal=equal)
            return Outcome(200, str(count).encode(), content_type="text/plain; charset=utf-8")
        if target.key is None:
            if method == "GET":

                def load(equal: Mapping[str, Any], choose: _Chooser) -> list[dict[str, Any]]:
                    return self.domain.pick_rows(division, entity_set, choose, equal=equal)

                return self._list(origin, division, entity_set, load, params, collection, False)
            if method == "POST":
                return self._create(request, origin, division, entity_set)
            raise _Refusal(_error(405, f"Method {method} needs a key in the URL."))
        key = self._key(entity_set, target.key)
        if target.navigation is not None:
            if method != "GET":
                raise _Refusal(_error(405, "Method not allowed"))
            child_path = entity_set.children.get(target.navigation)
            child_set = self.domain.entity_set(child_path) if child_path else None
            if child_set is None:
                raise _Refusal(_error(404, f"Resource not found: {target.navigation}"))
            self.domain.get(division, entity_set, key)
            children = self.domain.children(division, entity_set, key, target.navigation)
            base = f"{collection}({format_literal(key)})/{target.navigation}"

            def load_children(_equal: Mapping[str, Any], choose: _Chooser) -> list[dict[str, Any]]:
                return [dict(row) for row in choose(children)]

            return self._list(origin, division, child_set, load_children, params, base, True)
        if method == "GET":
            row = self.domain.get(division, entity_set, key)
            select = parse_select(params["$select"], entity_set) if "$select" in params else None
            expand = parse_expand(params["$expand"], entity_set) if params.get("$expand") else []
            entity = self._entity(origin, division, entity_set, row, select, expand)
            return Outcome(200, dumps({"d": entity}))
        if method == "PUT":
            body = loads_object(request.content)
            self.domain.update(division, entity_set, key, body)
            return Outcome(204, b"", content_type=None)
        if method == "DELETE":
            self.domain.delete(division, entity_set, key)
            return Outcome(204, b"", content_type=None)
        raise _Refusal(_error(405, f"Method {method} is not allowed on a single entity."))

    def _create(
        self, request: httpx.Request, origin: str, division: int, entity_set: EntitySet
    ) -> Outcome:
        body = loads_object(request.content)
        row = self.domain.create(division, entity_set, body)
        prefer = request.headers.get("Prefer", "").replace(" ", "").lower()
        entity = self._entity(origin, division, entity_set, row, None, [])
        if "return=representation" not in prefer and entity_set.table in self.key_only_post_tables:
            for name in entity_set.fields:
                if name != entity_set.key:
                    entity[name] = None
        headers = {}
        if self.post_status == 201:
            headers["Location"] = str(entity["__metadata"]["uri"])
        return Outcome(self.post_status, dumps({"d": entity}), headers)

    def _entity(
        self,
        origin: str,
        division: int,
        entity_set: EntitySet,
        row: Mapping[str, Any],
        select: list[str] | None,
        expand: list[str],
    ) -> dict[str, Any]:
        key = row.get(entity_set.key)
        uri = f"{origin}/api/v1/{division}/{entity_set.path}({format_literal(key)})"
        entity: dict[str, Any] = {"__metadata": {"uri": uri, "type": entity_set.type_name}}
        for name in entity_set.fields:
            if select is None or name in select:
                entity[name] = row.get(name)
        for navigation, child_path in entity_set.children.items():
            if navigation in expand:
                child_set = self.domain.entity_set(child_path)
                children = self.domain.children(division, entity_set, key, navigation)  # type: ignore[arg-type]
                entity[navigation] = {
                    "results": [
                        self._entity(origin, division, child_set, child, None, [])
                        for child in children
                    ]
                    if child_set is not None
                    else []
                }
            elif select is None or navigation in select:
                entity[navigation] = {"__deferred": {"uri": f"{uri}/{navigation}"}}
        return entity

    def _list(
        self,
        origin: str,
        division: int,
        entity_set: EntitySet,
        load: Callable[[Mapping[str, Any], _Chooser], list[dict[str, Any]]],
        params: Mapping[str, str],
        base_uri: str,
        navigation: bool,
    ) -> Outcome:
        """Answer a list GET: filter, order and page rows, and copy only the page.

        ``load(equal, choose)`` lends the rows to ``choose`` and returns copies of the
        rows it picks (``ExactDomain.pick_rows``); ``equal`` holds the filter's equality
        hints for an index.
        """
        filter_text = params.get("$filter")
        if filter_text is not None and not filter_text.strip():
            raise QueryError(FILTER_NOT_SUPPORTED)
        flt = parse_filter(filter_text, entity_set) if filter_text else None
        if not navigation:
            self._check_read_rules(entity_set, params, flt.fields if flt else None)
        select = parse_select(params["$select"], entity_set) if "$select" in params else None
        expand = parse_expand(params["$expand"], entity_set) if params.get("$expand") else []
        order = parse_orderby(params["$orderby"], entity_set) if params.get("$orderby") else []
        top = _count_option(params, "$top")
        skip = _count_option(params, "$skip")
        inlinecount = params.get("$inlinecount")
        if inlinecount not in (None, "allpages", "none"):
            raise QueryError(f"Invalid $inlinecount value '{inlinecount}'.")
        if not order and entity_set.kind is SetKind.SYNC and "Timestamp" in entity_set.fields:
            order = [("Timestamp", False)]
        if entity_set.key not in [name for name, _ in order]:
            order = [*order, (entity_set.key, False)]
        names = [name for name, _ in order]
        types = [entity_set.fields[n].type if n in entity_set.fields else None for n in names]
        skiptoken = params.get("$skiptoken")
        after: list[Any] | None = None
        if skiptoken:
            try:
                after = parse_literal_list(skiptoken)
            except QueryError:
                after = []
            if len(after) != len(order) or not all(
                _token_fits(value, edm) for value, edm in zip(after, types, strict=True)
            ):
                raise QueryError(f"The $skiptoken '{skiptoken}' is not valid.")
        limit = entity_set.page_size if top is None else min(top, entity_set.page_size)
        total = left = 0

        def choose(rows: _Rows) -> list[Mapping[str, Any]]:
            nonlocal total, left
            if flt is not None:
                rows = list(filter(flt.predicate, rows))
            total = len(rows)
            chosen, left = select_page(rows, order, after=after, skip=skip or 0, limit=limit)
            return chosen

        page = load(flt.equal if flt is not None else {}, choose)
        more = left > len(page) and (top is None or top > len(page))
        entities = [self._entity(origin, division, entity_set, row, select, expand) for row in page]
        bare = (
            self.bare_list_for_small_top
            and top is not None
            and top <= BARE_LIST_MAX_TOP
            and inlinecount != "allpages"
            and not skiptoken
        )
        if bare:
            return Outcome(200, dumps({"d": entities}))
        payload: dict[str, Any] = {}
        if inlinecount == "allpages":
            payload["__count"] = str(total)
        payload["results"] = entities
        if more and page:
            last = page[-1]
            token = ",".join(
                format_literal(last.get(n), t) for n, t in zip(names, types, strict=True)
            )
            parts = [
                f"{_quote(name)}={_quote(value)}"
                for name, value in params.items()
                if name not in ("$top", "$skip", "$skiptoken")
            ]
            if top is not None:
                parts.append(f"$top={top - len(page)}")
            parts.append(f"$skiptoken={_quote(token)}")
            payload["__next"] = base_uri + "?" + "&".join(parts)
        return Outcome(200, dumps({"d": payload}))

    @staticmethod
    def _check_read_rules(
        entity_set: EntitySet, params: Mapping[str, str], filtered: frozenset[str] | None
    ) -> None:
        if entity_set.kind is SetKind.SYNC and filtered is not None and filtered - {"Timestamp"}:
            raise QueryError(FILTER_NOT_SUPPORTED)
        mandatory = entity_set.mandatory_filter_fields
        if mandatory and not (filtered and filtered & mandatory):
            raise QueryError(MANDATORY_FILTER + ",".join(sorted(mandatory, key=str.lower)) + ".")
        if entity_set.kind is SetKind.BULK and not params.get("$select"):
            raise QueryError(BULK_SELECT)
        if (
            entity_set.requires_select_or_top
            and "$select" not in params
            and params.get("$top", "").strip() != "1"
        ):
            raise QueryError(SELECT_OR_TOP)


def _token_fits(value: Any, edm: EdmType | None) -> bool:
    """Whether a $skiptoken literal can be compared with a property of type ``edm``."""
    if value is None or edm is None:
        return True
    if isinstance(value, bool) and edm is not EdmType.BOOLEAN:
        return False
    return isinstance(value, _TOKEN_TYPES.get(edm, (object,)))


def _count_option(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    text = text.strip()
    if not text.isdigit():
        raise QueryError(
            f"Invalid value '{text}' for {name} query option found. The {name} query option "
            "requires a non-negative integer value."
        )
    return int(text)
