"""Retries: what is retried, how often, how long it waits, and what never is."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import pytest
import respx

from hogland import APIConnectionError, ConflictError, RateLimitError, ServerError

from .helpers import box_json, problem, respond, run, stub_box

BOX = "/v1/hogboxes/box-0123456789ab"


async def test_get_retried_on_503_then_succeeds(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get(BOX).mock(
        side_effect=[
            problem(503, "restarting"),
            problem(503, "restarting"),
            respond(json_body=box_json()),
        ]
    )
    box = await run(client.get("box-0123456789ab"))
    assert box.id == "box-0123456789ab"
    assert route.call_count == 3
    assert len(sleeps) == 2
    # Exponential backoff with jitter: 0.25-0.5 s, then 0.5-1 s.
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


async def test_gives_up_after_max_retries(
    make_client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    client = make_client(max_retries=3)
    route = mock.get("/v1/me").mock(side_effect=lambda _: problem(503, "down"))
    with pytest.raises(ServerError):
        await run(client.me())
    assert route.call_count == 4
    assert len(sleeps) == 3


async def test_max_retries_zero_disables_retries(
    make_client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    client = make_client(max_retries=0)
    route = mock.get("/v1/me").mock(side_effect=lambda _: problem(429, "slow down"))
    with pytest.raises(RateLimitError):
        await run(client.me())
    assert route.call_count == 1
    assert sleeps == []


async def test_retry_after_is_honoured_on_429(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get(BOX).mock(
        side_effect=[
            problem(429, "slow down", headers={"Retry-After": "3"}),
            respond(json_body=box_json()),
        ]
    )
    await run(client.get("box-0123456789ab"))
    assert route.call_count == 2
    assert len(sleeps) == 1
    assert 3.0 <= sleeps[0] <= 3.1


async def test_busy_409_with_retry_after_is_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get(BOX).mock(
        side_effect=[
            problem(409, "box is in transition", headers={"Retry-After": "1"}),
            respond(json_body=box_json()),
        ]
    )
    await run(client.get("box-0123456789ab"))
    assert route.call_count == 2
    assert 1.0 <= sleeps[0] <= 1.1


async def test_plain_409_is_not_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.patch(BOX).mock(return_value=problem(409, "name taken"))
    with pytest.raises(ConflictError):
        await run(stub_box(client).update(name="taken"))
    assert route.call_count == 1
    assert sleeps == []


async def test_too_long_retry_after_is_not_waited_for(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get("/v1/me").mock(
        return_value=problem(503, "maintenance", headers={"Retry-After": "3600"})
    )
    with pytest.raises(ServerError) as info:
        await run(client.me())
    assert info.value.retry_after == 3600
    assert route.call_count == 1
    assert sleeps == []


async def test_connection_errors_are_retried_for_get(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get(BOX).mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ReadError("reset"),
            respond(json_body=box_json()),
        ]
    )
    await run(client.get("box-0123456789ab"))
    assert route.call_count == 3
    assert len(sleeps) == 2


async def test_body_read_failure_is_retried_for_get(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.get(BOX).mock(
        side_effect=[
            respond(content=[b'{"id": '], error=httpx.RemoteProtocolError("cut")),
            respond(json_body=box_json()),
        ]
    )
    await run(client.get("box-0123456789ab"))
    assert route.call_count == 2


@pytest.mark.parametrize(
    "failure",
    [
        lambda: problem(503, "down"),
        lambda: problem(429, "slow down", headers={"Retry-After": "1"}),
        lambda: problem(409, "busy", headers={"Retry-After": "1"}),
        lambda: httpx.ConnectError("refused"),
        lambda: httpx.ReadTimeout("slow"),
    ],
    ids=["503", "429", "409-busy", "connect", "read-timeout"],
)
async def test_post_without_idempotency_key_is_never_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float], failure: Any
) -> None:
    outcome = failure()
    route = mock.post(BOX + "/exec").mock(
        side_effect=outcome if isinstance(outcome, Exception) else [outcome]
    )
    with pytest.raises((ServerError, RateLimitError, ConflictError, APIConnectionError)):
        await run(stub_box(client).exec(["echo", "once"]))
    assert route.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("method", ["pause", "resume", "snapshot"])
async def test_other_posts_are_not_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float], method: str
) -> None:
    route = mock.post(f"{BOX}/{method}").mock(side_effect=lambda _: problem(503, "down"))
    with pytest.raises(ServerError):
        await run(getattr(stub_box(client), method)())
    assert route.call_count == 1


async def test_create_is_retried_with_the_same_idempotency_key(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.post("/v1/hogboxes").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            problem(503, "busy"),
            respond(200, json_body=box_json(), headers={"Idempotent-Replayed": "true"}),
        ]
    )
    box = await run(client.create(image="busybox"))
    assert box.id == "box-0123456789ab"
    assert route.call_count == 3
    keys = {call.request.headers["Idempotency-Key"] for call in route.calls}
    assert len(keys) == 1
    assert uuid.UUID(keys.pop()).version == 4
    bodies = {call.request.content for call in route.calls}
    assert bodies == {b'{"image":"busybox"}'}


async def test_each_create_gets_a_fresh_key_or_the_given_one(
    client: Any, mock: respx.MockRouter
) -> None:
    route = mock.post("/v1/hogboxes").mock(side_effect=lambda _: respond(201, json_body=box_json()))
    await run(client.create())
    await run(client.create())
    await run(client.create(idempotency_key="my-key"))
    keys = [call.request.headers["Idempotency-Key"] for call in route.calls]
    assert keys[0] != keys[1]
    assert keys[2] == "my-key"


async def test_upload_of_bytes_is_retried_with_the_whole_body(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    info = {"path": "/a", "size": 5, "sha256": "x", "mode": "0644"}
    route = mock.put(BOX + "/files").mock(
        side_effect=[problem(503, "down"), respond(json_body=info)]
    )
    await run(stub_box(client).write_file("/a", b"hello"))
    assert route.call_count == 2
    assert [c.request.content for c in route.calls] == [b"hello", b"hello"]


async def test_upload_of_a_seekable_file_is_rewound_for_the_retry(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    info = {"path": "/a", "size": 6, "sha256": "x", "mode": "0644"}
    route = mock.put(BOX + "/files").mock(
        side_effect=[problem(503, "down"), respond(json_body=info)]
    )
    source = io.BytesIO(b"skip:abcdef")
    source.seek(5)
    await run(stub_box(client).write_file("/a", source))
    assert [c.request.content for c in route.calls] == [b"abcdef", b"abcdef"]
    assert all(c.request.headers["Content-Length"] == "6" for c in route.calls)


async def test_upload_of_an_iterator_is_not_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.put(BOX + "/files").mock(side_effect=lambda _: problem(503, "down"))
    with pytest.raises(ServerError):
        await run(stub_box(client).write_file("/a", iter([b"one", b"two"])))
    assert route.call_count == 1
