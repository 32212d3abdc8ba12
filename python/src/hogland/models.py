"""Every data model of the API, for type annotations and ``isinstance`` checks.

All are generated from api/openapi.yaml (``hogland._generated.models``) and
exported here, so none is reachable only through a private module. Note that
here ``Hogbox`` and ``Devbox`` are *records* (what ``box.view`` and
``devbox.view`` hold), while ``hogland.Hogbox`` and ``hogland.Devbox`` are the
handles you call methods on.

Models of what the server sends keep unknown fields and accept enum values
they do not know (``status: Literal["creating", ...] | str``), so this SDK
keeps working against a newer hogplane. ``PTYMessage`` and ``TunnelMessage``
are the JSON control messages of the ``/pty`` and ``/ports/{port}/tunnel``
WebSockets, which the SDK does not drive itself; they are here for callers
who do, with a WebSocket client of their choice.
"""

from ._generated.models import (
    ArchiveInfo,
    BoxEvent,
    BoxEventList,
    CreateDevboxRequest,
    CreateHogboxRequest,
    CreatePreviewTokenRequest,
    Devbox,
    DevboxEvent,
    DevboxEventList,
    DevboxList,
    ExecEvent,
    ExecRequest,
    ExecResult,
    FileInfo,
    Hogbox,
    HogboxSpec,
    KindInfo,
    Limits,
    Me,
    PreviewToken,
    PreviewTokenList,
    Principal,
    Problem,
    PTYMessage,
    Quota,
    Range,
    RateLimit,
    Shape,
    SignalRequest,
    Snapshot,
    SnapshotAlias,
    SnapshotAliasList,
    SnapshotList,
    TunnelMessage,
    UpdateDevboxRequest,
    UpdateHogboxRequest,
    Usage,
)
from ._generated.models import HogboxList as HogboxPage
from ._models import FileWriteResponse, SnapshotRecord, SnapshotSpec

__all__ = [
    "ArchiveInfo",
    "BoxEvent",
    "BoxEventList",
    "CreateDevboxRequest",
    "CreateHogboxRequest",
    "CreatePreviewTokenRequest",
    "Devbox",
    "DevboxEvent",
    "DevboxEventList",
    "DevboxList",
    "ExecEvent",
    "ExecRequest",
    "ExecResult",
    "FileInfo",
    "FileWriteResponse",
    "Hogbox",
    "HogboxPage",
    "HogboxSpec",
    "KindInfo",
    "Limits",
    "Me",
    "PTYMessage",
    "PreviewToken",
    "PreviewTokenList",
    "Principal",
    "Problem",
    "Quota",
    "Range",
    "RateLimit",
    "Shape",
    "SignalRequest",
    "Snapshot",
    "SnapshotAlias",
    "SnapshotAliasList",
    "SnapshotList",
    "SnapshotRecord",
    "SnapshotSpec",
    "TunnelMessage",
    "UpdateDevboxRequest",
    "UpdateHogboxRequest",
    "Usage",
]
