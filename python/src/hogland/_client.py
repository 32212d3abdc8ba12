"""``Hogland``: the synchronous client."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Self

import httpx

from . import _calls
from ._box import Headers, Hogbox
from ._config import TokenFile, TokenSource, resolve
from ._devbox import Devbox
from ._errors import NotFoundError
from ._generated.models import Devbox as DevboxView
from ._generated.models import DevboxList as DevboxPage
from ._generated.models import Hogbox as HogboxView
from ._generated.models import HogboxList as HogboxPage
from ._generated.models import Limits, Me, SnapshotAlias, SnapshotAliasList, SnapshotList
from ._http import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, SyncTransport, TimeoutTypes, to_timeout
from ._models import HogboxList, Page, SnapshotRecord, walk_pages

AccessType = Literal["none", "public"]


class Hogland:
    """A client of one hogplane, with one credential.

    Args:
        token: the API credential (any kind: ``tok_...``, a service-account
            JWT...), or a callable returning it, called on every request.
            Default: ``HOG_TOKEN``, then the ``hog`` CLI's config file.
        base_url: hogplane's URL. Default: ``HOG_HOST``, then the config
            file, then ``http://127.0.0.1:8470``.
        timeout: seconds, or an ``httpx.Timeout``, for each request
            (default 60 s, 10 s to connect). Methods take ``timeout=`` too.
        max_retries: retries of a failed call that is safe to repeat (default 2).
        default_headers: headers sent with every request.
        http_client: an ``httpx.Client`` to use instead of the client's own
            (for proxies, custom TLS...). It is not closed by ``close()``.
    """

    def __init__(
        self,
        *,
        token: TokenSource | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        settings = resolve(token, base_url)
        self._transport = SyncTransport(
            base_url=settings.base_url,
            token=settings.token,
            timeout=to_timeout(timeout, DEFAULT_TIMEOUT),
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )

    @classmethod
    def from_token_file(cls, path: str | os.PathLike[str], **kwargs: Any) -> Self:
        """A client whose credential is read from ``path`` on every request.

        For tokens that rotate on disk, such as a Kubernetes projected
        service-account token. Other arguments are as for the constructor.
        """
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

    def close(self) -> None:
        """Close the connection pool (not an ``http_client`` you passed in)."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Hogland(base_url={self.base_url!r})"

    # identity

    def me(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Me:
        """The caller's principal and how the call was authenticated."""
        call = _calls.me(timeout=timeout, extra_headers=extra_headers)
        return Me.model_validate_json(self._transport.send(call).content)

    def limits(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Limits:
        """Valid ranges of box settings, images, kinds, and the caller's quota and usage."""
        call = _calls.limits(timeout=timeout, extra_headers=extra_headers)
        return Limits.model_validate_json(self._transport.send(call).content)

    # boxes

    def create(
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
    ) -> Hogbox:
        """Create a box; returns once it runs and its agent answers.

        Unset arguments take the server's defaults (see ``limits()``); the
        idle TTL defaults from ``kind``. ``snapshot_id`` is a snapshot id or
        ``"alias:NAME"``. A non-empty ``name`` is unique among your live
        boxes (a clash raises ``ConflictError``). The request carries an
        ``Idempotency-Key`` (a fresh uuid4 unless given), so a retried create
        never makes two boxes. Use the box as a context manager to destroy it
        when the block ends.
        """
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
        return self._box(self._transport.send(call).content)

    def get(
        self, box_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> Hogbox:
        """The box with this id (``NotFoundError`` if there is none of yours)."""
        call = _calls.get(box_id, timeout=timeout, extra_headers=extra_headers)
        return self._box(self._transport.send(call).content)

    def iter_boxes(
        self,
        *,
        status: str | Sequence[str] | None = None,
        tags: str | Sequence[str] | None = None,
        page_size: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Iterator[Hogbox]:
        """Every box (newest first), fetching pages as needed; filters as for ``list``."""
        return walk_pages(
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

    def get_snapshot(
        self, snapshot_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> SnapshotRecord:
        """The snapshot with this id, or the one ``"alias:NAME"`` points at.

        ``NotFoundError`` when there is no such snapshot (or alias) of yours.
        """
        alias = _calls.alias_name(snapshot_id)
        if alias is not None:
            page = self.list_snapshots(
                alias=alias, limit=1, timeout=timeout, extra_headers=extra_headers
            )
            return _aliased(page, alias)
        call = _calls.get_snapshot(snapshot_id, timeout=timeout, extra_headers=extra_headers)
        return SnapshotRecord.model_validate_json(self._transport.send(call).content)

    def list_snapshots(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        alias: str | None = None,
        box_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SnapshotList:
        """One page of your snapshots, newest first; pass ``next_cursor`` as ``cursor``.

        ``alias`` keeps only the snapshot that alias points at; ``box_id`` only
        the snapshots of that box.
        """
        call = _calls.list_snapshots(
            limit=limit,
            cursor=cursor,
            alias=alias,
            box_id=box_id,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return SnapshotList.model_validate_json(self._transport.send(call).content)

    def iter_snapshots(
        self,
        *,
        box_id: str | None = None,
        page_size: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Iterator[SnapshotRecord]:
        """Every snapshot (of ``box_id``, if given), fetching pages as needed."""
        return walk_pages(
            lambda cursor: self.list_snapshots(
                limit=page_size,
                cursor=cursor,
                box_id=box_id,
                timeout=timeout,
                extra_headers=extra_headers,
            )
        )

    def delete_snapshot(
        self, snapshot_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Delete a snapshot nothing stands on.

        While boxes made from it live, snapshots stack on it, aliases point
        at it or a stopped devbox keeps its disk in it, the server refuses
        with ``ConflictError``, whose ``dependents`` names them.
        """
        call = _calls.delete_snapshot(snapshot_id, timeout=timeout, extra_headers=extra_headers)
        self._transport.send(call)

    def set_alias(
        self,
        snapshot_id: str,
        alias: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> SnapshotAlias:
        """Point ``alias`` at a snapshot, moving it in one step if it named another.

        Then ``create(snapshot_id="alias:" + alias)`` starts from that
        snapshot. The answer's ``previous_snapshot_id`` says where a moved
        alias pointed before.
        """
        call = _calls.set_alias(snapshot_id, alias, timeout=timeout, extra_headers=extra_headers)
        return SnapshotAlias.model_validate_json(self._transport.send(call).content)

    def delete_alias(
        self,
        snapshot_id: str,
        alias: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Remove ``alias``, which must point at ``snapshot_id``."""
        call = _calls.delete_alias(snapshot_id, alias, timeout=timeout, extra_headers=extra_headers)
        self._transport.send(call)

    def list_aliases(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> SnapshotAliasList:
        """Your aliases, by name, each with the ``snapshot_id`` it points at."""
        call = _calls.list_aliases(timeout=timeout, extra_headers=extra_headers)
        return SnapshotAliasList.model_validate_json(self._transport.send(call).content)

    # devboxes

    def create_devbox(
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
    ) -> Devbox:
        """Make a named, long-lived devbox and start it; returns once its box runs.

        ``name`` is unique among your devboxes (a clash raises
        ``ConflictError``) and works wherever its id does. ``snapshot_id``
        (an id or ``"alias:NAME"``) starts it from a snapshot. It stops after
        ``auto_stop_seconds`` without exec, file or proxy calls (0 never;
        server default 1800), keeping its disk; with ``auto_start`` (server
        default on) an exec or proxied request starts it again.
        """
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
        return self._devbox(self._transport.send(call).content)

    def get_devbox(
        self, devbox: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> Devbox:
        """Your devbox with this id (``dbx-...``) or name (``NotFoundError`` if none)."""
        call = _calls.get_devbox(devbox, timeout=timeout, extra_headers=extra_headers)
        return self._devbox(self._transport.send(call).content)

    def list_devboxes(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Page[Devbox]:
        """One page of your devboxes, newest first; pass ``next_cursor`` as ``cursor``."""
        call = _calls.list_devboxes(
            limit=limit, cursor=cursor, timeout=timeout, extra_headers=extra_headers
        )
        page = DevboxPage.model_validate_json(self._transport.send(call).content)
        return Page(items=[Devbox(self, view) for view in page.items], next_cursor=page.next_cursor)

    def iter_devboxes(
        self,
        *,
        page_size: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Iterator[Devbox]:
        """Every devbox, fetching pages as needed."""
        return walk_pages(
            lambda cursor: self.list_devboxes(
                limit=page_size, cursor=cursor, timeout=timeout, extra_headers=extra_headers
            )
        )

    def delete_devbox(
        self, devbox: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Destroy a devbox's box and delete the devbox, its history and its snapshots."""
        call = _calls.delete_devbox(devbox, timeout=timeout, extra_headers=extra_headers)
        self._transport.send(call)

    def _devbox(self, content: bytes) -> Devbox:
        return Devbox(self, DevboxView.model_validate_json(content))

    def _box(self, content: bytes) -> Hogbox:
        return Hogbox(self, HogboxView.model_validate_json(content))

    # Defined last: inside the class body the name shadows the builtin.
    def list(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: str | Sequence[str] | None = None,
        tags: str | Sequence[str] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> HogboxList[Hogbox]:
        """One page of your boxes, newest first.

        ``status`` keeps boxes with any of these statuses; ``tags`` keeps boxes
        with every one of these ``key=value`` tags. Pass the page's
        ``next_cursor`` as ``cursor`` for the next page (``None`` on the last).
        """
        call = _calls.list_boxes(
            limit=limit,
            cursor=cursor,
            status=status,
            tags=tags,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        page = HogboxPage.model_validate_json(self._transport.send(call).content)
        items: builtins.list[Hogbox] = [Hogbox(self, view) for view in page.items]
        return HogboxList(items=items, next_cursor=page.next_cursor)


def _aliased(page: SnapshotList, alias: str) -> SnapshotRecord:
    """The snapshot a page filtered by alias holds, or NotFoundError."""
    if not page.items:
        raise NotFoundError(f"snapshot alias {alias} not found", status_code=404)
    return page.items[0]
