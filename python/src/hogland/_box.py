"""Box handles: ``Hogbox`` (sync) and ``AsyncHogbox`` (async).

A handle holds the box's last-seen record (``view``) and calls the API on
the box. Leaving a handle's ``with`` block destroys the box.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Self

from . import _archive, _calls
from ._errors import NotFoundError
from ._generated.models import (
    ArchiveInfo,
    BoxEventList,
    ExecResult,
    FileInfo,
    HogboxSpec,
    PreviewToken,
    PreviewTokenList,
)
from ._generated.models import Hogbox as HogboxView
from ._http import AsyncUpload, Call, Headers, SyncUpload, TimeoutTypes
from ._models import SnapshotRecord
from ._streams import (
    DEFAULT_CHUNK,
    AsyncExecStream,
    AsyncFileStream,
    ExecStream,
    FileStream,
    StdinData,
)

if TYPE_CHECKING:
    from ._async import AsyncHogland
    from ._client import Hogland

Destination = str | os.PathLike[str] | IO[bytes]
LocalPath = str | os.PathLike[str]


class _BoxBase:
    """What the sync and async handles share: the record and its accessors."""

    def __init__(self, view: HogboxView) -> None:
        self._view = view

    @property
    def view(self) -> HogboxView:
        """The box's record as last fetched (``refresh()`` fetches it again)."""
        return self._view

    @property
    def id(self) -> str:
        """The box's id, ``box-`` and 12 hex digits."""
        return self._view.id

    @property
    def status(self) -> str:
        """``creating``, ``running``, ``paused``, ``stopped`` or ``failed``, as last fetched.

        A newer hogplane may answer a status not listed here; it is passed on as is.
        """
        return self._view.status

    @property
    def name(self) -> str:
        return self._view.spec.name

    @property
    def spec(self) -> HogboxSpec:
        return self._view.spec

    @property
    def kind(self) -> str:
        return self._view.kind

    @property
    def tags(self) -> list[str]:
        return self._view.tags

    @property
    def termination_reason(self) -> str | None:
        return self._view.termination_reason

    def _update(self, content: bytes) -> None:
        self._view = HogboxView.model_validate_json(content)

    def _proxy_url(self, base_url: str, token: str | None, port: int, path: str) -> str:
        return _calls.proxy_url(base_url, self.id, port, path, token=token)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, status={self.status!r})"


def _resume_call(
    box_id: str, timeout: TimeoutTypes, extra_headers: Headers
) -> Callable[[str, int], Call]:
    def resume(exec_id: str, last_seq: int) -> Call:
        return _calls.exec_events(
            box_id, exec_id, last_event_id=last_seq, timeout=timeout, extra_headers=extra_headers
        )

    return resume


