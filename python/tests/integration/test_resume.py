"""A streaming exec survives its connection being cut, with no output lost or repeated."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

import hogland

from .conftest import Plane, unique


class CuttableProxy:
    """A loopback TCP proxy whose open connections can be cut at will."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.connections = 0
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self._listener.accept()
            except OSError:
                return
            try:
                up = socket.create_connection(self._target)
            except OSError:
                down.close()
                continue
            pumps = [
                threading.Thread(target=self._pump, args=(down, up), daemon=True),
                threading.Thread(target=self._pump, args=(up, down), daemon=True),
            ]
            with self._lock:
                self._open += [down, up]
                self._threads += pumps
                self.connections += 1
            for t in pumps:
                t.start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def cut(self) -> None:
        """Reset every open connection (its pumps then close it)."""
        with self._lock:
            conns, self._open = self._open, []
        for s in conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()
        self._acceptor.join(timeout=5)
        self.cut()
        for t in self._threads:
            t.join(timeout=5)


@pytest.fixture
def proxy(plane: Plane) -> Iterator[CuttableProxy]:
    url = urlsplit(plane.url)
    p = CuttableProxy(url.hostname or "127.0.0.1", url.port or 80)
    yield p
    p.close()


def test_exec_stream_resumes_after_a_cut(plane: Plane, proxy: CuttableProxy) -> None:
    # No keep-alive pool reuse across the cut: each reconnect is a new connection.
    with (
        hogland.Hogland(base_url=f"http://127.0.0.1:{proxy.port}", token=plane.token) as client,
        client.create(image="busybox", name=unique("resume")) as box,
    ):
        script = "for i in $(seq 1 8); do echo line-$i; sleep 0.25; done; echo done >&2"
        seen = []
        cuts = 0
        with box.exec_stream(["sh", "-c", script]) as stream:
            for event in stream:
                seen.append(event)
                if event.kind == "stdout" and event.data in ("line-2\n", "line-5\n"):
                    proxy.cut()
                    cuts += 1
        assert cuts == 2
        stdout = "".join(e.data or "" for e in seen if e.kind == "stdout")
        assert stdout == "".join(f"line-{i}\n" for i in range(1, 9))
        assert [e.seq for e in seen] == list(range(1, len(seen) + 1))
        assert seen[-1].kind == "exit"
        assert seen[-1].exit_code == 0
        assert stream.exec_id
        # The first stream, then one reconnect per cut (plus create and exit calls).
        assert proxy.connections >= 3


async def test_async_exec_stream_resumes_after_a_cut(plane: Plane, proxy: CuttableProxy) -> None:
    async with (
        hogland.AsyncHogland(
            base_url=f"http://127.0.0.1:{proxy.port}", token=plane.token
        ) as client,
        await client.create(image="busybox") as box,
    ):
        script = "for i in $(seq 1 6); do echo $i; sleep 0.25; done"
        out = []
        async with box.exec_stream(["sh", "-c", script]) as stream:
            async for event in stream:
                if event.kind == "stdout":
                    out.append(event.data or "")
                    if event.data == "3\n":
                        proxy.cut()
        assert "".join(out) == "1\n2\n3\n4\n5\n6\n"
        assert stream.exit_code == 0
