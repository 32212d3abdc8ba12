"""A hogland backend for an agent service's sandbox interface.

The agent-task service that hogland was built for wraps every sandbox
provider behind one abstract interface: create from a config, get by id,
status (running / shut down), execute, execute-stream, write a file,
connect credentials for a server in the sandbox, snapshot, destroy. This
file is a reference implementation of that interface on the hogland SDK;
copy it and adapt the names to your own base class.

Run it against a local hogplane (``bash scripts/run.sh`` prints both values)::

    export HOG_HOST=http://127.0.0.1:8470
    export HOG_TOKEN=$(cat /var/lib/hogland/admin.token)
    python examples/sandbox_base_adapter.py            # debian image
    python examples/sandbox_base_adapter.py --image busybox

In a Kubernetes pod, mount a projected service-account token with the
hogland audience and set ``HOG_TOKEN_FILE`` to its path instead of
``HOG_TOKEN``: the file is read again on every request, so rotation just works.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import os
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from hogland import Hogbox, Hogland, NotFoundError


class SandboxStatus(enum.Enum):
    RUNNING = "running"
    SHUTDOWN = "shutdown"


@dataclass
class SandboxConfig:
    """What the service asks for. ``snapshot_alias`` names a baked golden snapshot."""

    name: str
    image: str | None = None
    snapshot_alias: str | None = None
    cpus: int | None = None
    memory_mib: int | None = None
    disk_gib: int | None = None
    ttl_seconds: int = 3600
    env: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ExecutionResult:
    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool
    duration_ms: int


@dataclass
class ConnectCredentials:
    """How a client outside reaches a server in the sandbox: a URL plus headers."""

    url: str
    headers: dict[str, str]
    # For clients that cannot set headers (browsers, EventSource).
    url_with_token: str


def _hogland_client(region: str | None = None) -> Hogland:
    """One client per hogland deploy. Extend here when routing by region matters."""
    del region  # one deploy today
    timeout = httpx.Timeout(120.0, connect=10.0)
    token_file = os.environ.get("HOG_TOKEN_FILE")
    if token_file:
        return Hogland.from_token_file(token_file, timeout=timeout)
    return Hogland(timeout=timeout)


class HoglandSandbox:
    """One sandbox, backed by a hogbox."""

    def __init__(self, client: Hogland, box: Hogbox) -> None:
        self._client = client
        self._box = box

    # construction

    @classmethod
    def create(cls, config: SandboxConfig, client: Hogland | None = None) -> HoglandSandbox:
        client = client or _hogland_client()
        box = client.create(
            # Names are unique per owner; suffix them so retries and reruns never clash.
            name=f"{config.name}-{uuid.uuid4().hex[:8]}",
            kind="agent",  # 1 h idle TTL by default: a forgotten box does not live forever
            image=None if config.snapshot_alias else config.image,
            snapshot_id=f"alias:{config.snapshot_alias}" if config.snapshot_alias else None,
            cpus=config.cpus,
            memory_mib=config.memory_mib,
            disk_gib=config.disk_gib,
            ttl_seconds=config.ttl_seconds,
            env=config.env,
            tags=[f"{k}={v}" for k, v in sorted(config.tags.items())],
            access_type="none",
        )
        return cls(client, box)

    @classmethod
    def get_by_id(cls, sandbox_id: str, client: Hogland | None = None) -> HoglandSandbox:
        client = client or _hogland_client()
        return cls(client, client.get(sandbox_id))

    @property
    def id(self) -> str:
        return self._box.id

    # state

    def get_status(self) -> SandboxStatus:
        try:
            status = self._box.refresh().status
        except NotFoundError:
            return SandboxStatus.SHUTDOWN
        # A paused box is still there and resumable: the service counts it as running.
        if status in ("running", "paused", "creating"):
            return SandboxStatus.RUNNING
        return SandboxStatus.SHUTDOWN

    def is_running(self) -> bool:
        return self.get_status() is SandboxStatus.RUNNING

    # work

    def execute(self, command: str, *, timeout_seconds: float = 300) -> ExecutionResult:
        result = self._box.exec(["sh", "-c", command], timeout_seconds=timeout_seconds)
        return ExecutionResult(
            stdout=result.stdout,
            stderr=result.stderr,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            duration_ms=result.duration_ms,
        )

    def execute_stream(
        self, command: str, *, timeout_seconds: float | None = None
    ) -> Iterator[str]:
        """Yield output (stdout and stderr) as it comes; raise if the command fails."""
        with self._box.exec_stream(["sh", "-c", command], timeout_seconds=timeout_seconds) as s:
            for event in s:
                if event.kind in ("stdout", "stderr") and event.data:
                    yield event.data
        if s.exit_code not in (0, None):
            raise RuntimeError(f"command exited with {s.exit_code}: {command}")

    def write_file(self, path: str, content: bytes | str) -> None:
        self._box.write_file(path, content, mkdir=True)

    def read_file(self, path: str) -> bytes:
        return self._box.read_file(path)

    def get_connect_credentials(self, port: int) -> ConnectCredentials:
        """Reach a server in the box (JSON-RPC, SSE...) through hogplane's proxy."""
        return ConnectCredentials(
            url=self._box.proxy_url(port),
            headers=self._box.proxy_headers(),
            url_with_token=self._box.proxy_url(port, token=True),
        )

    # lifecycle

    def create_snapshot(self, alias: str | None = None) -> str:
        """Snapshot the sandbox; with ``alias``, later configs can start from it by name."""
        snap = self._box.snapshot()
        if alias:
            self._client.set_alias(snap.id, alias)
        return snap.id

    def destroy(self) -> None:
        with contextlib.suppress(NotFoundError):
            self._box.destroy()


