"""Python client for hogland: isolated sandboxes (hogboxes) for AI agents.

from hogland import Hogland

with Hogland() as client, client.create(image="debian") as box:
    print(box.exec(["uname", "-a"]).stdout)
"""

from ._async import AsyncHogland
from ._box import AsyncHogbox, Hogbox
from ._client import Hogland
from ._config import TokenFile
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
    BoxEvent,
    BoxEventList,
    ExecEvent,
    ExecResult,
    FileInfo,
    HogboxSpec,
    Limits,
    Me,
    PreviewToken,
    PreviewTokenList,
)
from ._generated.models import Hogbox as HogboxView
from ._models import FileWriteResponse, HogboxList, SnapshotList, SnapshotRecord, SnapshotSpec
from ._streams import AsyncExecStream, AsyncFileStream, ExecStream, FileStream
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncExecStream",
    "AsyncFileStream",
    "AsyncHogbox",
    "AsyncHogland",
    "AuthenticationError",
    "BoxEvent",
    "BoxEventList",
    "ConflictError",
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
    "PermissionDeniedError",
    "PreviewToken",
    "PreviewTokenList",
    "RateLimitError",
    "ServerError",
    "SnapshotList",
    "SnapshotRecord",
    "SnapshotSpec",
    "TokenFile",
    "ValidationError",
    "__version__",
]
