"""Every data model of the API, for type annotations and ``isinstance`` checks.

Most are generated from api/openapi.yaml (``hogland._generated.models``);
the snapshot models are hand-written until their schemas land there. Note
that here ``Hogbox`` is the box's *record* (what ``box.view`` holds), while
``hogland.Hogbox`` is the handle you call methods on.
"""

from ._generated.models import (
    BoxEvent,
    BoxEventList,
    CreateHogboxRequest,
    CreatePreviewTokenRequest,
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
    Quota,
    Range,
    RateLimit,
    UpdateHogboxRequest,
    Usage,
)
from ._generated.models import HogboxList as HogboxPage
from ._models import FileWriteResponse, SnapshotList, SnapshotRecord, SnapshotSpec

__all__ = [
    "BoxEvent",
    "BoxEventList",
    "CreateHogboxRequest",
    "CreatePreviewTokenRequest",
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
    "PreviewToken",
    "PreviewTokenList",
    "Principal",
    "Problem",
    "Quota",
    "Range",
    "RateLimit",
    "SnapshotList",
    "SnapshotRecord",
    "SnapshotSpec",
    "UpdateHogboxRequest",
    "Usage",
]
