"""Streams: streaming exec (server-sent events, resumed after a drop) and file reads.

Every stream is a context manager and an iterator; its HTTP response is closed
in ``finally`` when the stream ends, fails, is closed, or its ``with`` block
is left, so breaking out of a loop early leaks no connection.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from types import TracebackType
from typing import Self

import httpx
from httpx_sse import EventSource, ServerSentEvent

from . import _calls, _http
from ._calls import StdinData
from ._errors import APIConnectionError
from ._generated.models import ExecEvent
from ._http import (
    RETRY_ERRORS,
    AsyncTransport,
    BaseTransport,
    Call,
    Headers,
    SyncTransport,
    TimeoutTypes,
    backoff,
)

EVENT_KINDS = frozenset({"stdout", "stderr", "exit"})
DEFAULT_CHUNK = 64 << 10


def parse_event(sse: ServerSentEvent) -> ExecEvent | None:
    """The ExecEvent in one SSE frame, or None for frames that carry none."""
    if not sse.data:
        return None
    try:
        data = json.loads(sse.data)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    data.setdefault("kind", sse.event)
    if data.get("seq") is None and sse.id and sse.id.isdigit():
        data["seq"] = int(sse.id)
    if data.get("kind") not in EVENT_KINDS or not isinstance(data.get("seq"), int):
        return None
    return ExecEvent.model_validate(data)


class _ExecStreamState:
    """What a stream needs to resume: the exec's id and the last seq seen."""

    def __init__(
        self,
        transport: BaseTransport,
        start: Call,
        resume: Callable[[str, int], Call],
        box_id: str | None = None,
    ) -> None:
        self._transport = transport
        self._start = start
        self._resume = resume
        self._box_id = box_id
        self.exec_id: str | None = None
        self.last_seq = 0
        self.exit_code: int | None = None
        self._failures = 0

    def accept(self, sse: ServerSentEvent) -> ExecEvent | None:
        """The new event in this frame, or None for a repeat or a non-event."""
        event = parse_event(sse)
        if event is None or event.seq <= self.last_seq:
            return None
        self.last_seq = event.seq
        self._failures = 0
        if event.kind == "exit":
            self.exit_code = event.exit_code
        return event

    def next_call(self) -> Call:
        return self._start if self.exec_id is None else self._resume(self.exec_id, self.last_seq)

    def lost(self, error: Exception | None) -> float:
        """The wait before reconnecting after the stream broke; raises past the limit."""
        what = f"exec {self.exec_id} stream" if self.exec_id else "exec stream"
        reason = f"{error}" if error else "the server closed it before the exit event"
        if self.exec_id is None:
            raise APIConnectionError(f"{what} broke and cannot be resumed: {reason}")
        if self._failures >= max(1, self._transport.max_retries):
            raise APIConnectionError(
                f"{what} lost after seq {self.last_seq} and "
                f"{self._failures} reconnects failed: {reason}"
            )
        delay = backoff(self._failures)
        self._failures += 1
        return delay

    def opened(self, response: httpx.Response) -> None:
        if self.exec_id is None:
            self.exec_id = response.headers.get("x-exec-id")

    def _target(self) -> tuple[str, str]:
        if self._box_id is None:
            raise RuntimeError("this exec stream does not know its box")
        if self.exec_id is None:
            raise RuntimeError("the exec stream has no exec id (the server sent no X-Exec-Id)")
        return self._box_id, self.exec_id

    def stdin_call(
        self, data: StdinData, *, close: bool, timeout: TimeoutTypes, extra_headers: Headers
    ) -> Call:
        box_id, exec_id = self._target()
        return _calls.exec_stdin(
            box_id, exec_id, data, close=close, timeout=timeout, extra_headers=extra_headers
        )

    def signal_call(self, sig: str | int, *, timeout: TimeoutTypes, extra_headers: Headers) -> Call:
        box_id, exec_id = self._target()
        return _calls.exec_signal(
            box_id, exec_id, sig, timeout=timeout, extra_headers=extra_headers
        )


