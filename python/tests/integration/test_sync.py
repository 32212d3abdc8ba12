"""The sync client against a real hogplane: the seed's quickstart and API table."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import hogland
from hogland import (
    AuthenticationError,
    ConflictError,
    ExecResult,
    FileInfo,
    Hogbox,
    NotFoundError,
    ValidationError,
)

from .conftest import Plane, require_image, unique


def test_quickstart_on_debian(client: hogland.Hogland) -> None:
    """The seed's quickstart, as written (python3: the image has no `python`)."""
    require_image("debian")
    with client.create(cpus=4, memory_mib=8192, disk_gib=50, kind="agent") as box:
        assert box.status == "running"
        assert box.id.startswith("box-")
        assert (box.view.spec.cpus, box.view.spec.memory_mib, box.view.spec.disk_gib) == (
            4,
            8192,
            50,
        )
        assert box.view.spec.image == "debian"
        assert box.kind == "agent"
        assert box.view.ttl_seconds == 3600  # the agent kind's default idle TTL

        written = box.write_file("/work/run.py", b"print('hi')\n", mkdir=True)
        assert isinstance(written, FileInfo)
        assert written.size == 12

        # "python", as the seed's quickstart calls it.
        result = box.exec(["python", "/work/run.py"], timeout_seconds=30)
        assert isinstance(result, ExecResult)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == "hi\n"

        one = box.exec(["python3", "-c", "print(1)"])
        assert (one.exit_code, one.stdout) == (0, "1\n")

        out, exit_code = [], None
        for event in box.exec_stream(["bash", "-c", "for i in 1 2 3; do echo $i; sleep 0.2; done"]):
            if event.kind == "stdout":
                out.append(event.data)
            elif event.kind == "exit":
                exit_code = event.exit_code
        assert "".join(out) == "1\n2\n3\n"
        assert exit_code == 0


def test_files_round_trip(box: Hogbox, tmp_path: Path) -> None:
    info = box.write_file("/data/a/b.txt", "héllo\n", mode=0o600, mkdir=True)
    assert (info.path, info.size, info.mode) == ("/data/a/b.txt", 7, "0600")
    assert info.sha256 == hashlib.sha256("héllo\n".encode()).hexdigest()
    assert box.read_file("/data/a/b.txt") == "héllo\n".encode()

    script = box.write_file("/bin/hello", b"#!/bin/sh\necho from script\n", mode="0755")
    assert script.mode == "0755"
    assert box.exec(["/bin/hello"]).stdout == "from script\n"

    # /proc and /sys report no size; their content must still come back.
    assert b"Name:" in box.read_file("/proc/self/status")
    assert box.read_file("/proc/version").startswith(b"Linux")

    with pytest.raises(NotFoundError):
        box.read_file("/does/not/exist")


def test_large_files_stream_both_ways(box: Hogbox, tmp_path: Path) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB
    count = 24

    def chunks() -> Iterator[bytes]:
        for i in range(count):
            yield chunk[i:] + chunk[:i]

    want = hashlib.sha256()
    for part in chunks():
        want.update(part)
    info = box.write_file("/big.bin", chunks())
    assert info.size == count * len(chunk)
    assert info.sha256 == want.hexdigest()

    # From a file object, then back through download to a path.
    src = tmp_path / "src.bin"
    src.write_bytes(b"".join(chunks()))
    with src.open("rb") as f:
        assert box.write_file("/big2.bin", f).sha256 == want.hexdigest()
    dest = tmp_path / "dest.bin"
    assert box.download("/big2.bin", dest) == count * len(chunk)
    assert hashlib.sha256(dest.read_bytes()).hexdigest() == want.hexdigest()

    got = hashlib.sha256()
    with box.read_file_stream("/big.bin", chunk_size=1 << 20) as stream:
        for part in stream:
            got.update(part)
    assert got.hexdigest() == want.hexdigest()

    buf = io.BytesIO()
    box.download("/proc/meminfo", buf)
    assert b"MemTotal" in buf.getvalue()


def test_exec_options(box: Hogbox) -> None:
    r = box.exec(["sh", "-c", "echo $GREETING; pwd; cat; echo err >&2; exit 3"],
                 env={"GREETING": "hey"}, workdir="/tmp", stdin="from stdin\n")  # fmt: skip
    assert r.exit_code == 3
    assert r.stdout == "hey\n/tmp\nfrom stdin\n"
    assert r.stderr == "err\n"
    assert not r.timed_out

    slow = box.exec(["sleep", "10"], timeout_seconds=1)
    assert slow.timed_out
    assert slow.exit_code == -1
    assert slow.duration_ms < 5000

    big = box.exec(["sh", "-c", "yes | head -c 3000000"])
    assert big.stdout_truncated
    assert len(big.stdout) <= 1 << 20
    assert not big.stderr_truncated


def test_exec_stream_events(box: Hogbox) -> None:
    with box.exec_stream(["sh", "-c", "echo out; echo err >&2; sleep 0.1; echo out2; exit 4"]) as s:
        events = list(s)
    assert s.exec_id
    assert s.exit_code == 4
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    stdout = "".join(e.data or "" for e in events if e.kind == "stdout")
    stderr = "".join(e.data or "" for e in events if e.kind == "stderr")
    assert (stdout, stderr) == ("out\nout2\n", "err\n")
    assert events[-1].kind == "exit"
    assert events[-1].exit_code == 4


