"""Typed services over one Exact Online resource each (async source of truth).

The synchronous twin in ``exactbridge/exact/_sync/`` is generated from this file
by ``.ci/unasync.py``; edit this one and run the script.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from exactbridge.codes import pad_account_code
from exactbridge.errors import ConfigurationError, DecodeError
from exactbridge.exact import _envelope, _serde
from exactbridge.exact._odata import Filter, Int64, P, Query, key_literal
from exactbridge.exact._resources import ResourceSpec

if TYPE_CHECKING:
    from exactbridge.exact._async.client import AsyncExactClient

__all__ = ["AsyncReadService", "AsyncResourceService", "SyncPage"]

M = TypeVar("M")
N = TypeVar("N")
Key = uuid.UUID | int | str
_SYNC_PAGE_SIZE = 1000


@attrs.frozen
class SyncPage(Generic[M]):
    """One page of a ``sync/`` endpoint: its rows and the cursor to resume after them.

    Store ``cursor`` (the highest ``Timestamp`` seen so far) and pass it as
    ``since=`` next time to read only what changed.
    """

    rows: list[M]
    cursor: int


def _names(spec: ResourceSpec, names: Sequence[str] | None) -> tuple[str, ...]:
    """Accept snake_case model field names or Exact's wire names."""
    if not names:
        return ()
    out: list[str] = []
    for name in names:
        try:
            out.append(_serde.wire_name(spec.model, name))
        except (KeyError, ConfigurationError):
            out.append(name)
    return tuple(out)


def _query(
    spec: ResourceSpec,
    *,
    filter: Filter | str | None = None,
    select: Sequence[str] | None = None,
    expand: Sequence[str] | None = None,
    orderby: Sequence[str] | None = None,
    top: int | None = None,
    skip: int | None = None,
) -> Query:
    return Query(
        filter=Filter.raw(filter) if isinstance(filter, str) else filter,
        select=_names(spec, select),
        expand=_names(spec, expand),
        orderby=tuple(orderby or ()),
        top=top,
        skip=skip,
    )


