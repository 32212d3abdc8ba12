"""Facade types over the generated models, and the seed's names for some of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

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
