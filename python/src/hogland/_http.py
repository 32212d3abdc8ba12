"""The HTTP layer shared by the sync and async clients.

It adds the credential and headers to every request, retries what is safe
to retry, and turns error answers into the exceptions of ``_errors``.

Retry rules:

* Retried: connection failures and timeouts, 429, 503, and 409 with a
  ``Retry-After`` (a box in transition). ``Retry-After`` is honoured;
  otherwise the wait grows exponentially, with jitter.
* Only calls that are safe to repeat are retried: GET, PUT, DELETE, calls
  marked idempotent, and calls that carry an ``Idempotency-Key`` (create).
  A POST without one (exec, pause, snapshot) is never sent twice.
* An upload is retried only when its body can be replayed (bytes, or a
  seekable file).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import random
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass
from typing import IO, Any

import httpx

from ._config import TokenProvider
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    HoglandError,
    error_from_response,
)
from ._version import __version__

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
DEFAULT_MAX_RETRIES = 2
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
# A Retry-After longer than this is not waited for: the error is raised.
MAX_RETRY_AFTER = 60.0
UPLOAD_CHUNK = 1 << 20

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 503})
# Transport failures worth another try; others (a bad URL, a proxy error)
# would fail the same way again.
RETRY_ERRORS: tuple[type[Exception], ...] = (
    httpx.NetworkError,
    httpx.TimeoutException,
    httpx.RemoteProtocolError,
)

TimeoutTypes = float | httpx.Timeout | None
# A call's extra_headers=.
Headers = Mapping[str, str] | None
# Everything write_file accepts.
SyncUpload = bytes | bytearray | memoryview | str | IO[bytes] | Iterable[bytes]
AsyncUpload = SyncUpload | AsyncIterable[bytes]

USER_AGENT = (
    f"posthog-hogland/{__version__} python/{platform.python_version()} httpx/{httpx.__version__}"
)


def _sleep_sync(seconds: float) -> None:
    time.sleep(seconds)


async def _sleep_async(seconds: float) -> None:
    await asyncio.sleep(seconds)


def to_timeout(value: TimeoutTypes, default: httpx.Timeout) -> httpx.Timeout:
    """An httpx.Timeout from a per-call value (None: the client's default)."""
    if value is None:
        return default
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(float(value))


def backoff(attempt: int) -> float:
    """The wait before retry number attempt+1: exponential, with jitter."""
    delay = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * (2**attempt))
    return delay * (0.5 + random.random() / 2)


class Upload:
    """A request body for a file upload, replayable where the source allows."""

    def __init__(self, data: AsyncUpload) -> None:
        self._data = data
        self._start: int | None = None
        self._used = False
        self.length: int | None = None
        if isinstance(data, str):
            self._data = data.encode()
        if isinstance(self._data, bytes | bytearray | memoryview):
            self._data = bytes(self._data)
            self.length = len(self._data)
            self.replayable = True
            return
        self.replayable = False
        if _is_file(data):
            file: Any = data
            with contextlib.suppress(AttributeError, OSError, ValueError):
                if file.seekable():
                    self._start = file.tell()
                    self.replayable = True
                    self.length = os.fstat(file.fileno()).st_size - self._start
            if self.length is None and self._start is not None:
                with contextlib.suppress(OSError, ValueError):
                    end = file.seek(0, os.SEEK_END)
                    file.seek(self._start)
                    self.length = end - self._start
        elif not isinstance(data, Iterable | AsyncIterable):
            raise TypeError(
                "data must be bytes, str, a binary file object or an iterator of bytes, "
                f"not {type(data).__name__}"
            )

    def _rewind(self) -> None:
        if self._used:
            if not self.replayable:
                raise HoglandError("upload body cannot be replayed")
            if self._start is not None:
                file: Any = self._data
                file.seek(self._start)
        self._used = True

    def sync_content(self) -> bytes | Iterator[bytes]:
        self._rewind()
        data = self._data
        if isinstance(data, bytes):
            return data
        if _is_file(data):
            return _read_chunks(data)
        if isinstance(data, Iterable):
            return _checked_chunks(data)
        raise TypeError("the sync client cannot upload an async iterator; use AsyncHogland")

    def async_content(self) -> bytes | AsyncIterator[bytes]:
        self._rewind()
        data = self._data
        if isinstance(data, bytes):
            return data
        if isinstance(data, AsyncIterable):
            return _achecked_chunks(data)
        if _is_file(data):
            return _aiter_sync(_read_chunks(data))
        if isinstance(data, Iterable):
            return _aiter_sync(_checked_chunks(data))
        raise TypeError(f"cannot upload {type(data).__name__}")


