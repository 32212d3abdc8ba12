"""Python client for hogland: isolated sandboxes (hogboxes) for AI agents.

from hogland import Hogland

with Hogland() as client, client.create(image="debian") as box:
    print(box.exec(["uname", "-a"]).stdout)
"""

from ._archive import ArchiveError
from ._async import AsyncHogland
from ._box import AsyncHogbox, Hogbox
from ._client import Hogland
from ._config import TokenFile
from ._devbox import AsyncDevbox, Devbox
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    HoglandError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from ._generated.models import (
    ArchiveInfo,
    BoxEvent,
    BoxEventList,
    DevboxEvent,
    DevboxEventList,
    ExecEvent,
    ExecResult,
    FileInfo,
    HogboxSpec,
    Limits,
    Me,
    PreviewToken,
    PreviewTokenList,
    Shape,
    SnapshotAlias,
    SnapshotAliasList,
    SnapshotList,
)
from ._generated.models import Devbox as DevboxView
from ._generated.models import Hogbox as HogboxView
from ._models import FileWriteResponse, HogboxList, Page, SnapshotRecord, SnapshotSpec
from ._streams import AsyncExecStream, AsyncFileStream, ExecStream, FileStream
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ArchiveError",
    "ArchiveInfo",
    "AsyncDevbox",
    "AsyncExecStream",
    "AsyncFileStream",
    "AsyncHogbox",
    "AsyncHogland",
    "AuthenticationError",
    "BoxEvent",
    "BoxEventList",
    "ConflictError",
    "Devbox",
    "DevboxEvent",
    "DevboxEventList",
    "DevboxView",
    "ExecEvent",
    "ExecResult",
    "ExecStream",
    "FileInfo",
    "FileStream",
    "FileWriteResponse",
    "Hogbox",
    "HogboxList",
    "HogboxSpec",
    "HogboxView",
    "Hogland",
    "HoglandError",
    "Limits",
    "Me",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "PreviewToken",
    "PreviewTokenList",
    "RateLimitError",
    "ServerError",
    "Shape",
    "SnapshotAlias",
    "SnapshotAliasList",
    "SnapshotList",
    "SnapshotRecord",
    "SnapshotSpec",
    "TokenFile",
    "ValidationError",
    "__version__",
]
