"""Live stdin and signals for a running streaming exec: request shape, and never retried."""

from __future__ import annotations

import json
import signal
from typing import Any

import httpx
import pytest
import respx

from hogland import APIConnectionError, ConflictError, RateLimitError, ValidationError

from .helpers import collect, problem, respond, run, sse, stub_box

BOX = "/v1/hogboxes/box-0123456789ab"
EXEC = BOX + "/execs/exe-1"
SSE_HEADERS = {"Content-Type": "text/event-stream", "X-Exec-Id": "exe-1"}


def mock_stream(mock: respx.MockRouter) -> respx.Route:
    return mock.post(BOX + "/exec/stream").mock(
        return_value=respond(
            content=[sse(1, "stdout", "got a\n"), sse(2, "exit", exit_code=-1)],
            headers=SSE_HEADERS,
        )
    )


async def test_stream_sends_stdin_and_signals(client: Any, mock: respx.MockRouter) -> None:
    start = mock_stream(mock)
    stdin = mock.post(EXEC + "/stdin").mock(return_value=httpx.Response(204))
    sig = mock.post(EXEC + "/signal").mock(return_value=httpx.Response(204))

    stream = stub_box(client).exec_stream(["cat"], stdin="first\n", stdin_open=True)
    # Sending starts the stream when it has not started: the exec id comes with it.
    await run(stream.send_stdin("a\n"))
    assert stream.exec_id == "exe-1"
    await run(stream.send_stdin(b"\x00b\xff", close=True, extra_headers={"X-Trace": "t1"}))
    await run(stream.close_stdin(timeout=3))
    await run(stream.signal())
    await run(stream.signal(signal.SIGKILL))
    await run(stream.signal(9))
    await run(stream.signal("SIGINT"))
    events = await collect(stream)
    assert [e.kind for e in events] == ["stdout", "exit"]
    assert stream.exit_code == -1

    assert start.call_count == 1
    body = json.loads(start.calls.last.request.content)
    assert body == {"argv": ["cat"], "stdin": "first\n", "stdin_open": True}

    requests = [call.request for call in stdin.calls]
    assert [r.url.params["close"] for r in requests] == ["false", "true", "true"]
    assert [r.content for r in requests] == [b"a\n", b"\x00b\xff", b""]
    assert all(r.headers["Content-Type"] == "application/octet-stream" for r in requests)
    assert requests[1].headers["X-Trace"] == "t1"
    assert requests[2].extensions["timeout"]["read"] == 3

    signals = [json.loads(call.request.content) for call in sig.calls]
    assert signals == [{"signal": s} for s in ("TERM", "SIGKILL", "9", "SIGINT")]
    assert all(c.request.headers["Content-Type"] == "application/json" for c in sig.calls)


async def test_stdin_open_is_sent_only_when_asked(client: Any, mock: respx.MockRouter) -> None:
    start = mock_stream(mock)
    await collect(stub_box(client).exec_stream(["cat"], stdin_open=False))
    assert "stdin_open" not in json.loads(start.calls.last.request.content)


async def test_box_calls_by_exec_id(client: Any, mock: respx.MockRouter) -> None:
    stdin = mock.post(BOX + "/execs/exe%2F2/stdin").mock(return_value=httpx.Response(204))
    sig = mock.post(EXEC + "/signal").mock(return_value=httpx.Response(204))
    box = stub_box(client)

    assert await run(box.send_stdin("exe/2", "all of it\n")) is None
    await run(box.send_stdin("exe/2", b"more", close=False, timeout=5))
    assert await run(box.signal_exec("exe-1", "HUP", extra_headers={"X-Trace": "t2"})) is None
    await run(box.signal_exec("exe-1"))

    # close defaults to True on the box: one call writes everything and ends the input.
    assert [c.request.url.params["close"] for c in stdin.calls] == ["true", "false"]
    assert [c.request.content for c in stdin.calls] == [b"all of it\n", b"more"]
    assert stdin.calls[1].request.extensions["timeout"]["read"] == 5
    assert [json.loads(c.request.content) for c in sig.calls] == [
        {"signal": "HUP"},
        {"signal": "TERM"},
    ]
    assert sig.calls[0].request.headers["X-Trace"] == "t2"


@pytest.mark.parametrize("what", ["stdin", "signal"])
async def test_conflict_is_raised_and_not_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float], what: str
) -> None:
    # Even a 409 with Retry-After (which safe calls retry) is raised at once.
    route = mock.post(f"{EXEC}/{what}").mock(
        return_value=problem(409, "the process exited", headers={"Retry-After": "1"})
    )
    box = stub_box(client)

    async def send() -> None:
        if what == "stdin":
            await run(box.send_stdin("exe-1", b"x"))
        else:
            await run(box.signal_exec("exe-1", "TERM"))

    with pytest.raises(ConflictError, match="the process exited"):
        await send()
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("what", ["stdin", "signal"])
async def test_failures_are_not_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float], what: str
) -> None:
    route = mock.post(f"{EXEC}/{what}").mock(
        side_effect=[problem(429, "slow down"), httpx.ConnectError("refused")]
    )
    box = stub_box(client)

    async def send() -> None:
        if what == "stdin":
            await run(box.send_stdin("exe-1", b"x", close=False))
        else:
            await run(box.signal_exec("exe-1"))

    with pytest.raises(RateLimitError):
        await send()
    with pytest.raises(APIConnectionError):
        await send()
    assert route.call_count == 2
    assert sleeps == []


async def test_stream_conflict_after_exit(client: Any, mock: respx.MockRouter) -> None:
    mock_stream(mock)
    mock.post(EXEC + "/stdin").mock(return_value=problem(409, "stdin is closed"))
    mock.post(EXEC + "/signal").mock(return_value=problem(409, "the process exited"))
    stream = stub_box(client).exec_stream(["cat"], stdin_open=True)
    await collect(stream)
    # The exec id outlives the stream: calls after the end reach the server.
    with pytest.raises(ConflictError, match="stdin is closed"):
        await run(stream.close_stdin())
    with pytest.raises(ConflictError, match="the process exited"):
        await run(stream.signal("TERM"))


async def test_empty_signal_is_refused(client: Any, mock: respx.MockRouter) -> None:
    route = mock.post(EXEC + "/signal").mock(return_value=problem(400, "signal is required"))
    box = stub_box(client)
    for bad in ("", "  "):
        with pytest.raises(ValueError, match="signal"):
            await run(box.signal_exec("exe-1", bad))
    with pytest.raises(TypeError):
        await run(box.signal_exec("exe-1", None))
    assert route.call_count == 0
    # What the server refuses is raised as its 400.
    with pytest.raises(ValidationError):
        await run(box.signal_exec("exe-1", "NOPE"))


async def test_bad_stdin_data(client: Any, mock: respx.MockRouter) -> None:
    box = stub_box(client)
    with pytest.raises(TypeError, match="bytes or str"):
        await run(box.send_stdin("exe-1", 42))
    with pytest.raises(ValueError, match="exec id"):
        await run(box.send_stdin("", b"x"))


async def test_stream_without_exec_id(client: Any, mock: respx.MockRouter) -> None:
    mock.post(BOX + "/exec/stream").mock(
        return_value=respond(
            content=[sse(1, "exit", exit_code=0)],
            headers={"Content-Type": "text/event-stream"},
        )
    )
    stream = stub_box(client).exec_stream(["cat"], stdin_open=True)
    with pytest.raises(RuntimeError, match="X-Exec-Id"):
        await run(stream.send_stdin(b"x"))
    await collect(stream)
