"""Devbox handles: ``Devbox`` (sync) and ``AsyncDevbox`` (async).

A devbox is a named, long-lived box that stops when idle (its disk kept in
a snapshot) and starts again from where it stopped. A handle holds the
devbox's last-seen record (``view``) and calls the API on it by its id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Self

from . import _calls
from ._box import AsyncHogbox, Headers, Hogbox
from ._errors import HoglandError
from ._generated.models import Devbox as DevboxView
from ._generated.models import DevboxEventList, ExecResult, Shape
from ._http import TimeoutTypes

if TYPE_CHECKING:
    from ._async import AsyncHogland
    from ._client import Hogland


class _DevboxBase:
    """What the sync and async handles share: the record and its accessors."""

    def __init__(self, view: DevboxView) -> None:
        self._view = view

    @property
    def view(self) -> DevboxView:
        """The devbox's record as last fetched (``refresh()`` fetches it again)."""
        return self._view

    @property
    def id(self) -> str:
        """The devbox's id, ``dbx-`` and 12 hex digits."""
        return self._view.id

    @property
    def name(self) -> str:
        return self._view.name

    @property
    def status(self) -> str:
        """``running``, ``stopped``, ``starting``, ``stopping`` or ``failed``, as last fetched."""
        return self._view.status

    @property
    def box_id(self) -> str | None:
        """The box it runs in, while running."""
        return self._view.box_id

    @property
    def spec(self) -> Shape:
        return self._view.spec

    @property
    def auto_stop_seconds(self) -> int:
        return self._view.auto_stop_seconds

    @property
    def auto_start(self) -> bool:
        return self._view.auto_start

    def _update(self, content: bytes) -> None:
        self._view = DevboxView.model_validate_json(content)

    def _running_box_id(self) -> str:
        if not self._view.box_id:
            raise HoglandError(
                f"devbox {self.name} is {self.status} and has no box; start() it first"
            )
        return self._view.box_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, name={self.name!r}, status={self.status!r})"


