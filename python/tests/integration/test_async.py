"""The async client against a real hogplane: the same calls, awaited."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest

import hogland
from hogland import ConflictError, NotFoundError, ValidationError

from .conftest import unique


async def test_async_quickstart(aclient: hogland.AsyncHogland) -> None:
    async with await aclient.create(image="busybox", cpus=2, memory_mib=512) as box:
        assert box.status == "running"
        await box.write_file("/app/run.sh", b"echo hi\n", mkdir=True)
        result = await box.exec(["sh", "/app/run.sh"], timeout_seconds=30)
        assert (result.exit_code, result.stdout) == (0, "hi\n")
        uname = await box.exec(["uname", "-a"])
        assert uname.stdout.startswith("Linux")

        out: list[str] = []
        async with box.exec_stream(
            ["sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done"]
        ) as stream:
            async for event in stream:
                if event.kind == "stdout":
                    out.append(event.data or "")
                elif event.kind == "exit":
                    assert event.exit_code == 0
        assert "".join(out) == "1\n2\n3\n"

        assert (await box.pause()).status == "paused"
        assert (await box.resume()).status == "running"
        assert (await box.refresh()).status == "running"
        box_id = box.id
    assert (await aclient.get(box_id)).status == "stopped"


async def test_async_files_and_iterators(aclient: hogland.AsyncHogland) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for i in range(8):
            yield bytes([i]) * (1 << 20)

    want = hashlib.sha256(b"".join(bytes([i]) * (1 << 20) for i in range(8))).hexdigest()
    async with await aclient.create(image="busybox") as box:
        info = await box.write_file("/big", chunks())
        assert info.sha256 == want
        got = hashlib.sha256()
        async with box.read_file_stream("/big") as stream:
            async for part in stream:
                got.update(part)
        assert got.hexdigest() == want
        assert b"MemTotal" in await box.read_file("/proc/meminfo")


async def test_async_concurrent_creates_and_listing(aclient: hogland.AsyncHogland) -> None:
    tag = f"suite={unique('async')}"
    boxes = await asyncio.gather(*(aclient.create(image="busybox", tags=[tag]) for _ in range(3)))
    try:
        assert len({b.id for b in boxes}) == 3
        listed = [b.id async for b in aclient.iter_boxes(tags=[tag], page_size=2)]
        assert sorted(listed) == sorted(b.id for b in boxes)
        page = await aclient.list(tags=[tag], limit=2)
        assert len(page) == 2
        assert page.next_cursor
    finally:
        await asyncio.gather(*(b.destroy() for b in boxes))


async def test_async_errors(aclient: hogland.AsyncHogland) -> None:
    with pytest.raises(NotFoundError) as missing:
        await aclient.get("box-000000000000")
    assert missing.value.request_id

    name = unique("aclash")
    async with await aclient.create(image="busybox", name=name):
        with pytest.raises(ConflictError):
            await aclient.create(image="busybox", name=name)
    with pytest.raises(ValidationError):
        await aclient.create(image="no-such-image")


async def test_async_exec_stream_live_stdin_and_signal(aclient: hogland.AsyncHogland) -> None:
    async with await aclient.create(image="busybox", name=unique("stdin"), ttl_seconds=600) as box:
        script = "while read l; do echo got $l; done; echo eof"
        async with box.exec_stream(
            ["sh", "-c", script], stdin_open=True, timeout_seconds=60
        ) as stream:
            await stream.send_stdin(b"a\n")
            out = ""
            async for event in stream:
                if event.kind == "stdout":
                    out += event.data or ""
                if "got a\n" in out or event.kind == "exit":
                    break
            assert out == "got a\n"
            assert stream.exec_id is not None
            # The box-level call, for a caller holding only the id.
            await box.send_stdin(stream.exec_id, "b\n", close=True)
            rest = "".join([e.data or "" async for e in stream if e.kind == "stdout"])
            assert rest == "got b\neof\n"
        assert stream.exit_code == 0
        with pytest.raises(ConflictError):
            await stream.close_stdin()

        async with box.exec_stream(["sleep", "100"], timeout_seconds=60) as sleeper:
            assert sleeper.exec_id is not None
            await box.signal_exec(sleeper.exec_id, "TERM")
            events = [event async for event in sleeper]
        assert events[-1].kind == "exit"
        assert sleeper.exit_code == -1
