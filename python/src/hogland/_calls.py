"""The API calls, built once for both clients.

Each function returns a ``Call`` (method, path, query, body, retry safety);
``Hogland`` and ``AsyncHogland`` send it with their transport and parse the
answer, so the two clients cannot drift apart in what they send.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from ._http import AsyncUpload, Call, TimeoutTypes, Upload

# Headroom over an exec's own timeout for the HTTP answer to arrive.
EXEC_TIMEOUT_MARGIN = 30.0
# hogplane's batch exec timeout when the request names none.
SERVER_EXEC_TIMEOUT = 60.0
# What a running exec's stdin takes (str is sent as UTF-8).
StdinData = bytes | bytearray | memoryview | str


def _seg(value: str) -> str:
    """A path segment, escaped."""
    return quote(value, safe="")


def _box(box_id: str) -> str:
    if not box_id:
        raise ValueError("box id must not be empty")
    return f"/v1/hogboxes/{_seg(box_id)}"


def _compact(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _list_param(name: str, values: str | Sequence[str] | None) -> list[tuple[str, str]]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [(name, v) for v in values]


def _page(limit: int | None, cursor: str | None) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if limit is not None:
        params.append(("limit", str(limit)))
    if cursor:
        params.append(("cursor", cursor))
    return params


def me(**opts: Any) -> Call:
    return Call("GET", "/v1/me", **opts)


def limits(**opts: Any) -> Call:
    return Call("GET", "/v1/limits", **opts)


def create(
    *,
    name: str | None,
    kind: str | None,
    image: str | None,
    snapshot_id: str | None,
    cpus: int | None,
    memory_mib: int | None,
    disk_gib: int | None,
    ttl_seconds: int | None,
    env: Mapping[str, str] | None,
    tags: Sequence[str] | None,
    access_type: str | None,
    idempotency_key: str | None,
    **opts: Any,
) -> Call:
    body = _compact(
        name=name,
        kind=kind,
        image=image,
        snapshot_id=snapshot_id,
        cpus=cpus,
        memory_mib=memory_mib,
        disk_gib=disk_gib,
        ttl_seconds=ttl_seconds,
        env=dict(env) if env is not None else None,
        tags=list(tags) if tags is not None else None,
        access_type=access_type,
    )
    key = idempotency_key or str(uuid.uuid4())
    return Call("POST", "/v1/hogboxes", json=body, headers={"Idempotency-Key": key}, **opts)


def get(box_id: str, **opts: Any) -> Call:
    return Call("GET", _box(box_id), **opts)


def list_boxes(
    *,
    limit: int | None,
    cursor: str | None,
    status: str | Sequence[str] | None,
    tags: str | Sequence[str] | None,
    **opts: Any,
) -> Call:
    params = _page(limit, cursor) + _list_param("status", status) + _list_param("tag", tags)
    return Call("GET", "/v1/hogboxes", params=params, **opts)


def update(
    box_id: str,
    *,
    name: str | None,
    tags: Sequence[str] | None,
    ttl_seconds: int | None,
    **opts: Any,
) -> Call:
    body = _compact(
        name=name, tags=list(tags) if tags is not None else None, ttl_seconds=ttl_seconds
    )
    # Setting fields to given values is safe to repeat.
    return Call("PATCH", _box(box_id), json=body, idempotent=True, **opts)


def destroy(box_id: str, **opts: Any) -> Call:
    return Call("DELETE", _box(box_id), **opts)


def pause(box_id: str, **opts: Any) -> Call:
    return Call("POST", _box(box_id) + "/pause", **opts)


def resume(box_id: str, **opts: Any) -> Call:
    return Call("POST", _box(box_id) + "/resume", **opts)


def events(box_id: str, *, after: int | None, **opts: Any) -> Call:
    params = [("after", str(after))] if after is not None else []
    return Call("GET", _box(box_id) + "/events", params=params, **opts)


def exec_body(
    argv: Sequence[str],
    *,
    timeout_seconds: float | None,
    env: Mapping[str, str] | None,
    workdir: str | None,
    stdin: str | bytes | None,
    stdin_open: bool = False,
) -> dict[str, Any]:
    if isinstance(argv, str):
        raise TypeError("argv must be a list of strings, e.g. ['sh', '-c', 'echo hi']")
    argv = list(argv)
    if not argv:
        raise ValueError("argv must name a command")
    if isinstance(stdin, bytes):
        stdin = stdin.decode()
    return _compact(
        argv=argv,
        timeout_seconds=timeout_seconds,
        env=dict(env) if env is not None else None,
        workdir=workdir,
        stdin=stdin,
        # Sent only when asked for, so the server's default (closed) holds otherwise.
        stdin_open=True if stdin_open else None,
    )


def exec_batch(box_id: str, body: dict[str, Any], **opts: Any) -> Call:
    return _exec_call(_box(box_id) + "/exec", body, **opts)


def _exec_call(
    path: str,
    body: dict[str, Any],
    *,
    timeout: TimeoutTypes,
    default_timeout: httpx.Timeout,
    extra_headers: Mapping[str, str] | None,
) -> Call:
    if timeout is None and default_timeout.read is not None:
        # The answer comes when the command exits: wait at least that long.
        runs_for = body.get("timeout_seconds") or SERVER_EXEC_TIMEOUT
        read = max(default_timeout.read, float(runs_for) + EXEC_TIMEOUT_MARGIN)
        timeout = httpx.Timeout(
            connect=default_timeout.connect,
            read=read,
            write=default_timeout.write,
            pool=default_timeout.pool,
        )
    return Call("POST", path, json=body, timeout=timeout, extra_headers=extra_headers)


def stream_timeout(timeout: TimeoutTypes, default_timeout: httpx.Timeout) -> TimeoutTypes:
    """A stream may be silent for long: no read timeout unless one is given."""
    if timeout is not None:
        return timeout
    return httpx.Timeout(
        connect=default_timeout.connect,
        read=None,
        write=default_timeout.write,
        pool=default_timeout.pool,
    )


def exec_stream(
    box_id: str,
    body: dict[str, Any],
    *,
    timeout: TimeoutTypes,
    extra_headers: Mapping[str, str] | None,
) -> Call:
    return Call(
        "POST",
        _box(box_id) + "/exec/stream",
        json=body,
        headers={"Accept": "text/event-stream"},
        timeout=timeout,
        extra_headers=extra_headers,
    )


def exec_events(
    box_id: str,
    exec_id: str,
    *,
    last_event_id: int,
    timeout: TimeoutTypes,
    extra_headers: Mapping[str, str] | None,
) -> Call:
    return Call(
        "GET",
        f"{_box(box_id)}/execs/{_seg(exec_id)}/events",
        headers={"Accept": "text/event-stream", "Last-Event-ID": str(last_event_id)},
        timeout=timeout,
        extra_headers=extra_headers,
    )


def _exec(box_id: str, exec_id: str) -> str:
    if not exec_id:
        raise ValueError("exec id must not be empty")
    return f"{_box(box_id)}/execs/{_seg(exec_id)}"


def exec_stdin(
    box_id: str,
    exec_id: str,
    data: StdinData,
    *,
    close: bool,
    **opts: Any,
) -> Call:
    if not isinstance(data, StdinData):
        raise TypeError(f"stdin data must be bytes or str, not {type(data).__name__}")
    params = [("close", "true" if close else "false")]
    # A POST without an Idempotency-Key: never sent twice (the bytes would be written twice).
    return Call(
        "POST", _exec(box_id, exec_id) + "/stdin", params=params, upload=Upload(data), **opts
    )


def signal_name(sig: str | int) -> str:
    """What SignalRequest.signal takes: a name (TERM, SIGKILL) or a number."""
    if isinstance(sig, signal.Signals):
        return sig.name
    if isinstance(sig, int) and not isinstance(sig, bool):
        return str(sig)
    if not isinstance(sig, str):
        raise TypeError(f"a signal is a name such as 'TERM' or a number, not {type(sig).__name__}")
    if not sig.strip():
        raise ValueError("a signal must be named, e.g. 'TERM'")
    return sig


def exec_signal(box_id: str, exec_id: str, sig: str | int, **opts: Any) -> Call:
    body = {"signal": signal_name(sig)}
    # Not retried: a signal sent twice may act twice (HUP, USR1...).
    return Call("POST", _exec(box_id, exec_id) + "/signal", json=body, **opts)


def _mode(mode: int | str) -> str:
    if isinstance(mode, int):
        if not 0 <= mode <= 0o7777:
            raise ValueError(f"mode must be permission bits such as 0o644, got {mode:o}")
        return f"{mode:04o}"
    return mode


def write_file(
    box_id: str, path: str, data: AsyncUpload, *, mode: int | str, mkdir: bool, **opts: Any
) -> Call:
    params = [("path", path), ("mode", _mode(mode)), ("mkdir", "true" if mkdir else "false")]
    return Call("PUT", _box(box_id) + "/files", params=params, upload=Upload(data), **opts)


def read_file(box_id: str, path: str, **opts: Any) -> Call:
    return Call(
        "GET",
        _box(box_id) + "/files",
        params=[("path", path)],
        headers={"Accept": "application/octet-stream, application/problem+json"},
        **opts,
    )


TAR_ACCEPT = "application/x-tar, application/problem+json"


def read_archive(box_id: str, path: str, **opts: Any) -> Call:
    return Call(
        "GET",
        _box(box_id) + "/archive",
        params=[("path", path)],
        headers={"Accept": TAR_ACCEPT},
        **opts,
    )


def write_archive(box_id: str, path: str, data: AsyncUpload, *, mkdir: bool, **opts: Any) -> Call:
    params = [("path", path), ("mkdir", "true" if mkdir else "false")]
    return Call(
        "PUT",
        _box(box_id) + "/archive",
        params=params,
        upload=Upload(data),
        headers={"Content-Type": "application/x-tar"},
        **opts,
    )


def snapshot(box_id: str, **opts: Any) -> Call:
    return Call("POST", _box(box_id) + "/snapshot", json={}, **opts)


def list_snapshots(
    *,
    limit: int | None,
    cursor: str | None,
    alias: str | None = None,
    box_id: str | None = None,
    **opts: Any,
) -> Call:
    params = _page(limit, cursor)
    if alias:
        params.append(("alias", alias))
    if box_id:
        params.append(("box_id", box_id))
    return Call("GET", "/v1/snapshots", params=params, **opts)


def list_aliases(**opts: Any) -> Call:
    return Call("GET", "/v1/snapshot-aliases", **opts)


def _snapshot(snapshot_id: str) -> str:
    if not snapshot_id:
        raise ValueError("snapshot id must not be empty")
    return f"/v1/snapshots/{_seg(snapshot_id)}"


def get_snapshot(snapshot_id: str, **opts: Any) -> Call:
    return Call("GET", _snapshot(snapshot_id), **opts)


def delete_snapshot(snapshot_id: str, **opts: Any) -> Call:
    return Call("DELETE", _snapshot(snapshot_id), **opts)


def set_alias(snapshot_id: str, alias: str, **opts: Any) -> Call:
    return Call("PUT", f"{_snapshot(snapshot_id)}/aliases/{_seg(alias)}", **opts)


def delete_alias(snapshot_id: str, alias: str, **opts: Any) -> Call:
    return Call("DELETE", f"{_snapshot(snapshot_id)}/aliases/{_seg(alias)}", **opts)


ALIAS_PREFIX = "alias:"


def alias_name(snapshot_id: str) -> str | None:
    """NAME for "alias:NAME", None for a snapshot id."""
    if snapshot_id.startswith(ALIAS_PREFIX):
        return snapshot_id.removeprefix(ALIAS_PREFIX)
    return None


def create_preview_token(
    box_id: str, port: int, *, expires_in_seconds: int | None, **opts: Any
) -> Call:
    body = _compact(port=port, expires_in_seconds=expires_in_seconds)
    return Call("POST", _box(box_id) + "/proxy-tokens", json=body, **opts)


def list_preview_tokens(box_id: str, **opts: Any) -> Call:
    return Call("GET", _box(box_id) + "/proxy-tokens", **opts)


def revoke_preview_token(box_id: str, token_id: str, **opts: Any) -> Call:
    return Call("DELETE", f"{_box(box_id)}/proxy-tokens/{_seg(token_id)}", **opts)


def _proxy(prefix: str, port: int, path: str, token: str | None) -> str:
    if not 0 < int(port) < 65536:
        raise ValueError(f"port must be 1-65535, got {port}")
    path = path.lstrip("/")
    url = f"{prefix}/proxy/{int(port)}/{path}"
    if token is not None:
        url += ("&" if "?" in path else "?") + "token=" + quote(token, safe="")
    return url


def proxy_url(
    base_url: str, box_id: str, port: int, path: str = "", *, token: str | None = None
) -> str:
    return _proxy(base_url + _box(box_id), port, path, token)


# devboxes


def _devbox(ref: str) -> str:
    if not ref:
        raise ValueError("devbox id or name must not be empty")
    return f"/v1/devboxes/{_seg(ref)}"


def create_devbox(
    *,
    name: str,
    image: str | None,
    snapshot_id: str | None,
    cpus: int | None,
    memory_mib: int | None,
    disk_gib: int | None,
    env: Mapping[str, str] | None,
    auto_stop_seconds: int | None,
    auto_start: bool | None,
    **opts: Any,
) -> Call:
    if not name:
        raise ValueError("a devbox needs a name")
    body = _compact(
        name=name,
        image=image,
        snapshot_id=snapshot_id,
        cpus=cpus,
        memory_mib=memory_mib,
        disk_gib=disk_gib,
        env=dict(env) if env is not None else None,
        auto_stop_seconds=auto_stop_seconds,
        auto_start=auto_start,
    )
    # Not retried: a second try would meet the first's name (409).
    return Call("POST", "/v1/devboxes", json=body, **opts)


def list_devboxes(*, limit: int | None, cursor: str | None, **opts: Any) -> Call:
    return Call("GET", "/v1/devboxes", params=_page(limit, cursor), **opts)


def get_devbox(ref: str, **opts: Any) -> Call:
    return Call("GET", _devbox(ref), **opts)


def update_devbox(
    ref: str, *, auto_stop_seconds: int | None, auto_start: bool | None, **opts: Any
) -> Call:
    body = _compact(auto_stop_seconds=auto_stop_seconds, auto_start=auto_start)
    return Call("PATCH", _devbox(ref), json=body, idempotent=True, **opts)


def delete_devbox(ref: str, **opts: Any) -> Call:
    return Call("DELETE", _devbox(ref), **opts)


def start_devbox(ref: str, **opts: Any) -> Call:
    # Starting a running devbox is harmless: safe to repeat.
    return Call("POST", _devbox(ref) + "/start", idempotent=True, **opts)


def stop_devbox(ref: str, **opts: Any) -> Call:
    # Stopping a stopped devbox is harmless: safe to repeat.
    return Call("POST", _devbox(ref) + "/stop", idempotent=True, **opts)


def devbox_events(ref: str, *, after: int | None, **opts: Any) -> Call:
    params = [("after", str(after))] if after is not None else []
    return Call("GET", _devbox(ref) + "/events", params=params, **opts)


def exec_devbox(ref: str, body: dict[str, Any], **opts: Any) -> Call:
    return _exec_call(_devbox(ref) + "/exec", body, **opts)


def devbox_proxy_url(
    base_url: str, ref: str, port: int, path: str = "", *, token: str | None = None
) -> str:
    return _proxy(base_url + _devbox(ref), port, path, token)
