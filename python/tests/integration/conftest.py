"""A real hogplane, built from this repository, serving on loopback.

The plane is built and started once per test session; every box the tests
make is destroyed at the end, then the plane is stopped with SIGTERM. The
tests need root (runc, mounts, cgroups) and Go; without them they skip.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import hogland
from hogland import APIError

REPO = Path(__file__).resolve().parents[3]
IMAGE_CACHE = Path(os.environ.get("HOGLAND_IMAGE_CACHE") or "/var/cache/hogland/images")
START_TIMEOUT = 60.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@dataclass
class Plane:
    url: str
    token: str
    data_dir: Path
    log: Path

    def client(self, **kwargs: Any) -> hogland.Hogland:
        kwargs.setdefault("timeout", 120)
        return hogland.Hogland(base_url=self.url, token=self.token, **kwargs)

    def aclient(self, **kwargs: Any) -> hogland.AsyncHogland:
        kwargs.setdefault("timeout", 120)
        return hogland.AsyncHogland(base_url=self.url, token=self.token, **kwargs)


def _build(bin_dir: Path) -> None:
    env = {**os.environ, "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "auto")}
    steps = [
        (["go", "build", "-o", str(bin_dir / "hogplane"), "./cmd/hogplane"], env),
        (
            ["go", "build", "-o", str(bin_dir / "hogpanion"), "./cmd/hogpanion"],
            {**env, "CGO_ENABLED": "0"},
        ),
    ]
    for cmd, cmd_env in steps:
        done = subprocess.run(cmd, cwd=REPO, env=cmd_env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed:\n{done.stdout}{done.stderr}")


def _start(bin_dir: Path, data_dir: Path, log: Path) -> tuple[subprocess.Popen[str], str]:
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [
                str(bin_dir / "hogplane"),
                "serve",
                "--data-dir",
                str(data_dir),
                "--listen",
                "127.0.0.1:0",
                "--image-dir",
                str(IMAGE_CACHE),
                "--log-json=false",
            ],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    lines: queue.Queue[str | None] = queue.Queue()

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=drain, daemon=True).start()
    while True:
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            proc.kill()
            pytest.fail(f"hogplane did not start in {START_TIMEOUT}s:\n{log.read_text()}")
        if line is None:
            pytest.fail(f"hogplane exited at start ({proc.wait()}):\n{log.read_text()}")
        if " serving on " in line:
            return proc, line.split(" serving on ", 1)[1].strip()


def _destroy_all(plane: Plane) -> None:
    with plane.client() as client:
        for devbox in list(client.iter_devboxes()):
            try:
                devbox.delete()
            except APIError as exc:
                print(f"cleanup: delete devbox {devbox.id}: {exc}")
        for box in client.iter_boxes(status=["creating", "running", "paused"]):
            try:
                box.destroy()
            except APIError as exc:
                print(f"cleanup: destroy {box.id}: {exc}")


@pytest.fixture(scope="session")
def plane() -> Iterator[Plane]:
    if os.geteuid() != 0:
        pytest.skip("hogplane needs root to run boxes (runc, mounts, cgroups)")
    if shutil.which("go") is None:
        pytest.skip("go is not installed: cannot build hogplane from this repository")
    work = Path(tempfile.mkdtemp(prefix="hogland-py-"))
    try:
        yield from _serve(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _serve(work: Path) -> Iterator[Plane]:
    bin_dir, data_dir = work / "bin", work / "data"
    bin_dir.mkdir()
    data_dir.mkdir()
    _build(bin_dir)
    log = work / "hogplane.log"
    proc, url = _start(bin_dir, data_dir, log)
    token = (data_dir / "admin.token").read_text().strip()
    plane = Plane(url=url, token=token, data_dir=data_dir, log=log)
    try:
        yield plane
    finally:
        try:
            _destroy_all(plane)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
            # Shown by pytest only when something failed.
            tail = log.read_text(errors="replace").splitlines()[-60:]
            print("hogplane log (tail):", *tail, sep="\n")


@pytest.fixture
def client(plane: Plane) -> Iterator[hogland.Hogland]:
    with plane.client() as c:
        yield c


@pytest.fixture
async def aclient(plane: Plane) -> AsyncIterator[hogland.AsyncHogland]:
    async with plane.aclient() as c:
        yield c


@pytest.fixture
def box(client: hogland.Hogland) -> Iterator[hogland.Hogbox]:
    """A busybox box, destroyed after the test."""
    with client.create(image="busybox", name=unique("t"), ttl_seconds=600) as b:
        yield b


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def require_image(name: str) -> None:
    if not (IMAGE_CACHE / name).is_dir():
        pytest.skip(
            f"the {name} image is not built in {IMAGE_CACHE}; "
            f"build it with `hogplane image build {name} --image-dir {IMAGE_CACHE}` "
            "(scripts/test.sh does)"
        )