def _is_file(data: object) -> bool:
    return callable(getattr(data, "read", None))


def _read_chunks(file: Any) -> Iterator[bytes]:
    while chunk := file.read(UPLOAD_CHUNK):
        if isinstance(chunk, str):
            raise TypeError("write_file needs a file opened in binary mode ('rb')")
        yield chunk


def _checked_chunks(chunks: Iterable[object]) -> Iterator[bytes]:
    for chunk in chunks:
        yield _as_bytes(chunk)


async def _achecked_chunks(chunks: AsyncIterable[object]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        yield _as_bytes(chunk)


async def _aiter_sync(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _as_bytes(chunk: object) -> bytes:
    if isinstance(chunk, bytes | bytearray | memoryview):
        return bytes(chunk)
    if isinstance(chunk, str):
        return chunk.encode()
    raise TypeError(f"an upload iterator must yield bytes, not {type(chunk).__name__}")


@dataclass
class Call:
    """One API call: what to send and whether it may be sent again."""

    method: str
    path: str
    params: Sequence[tuple[str, str]] | None = None
    json: Any = None
    upload: Upload | None = None
    headers: Mapping[str, str] | None = None
    timeout: TimeoutTypes = None
    # Safe to repeat although the method alone does not say so.
    idempotent: bool = False
    extra_headers: Mapping[str, str] | None = None

    def retryable(self) -> bool:
        if self.upload is not None and not self.upload.replayable:
            return False
        headers = {k.lower() for k in (self.headers or {})}
        headers |= {k.lower() for k in (self.extra_headers or {})}
        return (
            self.method.upper() in IDEMPOTENT_METHODS
            or self.idempotent
            or "idempotency-key" in headers
        )


class BaseTransport:
    """Settings and decisions shared by the sync and async transports."""

    def __init__(
        self,
        *,
        base_url: str,
        token: TokenProvider,
        timeout: httpx.Timeout,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        self.base_url = base_url
        self.token = token
        self.timeout = timeout
        self.max_retries = max_retries
        self.default_headers = dict(default_headers or {})

    def headers(self, call: Call) -> dict[str, str]:
        headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            **self.default_headers,
            "Authorization": f"Bearer {self.token()}",
        }
        if call.json is not None:
            headers["Content-Type"] = "application/json"
        if call.upload is not None:
            headers["Content-Type"] = "application/octet-stream"
            if call.upload.length is not None:
                headers["Content-Length"] = str(call.upload.length)
        headers.update(call.headers or {})
        headers.update(call.extra_headers or {})
        return headers

    def url(self, path: str) -> str:
        return self.base_url + path

    def retry_delay(
        self,
        call: Call,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: Exception | None = None,
    ) -> float | None:
        """Seconds to wait before trying call again, or None to give up."""
        if attempt >= self.max_retries or not call.retryable():
            return None
        if error is not None:
            return backoff(attempt) if isinstance(error, RETRY_ERRORS) else None
        if response is None:
            return None
        retry_after = response.headers.get("retry-after")
        status = response.status_code
        if status not in RETRY_STATUSES and not (status == 409 and retry_after):
            return None
        err = error_from_response(response)
        if err.retry_after is None:
            return backoff(attempt)
        if err.retry_after > MAX_RETRY_AFTER:
            return None
        return err.retry_after + random.random() * 0.1

    @staticmethod
    def transport_error(exc: Exception, request: httpx.Request | None = None) -> HoglandError:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"request timed out: {exc}", request=request)
        return APIConnectionError(
            f"connection failed: {exc or type(exc).__name__}", request=request
        )


class SyncTransport(BaseTransport):
    def __init__(self, *, http_client: httpx.Client | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_client = http_client is None
        self.client = http_client or httpx.Client(timeout=self.timeout)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def _build(self, call: Call) -> httpx.Request:
        content = call.upload.sync_content() if call.upload is not None else None
        return self.client.build_request(
            call.method,
            self.url(call.path),
            params=list(call.params or ()),
            json=call.json,
            content=content,
            headers=self.headers(call),
            timeout=to_timeout(call.timeout, self.timeout),
        )

    def send(self, call: Call, *, stream: bool = False) -> httpx.Response:
        """Send call, retrying what may be retried; raise on an error status.

        With stream=True the body is left unread and the caller must close the
        response; otherwise the body is read and the response closed.
        """
        attempt = 0
        while True:
            request = self._build(call)
            try:
                response = self.client.send(request, stream=True)
            except RETRY_ERRORS as exc:
                delay = self.retry_delay(call, attempt, error=exc)
                if delay is None:
                    raise self.transport_error(exc, request) from exc
            except httpx.HTTPError as exc:
                raise self.transport_error(exc, request) from exc
            else:
                if response.is_success and stream:
                    return response
                try:
                    response.read()
                except RETRY_ERRORS as exc:
                    response.close()
                    delay = self.retry_delay(call, attempt, error=exc)
                    if delay is None:
                        raise self.transport_error(exc, request) from exc
                else:
                    response.close()
                    if response.is_success:
                        return response
                    delay = self.retry_delay(call, attempt, response=response)
                    if delay is None:
                        raise error_from_response(response)
            _sleep_sync(delay)
            attempt += 1

    @contextlib.contextmanager
    def stream(self, call: Call) -> Generator[httpx.Response]:
        response = self.send(call, stream=True)
        try:
            yield response
        finally:
            response.close()


class AsyncTransport(BaseTransport):
    def __init__(self, *, http_client: httpx.AsyncClient | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._owns_client = http_client is None
        self.client = http_client or httpx.AsyncClient(timeout=self.timeout)

    async def close(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    def _build(self, call: Call) -> httpx.Request:
        content = call.upload.async_content() if call.upload is not None else None
        return self.client.build_request(
            call.method,
            self.url(call.path),
            params=list(call.params or ()),
            json=call.json,
            content=content,
            headers=self.headers(call),
            timeout=to_timeout(call.timeout, self.timeout),
        )

    async def send(self, call: Call, *, stream: bool = False) -> httpx.Response:
        """The async twin of SyncTransport.send."""
        attempt = 0
        while True:
            request = self._build(call)
            try:
                response = await self.client.send(request, stream=True)
            except RETRY_ERRORS as exc:
                delay = self.retry_delay(call, attempt, error=exc)
                if delay is None:
                    raise self.transport_error(exc, request) from exc
            except httpx.HTTPError as exc:
                raise self.transport_error(exc, request) from exc
            else:
                if response.is_success and stream:
                    return response
                try:
                    await response.aread()
                except RETRY_ERRORS as exc:
                    await response.aclose()
                    delay = self.retry_delay(call, attempt, error=exc)
                    if delay is None:
                        raise self.transport_error(exc, request) from exc
                else:
                    await response.aclose()
                    if response.is_success:
                        return response
                    delay = self.retry_delay(call, attempt, response=response)
                    if delay is None:
                        raise error_from_response(response)
            await _sleep_async(delay)
            attempt += 1

    @contextlib.asynccontextmanager
    async def stream(self, call: Call) -> AsyncGenerator[httpx.Response]:
        response = await self.send(call, stream=True)
        try:
            yield response
        finally:
            await response.aclose()
