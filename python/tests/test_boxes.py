"""Box calls: what is sent, what comes back, context managers, pagination, snapshots."""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

import hogland
from hogland import (
    ConflictError,
    ExecResult,
    Hogbox,
    HogboxList,
    NotFoundError,
    SnapshotAlias,
    SnapshotList,
    SnapshotRecord,
    ValidationError,
)
from hogland.models import Snapshot

from .helpers import BASE, box_json, collect, problem, respond, run, stub_box

BOX_ID = "box-0123456789ab"
BOX = f"/v1/hogboxes/{BOX_ID}"

EXEC_RESULT = {
    "exit_code": 0,
    "stdout": "hi\n",
    "stderr": "",
    "stdout_truncated": False,
    "stderr_truncated": False,
    "timed_out": False,
    "duration_ms": 3,
}

SNAPSHOT = {
    "id": "snap-0123456789ab",
    "box_id": BOX_ID,
    "kind": "filesystem",
    "image": "debian",
    "spec": {"cpus": 2, "memory_mib": 2048, "disk_gib": 10},
    "size_bytes": 12345,
    "pause_ms": 42,
    "duration_ms": 80,
    "depth": 1,
    "digest": "sha256:" + "ab" * 32,
    "aliases": ["golden"],
    "owner_id": "prn-1",
    "created_at": "2026-11-26T12:00:00Z",
}
SNAP = "/v1/snapshots/snap-0123456789ab"


async def test_create_sends_only_given_fields(client: Any, mock: respx.MockRouter) -> None:
    route = mock.post("/v1/hogboxes").mock(return_value=respond(201, json_body=box_json()))
    box = await run(
        client.create(
            snapshot_id="alias:golden",
            access_type="none",
            name="task-1",
            kind="agent",
            ttl_seconds=600,
            env={"K": "v"},
            tags=["team=agents"],
            cpus=2,
            memory_mib=2048,
            disk_gib=10,
            image="debian",
        )
    )
    assert isinstance(box, hogland.Hogbox | hogland.AsyncHogbox)
    assert box.id == BOX_ID
    assert box.status == "running"
    assert box.view.spec.cpus == 1
    assert box.spec.memory_mib == 1024
    assert json.loads(route.calls.last.request.content) == {
        "name": "task-1",
        "kind": "agent",
        "image": "debian",
        "snapshot_id": "alias:golden",
        "cpus": 2,
        "memory_mib": 2048,
        "disk_gib": 10,
        "ttl_seconds": 600,
        "env": {"K": "v"},
        "tags": ["team=agents"],
        "access_type": "none",
    }
    await run(client.create())
    assert json.loads(route.calls.last.request.content) == {}


def test_create_arguments_are_keyword_only() -> None:
    with hogland.Hogland(token="t", base_url=BASE) as client, pytest.raises(TypeError):
        client.create("name")  # ty: ignore[too-many-positional-arguments]


async def test_unknown_server_fields_are_kept(client: Any, mock: respx.MockRouter) -> None:
    mock.get(BOX).mock(
        return_value=respond(json_body=box_json(region="eu", spec={**box_json()["spec"], "gpu": 1}))
    )
    box = await run(client.get(BOX_ID))
    assert box.view.model_extra == {"region": "eu"}
    assert box.view.spec.model_extra == {"gpu": 1}
    assert box.view.created_at.microsecond == 123456  # nanoseconds from Go are fine


async def test_box_context_manager_destroys(client: Any, mock: respx.MockRouter) -> None:
    mock.post("/v1/hogboxes").mock(return_value=respond(201, json_body=box_json()))
    delete = mock.delete(BOX).mock(return_value=respond(204))
    if isinstance(client, hogland.AsyncHogland):
        async with await client.create() as box:
            assert box.id == BOX_ID
    else:
        with client.create() as box:
            assert box.id == BOX_ID
    assert delete.call_count == 1


async def test_box_context_manager_ignores_an_already_gone_box(
    client: Any, mock: respx.MockRouter
) -> None:
    mock.delete(BOX).mock(return_value=problem(404, "no such box"))
    box = stub_box(client)
    if isinstance(client, hogland.AsyncHogland):
        async with box:
            pass
    else:
        with box:
            pass
    with pytest.raises(NotFoundError):
        await run(box.destroy())


