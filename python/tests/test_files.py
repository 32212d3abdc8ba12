"""File uploads and downloads, streamed both ways."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
import respx

from hogland import FileInfo, NotFoundError

from .helpers import problem, respond, run, stub_box

FILES = "/v1/hogboxes/box-0123456789ab/files"


def info_for(request: Any) -> Any:
    body = request.content if hasattr(request, "_content") else request.read()
    return respond(
        json_body={
            "path": request.url.params["path"],
            "size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "mode": request.url.params["mode"],
        }
    )


async def test_write_bytes(client: Any, mock: respx.MockRouter) -> None:
    route = mock.put(FILES).mock(side_effect=info_for)
    info = await run(stub_box(client).write_file("/app/run.py", b"print(1)\n", mkdir=True))
    assert isinstance(info, FileInfo)
    assert info.size == 9
    request = route.calls.last.request
    assert dict(request.url.params) == {"path": "/app/run.py", "mode": "0644", "mkdir": "true"}
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert request.headers["Content-Length"] == "9"
    assert request.content == b"print(1)\n"


@pytest.mark.parametrize(("mode", "want"), [(0o755, "0755"), ("0600", "0600"), (0o4755, "4755")])
async def test_write_mode(client: Any, mock: respx.MockRouter, mode: Any, want: str) -> None:
    route = mock.put(FILES).mock(side_effect=info_for)
    await run(stub_box(client).write_file("/x", "text é", mode=mode))
    request = route.calls.last.request
    assert request.url.params["mode"] == want
    assert request.url.params["mkdir"] == "false"
    assert request.content == "text é".encode()


async def test_write_streams_a_file(client: Any, mock: respx.MockRouter, tmp_path: Path) -> None:
    payload = bytes(range(256)) * 20_000  # 5 MB, more than one upload chunk
    src = tmp_path / "big.bin"
    src.write_bytes(payload)
    route = mock.put(FILES).mock(side_effect=info_for)
    with src.open("rb") as f:
        info = await run(stub_box(client).write_file("/big.bin", f))
    assert info.size == len(payload)
    assert info.sha256 == hashlib.sha256(payload).hexdigest()
    assert route.calls.last.request.headers["Content-Length"] == str(len(payload))


async def test_write_streams_an_iterator(client: Any, mock: respx.MockRouter) -> None:
    route = mock.put(FILES).mock(side_effect=info_for)

    def chunks() -> Any:
        yield b"part one, "
        yield bytearray(b"part two")

    info = await run(stub_box(client).write_file("/x", chunks()))
    assert info.size == 18
    request = route.calls.last.request
    assert request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in request.headers


async def test_async_client_writes_an_async_iterator(mock: respx.MockRouter) -> None:
    import hogland

    route = mock.put(FILES).mock(side_effect=info_for)

    async def chunks() -> Any:
        for part in (b"a" * 10, b"b" * 10):
            yield part

    async with hogland.AsyncHogland(token="t", base_url="http://hogplane.test") as client:
        info = await stub_box(client).write_file("/x", chunks())
    assert info.size == 20
    assert route.calls.last.request.content == b"a" * 10 + b"b" * 10


def test_sync_client_refuses_an_async_iterator(mock: respx.MockRouter) -> None:
    import hogland

    async def chunks() -> Any:
        yield b"x"

    with hogland.Hogland(token="t", base_url="http://hogplane.test") as client:
        gen = chunks()
        with pytest.raises(TypeError, match="AsyncHogland"):
            stub_box(client).write_file("/x", gen)


def test_rejects_what_is_not_a_body() -> None:
    import hogland

    with hogland.Hogland(token="t", base_url="http://x") as client, pytest.raises(TypeError):
        stub_box(client).write_file("/x", 12)


async def test_read_file(client: Any, mock: respx.MockRouter) -> None:
    route = mock.get(FILES).mock(
        return_value=respond(content=[b"MemTotal: 1 kB\n", b"MemFree: 1 kB\n"])
    )
    data = await run(stub_box(client).read_file("/proc/meminfo"))
    assert data == b"MemTotal: 1 kB\nMemFree: 1 kB\n"
    assert route.calls.last.request.url.params["path"] == "/proc/meminfo"


async def test_read_missing_file(client: Any, mock: respx.MockRouter) -> None:
    mock.get(FILES).mock(return_value=problem(404, "no such file /nope"))
    with pytest.raises(NotFoundError, match="no such file"):
        await run(stub_box(client).read_file("/nope"))


async def test_read_file_stream(client: Any, mock: respx.MockRouter) -> None:
    mock.get(FILES).mock(return_value=respond(content=[b"a" * 100, b"b" * 100]))
    stream = stub_box(client).read_file_stream("/x", chunk_size=64)
    if hasattr(stream, "__aiter__"):
        async with stream as chunks:
            got = [c async for c in chunks]
    else:
        with stream as chunks:
            got = list(chunks)
    assert b"".join(got) == b"a" * 100 + b"b" * 100
    assert max(len(c) for c in got) <= 64


async def test_read_file_stream_left_early_is_closed(client: Any, mock: respx.MockRouter) -> None:
    mock.get(FILES).mock(return_value=respond(content=[b"a" * 10, b"b" * 10]))
    stream = stub_box(client).read_file_stream("/x", chunk_size=10)
    if hasattr(stream, "__aiter__"):
        async with stream:
            async for _ in stream:
                break
    else:
        with stream:
            for _ in stream:
                break


async def test_download_to_a_path(client: Any, mock: respx.MockRouter, tmp_path: Path) -> None:
    mock.get(FILES).mock(return_value=respond(content=[b"x" * 1000, b"y" * 24]))
    dest = tmp_path / "out.bin"
    written = await run(stub_box(client).download("/x", dest))
    assert written == 1024
    assert dest.read_bytes() == b"x" * 1000 + b"y" * 24
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


async def test_download_to_a_file_object(client: Any, mock: respx.MockRouter) -> None:
    mock.get(FILES).mock(return_value=respond(content=[b"hello ", b"world"]))
    out = io.BytesIO()
    written = await run(stub_box(client).download("/x", out))
    assert written == 11
    assert out.getvalue() == b"hello world"


async def test_failed_download_leaves_no_partial_file(
    client: Any, mock: respx.MockRouter, tmp_path: Path
) -> None:
    import httpx

    from hogland import APIConnectionError

    mock.get(FILES).mock(return_value=respond(content=[b"x" * 10], error=httpx.ReadError("reset")))
    dest = tmp_path / "out.bin"
    with pytest.raises(APIConnectionError):
        await run(stub_box(client).download("/x", dest))
    assert list(tmp_path.iterdir()) == []
