"""Devboxes against a real hogplane: a disk that outlives stop and start."""

from __future__ import annotations

import httpx
import pytest

import hogland
from hogland import ConflictError, Devbox, NotFoundError

from .conftest import unique


def test_devbox_keeps_its_disk_across_stop_and_start(client: hogland.Hogland) -> None:
    name = unique("dev")
    devbox = client.create_devbox(name, image="busybox", auto_stop_seconds=600, env={"WHO": "dev"})
    try:
        assert isinstance(devbox, Devbox)
        assert devbox.id.startswith("dbx-")
        assert (devbox.name, devbox.status, devbox.auto_start) == (name, "running", True)
        assert devbox.auto_stop_seconds == 600
        first_box = devbox.box_id
        assert first_box

        box = devbox.box()
        assert box.id == first_box
        box.write_file("/root/notes.txt", b"kept\n", mode=0o600)
        said = devbox.exec(["sh", "-c", "echo $WHO; cat /root/notes.txt"])
        assert (said.exit_code, said.stdout) == (0, "dev\nkept\n")

        assert devbox.stop() is devbox
        assert (devbox.status, devbox.box_id) == ("stopped", None)
        assert devbox.view.snapshot_id
        with pytest.raises(hogland.HoglandError, match="start"):
            devbox.box()
        assert devbox.stop().status == "stopped"  # harmless when stopped

        devbox.start()
        assert devbox.status == "running"
        assert devbox.box_id not in (None, first_box)
        again = devbox.box()
        assert again.read_file("/root/notes.txt") == b"kept\n"

        # By name, in the list, and its history.
        assert client.get_devbox(name).id == devbox.id
        assert devbox.id in {d.id for d in client.iter_devboxes()}
        kinds = [e.type for e in devbox.events().items]
        assert kinds[0] == "created"
        assert "stopped" in kinds
        assert kinds.count("started") >= 1

        # Every stop below follows a change to the disk: hogplane cannot yet
        # start a box whose snapshot chain holds two identical layers (two
        # stops with nothing written between them), a server bug reported
        # separately; these tests are about the SDK.
        # A stopped devbox with auto_start starts for an exec.
        devbox.exec(["sh", "-c", "echo 2 > /root/generation"])
        devbox.stop()
        woke = devbox.exec(["cat", "/root/notes.txt", "/root/generation"])
        assert woke.stdout == "kept\n2\n"
        assert devbox.refresh().status == "running"
        assert "auto_started" in [e.type for e in devbox.events().items]

        # Without auto_start it does not.
        devbox.exec(["sh", "-c", "echo 3 > /root/generation"])
        devbox.update(auto_start=False)
        assert devbox.auto_start is False
        devbox.stop()
        with pytest.raises(ConflictError, match="auto_start"):
            devbox.exec(["true"])
        devbox.start()

        # The proxy reaches a server in it.
        again = devbox.box()
        again.write_file("/www/index.html", b"from the devbox\n", mkdir=True)
        assert again.exec(["httpd", "-p", "127.0.0.1:8082", "-h", "/www"]).exit_code == 0
        with httpx.Client(timeout=30) as http:
            page = http.get(devbox.proxy_url(8082, "index.html"), headers=devbox.proxy_headers())
            assert (page.status_code, page.text) == (200, "from the devbox\n")
            assert http.get(devbox.proxy_url(8082, "index.html", token=True)).status_code == 200
    finally:
        client.delete_devbox(devbox.id)
    with pytest.raises(NotFoundError):
        client.get_devbox(name)


def test_devbox_name_is_unique(client: hogland.Hogland) -> None:
    name = unique("dev")
    devbox = client.create_devbox(name, image="busybox")
    try:
        with pytest.raises(ConflictError):
            client.create_devbox(name, image="busybox")
    finally:
        devbox.delete()


async def test_async_devbox(aclient: hogland.AsyncHogland) -> None:
    devbox = await aclient.create_devbox(unique("adev"), image="busybox")
    try:
        box = await devbox.box()
        await box.write_file("/root/a", b"async\n")
        await devbox.stop()
        assert devbox.status == "stopped"
        await devbox.start()
        assert (await (await devbox.box()).read_file("/root/a")) == b"async\n"
        assert (await devbox.exec(["cat", "/root/a"])).stdout == "async\n"
        assert [d.id async for d in aclient.iter_devboxes()].count(devbox.id) == 1
    finally:
        await devbox.delete()