async def test_lifecycle_updates_the_view(client: Any, mock: respx.MockRouter) -> None:
    mock.post(BOX + "/pause").mock(return_value=respond(json_body=box_json(status="paused")))
    mock.post(BOX + "/resume").mock(return_value=respond(json_body=box_json(status="running")))
    mock.get(BOX).mock(
        return_value=respond(json_body=box_json(status="stopped", termination_reason="oom"))
    )
    patch = mock.patch(BOX).mock(
        return_value=respond(
            json_body=box_json(tags=["a=b"], spec={**box_json()["spec"], "name": "n"})
        )
    )
    delete = mock.delete(BOX).mock(side_effect=lambda _: respond(204))
    box = stub_box(client)
    assert (await run(box.pause())) is box
    assert box.status == "paused"
    await run(box.resume())
    assert box.status == "running"
    await run(box.update(name="n", tags=["a=b"], ttl_seconds=60))
    assert json.loads(patch.calls.last.request.content) == {
        "name": "n",
        "tags": ["a=b"],
        "ttl_seconds": 60,
    }
    assert box.name == "n"
    assert box.tags == ["a=b"]
    await run(box.refresh())
    assert box.status == "stopped"
    assert box.termination_reason == "oom"
    assert await run(box.delete()) is None
    await run(box.destroy())
    assert delete.call_count == 2
    assert repr(box) == f"{type(box).__name__}(id='{BOX_ID}', status='stopped')"


async def test_exec(client: Any, mock: respx.MockRouter) -> None:
    route = mock.post(BOX + "/exec").mock(return_value=respond(json_body=EXEC_RESULT))
    result = await run(
        stub_box(client).exec(
            ["python3", "/app/run.py"],
            timeout_seconds=300,
            env={"A": "1"},
            workdir="/app",
            stdin=b"input",
        )
    )
    assert isinstance(result, ExecResult)
    assert (result.exit_code, result.stdout, result.timed_out, result.duration_ms) == (
        0,
        "hi\n",
        False,
        3,
    )
    request = route.calls.last.request
    assert json.loads(request.content) == {
        "argv": ["python3", "/app/run.py"],
        "timeout_seconds": 300,
        "env": {"A": "1"},
        "workdir": "/app",
        "stdin": "input",
    }
    # The HTTP read timeout covers the command's own timeout.
    assert request.extensions["timeout"]["read"] == 330


async def test_exec_per_call_timeout_wins(client: Any, mock: respx.MockRouter) -> None:
    route = mock.post(BOX + "/exec").mock(return_value=respond(json_body=EXEC_RESULT))
    await run(stub_box(client).exec(["true"], timeout=5, extra_headers={"X-A": "b"}))
    request = route.calls.last.request
    assert request.extensions["timeout"]["read"] == 5
    assert request.headers["X-A"] == "b"


def test_exec_argv_checks() -> None:
    with hogland.Hogland(token="t", base_url=BASE) as client:
        box = stub_box(client)
        with pytest.raises(TypeError, match="list of strings"):
            box.exec("echo hi")
        with pytest.raises(ValueError, match="name a command"):
            box.exec([])


async def test_validation_error(client: Any, mock: respx.MockRouter) -> None:
    mock.post("/v1/hogboxes").mock(return_value=problem(400, 'unknown kind "nope"'))
    with pytest.raises(ValidationError, match="unknown kind"):
        await run(client.create(kind="nope"))


async def test_me_and_limits(client: Any, mock: respx.MockRouter) -> None:
    mock.get("/v1/me").mock(
        return_value=respond(
            json_body={
                "principal": {
                    "id": "prn-1",
                    "name": "admin",
                    "kind": "user",
                    "admin": True,
                    "created_at": "2026-11-26T12:00:00Z",
                },
                "auth_path": "api_token",
                "token_id": "tid-1",
            }
        )
    )
    rng = {"min": 1, "max": 8, "default": 1}
    mock.get("/v1/limits").mock(
        return_value=respond(
            json_body={
                "cpus": rng,
                "memory_mib": rng,
                "disk_gib": rng,
                "ttl_seconds": rng,
                "exec_timeout_seconds": rng,
                "file_size_bytes": rng,
                "exec_output_bytes": 1 << 20,
                "images": ["debian", "busybox"],
                "kinds": [{"name": "agent", "default_ttl_seconds": 3600}],
                "quota": {
                    "max_boxes": 10,
                    "max_cpus": 16,
                    "max_memory_mib": 65536,
                    "max_snapshot_bytes": 1 << 30,
                },
                "usage": {"boxes": 1, "cpus": 1, "memory_mib": 1024, "snapshot_bytes": 0},
                "rate_limit": {
                    "requests_per_second": 20.0,
                    "requests_burst": 40,
                    "creates_per_second": 0,
                    "creates_burst": 0,
                },
            }
        )
    )
    me = await run(client.me())
    assert me.principal.admin is True
    assert me.auth_path == "api_token"
    limits = await run(client.limits())
    assert limits.images == ["debian", "busybox"]
    assert limits.kinds[0].default_ttl_seconds == 3600