def _open_destination(dest: str | os.PathLike[str]) -> tuple[IO[bytes], Path, Path]:
    """A temp file beside dest, to be renamed over it once complete."""
    final = Path(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    return os.fdopen(fd, "wb"), Path(tmp), final


class Hogbox(_BoxBase):
    """A box, and the calls you can make on it.

    Get one from ``Hogland.create``, ``get``, ``list`` or ``iter_boxes``.
    Every method takes keyword-only ``timeout=`` (seconds or an
    ``httpx.Timeout``, for this call only) and ``extra_headers=``.
    """

    def __init__(self, client: Hogland, view: HogboxView) -> None:
        super().__init__(view)
        self._client = client
        self._t = client._transport

    # lifecycle

    def refresh(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Fetch the box's record again; returns the handle itself."""
        self._update(
            self._t.send(_calls.get(self.id, timeout=timeout, extra_headers=extra_headers)).content
        )
        return self

    def pause(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Freeze every process of the box."""
        call = _calls.pause(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update(self._t.send(call).content)
        return self

    def resume(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Thaw a paused box."""
        call = _calls.resume(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update(self._t.send(call).content)
        return self

    def update(
        self,
        *,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        ttl_seconds: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Self:
        """Change the name, the tags or the idle TTL (a new TTL restarts the idle clock)."""
        call = _calls.update(
            self.id,
            name=name,
            tags=tags,
            ttl_seconds=ttl_seconds,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        self._update(self._t.send(call).content)
        return self

    def destroy(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> None:
        """Destroy the box (harmless on a stopped box)."""
        self._t.send(_calls.destroy(self.id, timeout=timeout, extra_headers=extra_headers))

    delete = destroy

    def snapshot(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> SnapshotRecord:
        """Snapshot the box; pass the record's ``id`` as ``snapshot_id`` to a later ``create``."""
        call = _calls.snapshot(self.id, timeout=timeout, extra_headers=extra_headers)
        return SnapshotRecord.model_validate_json(self._t.send(call).content)

    def events(
        self,
        *,
        after: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> BoxEventList:
        """The box's history (created, paused, stopped...), oldest first, after seq ``after``."""
        call = _calls.events(self.id, after=after, timeout=timeout, extra_headers=extra_headers)
        return BoxEventList.model_validate_json(self._t.send(call).content)

    # exec

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
        """Run a command and wait for it to exit.

        stdout and stderr are capped at 1 MiB each (``stdout_truncated`` /
        ``stderr_truncated`` say when); ``timeout_seconds`` kills the command's
        process group and sets ``timed_out`` (server default: 60 s). The HTTP
        timeout is stretched to cover ``timeout_seconds`` unless ``timeout=``
        is given.
        """
        body = _calls.exec_body(
            argv, timeout_seconds=timeout_seconds, env=env, workdir=workdir, stdin=stdin
        )
        call = _calls.exec_batch(
            self.id,
            body,
            timeout=timeout,
            default_timeout=self._t.timeout,
            extra_headers=extra_headers,
        )
        return ExecResult.model_validate_json(self._t.send(call).content)

    def exec_stream(
        self,
        argv: Sequence[str],
        *,
        timeout_seconds: float | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        stdin: str | bytes | None = None,
        stdin_open: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ExecStream:
        """Run a command and yield its ``ExecEvent`` frames (stdout, stderr, exit) as they come.

        No output cap. A dropped connection is resumed from the last event
        seen. By default the stream has no read timeout (a command may be
        silent for long); ``timeout=`` sets one.

        ``stdin`` is written first; with ``stdin_open=True`` stdin then stays
        open for ``stream.send_stdin(data, close=...)`` / ``close_stdin()``.
        ``stream.signal("TERM")`` signals the command's process group.
        """
        body = _calls.exec_body(
            argv,
            timeout_seconds=timeout_seconds,
            env=env,
            workdir=workdir,
            stdin=stdin,
            stdin_open=stdin_open,
        )
        timeout = _calls.stream_timeout(timeout, self._t.timeout)
        start = _calls.exec_stream(self.id, body, timeout=timeout, extra_headers=extra_headers)
        return ExecStream(self._t, start, _resume_call(self.id, timeout, extra_headers), self.id)

    def send_stdin(
        self,
        exec_id: str,
        data: StdinData,
        *,
        close: bool = True,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Write ``data`` to the stdin of the running streaming exec ``exec_id``.

        For callers holding only the id (``stream.exec_id``); a stream has
        ``stream.send_stdin`` itself. The exec must have been started with
        ``stdin_open=True``. Stdin is closed afterwards unless ``close=False``.
        Never retried. ``ConflictError`` when stdin is already closed or the
        command has exited.
        """
        call = _calls.exec_stdin(
            self.id, exec_id, data, close=close, timeout=timeout, extra_headers=extra_headers
        )
        self._t.send(call)

    def signal_exec(
        self,
        exec_id: str,
        sig: str | int = "TERM",
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Send a signal (``"TERM"``, ``"SIGKILL"``, a number) to exec ``exec_id``'s process group.

        A command killed by a signal exits with ``exit_code`` -1. Never
        retried. ``ConflictError`` once the command has exited.
        """
        call = _calls.exec_signal(
            self.id, exec_id, sig, timeout=timeout, extra_headers=extra_headers
        )
        self._t.send(call)

    # files

    def write_file(
        self,
        path: str,
        data: SyncUpload,
        *,
        mode: int | str = 0o644,
        mkdir: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> FileInfo:
        """Write a file atomically (temp file, fsync, rename) and return its size and sha256.

        ``data`` is bytes, str (UTF-8), a binary file object or an iterator of
        bytes; files and iterators are streamed, never held in memory whole.
        ``mode`` is the permission bits (``0o755`` or ``"0755"``); ``mkdir``
        creates missing parent directories.
        """
        call = _calls.write_file(
            self.id,
            path,
            data,
            mode=mode,
            mkdir=mkdir,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return FileInfo.model_validate_json(self._t.send(call).content)

    def read_file(
        self, path: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> bytes:
        """A file's whole content (works on /proc and /sys).

        For big files, ``read_file_stream`` or ``download`` stream instead.
        """
        call = _calls.read_file(self.id, path, timeout=timeout, extra_headers=extra_headers)
        return self._t.send(call).content

    def read_file_stream(
        self,
        path: str,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> FileStream:
        """A file's bytes in chunks as they arrive::

        with box.read_file_stream("/var/log/big.log") as chunks:
            for chunk in chunks:
                ...
        """
        call = _calls.read_file(self.id, path, timeout=timeout, extra_headers=extra_headers)
        return FileStream(self._t, call, chunk_size)

    def download(
        self,
        path: str,
        dest: Destination,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> int:
        """Stream a file of the box into ``dest``; returns the number of bytes written.

        ``dest`` is a local path, written atomically (to a temp file beside
        it, renamed once complete), or a binary file object.
        """
        stream = self.read_file_stream(
            path, chunk_size=chunk_size, timeout=timeout, extra_headers=extra_headers
        )
        if not isinstance(dest, str | os.PathLike):
            with stream:
                return sum(dest.write(chunk) or 0 for chunk in stream)
        with stream:
            out, tmp, final = _open_destination(dest)
            try:
                with out:
                    written = sum(out.write(chunk) for chunk in stream)
                tmp.replace(final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return written

    # archives (directory trees)

    def write_archive(
        self,
        path: str,
        data: SyncUpload,
        *,
        mkdir: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ArchiveInfo:
        """Extract a tar stream into the directory ``path`` of the box.

        ``data`` is the tar: bytes, a binary file object or an iterator of
        bytes, streamed. Entry names are relative to ``path`` (``./`` is
        ``path`` itself); modes, mtimes and symlinks are kept, owners are not.
        An entry that would leave ``path`` (absolute, ``..``, through a
        symlink), a device node or a FIFO is refused (``ValidationError``);
        what came before it stays. ``mkdir`` creates ``path`` and its parents.
        Returns what was extracted (files, dirs, symlinks, bytes).
        """
        call = _calls.write_archive(
            self.id, path, data, mkdir=mkdir, timeout=timeout, extra_headers=extra_headers
        )
        return ArchiveInfo.model_validate_json(self._t.send(call).content)

    def read_archive(
        self,
        path: str,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> FileStream:
        """A tar of a file, symlink or directory tree of the box, as it streams.

        Entry names start with the base name of ``path`` (``./`` for ``/``);
        the first entry is ``path`` itself. Modes, mtimes, symlinks and hard
        links are kept; sockets, FIFOs, devices and kernel file systems are
        left out. A failure mid-way breaks the stream (``APIConnectionError``)
        rather than ending it early. ``download_dir`` unpacks it for you.
        """
        call = _calls.read_archive(self.id, path, timeout=timeout, extra_headers=extra_headers)
        return FileStream(self._t, call, chunk_size)

    def upload_dir(
        self,
        local_dir: LocalPath,
        remote_dir: str,
        *,
        mkdir: bool = True,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ArchiveInfo:
        """Copy a local directory's contents into ``remote_dir`` of the box, as one tar stream.

        ``remote_dir`` gets ``local_dir``'s contents and mode (``cp -a
        local_dir/. remote_dir``): files, directories and symlinks with their
        modes and mtimes, hard links within the tree; sockets, FIFOs and
        devices are left out. Files are read as they are sent, never held in
        memory whole. ``mkdir`` (default on) creates ``remote_dir`` and its
        parents. Existing files are replaced; other files stay.
        """
        return self.write_archive(
            remote_dir,
            _archive.iter_tar(local_dir),
            mkdir=mkdir,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    def download_dir(
        self,
        remote_path: str,
        local_dir: LocalPath,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ArchiveInfo:
        """Copy a directory of the box into ``local_dir`` (made if missing), streamed.

        ``local_dir`` gets ``remote_path``'s contents and mode: the twin of
        ``upload_dir``. The box's content is untrusted, so extraction refuses
        (``ArchiveError``) any entry that would land outside ``local_dir``:
        absolute names, ``..`` parts, paths through a symlink, hard links to
        anything not extracted before; symlinks are made but never followed,
        setuid and setgid bits are dropped. Extraction stops at the first bad
        entry, and what came before it stays. Owners are not applied. For a
        single file, use ``download``.
        """
        with self.read_archive(remote_path, timeout=timeout, extra_headers=extra_headers) as tar:
            return _archive.extract(_archive.reader(tar), local_dir, remote=remote_path)

    # proxy

    def proxy_url(self, port: int, path: str = "", *, token: bool = False) -> str:
        """The URL of ``port`` in the box through hogplane's proxy.

        Requests to it need the client's credential, as ``Authorization: Bearer``
        (see ``proxy_headers()``) or, with ``token=True``, in the URL's
        ``?token=`` (for clients that cannot set headers: browsers, EventSource).
        """
        secret = self._t.token() if token else None
        return self._proxy_url(self._t.base_url, secret, port, path)

    def proxy_headers(self) -> dict[str, str]:
        """The header that authenticates a request to ``proxy_url``."""
        return {"Authorization": f"Bearer {self._t.token()}"}

    def create_preview_token(
        self,
        port: int,
        *,
        expires_in_seconds: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> PreviewToken:
        """A shareable link that opens only ``port`` of this box until it expires.

        The answer's ``url`` and ``token`` (``ptk_...``) are shown only now;
        anyone holding them reaches that port, and nothing else (default
        lifetime one hour). ``revoke_preview_token(token.id)`` ends it early.
        """
        call = _calls.create_preview_token(
            self.id,
            port,
            expires_in_seconds=expires_in_seconds,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return PreviewToken.model_validate_json(self._t.send(call).content)

    def list_preview_tokens(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> PreviewTokenList:
        """The box's preview tokens (without their secrets)."""
        call = _calls.list_preview_tokens(self.id, timeout=timeout, extra_headers=extra_headers)
        return PreviewTokenList.model_validate_json(self._t.send(call).content)

    def revoke_preview_token(
        self, token_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Revoke a preview token; its link stops working at once."""
        call = _calls.revoke_preview_token(
            self.id, token_id, timeout=timeout, extra_headers=extra_headers
        )
        self._t.send(call)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(NotFoundError):
            self.destroy()


class AsyncHogbox(_BoxBase):
    """The async twin of ``Hogbox``: the same methods, awaited."""

    def __init__(self, client: AsyncHogland, view: HogboxView) -> None:
        super().__init__(view)
        self._client = client
        self._t = client._transport

    async def refresh(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Fetch the box's record again; returns the handle itself."""
        call = _calls.get(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update((await self._t.send(call)).content)
        return self

    async def pause(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Freeze every process of the box."""
        call = _calls.pause(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update((await self._t.send(call)).content)
        return self

    async def resume(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> Self:
        """Thaw a paused box."""
        call = _calls.resume(self.id, timeout=timeout, extra_headers=extra_headers)
        self._update((await self._t.send(call)).content)
        return self

    async def update(
        self,
        *,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        ttl_seconds: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> Self:
        """Change the name, the tags or the idle TTL (a new TTL restarts the idle clock)."""
        call = _calls.update(
            self.id,
            name=name,
            tags=tags,
            ttl_seconds=ttl_seconds,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        self._update((await self._t.send(call)).content)
        return self

    async def destroy(self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None) -> None:
        """Destroy the box (harmless on a stopped box)."""
        await self._t.send(_calls.destroy(self.id, timeout=timeout, extra_headers=extra_headers))

    delete = destroy

    async def snapshot(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> SnapshotRecord:
        """Snapshot the box; pass the record's ``id`` as ``snapshot_id`` to a later ``create``."""
        call = _calls.snapshot(self.id, timeout=timeout, extra_headers=extra_headers)
        return SnapshotRecord.model_validate_json((await self._t.send(call)).content)

    async def events(
        self,
        *,
        after: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> BoxEventList:
        """The box's history (created, paused, stopped...), oldest first, after seq ``after``."""
        call = _calls.events(self.id, after=after, timeout=timeout, extra_headers=extra_headers)
        return BoxEventList.model_validate_json((await self._t.send(call)).content)

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
        """Run a command and wait for it to exit (see ``Hogbox.exec``)."""
        body = _calls.exec_body(
            argv, timeout_seconds=timeout_seconds, env=env, workdir=workdir, stdin=stdin
        )
        call = _calls.exec_batch(
            self.id,
            body,
            timeout=timeout,
            default_timeout=self._t.timeout,
            extra_headers=extra_headers,
        )
        return ExecResult.model_validate_json((await self._t.send(call)).content)

    def exec_stream(
        self,
        argv: Sequence[str],
        *,
        timeout_seconds: float | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | None = None,
        stdin: str | bytes | None = None,
        stdin_open: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncExecStream:
        """Run a command and yield its events (see ``Hogbox.exec_stream``).

        Not a coroutine: ``async for event in box.exec_stream(argv)`` or
        ``async with box.exec_stream(argv) as stream``.
        """
        body = _calls.exec_body(
            argv,
            timeout_seconds=timeout_seconds,
            env=env,
            workdir=workdir,
            stdin=stdin,
            stdin_open=stdin_open,
        )
        timeout = _calls.stream_timeout(timeout, self._t.timeout)
        start = _calls.exec_stream(self.id, body, timeout=timeout, extra_headers=extra_headers)
        return AsyncExecStream(
            self._t, start, _resume_call(self.id, timeout, extra_headers), self.id
        )

    async def send_stdin(
        self,
        exec_id: str,
        data: StdinData,
        *,
        close: bool = True,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Write ``data`` to exec ``exec_id``'s stdin (see ``Hogbox.send_stdin``)."""
        call = _calls.exec_stdin(
            self.id, exec_id, data, close=close, timeout=timeout, extra_headers=extra_headers
        )
        await self._t.send(call)

    async def signal_exec(
        self,
        exec_id: str,
        sig: str | int = "TERM",
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> None:
        """Send a signal to exec ``exec_id``'s process group (see ``Hogbox.signal_exec``)."""
        call = _calls.exec_signal(
            self.id, exec_id, sig, timeout=timeout, extra_headers=extra_headers
        )
        await self._t.send(call)

    async def write_file(
        self,
        path: str,
        data: AsyncUpload,
        *,
        mode: int | str = 0o644,
        mkdir: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> FileInfo:
        """Write a file atomically (see ``Hogbox.write_file``); also takes async iterators."""
        call = _calls.write_file(
            self.id,
            path,
            data,
            mode=mode,
            mkdir=mkdir,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return FileInfo.model_validate_json((await self._t.send(call)).content)

    async def read_file(
        self, path: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> bytes:
        """A file's whole content (works on /proc and /sys)."""
        call = _calls.read_file(self.id, path, timeout=timeout, extra_headers=extra_headers)
        return (await self._t.send(call)).content

    def read_file_stream(
        self,
        path: str,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncFileStream:
        """A file's bytes in chunks as they arrive::

        async with box.read_file_stream("/var/log/big.log") as chunks:
            async for chunk in chunks:
                ...
        """
        call = _calls.read_file(self.id, path, timeout=timeout, extra_headers=extra_headers)
        return AsyncFileStream(self._t, call, chunk_size)

    async def download(
        self,
        path: str,
        dest: Destination,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> int:
        """Stream a file of the box into ``dest`` (see ``Hogbox.download``)."""
        stream = self.read_file_stream(
            path, chunk_size=chunk_size, timeout=timeout, extra_headers=extra_headers
        )
        written = 0
        if not isinstance(dest, str | os.PathLike):
            async with stream:
                async for chunk in stream:
                    written += dest.write(chunk) or 0
            return written
        async with stream:
            out, tmp, final = _open_destination(dest)
            try:
                with out:
                    async for chunk in stream:
                        written += out.write(chunk)
                tmp.replace(final)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        return written

    # archives (directory trees)

    async def write_archive(
        self,
        path: str,
        data: AsyncUpload,
        *,
        mkdir: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ArchiveInfo:
        """Extract a tar stream into the directory ``path`` (see ``Hogbox.write_archive``)."""
        call = _calls.write_archive(
            self.id, path, data, mkdir=mkdir, timeout=timeout, extra_headers=extra_headers
        )
        return ArchiveInfo.model_validate_json((await self._t.send(call)).content)

    def read_archive(
        self,
        path: str,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> AsyncFileStream:
        """A tar of ``path`` in the box, as it streams (see ``Hogbox.read_archive``)."""
        call = _calls.read_archive(self.id, path, timeout=timeout, extra_headers=extra_headers)
        return AsyncFileStream(self._t, call, chunk_size)

    async def upload_dir(
        self,
        local_dir: LocalPath,
        remote_dir: str,
        *,
        mkdir: bool = True,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ArchiveInfo:
        """Copy a local directory into ``remote_dir`` (see ``Hogbox.upload_dir``).

        Local files are read in a worker thread, off the event loop.
        """
        return await self.write_archive(
            remote_dir,
            _archive.aiter_tar(local_dir),
            mkdir=mkdir,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def download_dir(
        self,
        remote_path: str,
        local_dir: LocalPath,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> ArchiveInfo:
        """Copy a directory of the box into ``local_dir`` (see ``Hogbox.download_dir``).

        The tar is spooled to a temporary file as it arrives, then unpacked
        in a worker thread, off the event loop.
        """
        with tempfile.TemporaryFile() as spool:
            async with self.read_archive(
                remote_path, timeout=timeout, extra_headers=extra_headers
            ) as tar:
                async for chunk in tar:
                    spool.write(chunk)
            spool.seek(0)
            return await asyncio.to_thread(_archive.extract, spool, local_dir, remote=remote_path)

    def proxy_url(self, port: int, path: str = "", *, token: bool = False) -> str:
        """The URL of ``port`` in the box through hogplane's proxy (see ``Hogbox.proxy_url``)."""
        secret = self._t.token() if token else None
        return self._proxy_url(self._t.base_url, secret, port, path)

    def proxy_headers(self) -> dict[str, str]:
        """The header that authenticates a request to ``proxy_url``."""
        return {"Authorization": f"Bearer {self._t.token()}"}

    async def create_preview_token(
        self,
        port: int,
        *,
        expires_in_seconds: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Headers = None,
    ) -> PreviewToken:
        """A shareable link to ``port`` of this box (see ``Hogbox.create_preview_token``)."""
        call = _calls.create_preview_token(
            self.id,
            port,
            expires_in_seconds=expires_in_seconds,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return PreviewToken.model_validate_json((await self._t.send(call)).content)

    async def list_preview_tokens(
        self, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> PreviewTokenList:
        """The box's preview tokens (without their secrets)."""
        call = _calls.list_preview_tokens(self.id, timeout=timeout, extra_headers=extra_headers)
        return PreviewTokenList.model_validate_json((await self._t.send(call)).content)

    async def revoke_preview_token(
        self, token_id: str, *, timeout: TimeoutTypes = None, extra_headers: Headers = None
    ) -> None:
        """Revoke a preview token; its link stops working at once."""
        call = _calls.revoke_preview_token(
            self.id, token_id, timeout=timeout, extra_headers=extra_headers
        )
        await self._t.send(call)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with contextlib.suppress(NotFoundError):
            await self.destroy()


__all__ = ["AsyncHogbox", "Hogbox", "HogboxView"]