class AsyncReadService(Generic[M]):
    """Reads of one Exact resource: ``get``, ``iterate``, ``list``, ``first``, ``count``,
    and the ``bulk/`` and ``sync/`` variants where Exact has them.

    Obtain one from a client property such as ``client.gl_accounts``; never construct
    it yourself.
    """

    def __init__(self, client: AsyncExactClient, spec: ResourceSpec) -> None:
        self._client = client
        self.spec = spec

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec.path}>"

    def _structure(self, row: Mapping[str, Any]) -> M:
        return cast(M, _serde.structure(self.spec.model, row))

    def _key_path(self, key: Key) -> str:
        return f"{self.spec.path}({key_literal(key, kind=self.spec.key_kind)})"

    async def get(
        self,
        key: Key,
        *,
        select: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> M:
        """Read one entity by its key (``GET {path}(guid'...')``)."""
        query = _query(self.spec, select=select, expand=expand)
        payload = await self._client._request_json(
            "GET",
            self._key_path(key),
            params=query.params(),
            division_scoped=self.spec.division_scoped,
        )
        return self._structure(_envelope.parse_single(payload))

    async def iterate(
        self,
        *,
        filter: Filter | str | None = None,
        select: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        orderby: Sequence[str] | None = None,
        top: int | None = None,
        skip: int | None = None,
    ) -> AsyncIterator[M]:
        """Yield every matching entity, following Exact's ``__next`` links page by page.

        Only one page is held in memory at a time. ``filter`` takes a
        :class:`~exactbridge.exact.Filter` (``P("Code") == "1001"``) or raw OData text;
        ``select``/``expand`` take model field names or Exact's property names.
        """
        query = _query(
            self.spec,
            filter=filter,
            select=select,
            expand=expand,
            orderby=orderby,
            top=top,
            skip=skip,
        )
        async for row in self._client._iterate_rows(
            self.spec.path, query.params(), division_scoped=self.spec.division_scoped
        ):
            yield self._structure(row)

    async def list(
        self,
        *,
        filter: Filter | str | None = None,
        select: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        orderby: Sequence[str] | None = None,
        top: int | None = None,
        skip: int | None = None,
    ) -> list[M]:
        """Like :meth:`iterate`, collected into a list."""
        return [
            item
            async for item in self.iterate(
                filter=filter,
                select=select,
                expand=expand,
                orderby=orderby,
                top=top,
                skip=skip,
            )
        ]

    async def first(
        self,
        *,
        filter: Filter | str | None = None,
        select: Sequence[str] | None = None,
        orderby: Sequence[str] | None = None,
    ) -> M | None:
        """The first matching entity, or ``None`` (one call with ``$top=1``)."""
        async for item in self.iterate(filter=filter, select=select, orderby=orderby, top=1):
            return item
        return None

    async def count(self, *, filter: Filter | str | None = None) -> int:
        """Number of matching entities (``GET {path}/$count``)."""
        params = _query(self.spec, filter=filter).params()
        payload = await self._client._request_json(
            "GET",
            f"{self.spec.path}/$count",
            params=params,
            division_scoped=self.spec.division_scoped,
            expect_json=False,
        )
        try:
            return int(payload)
        except (TypeError, ValueError) as exc:
            raise DecodeError(
                "$count did not answer a number",
                entity=self.spec.name,
                value=payload,
                expected="an integer",
            ) from exc

    async def iter_bulk(
        self,
        *,
        select: Sequence[str],
        filter: Filter | str | None = None,
    ) -> AsyncIterator[M]:
        """Read through the ``bulk/`` endpoint: 1000 rows per call; ``select`` is required."""
        if self.spec.bulk_path is None:
            raise ConfigurationError(
                f"{self.spec.name} has no bulk endpoint", key="resource", expected="a bulk resource"
            )
        if not select:
            raise ConfigurationError(
                "Exact requires $select on bulk endpoints",
                key="select",
                expected="one or more field names",
            )
        query = _query(self.spec, filter=filter, select=select)
        async for row in self._client._iterate_rows(self.spec.bulk_path, query.params()):
            yield self._structure(row)

    async def iter_sync(
        self,
        *,
        since: int = 1,
        select: Sequence[str] | None = None,
    ) -> AsyncIterator[SyncPage[M]]:
        """Read what changed after the ``since`` cursor through the ``sync/`` endpoint.

        Yields one :class:`SyncPage` per page (up to 1000 rows); each carries the
        cursor to store once its rows are handled. Start with ``since=1`` for all.
        """
        if self.spec.sync_path is None:
            raise ConfigurationError(
                f"{self.spec.name} has no sync endpoint", key="resource", expected="a sync resource"
            )
        names = _names(self.spec, select)
        if names and "Timestamp" not in names:
            names = (*names, "Timestamp")
        query = Query(filter=P("Timestamp") > Int64(since), select=names)
        cursor = since
        rows: builtins.list[M] = []
        page_size = _SYNC_PAGE_SIZE
        async for row in self._client._iterate_rows(self.spec.sync_path, query.params()):
            stamp = row.get("Timestamp")
            if isinstance(stamp, int) and stamp > cursor:
                cursor = stamp
            rows.append(self._structure(row))
            if len(rows) >= page_size:
                yield SyncPage(rows=rows, cursor=cursor)
                rows = []
        if rows:
            yield SyncPage(rows=rows, cursor=cursor)

    async def children(self, key: Key, navigation: str) -> builtins.list[dict[str, Any]]:
        """Raw rows of a navigation property (``{path}(key)/{navigation}``)."""
        return [
            row
            async for row in self._client._iterate_rows(
                f"{self._key_path(key)}/{navigation}", [], division_scoped=self.spec.division_scoped
            )
        ]


class AsyncResourceService(AsyncReadService[M], Generic[M, N]):
    """Reads and writes of one Exact resource: adds ``create``, ``update``, ``delete``."""

    async def create(self, new: N) -> M:
        """Create an entity (``POST``) and return it as Exact stored it.

        A lost answer raises :class:`~exactbridge.errors.OutcomeUnknownError`; the
        write is never repeated blindly.
        """
        body = _serde.unstructure(new)
        payload = await self._client._request_json("POST", self.spec.path, body=body)
        return self._structure(_envelope.parse_single(payload))

    async def update(
        self, key: Key, changes: Mapping[str, Any] | None = None, **fields: Any
    ) -> None:
        """Change some fields of an entity (``PUT`` with only those fields).

        Field names are the model's snake_case names; an unknown name raises
        :class:`~exactbridge.errors.ConfigurationError` before any request is sent.
        """
        merged = {**(changes or {}), **fields}
        if not merged:
            raise ConfigurationError(
                "nothing to update", key="changes", expected="at least one field"
            )
        body = _serde.update_payload(self.spec.model, merged)
        await self._client._request_json("PUT", self._key_path(key), body=body)

    async def delete(self, key: Key) -> None:
        """Delete an entity (``DELETE``)."""
        await self._client._request_json("DELETE", self._key_path(key))


class AsyncAccountService(AsyncResourceService[M, N]):
    """``crm/Accounts`` with lookups by the padded 18-character code."""

    async def find_by_code(
        self, code: str | int, *, select: Sequence[str] | None = None
    ) -> M | None:
        """The account with this code, or ``None``.

        A numeric code is compared right-aligned to 18 characters, as Exact stores it
        (``Code eq '             42'``). How Exact stores a code with letters (a
        prefixed ``CV00042``) is not documented, so such a code is compared with its
        spaces trimmed (``trim(Code) eq 'CV00042'``), which finds it either way.
        """
        padded = pad_account_code(code)
        plain = padded.strip()
        if plain.isdigit():
            return await self.first(filter=P("Code") == padded, select=select)
        return await self.first(filter=P("Code").trim() == plain, select=select)


class AsyncSalesEntryService(AsyncResourceService[M, N]):
    """``salesentry/SalesEntries`` with natural-key lookup and safe line replacement."""

    async def find_by_your_ref(self, journal: str, your_ref: str) -> M | None:
        """The entry in ``journal`` whose ``YourRef`` is ``your_ref``, or ``None``.

        This is the natural key the sync engine uses to find an entry whose creation
        answer was lost, before it writes again.
        """
        return await self.first(filter=(P("Journal") == journal) & (P("YourRef") == your_ref))

    async def replace_lines(self, entry_id: Key, lines: Sequence[Any]) -> None:
        """Replace all lines of an entry: add the new lines first, then delete the old.

        Exact deletes an entry together with its last line, so the order matters.
        """
        if not lines:
            raise ConfigurationError(
                "an entry needs at least one line", key="lines", expected="one or more lines"
            )
        old = await self.children(entry_id, "SalesEntryLines")
        line_spec = self._client._spec("sales_entry_lines")
        for line in lines:
            body = _serde.unstructure(line)
            body["EntryID"] = str(entry_id)
            await self._client._request_json("POST", line_spec.path, body=body)
        for row in old:
            await self._client._request_json(
                "DELETE", f"{line_spec.path}({key_literal(row['ID'], kind='guid')})"
            )