class Devbox(_DevboxBase):
    """A devbox, and the calls you can make on it.

    Get one from ``Hogland.create_devbox``, ``get_devbox``, ``list_devboxes``
    or ``iter_devboxes``. Every method takes keyword-only ``timeout=`` and
    ``extra_headers=``. Files go through its box: ``devbox.box().write_file(...)``.
    """

    def __init__(self, client: Hogland, view: DevboxView) -> None:
        super().__init__(view)
        self._client = client
        self._t = client._transport

    def refresh(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Fetch the devbox's record again; returns the handle itself."""
        call = _calls.get_devbox(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update(self._t.send(call).content)
        return self

    def start(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Start a stopped devbox from its last stop's snapshot (harmless when running)."""
        call = _calls.start_devbox(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update(self._t.send(call).content)
        return self

    def stop(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Snapshot the devbox's disk and free its box (harmless when stopped)."""
        call = _calls.stop_devbox(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update(self._t.send(call).content)
        return self

    def update(
        self,
        *,
        auto_stop_seconds: int | None = None,
        auto_start: bool | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Self:
        """Change the idle stop (restarting the idle clock; 0 never) or ``auto_start``."""
        call = _calls.update_devbox(
            self.id,
            auto_stop_seconds=auto_stop_seconds,
            auto_start=auto_start,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        self._update(self._t.send(call).content)
        return self

    def delete(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> None:
        """Destroy the devbox's box and delete the devbox, its history and its snapshots."""
        self._t.send(_calls.delete_devbox(self.id, timeout=timeout, extra_headers=extra_headers))

    def events(
        self,
        *,
        after: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DevboxEventList:
        """The devbox's history (created, started, stopped, auto_started...), oldest first."""
        call = _calls.devbox_events(
            self.id, after=after, timeout=timeout, extra_headers=extra_headers
        )
        return DevboxEventList.model_validate_json(self._t.send(call).content)

    def exec(
        self,
        argv: Sequence[str],
        *,
        timeout_seconds: float | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        stdin: str | bytes | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ExecResult:
        """Run a command in the devbox and wait for it to exit (see ``Hogbox.exec``).

        A stopped devbox is started first when ``auto_start`` is on (else
        ``ConflictError``). The handle's ``view`` is not refreshed.
        """
        body = _calls.exec_body(
            argv, timeout_seconds=timeout_seconds, env=env, workdir=workdir, stdin=stdin
        )
        call = _calls.exec_devbox(
            self.id,
            body,
            timeout=timeout,
            default_timeout=self._t.timeout,
            extra_headers=extra_headers,
        )
        return ExecResult.model_validate_json(self._t.send(call).content)

    def box(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Hogbox:
        """The box the devbox runs in now, for files, streaming exec, snapshots...

        Refreshes the devbox first; a stopped devbox has no box
        (``HoglandError``: ``start()`` it first). The box changes at every
        start, so fetch it again after a stop. Do not destroy it (or use it
        in a ``with`` block): ``stop()`` is how a devbox frees its box.
        """
        self.refresh(timeout=timeout, extra_headers=extra_headers)
        return self._client.get(
            self._running_box_id(), timeout=timeout, extra_headers=extra_headers
        )

    def proxy_url(self, port: int, path: str = "", *, token: bool = False) -> str:
        """The URL of ``port`` in the devbox through hogplane's proxy.

        It starts a stopped devbox when ``auto_start`` is on. Only the owner's
        credential opens it: as a header (``proxy_headers()``) or, with
        ``token=True``, in the URL's ``?token=``.
        """
        secret = self._t.token() if token else None
        return _calls.devbox_proxy_url(self._t.base_url, self.id, port, path, token=secret)

    def proxy_headers(self) -> dict[str, str]:
        """The header that authenticates a request to ``proxy_url``."""
        return {"Authorization": f"Bearer {self._t.token()}"}


class AsyncDevbox(_DevboxBase):
    """The async twin of ``Devbox``: the same methods, awaited."""

    def __init__(self, client: AsyncHogland, view: DevboxView) -> None:
        super().__init__(view)
        self._client = client
        self._t = client._transport

    async def refresh(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Fetch the devbox's record again; returns the handle itself."""
        call = _calls.get_devbox(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update((await self._t.send(call)).content)
        return self

    async def start(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Start a stopped devbox from its last stop's snapshot (harmless when running)."""
        call = _calls.start_devbox(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update((await self._t.send(call)).content)
        return self

    async def stop(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Snapshot the devbox's disk and free its box (harmless when stopped)."""
        call = _calls.stop_devbox(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update((await self._t.send(call)).content)
        return self

    async def update(
        self,
        *,
        auto_stop_seconds: int | None = None,
        auto_start: bool | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Self:
        """Change the idle stop or ``auto_start`` (see ``Devbox.update``)."""
        call = _calls.update_devbox(
            self.id,
            auto_stop_seconds=auto_stop_seconds,
            auto_start=auto_start,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        self._update((await self._t.send(call)).content)
        return self

    async def delete(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> None:
        """Destroy the devbox's box and delete the devbox, its history and its snapshots."""
        await self._t.send(
            _calls.delete_devbox(self.id, timeout=timeout, extra_headers=extra_headers)
        )

    async def events(
        self,
        *,
        after: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> DevboxEventList:
        """The devbox's history, oldest first (see ``Devbox.events``)."""
        call = _calls.devbox_events(
            self.id, after=after, timeout=timeout, extra_headers=extra_headers
        )
        return DevboxEventList.model_validate_json((await self._t.send(call)).content)

    async def exec(
        self,
        argv: Sequence[str],
        *,
        timeout_seconds: float | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        stdin: str | bytes | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ExecResult:
        """Run a command in the devbox (see ``Devbox.exec``)."""
        body = _calls.exec_body(
            argv, timeout_seconds=timeout_seconds, env=env, workdir=workdir, stdin=stdin
        )
        call = _calls.exec_devbox(
            self.id,
            body,
            timeout=timeout,
            default_timeout=self._t.timeout,
            extra_headers=extra_headers,
        )
        return ExecResult.model_validate_json((await self._t.send(call)).content)

    async def box(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> AsyncHogbox:
        """The box the devbox runs in now (see ``Devbox.box``)."""
        await self.refresh(timeout=timeout, extra_headers=extra_headers)
        return await self._client.get(
            self._running_box_id(), timeout=timeout, extra_headers=extra_headers
        )

    def proxy_url(self, port: int, path: str = "", *, token: bool = False) -> str:
        """The URL of ``port`` in the devbox (see ``Devbox.proxy_url``)."""
        secret = self._t.token() if token else None
        return _calls.devbox_proxy_url(self._t.base_url, self.id, port, path, token=secret)

    def proxy_headers(self) -> dict[str, str]:
        """The header that authenticates a request to ``proxy_url``."""
        return {"Authorization": f"Bearer {self._t.token()}"}


__all__ = ["AsyncDevbox", "Devbox", "DevboxView"]
