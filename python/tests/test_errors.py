"""Every error status maps to its exception, with the problem details kept."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from hogland import (
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

from .helpers import problem, respond, run, stub_box

STATUS_CLASSES = [
    (400, ValidationError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (405, APIError),
    (409, ConflictError),
    (413, APIError),
    (415, APIError),
    (422, ValidationError),
    (429, RateLimitError),
    (500, ServerError),
    (502, ServerError),
    (503, ServerError),
    (504, ServerError),
]


@pytest.mark.parametrize(("status", "cls"), STATUS_CLASSES)
async def test_status_maps_to_class(
    make_client: Any, mock: respx.MockRouter, status: int, cls: type[APIError]
) -> None:
    client = make_client(max_retries=0)
    mock.get("/v1/hogboxes/box-0123456789ab").mock(
        return_value=problem(status, "box-0123456789ab is gone", headers={"X-Request-Id": "req_h"})
    )
    with pytest.raises(cls) as info:
        await run(client.get("box-0123456789ab"))
    err = info.value
    assert type(err) is cls
    assert isinstance(err, APIError)
    assert isinstance(err, HoglandError)
    assert err.status_code == status
    assert err.message == "box-0123456789ab is gone"
    assert err.body is not None
    assert err.body["status"] == status
    assert err.body["instance"] == "/v1/x"
    assert err.request_id == "req_body"  # the body's id wins over the header's
    assert "req_body" in str(err)
    assert err.title == "Title"


async def test_request_id_from_header_when_body_has_none(
    client: Any, mock: respx.MockRouter
) -> None:
    mock.get("/v1/me").mock(
        return_value=problem(
            401, "no credential", request_id=None, headers={"X-Request-Id": "req_h"}
        )
    )
    with pytest.raises(AuthenticationError) as info:
        await run(client.me())
    assert info.value.request_id == "req_h"
    assert info.value.body is not None
    assert "request_id" not in info.value.body


async def test_extra_problem_members_are_kept(client: Any, mock: respx.MockRouter) -> None:
    mock.post("/v1/hogboxes").mock(
        return_value=problem(403, "quota exceeded", quota={"max_boxes": 2})
    )
    with pytest.raises(PermissionDeniedError) as info:
        await run(client.create())
    assert info.value.body is not None
    assert info.value.body["quota"] == {"max_boxes": 2}


async def test_non_json_error_body(make_client: Any, mock: respx.MockRouter) -> None:
    client = make_client(max_retries=0)
    mock.get("/v1/me").mock(
        return_value=respond(502, content=b"upstream broke", headers={"X-Request-Id": "req_9"})
    )
    with pytest.raises(ServerError) as info:
        await run(client.me())
    assert info.value.body is None
    assert info.value.message == "upstream broke"
    assert info.value.request_id == "req_9"


async def test_retry_after_is_exposed(make_client: Any, mock: respx.MockRouter) -> None:
    client = make_client(max_retries=0)
    mock.post("/v1/hogboxes/box-0123456789ab/exec").mock(
        return_value=problem(409, "box is pausing", headers={"Retry-After": "2"})
    )
    with pytest.raises(ConflictError) as info:
        await run(stub_box(client).exec(["true"]))
    assert info.value.retry_after == 2.0


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        (httpx.ConnectError("refused"), APIConnectionError),
        (httpx.ConnectTimeout("slow"), APITimeoutError),
        (httpx.ReadTimeout("slow"), APITimeoutError),
    ],
)
async def test_transport_failures(
    make_client: Any, mock: respx.MockRouter, error: Exception, cls: type[Exception]
) -> None:
    client = make_client(max_retries=0)
    mock.get("/v1/me").mock(side_effect=error)
    with pytest.raises(cls) as info:
        await run(client.me())
    assert type(info.value) is cls
    assert not isinstance(info.value, APIError)
    assert isinstance(info.value, HoglandError)


def test_hierarchy() -> None:
    for cls in (
        AuthenticationError,
        PermissionDeniedError,
        NotFoundError,
        ConflictError,
        ValidationError,
        RateLimitError,
        ServerError,
    ):
        assert issubclass(cls, APIError)
    assert issubclass(APIError, HoglandError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, HoglandError)
    assert not issubclass(APIConnectionError, APIError)
