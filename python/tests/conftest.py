from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import respx

import hogland
from hogland import _http

from .helpers import BASE, TOKEN, TrackedStream

Client = hogland.Hogland | hogland.AsyncHogland


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No test sees the machine's HOG_* variables or config file."""
    for name in ("HOG_TOKEN", "HOG_HOST", "HOG_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits, recorded instead of slept."""
    waits: list[float] = []

    def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def fake_async_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(_http, "_sleep_sync", fake_sleep)
    monkeypatch.setattr(_http, "_sleep_async", fake_async_sleep)
    return waits


@pytest.fixture
def mock(sleeps: list[float]) -> Iterator[respx.MockRouter]:
    """A respx router for the fake hogplane; every response must end closed."""
    TrackedStream.registry.clear()
    with respx.mock(base_url=BASE, using="httpx", assert_all_called=False) as router:
        yield router
    leaked = [s for s in TrackedStream.registry if not s.closed]
    assert not leaked, f"{len(leaked)} response(s) were never closed"


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def make_client(mode: str, mock: respx.MockRouter) -> AsyncIterator[Callable[..., Any]]:
    """Build a Hogland or AsyncHogland (per `mode`) against the mock."""
    made: list[Client] = []

    def make(**kwargs: Any) -> Any:
        kwargs.setdefault("base_url", BASE)
        kwargs.setdefault("token", TOKEN)
        cls = hogland.Hogland if mode == "sync" else hogland.AsyncHogland
        client = cls(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        if isinstance(client, hogland.AsyncHogland):
            await client.close()
        else:
            client.close()


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()