def test_pause_and_resume(box: Hogbox) -> None:
    box.exec(["sh", "-c", "echo before > /state"])
    assert box.pause().status == "paused"
    assert box.refresh().status == "paused"
    assert box.resume().status == "running"
    assert box.exec(["cat", "/state"]).stdout == "before\n"
    kinds = [e.type for e in box.events().items]
    assert "paused" in kinds
    assert "resumed" in kinds


def test_list_get_update(client: hogland.Hogland) -> None:
    tag = f"suite={unique('tag')}"
    a = client.create(image="busybox", tags=[tag, "n=1"])
    b = client.create(image="busybox", tags=[tag, "n=2"])
    try:
        page = client.list(tags=[tag])
        assert {x.id for x in page} == {a.id, b.id}
        assert page.next_cursor is None
        walked = [x.id for x in client.iter_boxes(tags=[tag], page_size=1)]
        assert walked == [b.id, a.id]  # newest first, one page at a time
        assert [x.id for x in client.list(tags=[tag, "n=1"])] == [a.id]
        assert sorted(client.get(a.id).view.tags) == sorted([tag, "n=1"])
        name = unique("renamed")
        a.update(name=name, ttl_seconds=120)
        assert (a.name, a.view.ttl_seconds) == (name, 120)
        assert client.list(tags=[tag], status="running", limit=1).next_cursor
    finally:
        a.destroy()
        b.destroy()
    assert client.get(a.id).status == "stopped"
    assert client.get(a.id).termination_reason == "destroyed"


def test_errors(client: hogland.Hogland, plane: Plane) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.get("box-000000000000")
    assert missing.value.status_code == 404
    assert missing.value.request_id
    assert missing.value.request_id.startswith("req_")
    assert missing.value.body is not None
    assert missing.value.body["request_id"] == missing.value.request_id

    name = unique("clash")
    with client.create(image="busybox", name=name):
        with pytest.raises(ConflictError) as clash:
            client.create(image="busybox", name=name)
        assert clash.value.status_code == 409
        assert name in clash.value.message

    with pytest.raises(ValidationError) as bad_kind:
        client.create(image="busybox", kind="no-such-kind")
    assert bad_kind.value.status_code == 400
    assert "kind" in bad_kind.value.message

    with pytest.raises(ValidationError):
        client.create(image="busybox", cpus=10_000)

    with hogland.Hogland(base_url=plane.url, token="tok_wrong") as bad:
        with pytest.raises(AuthenticationError) as unauth:
            bad.me()
        assert unauth.value.request_id


def test_idempotent_create_is_replayed(client: hogland.Hogland) -> None:
    key = unique("idem")
    first = client.create(image="busybox", idempotency_key=key)
    try:
        again = client.create(image="busybox", idempotency_key=key)
        assert again.id == first.id
    finally:
        first.destroy()


def test_me_limits_and_token_file(client: hogland.Hogland, plane: Plane, tmp_path: Path) -> None:
    me = client.me()
    assert me.principal.admin
    assert me.auth_path == "api_token"
    limits = client.limits()
    assert "busybox" in limits.images
    assert {k.name for k in limits.kinds} >= {"default", "agent"}

    token = tmp_path / "token"
    token.write_text(plane.token + "\n")
    with hogland.Hogland.from_token_file(token, base_url=plane.url) as rotating:
        assert rotating.me().principal.id == me.principal.id
        token.write_text("tok_rotated_to_something_invalid")
        with pytest.raises(AuthenticationError):
            rotating.me()


def test_destroy_is_harmless_twice(client: hogland.Hogland) -> None:
    box = client.create(image="busybox")
    box.delete()
    box.destroy()
    start = time.monotonic()
    assert box.refresh().status == "stopped"
    assert time.monotonic() - start < 10


def _stdout_until(stream: hogland.ExecStream, want: str) -> str:
    out = ""
    for event in stream:
        if event.kind == "stdout":
            out += event.data or ""
        if want in out or event.kind == "exit":
            break
    return out


def test_exec_stream_live_stdin_and_signal(box: Hogbox) -> None:
    script = "while read l; do echo got $l; done; echo eof"
    with box.exec_stream(["sh", "-c", script], stdin_open=True, timeout_seconds=60) as stream:
        stream.send_stdin("a\n")
        assert _stdout_until(stream, "got a\n") == "got a\n"
        stream.send_stdin(b"b\n", close=True)
        rest = "".join(e.data or "" for e in stream if e.kind == "stdout")
        assert rest == "got b\neof\n"
    assert stream.exit_code == 0
    # stdin is closed and the process gone: more input is a conflict.
    with pytest.raises(ConflictError):
        stream.send_stdin("c\n")
    assert stream.exec_id is not None
    with pytest.raises(ConflictError):
        box.signal_exec(stream.exec_id, "TERM")

    with box.exec_stream(["sleep", "100"], timeout_seconds=60) as sleeper:
        sleeper.signal("TERM")
        events = list(sleeper)
    assert events[-1].kind == "exit"
    assert sleeper.exit_code == -1
