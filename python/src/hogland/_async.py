"""``AsyncHogland``: the asynchronous client, the twin of ``Hogland``."""

from __future__ import annotations

import builtins
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import httpx

from . import _calls
from ._box import AsyncHogbox, Headers
from ._client import AccessType, _aliased
from ._config import TokenFile, TokenSource, resolve
from ._devbox import AsyncDevbox
from ._generated.models import Devbox as DevboxView
from ._generated.models import DevboxList as DevboxPage
from ._generated.models import Hogbox as HogboxView
from ._generated.models import HogboxList as HogboxPage
from ._generated.models import Limits, Me, SnapshotAlias, SnapshotAliasList, SnapshotList
from ._http import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncTransport, TimeoutTypes, to_timeout
from ._models import HogboxList, Page, SnapshotRecord, awalk_pages


class AsyncHogland:
    """The async client: the same constructor and methods as ``Hogland``, awaited.

    ``http_client`` is an ``httpx.AsyncClient``. Close it with ``await
    client.close()`` or use ``async with AsyncHogland() as client``.
    """

    def __init__(
        self,
        *,
        token: TokenSource | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        settings = resolve(token, base_url)
        self._transport = AsyncTransport(
            base_url=settings.base_url,
            token=settings.token,
            timeout=to_timeout(timeout, DEFAULT_TIMEOUT),
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )

    @classmethod
    def from_token_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> Self:
        """A client whose credential is read from ``path`` on every request."""
        return cls(token=TokenFile(path), **kwargs)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def timeout(self) -> httpx.Timeout:
        return self._transport.timeout

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    async def close(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in)."""
        await self._transport.close()

    aclose = close

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncHogland(base_url={self.base_url!r})"

    async def me(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Me:
        """The caller's principal and how the call was authenticated."""
        call = _calls.me(timeout=timeout, extra_headers=extra_headers)
        return Me.model_validate_json((await self._transport.send(call)).content)

    async def limits(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> Limits:
        """Valid ranges of box settings, images, kinds, and the caller's quota and usage."""
        call = _calls.limits(timeout=timeout, extra_headers=extra_headers)
        return Limits.model_validate_json((await self._transport.send(call)).content)

    async def create(
        self,
        *,
        name: str | None = None,
        kind: str | None = None,
        image: str | None = None,
        snapshot_id: str | None = None,
        cpus: int | None = None,
        memory_mib: int | None = None,
        disk_gib: int | None = None,
        ttl_seconds: int | None = None,
        env: Mapping[str, str] | None = None,
        tags: Sequence[str] | None = None,
        access_type: AccessType | None = None,
        idempotency_key: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncHogbox:
        """Create a box; returns once it runs (see ``Hogland.create``)."""
        call = _calls.create(
            name=name,
            kind=kind,
            image=image,
            snapshot_id=snapshot_id,
            cpus=cpus,
            memory_mib=memory_mib,
            disk_gib=disk_gib,
            ttl_seconds=ttl_seconds,
            env=env,
            tags=tags,
            access_type=access_type,
            idempotency_key=idempotency_key,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return self._box((await self._transport.send(call)).content)

    async def get(
        self, box_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> AsyncHogbox:
        """The box with this id (``NotFoundError`` if there is none of yours)."""
        call = _calls.get(box_id, timeout=timeout, extra_headers=extra_headers)
        return self._box((await self._transport.send(call)).content)

    def iter_boxes(
        self,
        *,
        status: str | Sequence[str] | None = None,
        tags: str | Sequence[str] | None = None,
        page_size: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncIterator[AsyncHogbox]:
        """Every box (newest first): ``async for box in client.iter_boxes()``."""
        return awalk_pages(
            lambda cursor: self.list(
                limit=page_size,
                cursor=cursor,
                status=status,
                tags=tags,
                timeout=timeout,
                extra_headers=extra_headers,
            )
        )

    # snapshots

    async def get_snapshot(
        self, snapshot_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> SnapshotRecord:
        """The snapshot with this id, or the one ``"alias:NAME"`` points at."""
        alias = _calls.alias_name(snapshot_id)
        if alias is not None:
            page = await self.list_snapshots(
                alias=alias, limit=1, timeout=timeout, extra_headers=extra_headers
            )
            return _aliased(page, alias)
        call = _calls.get_snapshot(snapshot_id, timeout=timeout, extra_headers=extra_headers)
        return SnapshotRecord.model_validate_json((await self._transport.send(call)).content)

    async def list_snapshots(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        alias: str | None = None,
        box_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SnapshotList:
        """One page of your snapshots, newest first (see ``Hogland.list_snapshots``)."""
        call = _calls.list_snapshots(
            limit=limit,
            cursor=cursor,
            alias=alias,
            box_id=box_id,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return SnapshotList.model_validate_json((await self._transport.send(call)).content)

    def iter_snapshots(
        self,
        *,
        box_id: str | None = None,
        page_size: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncIterator[SnapshotRecord]:
        """Every snapshot (of ``box_id``, if given), fetching pages as needed."""
        return awalk_pages(
            lambda cursor: self.list_snapshots(
                limit=page_size,
                cursor=cursor,
                box_id=box_id,
                timeout=timeout,
                extra_headers=extra_headers,
            )
        )

    async def delete_snapshot(
        self, snapshot_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Delete a snapshot nothing stands on (see ``Hogland.delete_snapshot``)."""
        call = _calls.delete_snapshot(snapshot_id, timeout=timeout, extra_headers=extra_headers)
        await self._transport.send(call)

    async def set_alias(
        self,
        snapshot_id: str,
        alias: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SnapshotAlias:
        """Point ``alias`` at a snapshot (see ``Hogland.set_alias``)."""
        call = _calls.set_alias(snapshot_id, alias, timeout=timeout, extra_headers=extra_headers)
        return SnapshotAlias.model_validate_json((await self._transport.send(call)).content)

    async def delete_alias(
        self,
        snapshot_id: str,
        alias: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Remove ``alias``, which must point at ``snapshot_id``."""
        call = _calls.delete_alias(snapshot_id, alias, timeout=timeout, extra_headers=extra_headers)
        await self._transport.send(call)

    async def list_aliases(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> SnapshotAliasList:
        """Your aliases, by name, each with the ``snapshot_id`` it points at."""
        call = _calls.list_aliases(timeout=timeout, extra_headers=extra_headers)
        return SnapshotAliasList.model_validate_json((await self._transport.send(call)).content)

    # devboxes

    async def create_devbox(
        self,
        name: str,
        *,
        image: str | None = None,
        snapshot_id: str | None = None,
        cpus: int | None = None,
        memory_mib: int | None = None,
        disk_gib: int | None = None,
        env: Mapping[str, str] | None = None,
        auto_stop_seconds: int | None = None,
        auto_start: bool | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncDevbox:
        """Make a named devbox and start it (see ``Hogland.create_devbox``)."""
        call = _calls.create_devbox(
            name=name,
            image=image,
            snapshot_id=snapshot_id,
            cpus=cpus,
            memory_mib=memory_mib,
            disk_gib=disk_gib,
            env=env,
            auto_stop_seconds=auto_stop_seconds,
            auto_start=auto_start,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return self._devbox((await self._transport.send(call)).content)

    async def get_devbox(
        self, devbox: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> AsyncDevbox:
        """Your devbox with this id (``dbx-...``) or name (``NotFoundError`` if none)."""
        call = _calls.get_devbox(devbox, timeout=timeout, extra_headers=extra_headers)
        return self._devbox((await self._transport.send(call)).content)

    async def list_devboxes(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Page[AsyncDevbox]:
        """One page of your devboxes, newest first; pass ``next_cursor`` as ``cursor``."""
        call = _calls.list_devboxes(
            limit=limit, cursor=cursor, timeout=timeout, extra_headers=extra_headers
        )
        page = DevboxPage.model_validate_json((await self._transport.send(call)).content)
        return Page(
            items=[AsyncDevbox(self, view) for view in page.items], next_cursor=page.next_cursor
        )

    def iter_devboxes(
        self,
        *,
        page_size: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncIterator[AsyncDevbox]:
        """Every devbox: ``async for devbox in client.iter_devboxes()``."""
        return awalk_pages(
            lambda cursor: self.list_devboxes(
                limit=page_size, cursor=cursor, timeout=timeout, extra_headers=extra_headers
            )
        )

    async def delete_devbox(
        self, devbox: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Destroy a devbox's box and delete the devbox, its history and its snapshots."""
        call = _calls.delete_devbox(devbox, timeout=timeout, extra_headers=extra_headers)
        await self._transport.send(call)

    def _devbox(self, content: bytes) -> AsyncDevbox:
        return AsyncDevbox(self, DevboxView.model_validate_json(content))

    def _box(self, content: bytes) -> AsyncHogbox:
        return AsyncHogbox(self, HogboxView.model_validate_json(content))

    # Defined last: inside the class body the name shadows the builtin.
    async def list(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: str | Sequence[str] | None = None,
        tags: str | Sequence[str] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> HogboxList[AsyncHogbox]:
        """One page of your boxes, newest first (see ``Hogland.list``)."""
        call = _calls.list_boxes(
            limit=limit,
            cursor=cursor,
            status=status,
            tags=tags,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        page = HogboxPage.model_validate_json((await self._transport.send(call)).content)
        items: builtins.list[AsyncHogbox] = [AsyncHogbox(self, view) for view in page.items]
        return HogboxList(items=items, next_cursor=page.next_cursor)
