"""Streaming exec: SSE parsing, and resuming a dropped stream without loss or repeats."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from hogland import APIConnectionError, NotFoundError

from .helpers import collect, problem, respond, run, sse, stub_box

BOX = "/v1/hogboxes/box-0123456789ab"
EVENTS = BOX + "/execs/exe-1/events"
SSE_HEADERS = {"Content-Type": "text/event-stream", "X-Exec-Id": "exe-1"}


async def collect_first(stream: Any) -> Any:
    if hasattr(stream, "__anext__"):
        return await stream.__anext__()
    return next(stream)


def frames(events: list[Any]) -> list[tuple[str, str | None, int | None]]:
    return [(e.kind, e.data, e.exit_code) for e in events]


async def test_events_in_order_until_exit(client: Any, mock: respx.MockRouter) -> None:
    start = mock.post(BOX + "/exec/stream").mock(
        return_value=respond(
            content=[
                b": keep-alive comment\n\n",
                sse(1, "stdout", "1\n"),
                sse(2, "stderr", "warn\n") + sse(3, "stdout", "2\n"),
                b"event: ping\ndata: {}\n\n",
                sse(4, "exit", exit_code=3),
            ],
            headers=SSE_HEADERS,
        )
    )
    stream = stub_box(client).exec_stream(["sh", "-c", "echo 1"], timeout_seconds=5, env={"A": "b"})
    events = await collect(stream)
    assert frames(events) == [
        ("stdout", "1\n", None),
        ("stderr", "warn\n", None),
        ("stdout", "2\n", None),
        ("exit", None, 3),
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert stream.exec_id == "exe-1"
    assert stream.exit_code == 3
    request = start.calls.last.request
    assert request.headers["Accept"] == "text/event-stream"
    assert request.content == b'{"argv":["sh","-c","echo 1"],"timeout_seconds":5,"env":{"A":"b"}}'
    # A stream has no read timeout by default: a command may be silent for long.
    assert request.extensions["timeout"]["read"] is None


async def test_dropped_stream_resumes_from_last_event_id(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    mock.post(BOX + "/exec/stream").mock(
        return_value=respond(
            content=[sse(1, "stdout", "a"), sse(2, "stdout", "b")],
            headers=SSE_HEADERS,
            error=httpx.RemoteProtocolError("peer closed connection"),
        )
    )
    resume = mock.get(EVENTS).mock(
        side_effect=[
            # The first reconnect is refused, then a drop again after one more event.
            httpx.ConnectError("refused"),
            respond(
                content=[sse(2, "stdout", "b"), sse(3, "stderr", "c")],
                headers={"Content-Type": "text/event-stream"},
                error=httpx.ReadError("reset"),
            ),
            respond(
                content=[sse(3, "stderr", "c"), sse(4, "stdout", "d"), sse(5, "exit", exit_code=0)],
                headers={"Content-Type": "text/event-stream"},
            ),
        ]
    )
    stream = stub_box(client).exec_stream(["long"])
    events = await collect(stream)
    # No loss, no duplicates.
    assert [(e.seq, e.data) for e in events] == [
        (1, "a"),
        (2, "b"),
        (3, "c"),
        (4, "d"),
        (5, None),
    ]
    assert [c.request.headers["Last-Event-ID"] for c in resume.calls] == ["2", "2", "3"]
    assert sleeps  # backed off between reconnects


async def test_stream_closed_before_exit_is_resumed(client: Any, mock: respx.MockRouter) -> None:
    mock.post(BOX + "/exec/stream").mock(
        return_value=respond(content=[sse(1, "stdout", "a")], headers=SSE_HEADERS)
    )
    resume = mock.get(EVENTS).mock(
        return_value=respond(
            content=[sse(2, "exit", exit_code=0)], headers={"Content-Type": "text/event-stream"}
        )
    )
    stream = stub_box(client).exec_stream(["x"])
    events = await collect(stream)
    assert [e.kind for e in events] == ["stdout", "exit"]
    assert resume.call_count == 1


async def test_gives_up_when_reconnects_keep_failing(
    make_client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    client = make_client(max_retries=2)
    mock.post(BOX + "/exec/stream").mock(
        return_value=respond(
            content=[sse(1, "stdout", "a")],
            headers=SSE_HEADERS,
            error=httpx.ReadError("reset"),
        )
    )
    mock.get(EVENTS).mock(
        side_effect=lambda _: respond(
            content=[], headers={"Content-Type": "text/event-stream"}, error=httpx.ReadError("x")
        )
    )
    stream = stub_box(client).exec_stream(["x"])
    first = await collect_first(stream)
    assert first.seq == 1
    with pytest.raises(APIConnectionError, match="lost after seq 1"):
        await collect(stream)


async def test_drop_without_exec_id_cannot_resume(client: Any, mock: respx.MockRouter) -> None:
    mock.post(BOX + "/exec/stream").mock(
        return_value=respond(
            content=[sse(1, "stdout", "a")],
            headers={"Content-Type": "text/event-stream"},
            error=httpx.ReadError("reset"),
        )
    )
    stream = stub_box(client).exec_stream(["x"])
    with pytest.raises(APIConnectionError, match="cannot be resumed"):
        await collect(stream)


async def test_error_on_start_raises_the_api_error(client: Any, mock: respx.MockRouter) -> None:
    mock.post(BOX + "/exec/stream").mock(return_value=problem(404, "no such box"))
    stream = stub_box(client).exec_stream(["x"])
    with pytest.raises(NotFoundError):
        await run(stream.start())


async def test_leaving_early_closes_the_response(client: Any, mock: respx.MockRouter) -> None:
    # The mock fixture fails the test if the response is left open.
    mock.post(BOX + "/exec/stream").mock(
        return_value=respond(
            content=[sse(1, "stdout", "a"), sse(2, "stdout", "b"), sse(3, "exit", exit_code=0)],
            headers=SSE_HEADERS,
        )
    )
    box = stub_box(client)
    if hasattr(box.exec_stream(["x"]), "__aiter__"):
        async with box.exec_stream(["x"]) as stream:
            async for event in stream:
                assert event.seq == 1
                break
        assert stream.exec_id == "exe-1"
    else:
        with box.exec_stream(["x"]) as stream:
            for event in stream:
                assert event.seq == 1
                break
        # Without `with`, close() does it.
        other = box.exec_stream(["x"])
        assert next(iter(other)).seq == 1
        other.close()


async def test_stream_started_by_with_is_not_started_twice(
    client: Any, mock: respx.MockRouter
) -> None:
    start = mock.post(BOX + "/exec/stream").mock(
        return_value=respond(content=[sse(1, "exit", exit_code=0)], headers=SSE_HEADERS)
    )
    stream = stub_box(client).exec_stream(["x"])
    if hasattr(stream, "__aiter__"):
        async with stream:
            assert stream.exec_id == "exe-1"
            events = [e async for e in stream]
    else:
        with stream:
            assert stream.exec_id == "exe-1"
            events = list(stream)
    assert [e.kind for e in events] == ["exit"]
    assert start.call_count == 1