async def test_list_one_page(client: Any, mock: respx.MockRouter) -> None:
    route = mock.get("/v1/hogboxes").mock(
        return_value=respond(
            json_body={
                "items": [box_json("box-000000000001"), box_json("box-000000000002")],
                "next_cursor": "c2",
            }
        )
    )
    page = await run(
        client.list(limit=2, cursor="c1", status=["running", "paused"], tags=["a=b", "c=d"])
    )
    assert isinstance(page, HogboxList)
    assert [b.id for b in page] == ["box-000000000001", "box-000000000002"]
    assert len(page) == 2
    assert page.next_cursor == "c2"
    assert page.has_more
    assert route.calls.last.request.url.query == (
        b"limit=2&cursor=c1&status=running&status=paused&tag=a%3Db&tag=c%3Dd"
    )
    # The items are handles: they can be called.
    handle = page.items[0]
    assert isinstance(handle, Hogbox | hogland.AsyncHogbox)


async def test_iter_boxes_walks_every_page(client: Any, mock: respx.MockRouter) -> None:
    pages = {
        None: (["box-000000000001", "box-000000000002"], "c2"),
        "c2": (["box-000000000003"], "c3"),
        "c3": ([], None),
    }

    def page(request: Any) -> Any:
        ids, cursor = pages[request.url.params.get("cursor")]
        body: dict[str, Any] = {"items": [box_json(i) for i in ids]}
        if cursor:
            body["next_cursor"] = cursor
        return respond(json_body=body)

    route = mock.get("/v1/hogboxes").mock(side_effect=page)
    ids = [b.id for b in await collect(client.iter_boxes(status="running", page_size=2))]
    assert ids == ["box-000000000001", "box-000000000002", "box-000000000003"]
    assert route.call_count == 3
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"limit": "2", "status": "running"},
        {"limit": "2", "cursor": "c2", "status": "running"},
        {"limit": "2", "cursor": "c3", "status": "running"},
    ]


async def test_snapshot(client: Any, mock: respx.MockRouter) -> None:
    route = mock.post(BOX + "/snapshot").mock(return_value=respond(201, json_body=SNAPSHOT))
    snap = await run(stub_box(client).snapshot())
    assert isinstance(snap, SnapshotRecord)
    assert isinstance(snap, Snapshot)
    assert (snap.id, snap.size_bytes, snap.pause_ms) == ("snap-0123456789ab", 12345, 42)
    assert snap.spec.cpus == 2
    assert snap.aliases == ["golden"]
    assert route.calls.last.request.content == b"{}"


async def test_snapshot_helpers(client: Any, mock: respx.MockRouter) -> None:
    other = {**SNAPSHOT, "id": "snap-111111111111", "aliases": [], "extra": True}
    mock.get(SNAP).mock(return_value=respond(json_body=SNAPSHOT))
    listing = mock.get("/v1/snapshots").mock(
        side_effect=lambda request: respond(
            json_body={"items": [SNAPSHOT], "next_cursor": "n"}
            if "cursor" not in request.url.params
            else {"items": [other]}
        )
    )
    delete = mock.delete(SNAP).mock(return_value=respond(204))
    alias = {
        "name": "golden",
        "snapshot_id": SNAPSHOT["id"],
        "updated_at": "2026-11-26T12:00:00Z",
        "previous_snapshot_id": "snap-111111111111",
    }
    put_alias = mock.put(SNAP + "/aliases/golden").mock(return_value=respond(json_body=alias))
    del_alias = mock.delete(SNAP + "/aliases/golden").mock(return_value=respond(204))
    mock.get("/v1/snapshot-aliases").mock(return_value=respond(json_body={"items": [alias]}))

    assert (await run(client.get_snapshot(SNAPSHOT["id"]))).id == SNAPSHOT["id"]
    page = await run(client.list_snapshots(limit=1, box_id=BOX_ID))
    assert isinstance(page, SnapshotList)
    assert page.next_cursor == "n"
    assert dict(listing.calls.last.request.url.params) == {"limit": "1", "box_id": BOX_ID}
    ids = [s.id for s in await collect(client.iter_snapshots())]
    assert ids == [SNAPSHOT["id"], "snap-111111111111"]

    moved = await run(client.set_alias(SNAPSHOT["id"], "golden"))
    assert isinstance(moved, SnapshotAlias)
    assert moved.previous_snapshot_id == "snap-111111111111"
    aliases = await run(client.list_aliases())
    assert [(a.name, a.snapshot_id) for a in aliases.items] == [("golden", SNAPSHOT["id"])]
    assert await run(client.delete_alias(SNAPSHOT["id"], "golden")) is None
    assert await run(client.delete_snapshot(SNAPSHOT["id"])) is None
    assert (put_alias.call_count, del_alias.call_count, delete.call_count) == (1, 1, 1)


