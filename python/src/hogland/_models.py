"""Facade types over the generated models, and the seed's names for some of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from ._generated.models import FileInfo, Shape, Snapshot

__all__ = [
    "FileWriteResponse",
    "HogboxList",
    "Page",
    "SnapshotRecord",
    "SnapshotSpec",
]

# The seed's name for the answer of a file write.
FileWriteResponse = FileInfo
# The seed's name for what box.snapshot() returns: the generated Snapshot.
SnapshotRecord = Snapshot
# 0.2.0's name for a snapshot's machine shape.
SnapshotSpec = Shape

BoxT = TypeVar("BoxT")


@dataclass
class Page(Generic[BoxT]):
    """One page of handles (``Hogbox``, ``AsyncHogbox``, ``Devbox``...).

    Pass ``next_cursor`` as ``cursor=`` to get the next page; it is ``None``
    on the last page. ``iter_boxes`` / ``iter_devboxes`` walk every page.
    """

    items: list[BoxT] = field(default_factory=list)
    next_cursor: str | None = None

    def __iter__(self) -> Iterator[BoxT]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


# What list() returns: a page of box handles.
HogboxList = Page


ItemT = TypeVar("ItemT", covariant=True)


class _Paged(Protocol[ItemT]):
    """A page of a listing: its items and the cursor of the next page."""

    @property
    def items(self) -> Sequence[ItemT]: ...

    @property
    def next_cursor(self) -> str | None: ...


def walk_pages(fetch: Callable[[str | None], _Paged[ItemT]]) -> Iterator[ItemT]:
    """Every item of a listing: ``fetch(cursor)`` gets a page, from ``None`` on."""
    cursor: str | None = None
    while True:
        page = fetch(cursor)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


async def awalk_pages(
    fetch: Callable[[str | None], Awaitable[_Paged[ItemT]]],
) -> AsyncIterator[ItemT]:
    """``walk_pages`` for an async ``fetch``."""
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        for item in page.items:
            yield item
        if not page.next_cursor:
            return
        cursor = page.next_cursor
