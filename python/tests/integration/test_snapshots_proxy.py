"""Snapshots, aliases and the HTTP proxy against a real hogplane."""

from __future__ import annotations

import httpx
import pytest

import hogland
from hogland import ConflictError, NotFoundError, SnapshotAlias, SnapshotRecord

from .conftest import Plane, unique


def test_snapshot_alias_and_restore(client: hogland.Hogland) -> None:
    """The golden-image flow: bake, snapshot, alias, start task boxes from the alias."""
    # A shape other than the defaults, to see boxes from the snapshot take it.
    with client.create(image="busybox", name=unique("golden"), cpus=2, memory_mib=768) as golden:
        golden.write_file("/opt/setup-done", b"baked\n", mkdir=True)
        snap = golden.snapshot()
        assert isinstance(snap, SnapshotRecord)
        assert snap.id.startswith("snap-")
        assert (snap.box_id, snap.kind, snap.image) == (golden.id, "filesystem", "busybox")
        assert (snap.spec.cpus, snap.spec.memory_mib) == (2, 768)
        assert snap.size_bytes > 0
        assert snap.pause_ms >= 0
        assert snap.aliases == []
        assert golden.refresh().status == "running"

        alias = unique("golden")
        pointed = client.set_alias(snap.id, alias)
        assert isinstance(pointed, SnapshotAlias)
        assert (pointed.name, pointed.snapshot_id, pointed.previous_snapshot_id) == (
            alias,
            snap.id,
            None,
        )
        assert alias in {a.name for a in client.list_aliases().items}
        assert client.get_snapshot(snap.id).aliases == [alias]
        assert client.get_snapshot(f"alias:{alias}").id == snap.id
        assert [s.id for s in client.list_snapshots(box_id=golden.id).items] == [snap.id]
        assert [s.id for s in client.list_snapshots(alias=alias).items] == [snap.id]
        assert snap.id in {s.id for s in client.iter_snapshots(page_size=1)}

        tasks = [
            client.create(snapshot_id=f"alias:{alias}", access_type="none", kind="agent")
            for _ in range(2)
        ]
        try:
            for task in tasks:
                assert task.read_file("/opt/setup-done") == b"baked\n"
                assert task.view.snapshot_id == snap.id
                # No shape given: the snapshot's.
                assert (task.spec.cpus, task.spec.memory_mib, task.spec.image) == (
                    2,
                    768,
                    "busybox",
                )
            # Each box writes its own layer.
            tasks[0].write_file("/opt/mine", b"0")
            assert tasks[1].exec(["test", "-e", "/opt/mine"]).exit_code == 1

            with pytest.raises(ConflictError) as in_use:
                client.delete_snapshot(snap.id)
            assert in_use.value.dependents is not None
            assert sorted(in_use.value.dependents["boxes"]) == sorted(t.id for t in tasks)
            assert in_use.value.dependents["aliases"] == [alias]
        finally:
            for task in tasks:
                task.destroy()

        # The alias still stands on it.
        with pytest.raises(ConflictError) as aliased:
            client.delete_snapshot(snap.id)
        assert aliased.value.dependents == {"aliases": [alias]}

        client.delete_alias(snap.id, alias)
        assert alias not in {a.name for a in client.list_aliases().items}
        with pytest.raises(NotFoundError, match="alias"):
            client.create(snapshot_id=f"alias:{alias}")
        with pytest.raises(NotFoundError):
            client.get_snapshot(f"alias:{alias}")

        client.delete_snapshot(snap.id)
        with pytest.raises(NotFoundError):
            client.get_snapshot(snap.id)


def test_proxy_url_reaches_a_server_in_the_box(client: hogland.Hogland, plane: Plane) -> None:
    with client.create(image="busybox", access_type="none") as box:
        box.write_file("/www/index.html", b"hello from the box\n", mkdir=True)
        started = box.exec(["httpd", "-p", "127.0.0.1:8080", "-h", "/www"])
        assert started.exit_code == 0, started.stderr
        with httpx.Client(timeout=30) as http:
            with_header = http.get(box.proxy_url(8080, "index.html"), headers=box.proxy_headers())
            assert with_header.status_code == 200, with_header.text
            assert with_header.text == "hello from the box\n"

            with_query = http.get(box.proxy_url(8080, "/index.html", token=True))
            assert with_query.status_code == 200, with_query.text
            assert with_query.text == "hello from the box\n"

            anonymous = http.get(box.proxy_url(8080, "index.html"))
            assert anonymous.status_code == 401

            nothing_there = http.get(box.proxy_url(9, ""), headers=box.proxy_headers())
            assert nothing_there.status_code == 502


def test_preview_token_opens_one_port(client: hogland.Hogland) -> None:
    with client.create(image="busybox") as box:
        box.write_file("/www/index.html", b"preview\n", mkdir=True)
        assert box.exec(["httpd", "-p", "127.0.0.1:8081", "-h", "/www"]).exit_code == 0
        link = box.create_preview_token(8081, expires_in_seconds=300)
        assert link.token
        assert link.url
        with httpx.Client(timeout=30) as http:
            opened = http.get(link.url)
            assert opened.status_code == 200, opened.text
            assert opened.text == "preview\n"
            other_port = box.proxy_url(8080) + f"?token={link.token}"
            assert http.get(other_port).status_code in (401, 403)
            assert [t.id for t in box.list_preview_tokens().items] == [link.id]
            box.revoke_preview_token(link.id)
            assert http.get(link.url).status_code in (401, 403)