async def test_get_snapshot_by_alias(client: Any, mock: respx.MockRouter) -> None:
    """hogplane's GET /v1/snapshots/{id} takes ids only: aliases go through the list filter."""
    listing = mock.get("/v1/snapshots").mock(
        side_effect=lambda request: respond(
            json_body={"items": [SNAPSHOT] if request.url.params["alias"] == "golden" else []}
        )
    )
    snap = await run(client.get_snapshot("alias:golden"))
    assert snap.id == SNAPSHOT["id"]
    assert dict(listing.calls.last.request.url.params) == {"limit": "1", "alias": "golden"}
    with pytest.raises(NotFoundError, match="alias nope not found"):
        await run(client.get_snapshot("alias:nope"))


async def test_delete_snapshot_in_use_names_dependents(client: Any, mock: respx.MockRouter) -> None:
    dependents = {"boxes": [BOX_ID], "aliases": ["golden"]}
    mock.delete(SNAP).mock(return_value=problem(409, "snapshot is in use", dependents=dependents))
    with pytest.raises(ConflictError) as caught:
        await run(client.delete_snapshot(SNAPSHOT["id"]))
    assert caught.value.dependents == dependents
    assert caught.value.retry_after is None


async def test_box_events(client: Any, mock: respx.MockRouter) -> None:
    route = mock.get(BOX + "/events").mock(
        return_value=respond(
            json_body={
                "items": [
                    {
                        "seq": 2,
                        "box_id": BOX_ID,
                        "at": "2026-11-26T12:00:00Z",
                        "type": "paused",
                        "status": "paused",
                    }
                ]
            }
        )
    )
    events = await run(stub_box(client).events(after=1))
    assert [e.type for e in events.items] == ["paused"]
    assert route.calls.last.request.url.params["after"] == "1"


@pytest.mark.parametrize(
    ("args", "kwargs", "want"),
    [
        ((8080,), {}, f"{BASE}{BOX}/proxy/8080/"),
        ((8080, "/rpc"), {}, f"{BASE}{BOX}/proxy/8080/rpc"),
        ((3000, "a/b?x=1"), {"token": True}, f"{BASE}{BOX}/proxy/3000/a/b?x=1&token=tok%2Fsecret"),
        ((3000,), {"token": True}, f"{BASE}{BOX}/proxy/3000/?token=tok%2Fsecret"),
    ],
)
async def test_proxy_url(
    make_client: Any, args: tuple[Any, ...], kwargs: dict[str, Any], want: str
) -> None:
    client = make_client(token="tok/secret")
    box = stub_box(client)
    assert box.proxy_url(*args, **kwargs) == want
    assert box.proxy_headers() == {"Authorization": "Bearer tok/secret"}


def test_proxy_url_checks_the_port() -> None:
    with (
        hogland.Hogland(token="t", base_url=BASE) as client,
        pytest.raises(ValueError, match="port"),
    ):
        stub_box(client).proxy_url(0)


async def test_client_context_managers(mode: str) -> None:
    if mode == "sync":
        with hogland.Hogland(token="t", base_url=BASE) as client:
            assert repr(client) == f"Hogland(base_url='{BASE}')"
        assert client._transport.client.is_closed
    else:
        async with hogland.AsyncHogland(token="t", base_url=BASE) as aclient:
            assert repr(aclient) == f"AsyncHogland(base_url='{BASE}')"
        assert aclient._transport.client.is_closed


def test_a_given_http_client_is_not_closed() -> None:
    import httpx

    http = httpx.Client()
    with hogland.Hogland(token="t", base_url=BASE, http_client=http):
        pass
    assert not http.is_closed
    http.close()


async def test_preview_tokens(client: Any, mock: respx.MockRouter) -> None:
    token = {
        "id": "ptk-1",
        "box_id": BOX_ID,
        "port": 3000,
        "token": "ptk_secret",
        "url": f"{BASE}{BOX}/proxy/3000/?token=ptk_secret",
        "created_at": "2026-11-26T12:00:00Z",
        "expires_at": "2026-11-26T13:00:00Z",
    }
    create = mock.post(BOX + "/proxy-tokens").mock(return_value=respond(201, json_body=token))
    mock.get(BOX + "/proxy-tokens").mock(
        return_value=respond(json_body={"items": [{**token, "token": None, "url": None}]})
    )
    revoke = mock.delete(BOX + "/proxy-tokens/ptk-1").mock(return_value=respond(204))
    box = stub_box(client)
    made = await run(box.create_preview_token(3000, expires_in_seconds=600))
    assert (made.token, made.port) == ("ptk_secret", 3000)
    assert json.loads(create.calls.last.request.content) == {
        "port": 3000,
        "expires_in_seconds": 600,
    }
    listed = await run(box.list_preview_tokens())
    assert [t.id for t in listed.items] == ["ptk-1"]
    assert listed.items[0].token is None
    assert await run(box.revoke_preview_token("ptk-1")) is None
    assert revoke.call_count == 1
