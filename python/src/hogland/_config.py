"""Where the client's base URL and credential come from.

Each setting is taken from the first of: the constructor argument, the
environment (``HOG_HOST``, ``HOG_TOKEN``), and the current profile of the
config file the ``hog`` CLI shares (``$XDG_CONFIG_HOME/hogland/config.json``,
by default ``~/.config/hogland/config.json``)::

    {"current_profile": "default",
     "profiles": {"default": {"host": "...", "token": "...", "token_file": "..."}}}

``HOG_PROFILE`` picks another profile than ``current_profile``. A
``token_file`` is read again on every request, so a rotated credential (a
Kubernetes projected service-account token) is picked up without a restart.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._errors import HoglandError

DEFAULT_BASE_URL = "http://127.0.0.1:8470"

TokenProvider = Callable[[], str]
TokenSource = str | TokenProvider


class TokenFile:
    """A credential read from a file on every call (surrounding whitespace stripped)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    def __call__(self) -> str:
        try:
            token = self.path.read_text().strip()
        except OSError as exc:
            raise HoglandError(f"read token file {self.path}: {exc.strerror or exc}") from exc
        if not token:
            raise HoglandError(f"token file {self.path} is empty")
        return token

    def __repr__(self) -> str:
        return f"TokenFile({str(self.path)!r})"


def config_path() -> Path:
    """The config file shared with the ``hog`` CLI."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hogland" / "config.json"


def load_profile(path: Path | None = None) -> tuple[dict[str, Any], Path]:
    """The current profile of the config file ({} when there is no file)."""
    path = path or config_path()
    try:
        raw = path.read_text()
    except FileNotFoundError:
        return {}, path
    except OSError as exc:
        raise HoglandError(f"read config {path}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise HoglandError(f"config {path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise HoglandError(f"config {path} must hold a JSON object")
    name = os.environ.get("HOG_PROFILE") or data.get("current_profile") or "default"
    profiles = data.get("profiles") or {}
    profile = profiles.get(name) if isinstance(profiles, dict) else None
    if profile is None:
        if os.environ.get("HOG_PROFILE"):
            raise HoglandError(f"config {path} has no profile {name!r} (HOG_PROFILE)")
        return {}, path
    if not isinstance(profile, dict):
        raise HoglandError(f"config {path}: profile {name!r} must be a JSON object")
    return profile, path


def normalize_base_url(url: str) -> str:
    """The URL without a trailing slash, with a scheme (http for loopback)."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        loopback = url.startswith(("localhost", "127.", "[::1]"))
        url = ("http://" if loopback else "https://") + url
    return url


@dataclass(frozen=True)
class Settings:
    base_url: str
    token: TokenProvider


def _constant(token: str) -> TokenProvider:
    def provider() -> str:
        return token

    return provider


def resolve(token: TokenSource | None, base_url: str | None) -> Settings:
    """Settings from the arguments, then the environment, then the config file."""
    env_token = os.environ.get("HOG_TOKEN")
    env_host = os.environ.get("HOG_HOST")
    profile: dict[str, Any] = {}
    path: Path | None = None
    if (token is None and not env_token) or (base_url is None and not env_host):
        profile, path = load_profile()

    host = base_url or env_host or profile.get("host") or DEFAULT_BASE_URL
    provider: TokenProvider
    if isinstance(token, str) and token:
        provider = _constant(token)
    elif token is not None and not isinstance(token, str):
        provider = token
    elif env_token:
        provider = _constant(env_token.strip())
    elif isinstance(profile.get("token"), str) and profile["token"]:
        provider = _constant(profile["token"])
    elif isinstance(profile.get("token_file"), str) and profile["token_file"]:
        file = Path(profile["token_file"]).expanduser()
        if not file.is_absolute() and path is not None:
            file = path.parent / file
        provider = TokenFile(file)
    else:
        raise HoglandError(
            "no credential: pass token=, set HOG_TOKEN, or add a token to "
            f"{config_path()} (the hog CLI's config)"
        )
    return Settings(base_url=normalize_base_url(str(host)), token=provider)
