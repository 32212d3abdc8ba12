"""The SDK's exceptions: one class per kind of failure.

Every error the server answers is an RFC 9457 problem-details body; it is
kept whole on ``APIError.body``. Transport failures (no connection, a
timeout) are not API errors and have their own classes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ConflictError",
    "HoglandError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "ValidationError",
]


class HoglandError(Exception):
    """The base of every exception the SDK raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIConnectionError(HoglandError):
    """The server could not be reached, or the connection broke."""

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.request = request


class APITimeoutError(APIConnectionError):
    """The server did not answer in time (see the ``timeout=`` settings)."""


class APIError(HoglandError):
    """The server answered with an error status.

    Attributes:
        message: the problem's ``detail`` (or its ``title`` when there is none).
        status_code: the HTTP status.
        body: the problem-details dict as the server sent it (``type``,
            ``title``, ``status``, ``detail``, ``instance``, ``request_id``
            and any extra members), or ``None`` when the body was not JSON.
        request_id: the server's id of the request, from the body or the
            ``X-Request-Id`` header; quote it when reporting a problem.
        retry_after: seconds the server asked to wait before retrying
            (``Retry-After``), if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: dict[str, Any] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body
        self.request_id = request_id
        self.retry_after = retry_after
        self.response = response

    @property
    def type(self) -> str | None:
        """The problem type URI, e.g. ``https://hogland.posthog.dev/problems/busy``."""
        value = (self.body or {}).get("type")
        return value if isinstance(value, str) else None

    @property
    def title(self) -> str | None:
        """The problem's short summary, e.g. ``Not found``."""
        value = (self.body or {}).get("title")
        return value if isinstance(value, str) else None

    def __str__(self) -> str:
        text = f"{self.status_code} {self.message}"
        if self.request_id:
            text += f" (request_id={self.request_id})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class ValidationError(APIError):
    """400 or 422: the request is malformed or a value is out of range."""


class AuthenticationError(APIError):
    """401: no credential, or one the server does not accept."""


class PermissionDeniedError(APIError):
    """403: the caller is known but may not do this."""


class NotFoundError(APIError):
    """404: the box, snapshot or route does not exist (or is not the caller's)."""


class ConflictError(APIError):
    """409: the request clashes with the current state (a taken name, a box in transition).

    A box in transition answers with ``retry_after`` set; the SDK retries those
    by itself where the call is safe to repeat.
    """

    @property
    def dependents(self) -> dict[str, list[str]] | None:
        """What stands on a snapshot that could not be deleted, by kind.

        ``{"boxes": [...], "snapshots": [...], "aliases": [...], "devboxes": [...]}``
        (kinds with none are left out); ``None`` when the answer names none.
        """
        value = (self.body or {}).get("dependents")
        return value if isinstance(value, dict) else None


class RateLimitError(APIError):
    """429: too many requests; wait ``retry_after`` seconds."""


class ServerError(APIError):
    """5xx: the server or something behind it failed."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def error_class(status_code: int) -> type[APIError]:
    """The exception class for an HTTP error status."""
    if status_code >= 500:
        return ServerError
    return _BY_STATUS.get(status_code, APIError)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_from_response(response: httpx.Response) -> APIError:
    """The APIError for a response whose body has been read."""
    status = response.status_code
    body: dict[str, Any] | None = None
    text = ""
    try:
        text = response.text
        parsed = json.loads(text) if text else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    if isinstance(parsed, dict):
        body = parsed
    message = ""
    if body is not None:
        for key in ("detail", "title", "message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value:
                message = value
                break
    if not message:
        message = text.strip()[:500] or response.reason_phrase or f"HTTP {status}"
    request_id = None
    if body is not None and isinstance(body.get("request_id"), str):
        request_id = body["request_id"]
    request_id = request_id or response.headers.get("x-request-id")
    return error_class(status)(
        message,
        status_code=status,
        body=body,
        request_id=request_id,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        response=response,
    )
