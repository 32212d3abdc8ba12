"""Directory trees as tar streams: made from local directories, unpacked safely, sent, fetched."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from hogland import APIConnectionError, ArchiveError, ArchiveInfo
from hogland._archive import extract, iter_tar, reader

from .helpers import describe, respond, run, stub_box

ARCHIVE = "/v1/hogboxes/box-0123456789ab/archive"
MTIME = 1_700_000_000


def make_tree(root: Path) -> Path:
    """A small tree with every kind of entry the SDK carries, and modes to keep."""
    root.mkdir()
    (root / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    (root / "conf").mkdir()
    (root / "conf" / "secret").write_bytes(b"s3cret\n")
    (root / "conf" / "secret").chmod(0o600)
    (root / "conf" / "shared").write_bytes(b"group-writable\n")
    (root / "conf" / "shared").chmod(0o664)
    (root / "conf").chmod(0o750)
    (root / "empty").mkdir(mode=0o700)
    (root / "empty").chmod(0o700)
    (root / "big.bin").write_bytes(bytes(range(256)) * 9000)  # > 2 MB: several chunks
    (root / "link").symlink_to("conf/secret")
    (root / "dangling").symlink_to("/nowhere/at/all")
    os.link(root / "run.sh", root / "run-again.sh")
    os.mkfifo(root / "fifo")  # left out
    for path in [*root.rglob("*"), root]:
        os.utime(path, (MTIME, MTIME), follow_symlinks=False)
    return root


def tar_of(*entries: tuple[str, str, Any], mode: int = 0o644) -> bytes:
    """A tar built entry by entry: (name, kind, content or link target)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, value in entries:
            info = tarfile.TarInfo(name)
            info.mtime = MTIME
            info.mode = mode
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif kind == "file":
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, value
                tar.addfile(info)
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, value
                tar.addfile(info)
            elif kind == "chardev":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
                tar.addfile(info)
    return buf.getvalue()


def unpack(data: bytes, dest: Path, remote: str = "/work/src") -> ArchiveInfo:
    return extract(io.BytesIO(data), dest, remote=remote)


