"""Credentials and base URL: arguments, environment, config file, token files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx

import hogland
from hogland import HoglandError

from .helpers import BASE, respond, run

ME = {
    "principal": {
        "id": "prn-1",
        "name": "me",
        "kind": "user",
        "admin": False,
        "created_at": "2026-11-26T12:00:00Z",
    },
    "auth_path": "api_token",
}


def write_config(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "xdg" / "hogland" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def auth_headers(route: respx.Route) -> list[str]:
    return [call.request.headers["Authorization"] for call in route.calls]


async def test_token_file_is_read_on_every_request(
    mode: str, mock: respx.MockRouter, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("jwt-one\n")
    cls = hogland.Hogland if mode == "sync" else hogland.AsyncHogland
    client = cls.from_token_file(token_file, base_url=BASE)
    route = mock.get("/v1/me").mock(side_effect=lambda _: respond(json_body=ME))
    await run(client.me())
    token_file.write_text("jwt-two")  # the kubelet rotated it
    await run(client.me())
    assert auth_headers(route) == ["Bearer jwt-one", "Bearer jwt-two"]
    token_file.unlink()
    with pytest.raises(HoglandError, match="read token file"):
        await run(client.me())
    await run(client.close())


async def test_callable_token(make_client: Any, mock: respx.MockRouter) -> None:
    tokens = iter(["a", "b"])
    client = make_client(token=lambda: next(tokens))
    route = mock.get("/v1/me").mock(side_effect=lambda _: respond(json_body=ME))
    await run(client.me())
    await run(client.me())
    assert auth_headers(route) == ["Bearer a", "Bearer b"]


async def test_headers_sent(make_client: Any, mock: respx.MockRouter) -> None:
    client = make_client(default_headers={"X-Team": "agents"})
    route = mock.get("/v1/me").mock(return_value=respond(json_body=ME))
    await run(client.me(extra_headers={"X-Trace": "t1"}, timeout=7))
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer tok_test"
    assert request.headers["X-Team"] == "agents"
    assert request.headers["X-Trace"] == "t1"
    assert request.headers["User-Agent"].startswith("posthog-hogland/")
    assert request.extensions["timeout"] == {"connect": 7, "read": 7, "write": 7, "pool": 7}


def test_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOG_TOKEN", "tok_env")
    monkeypatch.setenv("HOG_HOST", "https://hogland.example/")
    client = hogland.Hogland()
    assert client.base_url == "https://hogland.example"
    assert client._transport.token() == "tok_env"
    client.close()


def test_arguments_beat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOG_TOKEN", "tok_env")
    monkeypatch.setenv("HOG_HOST", "https://env.example")
    client = hogland.Hogland(token="tok_arg", base_url="http://arg.example:1")
    assert client.base_url == "http://arg.example:1"
    assert client._transport.token() == "tok_arg"
    client.close()


def test_config_file_is_the_fallback(tmp_path: Path) -> None:
    write_config(
        tmp_path,
        {
            "current_profile": "work",
            "profiles": {
                "default": {"host": "http://default.example", "token": "tok_default"},
                "work": {"host": "https://work.example", "token": "tok_work"},
            },
        },
    )
    client = hogland.Hogland()
    assert client.base_url == "https://work.example"
    assert client._transport.token() == "tok_work"
    client.close()


def test_env_beats_config_file_per_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(
        tmp_path,
        {"profiles": {"default": {"host": "http://cfg.example", "token": "tok_cfg"}}},
    )
    monkeypatch.setenv("HOG_TOKEN", "tok_env")
    client = hogland.Hogland()
    assert client._transport.token() == "tok_env"
    assert client.base_url == "http://cfg.example"
    client.close()


def test_hog_profile_picks_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(
        tmp_path,
        {
            "current_profile": "default",
            "profiles": {
                "default": {"host": "http://a.example", "token": "tok_a"},
                "other": {"host": "http://b.example", "token": "tok_b"},
            },
        },
    )
    monkeypatch.setenv("HOG_PROFILE", "other")
    client = hogland.Hogland()
    assert client._transport.token() == "tok_b"
    client.close()
    monkeypatch.setenv("HOG_PROFILE", "missing")
    with pytest.raises(HoglandError, match="no profile 'missing'"):
        hogland.Hogland()


def test_profile_token_file_is_reread(tmp_path: Path) -> None:
    token = tmp_path / "xdg" / "hogland" / "sa-token"
    write_config(tmp_path, {"profiles": {"default": {"token_file": "sa-token"}}})
    token.write_text("one")
    client = hogland.Hogland()
    assert client._transport.token() == "one"
    token.write_text("two")
    assert client._transport.token() == "two"
    client.close()


def test_default_config_location_without_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = tmp_path / "home" / ".config" / "hogland" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"profiles": {"default": {"token": "tok_home"}}}))
    client = hogland.Hogland()
    assert client._transport.token() == "tok_home"
    assert client.base_url == "http://127.0.0.1:8470"
    client.close()


def test_missing_credential_is_a_clear_error() -> None:
    with pytest.raises(HoglandError, match="no credential"):
        hogland.Hogland()


def test_broken_config_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "xdg" / "hogland" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(HoglandError, match="not valid JSON"):
        hogland.Hogland()
    # Arguments alone need no config file.
    hogland.Hogland(token="t", base_url="http://x").close()


@pytest.mark.parametrize(
    ("given", "want"),
    [
        ("127.0.0.1:8470", "http://127.0.0.1:8470"),
        ("localhost:1/", "http://localhost:1"),
        ("hogland.example", "https://hogland.example"),
        ("http://h.example/prefix/", "http://h.example/prefix"),
    ],
)
def test_base_url_normalized(given: str, want: str) -> None:
    client = hogland.Hogland(token="t", base_url=given)
    assert client.base_url == want
    client.close()


def test_timeout_argument() -> None:
    import httpx

    client = hogland.Hogland(token="t", timeout=httpx.Timeout(5.0, connect=1.0))
    assert client.timeout.read == 5.0
    assert client.timeout.connect == 1.0
    client.close()
    client = hogland.Hogland(token="t", timeout=12)
    assert client.timeout.read == 12
    client.close()