DEMO_SERVER = """\
import socket

server = socket.create_server(("127.0.0.1", 8080))
while True:
    conn, _ = server.accept()
    with conn:
        conn.recv(65536)
        body = b"served from the sandbox\\n"
        head = b"HTTP/1.1 200 OK\\r\\nContent-Length: %d\\r\\nConnection: close\\r\\n\\r\\n"
        conn.sendall(head % len(body) + body)
"""


def _get_when_up(url: str, headers: dict[str, str], wait: float = 15.0) -> httpx.Response:
    """GET url, retrying while nothing listens yet (the proxy answers 502)."""
    deadline = time.monotonic() + wait
    while True:
        answer = httpx.get(url, headers=headers, timeout=30)
        if answer.status_code != 502 or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description="Exercise the sandbox adapter on a hogplane.")
    parser.add_argument("--image", default="debian", help="box image (default: debian)")
    args = parser.parse_args()

    config = SandboxConfig(name="adapter-demo", image=args.image, tags={"demo": "adapter"})
    sandbox = HoglandSandbox.create(config)
    print(f"created {sandbox.id}: {sandbox.get_status().value}")
    try:
        assert HoglandSandbox.get_by_id(sandbox.id).id == sandbox.id
        sandbox.write_file("/opt/demo/hello.sh", "echo hello from $(uname -n)\n")
        result = sandbox.execute("sh /opt/demo/hello.sh")
        print(f"execute: exit {result.exit_code}: {result.stdout.strip()}")
        print(
            "execute_stream:",
            "".join(sandbox.execute_stream("for i in 1 2 3; do echo $i; done")).split(),
        )

        # A long-running HTTP server in the box, reached through the proxy.
        sandbox.write_file("/opt/demo/server.py", DEMO_SERVER)
        sandbox.execute(
            "if command -v python3 >/dev/null;"
            " then nohup python3 /opt/demo/server.py >/dev/null 2>&1 &"
            " else mkdir -p /www && echo served from the sandbox > /www/index.html"
            " && httpd -p 127.0.0.1:8080 -h /www; fi"
        )
        creds = sandbox.get_connect_credentials(8080)
        answer = _get_when_up(creds.url + "index.html", creds.headers)
        print(f"connect: {creds.url} -> {answer.status_code} {answer.text.strip()!r}")

        snap_id = sandbox.create_snapshot(alias=f"adapter-demo-{uuid.uuid4().hex[:6]}")
        print(f"snapshot: {snap_id}")
    finally:
        sandbox.destroy()
    print(f"destroyed: {sandbox.get_status().value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
