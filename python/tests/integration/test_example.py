"""The vendored sandbox adapter example runs against a real hogplane."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import Plane

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sandbox_base_adapter.py"


def test_sandbox_base_adapter_example(plane: Plane) -> None:
    env = {**os.environ, "HOG_HOST": plane.url, "HOG_TOKEN": plane.token}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--image", "busybox"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "execute: exit 0: hello from box-" in out
    assert "execute_stream: ['1', '2', '3']" in out
    assert "-> 200 'served from the sandbox'" in out
    assert "snapshot: snap-" in out
    assert "destroyed: shutdown" in out
