"""Helpers for the tests: tracked mock responses, sync/async glue, tree listings."""

from __future__ import annotations

import inspect
import json
import os
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx

BASE = "http://hogplane.test"
TOKEN = "tok_test"


class TrackedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that remembers being closed, and can fail part-way."""

    registry: ClassVar[list[TrackedStream]] = []

    def __init__(self, chunks: list[bytes], error: Exception | None = None) -> None:
        self.chunks = chunks
        self.error = error
        self.closed = False
        TrackedStream.registry.append(self)

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.error is not None:
            raise self.error

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def respond(
    status: int = 200,
    *,
    json_body: Any = None,
    content: bytes | list[bytes] | None = None,
    headers: dict[str, str] | None = None,
    error: Exception | None = None,
) -> httpx.Response:
    """A mock response whose closing is checked at the end of each test."""
    headers = dict(headers or {})
    if json_body is not None:
        content = json.dumps(json_body).encode()
        headers.setdefault("Content-Type", "application/json")
    chunks = content if isinstance(content, list) else [content or b""]
    return httpx.Response(status, headers=headers, stream=TrackedStream(chunks, error))


def problem(
    status: int,
    detail: str = "it went wrong",
    *,
    request_id: str | None = "req_body",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> httpx.Response:
    body: dict[str, Any] = {
        "type": "https://hogland.posthog.dev/problems/x",
        "title": "Title",
        "status": status,
        "detail": detail,
        "instance": "/v1/x",
        **extra,
    }
    if request_id:
        body["request_id"] = request_id
    headers = {"Content-Type": "application/problem+json", **(headers or {})}
    return httpx.Response(
        status, headers=headers, stream=TrackedStream([json.dumps(body).encode()])
    )


def box_json(box_id: str = "box-0123456789ab", status: str = "running", **over: Any) -> dict:
    body = {
        "id": box_id,
        "status": status,
        "kind": "default",
        "spec": {"name": "", "image": "busybox", "cpus": 1, "memory_mib": 1024, "disk_gib": 5},
        "tags": [],
        "access_type": "none",
        "ttl_seconds": 3600,
        "owner_id": "prn-1",
        "created_at": "2026-11-26T12:00:00.123456789Z",
        "updated_at": "2026-11-26T12:00:00Z",
    }
    body.update(over)
    return body


def sse(seq: int, kind: str, data: str | None = None, exit_code: int | None = None) -> bytes:
    payload: dict[str, Any] = {"kind": kind, "seq": seq}
    if data is not None:
        payload["data"] = data
    if exit_code is not None:
        payload["exit_code"] = exit_code
        payload["duration_ms"] = 5
    return f"id: {seq}\nevent: {kind}\ndata: {json.dumps(payload)}\n\n".encode()


async def run(value: Any) -> Any:
    """Await value if the async client returned an awaitable."""
    if inspect.isawaitable(value):
        return await value
    return value


async def collect(stream: Any) -> list[Any]:
    """Every item of a sync or async iterator."""
    if hasattr(stream, "__aiter__"):
        return [item async for item in stream]
    return list(stream)


def stub_box(client: Any, **over: Any) -> Any:
    """A box handle on client without a create call."""
    import hogland
    from hogland.models import Hogbox as View

    view = View.model_validate(box_json(**over))
    if isinstance(client, hogland.AsyncHogland):
        return hogland.AsyncHogbox(client, view)
    return hogland.Hogbox(client, view)


def describe(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every entry below root: kind, permission bits, content or target, mtime."""
    out: dict[str, tuple[Any, ...]] = {".": ("dir", stat.S_IMODE(root.stat().st_mode))}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        name = path.relative_to(root).as_posix()
        if stat.S_ISLNK(st.st_mode):
            out[name] = ("symlink", os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            out[name] = ("dir", stat.S_IMODE(st.st_mode), int(st.st_mtime))
        elif stat.S_ISREG(st.st_mode):
            out[name] = ("file", stat.S_IMODE(st.st_mode), path.read_bytes(), int(st.st_mtime))
    return out
