"""An older SDK against a newer hogplane: values it does not know yet are read, not refused."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
import respx

from hogland.models import CreateDevboxRequest, CreateHogboxRequest, Devbox, Me, Snapshot

from .helpers import box_json, respond, run


async def test_unknown_box_status_and_id_format(client: Any, mock: respx.MockRouter) -> None:
    body = box_json(box_id="box-v2-0123456789abcdef", status="hibernating", access_type="team")
    mock.get("/v1/hogboxes/box-v2-0123456789abcdef").mock(return_value=respond(json_body=body))
    box = await run(client.get("box-v2-0123456789abcdef"))
    assert box.status == "hibernating"
    assert box.view.access_type == "team"
    assert box.id == "box-v2-0123456789abcdef"


async def test_known_values_still_read(client: Any, mock: respx.MockRouter) -> None:
    mock.get("/v1/hogboxes").mock(
        return_value=respond(json_body={"items": [box_json(status="paused")]})
    )
    page = await run(client.list())
    assert [b.status for b in page] == ["paused"]


async def test_unknown_auth_path(client: Any, mock: respx.MockRouter) -> None:
    mock.get("/v1/me").mock(
        return_value=respond(
            json_body={
                "principal": {
                    "id": "prn-1",
                    "name": "ci",
                    "kind": "robot",
                    "admin": False,
                    "created_at": "2026-11-26T12:00:00Z",
                },
                "auth_path": "saml",
                "subject": "ci@example.com",
            }
        )
    )
    me = await run(client.me())
    assert isinstance(me, Me)
    assert (me.auth_path, me.principal.kind, me.subject) == ("saml", "robot", "ci@example.com")


def test_unknown_snapshot_kind_and_devbox_status() -> None:
    snap = Snapshot.model_validate(
        {
            "id": "snap-0123456789ab",
            "box_id": "box-0123456789ab",
            "kind": "vm-memory",
            "image": "debian",
            "spec": {"cpus": 1, "memory_mib": 512, "disk_gib": 5},
            "size_bytes": 1,
            "pause_ms": 0,
            "duration_ms": 1,
            "depth": 1,
            "digest": "sha256:00",
            "aliases": [],
            "owner_id": "prn-1",
            "created_at": "2026-11-26T12:00:00Z",
        }
    )
    assert snap.kind == "vm-memory"
    devbox = Devbox.model_validate(
        {
            "id": "dbx-0123456789ab",
            "name": "dev",
            "status": "sleeping",
            "image": "debian",
            "spec": {"cpus": 1, "memory_mib": 512, "disk_gib": 5},
            "env": {},
            "auto_stop_seconds": 60,
            "auto_start": True,
            "owner_id": "prn-1",
            "created_at": "2026-11-26T12:00:00Z",
            "updated_at": "2026-11-26T12:00:00Z",
        }
    )
    assert devbox.status == "sleeping"


def test_request_models_stay_strict() -> None:
    """What the SDK sends is checked: only the server's known values."""
    assert CreateHogboxRequest(access_type="public").access_type == "public"
    with pytest.raises(pydantic.ValidationError):
        CreateHogboxRequest(access_type="everyone")  # ty: ignore[invalid-argument-type]
    with pytest.raises(pydantic.ValidationError):
        CreateDevboxRequest(name="dev", unknown_field=1)  # ty: ignore[unknown-argument]
