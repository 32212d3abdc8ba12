"""Directory trees both ways against a real hogplane: modes, links and contents round-trip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import hogland
from hogland import ArchiveInfo, ValidationError

from ..helpers import describe

MTIME = 1_700_000_000


def make_tree(root: Path) -> Path:
    root.mkdir()
    root.chmod(0o750)
    (root / "bin").mkdir()
    (root / "bin" / "run.sh").write_bytes(b"#!/bin/sh\necho ran\n")
    (root / "bin" / "run.sh").chmod(0o755)
    (root / "secret").write_bytes(b"s3cret\n")
    (root / "secret").chmod(0o600)
    (root / "shared").write_bytes(b"shared\n")
    (root / "shared").chmod(0o664)
    (root / "private").mkdir()
    (root / "private").chmod(0o700)
    (root / "private" / "deep").mkdir()
    (root / "private" / "deep" / "data.bin").write_bytes(os.urandom(3 << 20))
    (root / "ro").mkdir()
    (root / "ro" / "frozen").write_bytes(b"frozen\n")
    (root / "ro" / "frozen").chmod(0o444)
    (root / "ro").chmod(0o555)
    (root / "empty").mkdir()
    (root / "link").symlink_to("bin/run.sh")
    os.link(root / "secret", root / "secret-again")
    for path in [*root.rglob("*"), root]:
        os.utime(path, (MTIME, MTIME), follow_symlinks=False)
    return root


def in_box(box: hogland.Hogbox, path: str) -> str:
    listing = box.exec(["sh", "-c", f"cd {path} && find . | sort | xargs stat -c '%a %F %n'"])
    assert listing.exit_code == 0, listing.stderr
    return listing.stdout


def test_a_tree_round_trips_both_ways(client: hogland.Hogland, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    with client.create(image="busybox") as box:
        sent = box.upload_dir(src, "/work/app")
        assert isinstance(sent, ArchiveInfo)
        assert (sent.files, sent.dirs, sent.symlinks) == (6, 6, 1)
        assert sent.bytes == (3 << 20) + len(b"#!/bin/sh\necho ran\n") + 7 + 7 + 7

        modes = in_box(box, "/work/app")
        for line in [
            "750 directory .",
            "755 regular file ./bin/run.sh",
            "600 regular file ./secret",
            "664 regular file ./shared",
            "700 directory ./private",
            "555 directory ./ro",
            "444 regular file ./ro/frozen",
            "777 symbolic link ./link",
        ]:
            assert line in modes.splitlines(), modes
        assert box.exec(["/work/app/link"]).stdout == "ran\n"
        same = box.exec(["sh", "-c", "stat -c %i /work/app/secret /work/app/secret-again"])
        assert len(set(same.stdout.split())) == 1

        back = tmp_path / "back"
        got = box.download_dir("/work/app", back)
        assert (got.files, got.dirs, got.symlinks) == (6, 6, 1)
        assert describe(back) == describe(src)
        assert (back / "secret").stat().st_ino == (back / "secret-again").stat().st_ino

        # Uploading again replaces files and keeps others.
        (src / "secret").chmod(0o644)
        (src / "secret").write_bytes(b"new\n")
        box.exec(["touch", "/work/app/extra"])
        box.upload_dir(src, "/work/app")
        assert box.read_file("/work/app/secret") == b"new\n"
        assert box.exec(["test", "-e", "/work/app/extra"]).exit_code == 0

        # The server refuses a tar that leaves its directory.
        with pytest.raises(ValidationError, match=r"\.\."):
            box.write_archive("/work/app", _tar_with("../escape"))
        with pytest.raises(hogland.ArchiveError, match="use download"):
            box.download_dir("/work/app/secret", tmp_path / "file")
    for path in (back / "ro", src / "ro"):
        path.chmod(0o755)


def _tar_with(name: str) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    return buf.getvalue()


async def test_async_round_trip(aclient: hogland.AsyncHogland, tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    async with await aclient.create(image="busybox") as box:
        await box.upload_dir(src, "/srv/tree")
        back = tmp_path / "back"
        got = await box.download_dir("/srv/tree", back)
        assert got.files == 6
        assert describe(back) == describe(src)
    for path in (back / "ro", src / "ro"):
        path.chmod(0o755)