class ExecStream:
    """The events of a streaming exec, as they happen.

    Iterate it (``for event in box.exec_stream(...)``) or use it as a context
    manager. When the connection drops, it reconnects to the exec's event log
    with ``Last-Event-ID`` and carries on, so no event is lost or repeated.
    The stream ends after the ``exit`` event.

    Started with ``stdin_open=True``, the command's stdin takes more input
    while it runs: ``send_stdin(data, close=...)`` and ``close_stdin()``;
    ``signal("TERM")`` signals its process group.

    Attributes:
        exec_id: the server's id of the exec (from the ``X-Exec-Id`` header),
            once the stream has started.
        exit_code: the exit code, once the ``exit`` event has been seen.
    """

    def __init__(
        self,
        transport: SyncTransport,
        start: Call,
        resume: Callable[[str, int], Call],
        box_id: str | None = None,
    ) -> None:
        self._transport = transport
        self._state = _ExecStreamState(transport, start, resume, box_id)
        self._response: httpx.Response | None = None
        self._events: Generator[ExecEvent] | None = None
        self._closed = False

    @property
    def exec_id(self) -> str | None:
        return self._state.exec_id

    @property
    def exit_code(self) -> int | None:
        return self._state.exit_code

    def _connect(self) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the exec stream is closed")
        self._response = self._transport.send(self._state.next_call(), stream=True)
        self._state.opened(self._response)
        return self._response

    def _disconnect(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()

    def start(self) -> Self:
        """Send the request now (iterating does it too); raises the API's errors."""
        if self._response is None and self._state.exec_id is None:
            self._connect()
        return self

    def send_stdin(
        self,
        data: StdinData,
        *,
        close: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Write ``data`` (bytes, or str as UTF-8) to the command's stdin.

        Needs ``exec_stream(..., stdin_open=True)``. Stdin stays open unless
        ``close=True`` (the command then reads end of file). Starts the stream
        first if it has not started. Never retried: on a connection failure
        the bytes may or may not have been written. ``ConflictError`` when
        stdin is already closed or the command has exited.
        """
        self.start()
        call = self._state.stdin_call(
            data, close=close, timeout=timeout, extra_headers=extra_headers
        )
        self._transport.send(call)

    def close_stdin(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> None:
        """Close the command's stdin: it reads end of file (``ConflictError`` if already closed)."""
        self.send_stdin(b"", close=True, timeout=timeout, extra_headers=extra_headers)

    def signal(
        self,
        sig: str | int = "TERM",
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Send a signal to the command's process group.

        ``sig`` is a name (``"TERM"``, ``"SIGKILL"``), a number, or a
        ``signal.Signals`` such as ``signal.SIGINT``.
        A command killed by a signal exits with ``exit_code`` -1. Never
        retried. ``ConflictError`` once the command has exited.
        """
        self.start()
        self._transport.send(
            self._state.signal_call(sig, timeout=timeout, extra_headers=extra_headers)
        )

    def _run(self) -> Generator[ExecEvent]:
        try:
            response = self._response or self._connect()
            while True:
                error: Exception | None = None
                try:
                    for sse in EventSource(response).iter_sse():
                        event = self._state.accept(sse)
                        if event is None:
                            continue
                        yield event
                        if event.kind == "exit":
                            return
                except RETRY_ERRORS as exc:
                    error = exc
                self._disconnect()
                _http._sleep_sync(self._state.lost(error))
                response = self._connect()
        finally:
            self._disconnect()

    def __iter__(self) -> Iterator[ExecEvent]:
        return self

    def __next__(self) -> ExecEvent:
        if self._events is None:
            self._events = self._run()
        return next(self._events)

    def close(self) -> None:
        """Stop reading and close the connection (the command keeps running)."""
        self._closed = True
        if self._events is not None:
            self._events.close()
        self._disconnect()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncExecStream:
    """The async twin of ExecStream: ``async for event in box.exec_stream(...)``.

    Prefer ``async with box.exec_stream(...) as stream:`` when you may stop
    early, so the connection is closed at once rather than when collected.
    """

    def __init__(
        self,
        transport: AsyncTransport,
        start: Call,
        resume: Callable[[str, int], Call],
        box_id: str | None = None,
    ) -> None:
        self._transport = transport
        self._state = _ExecStreamState(transport, start, resume, box_id)
        self._response: httpx.Response | None = None
        self._events: AsyncGenerator[ExecEvent] | None = None
        self._closed = False

    @property
    def exec_id(self) -> str | None:
        return self._state.exec_id

    @property
    def exit_code(self) -> int | None:
        return self._state.exit_code

    async def _connect(self) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the exec stream is closed")
        self._response = await self._transport.send(self._state.next_call(), stream=True)
        self._state.opened(self._response)
        return self._response

    async def _disconnect(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            await response.aclose()

    async def start(self) -> Self:
        """Send the request now (iterating does it too); raises the API's errors."""
        if self._response is None and self._state.exec_id is None:
            await self._connect()
        return self

    async def send_stdin(
        self,
        data: StdinData,
        *,
        close: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Write ``data`` to the command's stdin (see ``ExecStream.send_stdin``)."""
        await self.start()
        call = self._state.stdin_call(
            data, close=close, timeout=timeout, extra_headers=extra_headers
        )
        await self._transport.send(call)

    async def close_stdin(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Close the command's stdin: it reads end of file."""
        await self.send_stdin(b"", close=True, timeout=timeout, extra_headers=extra_headers)

    async def signal(
        self,
        sig: str | int = "TERM",
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Send a signal to the command's process group (see ``ExecStream.signal``)."""
        await self.start()
        await self._transport.send(
            self._state.signal_call(sig, timeout=timeout, extra_headers=extra_headers)
        )

    async def _run(self) -> AsyncGenerator[ExecEvent]:
        try:
            response = self._response or await self._connect()
            while True:
                error: Exception | None = None
                try:
                    async for sse in EventSource(response).aiter_sse():
                        event = self._state.accept(sse)
                        if event is None:
                            continue
                        yield event
                        if event.kind == "exit":
                            return
                except RETRY_ERRORS as exc:
                    error = exc
                await self._disconnect()
                await _http._sleep_async(self._state.lost(error))
                response = await self._connect()
        finally:
            await self._disconnect()

    def __aiter__(self) -> AsyncIterator[ExecEvent]:
        return self

    async def __anext__(self) -> ExecEvent:
        if self._events is None:
            self._events = self._run()
        return await anext(self._events)

    async def aclose(self) -> None:
        """Stop reading and close the connection (the command keeps running)."""
        self._closed = True
        if self._events is not None:
            await self._events.aclose()
        await self._disconnect()

    close = aclose

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class FileStream:
    """A file's bytes as they arrive: ``with box.read_file_stream(path) as f: for chunk in f``."""

    def __init__(self, transport: SyncTransport, call: Call, chunk_size: int = DEFAULT_CHUNK):
        self._transport = transport
        self._call = call
        self._chunk_size = chunk_size
        self._response: httpx.Response | None = None
        self._chunks: Generator[bytes] | None = None

    def start(self) -> Self:
        """Send the request now (iterating does it too); raises the API's errors."""
        if self._response is None:
            self._response = self._transport.send(self._call, stream=True)
        return self

    def _run(self) -> Generator[bytes]:
        try:
            response = self.start()._response
            assert response is not None
            try:
                yield from response.iter_bytes(self._chunk_size)
            except httpx.HTTPError as exc:
                raise BaseTransport.transport_error(exc) from exc
        finally:
            self.close()

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._chunks is None:
            self._chunks = self._run()
        return next(self._chunks)

    def iter_bytes(self) -> Iterator[bytes]:
        return self

    def read(self) -> bytes:
        """Everything left, at once."""
        return b"".join(self)

    def close(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._chunks is not None:
            self._chunks.close()
        self.close()


class AsyncFileStream:
    """The async twin of FileStream: ``async with box.read_file_stream(path) as f``."""

    def __init__(self, transport: AsyncTransport, call: Call, chunk_size: int = DEFAULT_CHUNK):
        self._transport = transport
        self._call = call
        self._chunk_size = chunk_size
        self._response: httpx.Response | None = None
        self._chunks: AsyncGenerator[bytes] | None = None

    async def start(self) -> Self:
        """Send the request now (iterating does it too); raises the API's errors."""
        if self._response is None:
            self._response = await self._transport.send(self._call, stream=True)
        return self

    async def _run(self) -> AsyncGenerator[bytes]:
        try:
            response = (await self.start())._response
            assert response is not None
            try:
                async for chunk in response.aiter_bytes(self._chunk_size):
                    yield chunk
            except httpx.HTTPError as exc:
                raise BaseTransport.transport_error(exc) from exc
        finally:
            await self.aclose()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._chunks is None:
            self._chunks = self._run()
        return await anext(self._chunks)

    def aiter_bytes(self) -> AsyncIterator[bytes]:
        return self

    async def read(self) -> bytes:
        """Everything left, at once."""
        return b"".join([chunk async for chunk in self])

    async def aclose(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            await response.aclose()

    close = aclose

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._chunks is not None:
            await self._chunks.aclose()
        await self.aclose()
