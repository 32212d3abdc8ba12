"""Response models that are not (yet) in api/openapi.yaml, and facade types.

The snapshot models are hand-written until hogplane's snapshot routes land in
the OpenAPI document; then ``scripts/gen_models.py`` generates them and these
classes are replaced by re-exports, keeping their names and fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import Field

from ._base import HoglandModel
from ._generated.models import FileInfo

__all__ = [
    "FileWriteResponse",
    "HogboxList",
    "SnapshotList",
    "SnapshotRecord",
    "SnapshotSpec",
]

# The seed's name for the answer of a file write.
FileWriteResponse = FileInfo


class SnapshotSpec(HoglandModel):
    """The machine shape a snapshot was taken from (hand-written, provisional)."""

    name: str | None = None
    image: str | None = None
    cpus: int | None = None
    memory_mib: int | None = None
    disk_gib: int | None = None


class SnapshotRecord(HoglandModel):
    """A snapshot of a box (hand-written until the schema is in openapi.yaml).

    ``id`` (or ``"alias:NAME"`` for one of its ``aliases``) can be passed as
    ``snapshot_id`` to ``create`` to start a box from it.
    """

    id: str
    box_id: str | None = None
    parent_id: str | None = None
    image: str | None = None
    spec: SnapshotSpec | None = None
    size_bytes: int | None = None
    pause_ms: int | None = None
    created_at: datetime | None = None
    aliases: list[str] = Field(default_factory=list)
    kind: str | None = None


class SnapshotList(HoglandModel):
    """One page of snapshots (hand-written until the schema is in openapi.yaml)."""

    items: list[SnapshotRecord]
    next_cursor: str | None = None


BoxT = TypeVar("BoxT")


@dataclass
class HogboxList(Generic[BoxT]):
    """One page of boxes, as handles (``Hogbox`` or ``AsyncHogbox``).

    Pass ``next_cursor`` as ``cursor=`` to get the next page; it is ``None``
    on the last page. ``iter_boxes`` walks every page for you.
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
