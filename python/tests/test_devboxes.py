"""Devboxes: what each call sends, the handle's view, retries of start and stop."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest
import respx

import hogland
from hogland import AsyncDevbox, Devbox, DevboxEventList, HoglandError, Page
from hogland.models import CreateDevboxRequest

from .helpers import BASE, box_json, problem, respond, run

DBX_ID = "dbx-0123456789ab"
DBX = f"/v1/devboxes/{DBX_ID}"
BOX_ID = "box-0123456789ab"


def devbox_json(status: str = "running", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": DBX_ID,
        "name": "dev",
        "status": status,
        "box_id": BOX_ID if status == "running" else None,
        "image": "busybox",
        "spec": {"cpus": 1, "memory_mib": 512, "disk_gib": 5},
        "env": {},
        "auto_stop_seconds": 1800,
        "auto_start": True,
        "owner_id": "prn-1",
        "created_at": "2026-11-26T12:00:00Z",
        "updated_at": "2026-11-26T12:00:00Z",
    }
    body.update(over)
    return body


async def test_create_devbox_sends_the_request_fields(client: Any, mock: respx.MockRouter) -> None:
    route = mock.post("/v1/devboxes").mock(return_value=respond(201, json_body=devbox_json()))
    devbox = await run(
        client.create_devbox(
            "dev",
            image="busybox",
            snapshot_id="alias:golden",
            cpus=2,
            memory_mib=1024,
            disk_gib=10,
            env={"K": "v"},
            auto_stop_seconds=600,
            auto_start=False,
        )
    )
    assert isinstance(devbox, (Devbox, AsyncDevbox))
    assert (devbox.id, devbox.name, devbox.status, devbox.box_id) == (
        DBX_ID,
        "dev",
        "running",
        BOX_ID,
    )
    sent = json.loads(route.calls.last.request.content)
    assert sent == {
        "name": "dev",
        "image": "busybox",
        "snapshot_id": "alias:golden",
        "cpus": 2,
        "memory_mib": 1024,
        "disk_gib": 10,
        "env": {"K": "v"},
        "auto_stop_seconds": 600,
        "auto_start": False,
    }
    assert set(sent) == set(CreateDevboxRequest.model_fields)
    # Unset arguments are left to the server.
    await run(client.create_devbox("other"))
    assert json.loads(route.calls.last.request.content) == {"name": "other"}


async def test_create_devbox_is_not_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    route = mock.post("/v1/devboxes").mock(return_value=problem(503, "busy"))
    with pytest.raises(hogland.ServerError):
        await run(client.create_devbox("dev"))
    assert route.call_count == 1
    assert sleeps == []


async def test_get_list_and_iter(client: Any, mock: respx.MockRouter) -> None:
    mock.get("/v1/devboxes/dev").mock(return_value=respond(json_body=devbox_json()))
    listing = mock.get("/v1/devboxes").mock(
        side_effect=lambda request: respond(
            json_body={"items": [devbox_json()], "next_cursor": "c2"}
            if "cursor" not in request.url.params
            else {"items": [devbox_json("stopped", id="dbx-111111111111", name="old")]}
        )
    )
    by_name = await run(client.get_devbox("dev"))
    assert by_name.id == DBX_ID
    page = await run(client.list_devboxes(limit=1))
    assert isinstance(page, Page)
    assert page.next_cursor == "c2"
    assert [d.name for d in page] == ["dev"]
    assert dict(listing.calls.last.request.url.params) == {"limit": "1"}
    if isinstance(client, hogland.AsyncHogland):
        names = [d.name async for d in client.iter_devboxes(page_size=1)]
    else:
        names = [d.name for d in client.iter_devboxes(page_size=1)]
    assert names == ["dev", "old"]


async def test_lifecycle(client: Any, mock: respx.MockRouter) -> None:
    mock.post("/v1/devboxes").mock(return_value=respond(201, json_body=devbox_json()))
    stop = mock.post(DBX + "/stop").mock(return_value=respond(json_body=devbox_json("stopped")))
    start = mock.post(DBX + "/start").mock(return_value=respond(json_body=devbox_json()))
    patch = mock.patch(DBX).mock(
        return_value=respond(json_body=devbox_json(auto_stop_seconds=0, auto_start=False))
    )
    events = mock.get(DBX + "/events").mock(
        return_value=respond(
            json_body={
                "items": [
                    {
                        "seq": 2,
                        "devbox_id": DBX_ID,
                        "at": "2026-11-26T12:00:00Z",
                        "type": "stopped",
                        "snapshot_id": "snap-0123456789ab",
                    }
                ]
            }
        )
    )
    delete = mock.delete(DBX).mock(return_value=respond(204))

    devbox = await run(client.create_devbox("dev"))
    assert (await run(devbox.stop())) is devbox
    assert (devbox.status, devbox.box_id) == ("stopped", None)
    assert (await run(devbox.start())).status == "running"
    await run(devbox.update(auto_stop_seconds=0, auto_start=False))
    assert json.loads(patch.calls.last.request.content) == {
        "auto_stop_seconds": 0,
        "auto_start": False,
    }
    assert (devbox.auto_stop_seconds, devbox.auto_start) == (0, False)
    history = await run(devbox.events(after=1))
    assert isinstance(history, DevboxEventList)
    assert [e.type for e in history.items] == ["stopped"]
    assert events.calls.last.request.url.params["after"] == "1"
    assert await run(devbox.delete()) is None
    assert (stop.call_count, start.call_count, delete.call_count) == (1, 1, 1)
    assert repr(devbox) == f"{type(devbox).__name__}(id={DBX_ID!r}, name='dev', status='running')"


async def test_start_and_stop_are_retried(
    client: Any, mock: respx.MockRouter, sleeps: list[float]
) -> None:
    """Starting a running devbox or stopping a stopped one is harmless: safe to retry."""
    mock.get(DBX).mock(return_value=respond(json_body=devbox_json("stopped")))
    start = mock.post(DBX + "/start").mock(
        side_effect=[
            problem(409, "devbox is stopping", headers={"Retry-After": "1"}),
            respond(json_body=devbox_json()),
        ]
    )
    devbox = await run(client.get_devbox(DBX_ID))
    assert (await run(devbox.start())).status == "running"
    assert start.call_count == 2
    assert len(sleeps) == 1


async def test_exec(client: Any, mock: respx.MockRouter) -> None:
    result = {
        "exit_code": 0,
        "stdout": "hi\n",
        "stderr": "",
        "stdout_truncated": False,
        "stderr_truncated": False,
        "timed_out": False,
        "duration_ms": 3,
    }
    route = mock.post(DBX + "/exec").mock(return_value=respond(json_body=result))
    mock.get(DBX).mock(return_value=respond(json_body=devbox_json()))
    devbox = await run(client.get_devbox(DBX_ID))
    done = await run(devbox.exec(["echo", "hi"], timeout_seconds=100, env={"A": "1"}))
    assert (done.exit_code, done.stdout) == (0, "hi\n")
    request = route.calls.last.request
    assert json.loads(request.content) == {
        "argv": ["echo", "hi"],
        "timeout_seconds": 100,
        "env": {"A": "1"},
    }
    # The HTTP timeout covers the command's own (as for box.exec).
    assert request.extensions["timeout"]["read"] == 130


async def test_box_of_a_running_and_a_stopped_devbox(client: Any, mock: respx.MockRouter) -> None:
    get = mock.get(DBX).mock(
        side_effect=[respond(json_body=devbox_json()), respond(json_body=devbox_json("stopped"))]
    )
    mock.get(f"/v1/hogboxes/{BOX_ID}").mock(return_value=respond(json_body=box_json()))
    devbox = hogland.Devbox if isinstance(client, hogland.Hogland) else hogland.AsyncDevbox
    handle = devbox(client, hogland.DevboxView.model_validate(devbox_json()))
    box = await run(handle.box())
    assert box.id == BOX_ID
    with pytest.raises(HoglandError, match="dev is stopped and has no box; start"):
        await run(handle.box())
    assert get.call_count == 2


async def test_proxy_url(make_client: Any) -> None:
    client = make_client(token="tok/secret")
    cls = hogland.Devbox if isinstance(client, hogland.Hogland) else hogland.AsyncDevbox
    devbox = cls(client, hogland.DevboxView.model_validate(devbox_json()))
    assert devbox.proxy_url(8080, "/rpc") == f"{BASE}{DBX}/proxy/8080/rpc"
    assert devbox.proxy_url(8080, token=True) == f"{BASE}{DBX}/proxy/8080/?token=tok%2Fsecret"
    assert devbox.proxy_headers() == {"Authorization": "Bearer tok/secret"}
    with pytest.raises(ValueError, match="port"):
        devbox.proxy_url(70000)


@pytest.mark.parametrize("cls", [hogland.Hogland, hogland.AsyncHogland])
def test_create_devbox_arguments_match_the_request_schema(cls: Any) -> None:
    """create_devbox takes exactly the server's CreateDevboxRequest fields, by the same names."""
    params = inspect.signature(cls.create_devbox).parameters
    fields = set(params) - {"self", "timeout", "extra_headers"}
    assert fields == set(CreateDevboxRequest.model_fields)
    assert params["name"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert all(
        p.kind is inspect.Parameter.KEYWORD_ONLY
        for n, p in params.items()
        if n not in ("self", "name")
    )


def test_create_devbox_needs_a_name() -> None:
    with (
        hogland.Hogland(token="t", base_url=BASE) as client,
        pytest.raises(ValueError, match="needs a name"),
    ):
        client.create_devbox("")