def test_iter_tar_streams_the_tree(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    chunks = list(iter_tar(src, chunk_size=64 << 10))
    assert len(chunks) > 3
    assert all(len(c) <= (64 << 10) + 2 * 512 + (64 << 10) for c in chunks)
    with tarfile.open(fileobj=io.BytesIO(b"".join(chunks)), mode="r") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert tar.getmembers()[0].name == "."
        assert members["."].isdir()
        assert "fifo" not in members
        assert members["conf"].mode == 0o750
        assert members["conf/secret"].mode == 0o600
        assert members["link"].issym()
        assert members["link"].linkname == "conf/secret"
        # Names sort "run-again.sh" first: it holds the bytes, "run.sh" links to it.
        assert members["run-again.sh"].isreg()
        assert members["run.sh"].islnk()
        assert members["run.sh"].linkname == "run-again.sh"
        assert members["big.bin"].size == 256 * 9000
        assert all(m.mtime == MTIME for m in members.values())
        extracted = tar.extractfile("conf/secret")
        assert extracted is not None
        assert extracted.read() == b"s3cret\n"


def test_iter_tar_checks_its_argument_at_once(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        iter_tar(tmp_path / "missing")


def test_round_trip_keeps_modes_links_and_mtimes(tmp_path: Path) -> None:
    src = make_tree(tmp_path / "src")
    dest = tmp_path / "dest"
    info = extract(reader(iter_tar(src, chunk_size=4096)), dest, remote="/work/src")
    assert (src / "fifo").exists()
    assert describe(dest) == describe(src)
    assert not (dest / "fifo").exists()
    assert (dest / "run.sh").stat().st_ino == (dest / "run-again.sh").stat().st_ino
    # run.sh, its hard link, conf/secret, conf/shared, big.bin; ., conf, empty.
    assert (info.files, info.dirs, info.symlinks) == (5, 3, 2)
    # A hard link's bytes are written once.
    stats = [p.lstat() for p in src.rglob("*")]
    regular = {st.st_ino: st.st_size for st in stats if stat.S_ISREG(st.st_mode)}
    assert info.bytes == sum(regular.values())


def test_a_read_only_directory_is_filled_before_it_closes(tmp_path: Path) -> None:
    data = tar_of(("src/", "dir", None), ("src/ro/", "dir", None), ("src/ro/f", "file", b"x"))
    # Make ro read-only in the archive.
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as out, tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in members:
            if m.name == "src/ro":
                m.mode = 0o500
            out.addfile(m, tar.extractfile(m) if m.isreg() else None)
    unpack(buf.getvalue(), tmp_path / "d")
    assert stat.S_IMODE((tmp_path / "d" / "ro").stat().st_mode) == 0o500
    assert (tmp_path / "d" / "ro" / "f").read_bytes() == b"x"
    (tmp_path / "d" / "ro").chmod(0o700)


def test_the_archive_root_becomes_the_destination(tmp_path: Path) -> None:
    data = tar_of(("src/", "dir", None), ("src/a/", "dir", None), ("src/a/b.txt", "file", b"b"))
    info = unpack(data, tmp_path / "out")
    assert (tmp_path / "out" / "a" / "b.txt").read_bytes() == b"b"
    assert info.path == str(tmp_path / "out")
    # An archive of / names its entries ./...
    unpack(tar_of(("./", "dir", None), ("./etc/", "dir", None)), tmp_path / "root", remote="/")
    assert (tmp_path / "root" / "etc").is_dir()


def test_setuid_and_setgid_are_dropped(tmp_path: Path) -> None:
    data = tar_of(("src/", "dir", None), ("src/su", "file", b"x"), mode=0o6755)
    unpack(data, tmp_path / "d")
    assert stat.S_IMODE((tmp_path / "d" / "su").stat().st_mode) == 0o755


@pytest.mark.parametrize(
    ("entries", "why"),
    [
        ([("src/", "dir", None), ("/etc/evil", "file", b"x")], "absolute name"),
        ([("src/", "dir", None), ("src/../../evil", "file", b"x")], r"'\.\.' part"),
        ([("src/", "dir", None), ("other/evil", "file", b"x")], "outside the archive's root"),
        ([("src/", "dir", None), ("src/h", "hardlink", "/etc/passwd")], "absolute name"),
        ([("src/", "dir", None), ("src/h", "hardlink", "src/../x")], r"'\.\.' part"),
        ([("src/", "dir", None), ("src/h", "hardlink", "src/later")], "not extracted before"),
        ([("src/", "dir", None), ("src/null", "chardev", None)], "device nodes"),
        ([("src/", "dir", None), ("src/s", "symlink", "")], "bad target"),
    ],
)
def test_unsafe_entries_are_refused(
    tmp_path: Path, entries: list[tuple[str, str, Any]], why: str
) -> None:
    with pytest.raises(ArchiveError, match=why):
        unpack(tar_of(*entries), tmp_path / "d")
    assert not (tmp_path / "evil").exists()


def test_nothing_is_written_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    data = tar_of(
        ("src/", "dir", None),
        ("src/link", "symlink", str(outside)),
        ("src/link/pwned", "file", b"x"),
    )
    with pytest.raises(ArchiveError, match="symlink"):
        unpack(data, tmp_path / "d")
    assert list(outside.iterdir()) == []
    # The link itself was made: only following it is refused.
    assert os.readlink(tmp_path / "d" / "link") == str(outside)


def test_symlinks_already_in_the_destination_are_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_bytes(b"original")
    dest = tmp_path / "d"
    dest.mkdir()
    (dest / "dir").symlink_to(outside)
    (dest / "file").symlink_to(outside / "victim")
    data = tar_of(
        ("src/", "dir", None),
        ("src/dir/", "dir", None),
        ("src/dir/new", "file", b"inside"),
        ("src/file", "file", b"replaced"),
    )
    unpack(data, dest)
    assert (outside / "victim").read_bytes() == b"original"
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]
    assert (dest / "dir" / "new").read_bytes() == b"inside"
    assert not (dest / "dir").is_symlink()
    assert (dest / "file").read_bytes() == b"replaced"
    assert not (dest / "file").is_symlink()


def test_a_hard_link_source_replaced_by_a_symlink_is_refused(tmp_path: Path) -> None:
    data = tar_of(
        ("src/", "dir", None),
        ("src/a", "file", b"a"),
        ("src/a", "symlink", "/etc/passwd"),
        ("src/b", "hardlink", "src/a"),
    )
    with pytest.raises(ArchiveError, match="not extracted before"):
        unpack(data, tmp_path / "d")


def test_a_directory_is_not_replaced_by_a_file(tmp_path: Path) -> None:
    (tmp_path / "d" / "x").mkdir(parents=True)
    with pytest.raises(ArchiveError, match="is a directory"):
        unpack(tar_of(("src/", "dir", None), ("src/x", "file", b"f")), tmp_path / "d")


def test_a_file_is_not_a_directory_tree(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a directory in the box; use download"):
        unpack(tar_of(("notes.txt", "file", b"x")), tmp_path / "d", remote="/notes.txt")


def test_garbage_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"bad tar stream|empty tar"):
        unpack(b"this is not a tar" * 100, tmp_path / "d")


def _body(request: httpx.Request) -> bytes:
    return request.content if hasattr(request, "_content") else request.read()


async def test_upload_dir_streams_a_tar(
    client: Any, mock: respx.MockRouter, tmp_path: Path
) -> None:
    src = make_tree(tmp_path / "src")
    seen: dict[str, Any] = {}

    def accept(request: httpx.Request) -> httpx.Response:
        seen["body"] = _body(request)
        seen["request"] = request
        return respond(
            json_body={"path": "/work/app", "files": 6, "dirs": 3, "symlinks": 2, "bytes": 5}
        )

    mock.put(ARCHIVE).mock(side_effect=accept)
    info = await run(stub_box(client).upload_dir(src, "/work/app"))
    assert isinstance(info, ArchiveInfo)
    assert (info.files, info.dirs, info.symlinks) == (6, 3, 2)
    request = seen["request"]
    assert dict(request.url.params) == {"path": "/work/app", "mkdir": "true"}
    assert request.headers["Content-Type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(seen["body"])) as tar:
        assert {"./", ".", "run.sh"} & set(tar.getnames())
        assert "conf/secret" in tar.getnames()


async def test_write_archive_sends_given_bytes(client: Any, mock: respx.MockRouter) -> None:
    route = mock.put(ARCHIVE).mock(
        return_value=respond(
            json_body={"path": "/w", "files": 1, "dirs": 1, "symlinks": 0, "bytes": 1}
        )
    )
    data = tar_of(("./", "dir", None), ("a", "file", b"a"))
    await run(stub_box(client).write_archive("/w", data))
    request = route.calls.last.request
    assert request.url.params["mkdir"] == "false"
    assert request.content == data
    assert request.headers["Content-Length"] == str(len(data))


async def test_download_dir_unpacks_the_box_tar(
    client: Any, mock: respx.MockRouter, tmp_path: Path
) -> None:
    data = tar_of(
        ("src/", "dir", None),
        ("src/a.txt", "file", b"a" * 100_000),
        ("src/sub/", "dir", None),
        ("src/sub/link", "symlink", "../a.txt"),
    )
    route = mock.get(ARCHIVE).mock(
        return_value=respond(
            content=[data[i : i + 7000] for i in range(0, len(data), 7000)],
            headers={"Content-Type": "application/x-tar"},
        )
    )
    info = await run(stub_box(client).download_dir("/work/src", tmp_path / "out"))
    assert route.calls.last.request.url.params["path"] == "/work/src"
    assert "application/x-tar" in route.calls.last.request.headers["Accept"]
    assert (tmp_path / "out" / "a.txt").read_bytes() == b"a" * 100_000
    assert (tmp_path / "out" / "sub" / "link").read_bytes() == b"a" * 100_000
    assert (info.files, info.dirs, info.symlinks, info.bytes) == (1, 2, 1, 100_000)


async def test_download_dir_refuses_an_escaping_entry(
    client: Any, mock: respx.MockRouter, tmp_path: Path
) -> None:
    data = tar_of(("src/", "dir", None), ("src/../../evil", "file", b"x"))
    mock.get(ARCHIVE).mock(return_value=respond(content=data))
    with pytest.raises(ArchiveError, match=r"'\.\.' part"):
        await run(stub_box(client).download_dir("/work/src", tmp_path / "out"))
    assert not (tmp_path / "evil").exists()


async def test_a_broken_archive_stream_is_an_error(
    client: Any, mock: respx.MockRouter, tmp_path: Path
) -> None:
    data = tar_of(("src/", "dir", None), ("src/a", "file", b"a" * 50_000))
    mock.get(ARCHIVE).mock(
        return_value=respond(content=[data[:10_000]], error=httpx.RemoteProtocolError("cut"))
    )
    with pytest.raises(APIConnectionError):
        await run(stub_box(client).download_dir("/work/src", tmp_path / "out"))


async def test_read_archive_streams_bytes(client: Any, mock: respx.MockRouter) -> None:
    data = tar_of(("src/", "dir", None))
    mock.get(ARCHIVE).mock(return_value=respond(content=[data[:512], data[512:]]))
    stream = stub_box(client).read_archive("/work/src")
    got = await run(stream.read())
    assert got == data
