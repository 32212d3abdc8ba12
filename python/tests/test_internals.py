"""Small pieces: Retry-After parsing, backoff bounds, SSE frame parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from httpx_sse import ServerSentEvent

from hogland._errors import parse_retry_after
from hogland._http import MAX_RETRY_DELAY, backoff
from hogland._streams import parse_event


def test_retry_after_seconds_and_dates() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    seconds = parse_retry_after(when)
    assert seconds is not None
    assert 25 <= seconds <= 30
    past = format_datetime(datetime.now(UTC) - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(past) == 0.0


@pytest.mark.parametrize("attempt", range(10))
def test_backoff_is_bounded_and_jittered(attempt: int) -> None:
    delays = {backoff(attempt) for _ in range(20)}
    nominal = min(MAX_RETRY_DELAY, 0.5 * 2**attempt)
    assert all(nominal / 2 <= d <= nominal for d in delays)
    assert len(delays) > 1


def test_parse_event() -> None:
    event = parse_event(
        ServerSentEvent(event="stdout", data='{"kind":"stdout","seq":3,"data":"x"}')
    )
    assert event is not None
    assert (event.kind, event.seq, event.data) == ("stdout", 3, "x")
    # The seq and kind may come from the frame itself.
    event = parse_event(ServerSentEvent(event="exit", data='{"exit_code":1}', id="9"))
    assert event is not None
    assert (event.kind, event.seq, event.exit_code) == ("exit", 9, 1)
    # Frames that are not exec events are skipped.
    assert parse_event(ServerSentEvent(event="ping", data="{}", id="1")) is None
    assert parse_event(ServerSentEvent(event="stdout", data="not json")) is None
    assert parse_event(ServerSentEvent(event="message", data="")) is None
    # Unknown fields from a newer server are kept.
    event = parse_event(ServerSentEvent(data='{"kind":"stderr","seq":1,"pid":42}'))
    assert event is not None
    assert event.model_extra == {"pid": 42}


def test_every_generated_model_is_public() -> None:
    import inspect

    import hogland.models
    from hogland._generated import models as generated

    names = {
        name
        for name, obj in vars(generated).items()
        if inspect.isclass(obj) and obj.__module__ == generated.__name__
    }
    public = {getattr(hogland.models, n).__name__ for n in hogland.models.__all__}
    missing = sorted(names - public)
    assert not missing, f"add these to src/hogland/models.py: {missing}"


def _gen_models() -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "gen_models.py"
    spec = importlib.util.spec_from_file_location("gen_models", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _json(schema: str) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{schema}"}
    return {"content": {"application/json": {"schema": ref}}}


def test_response_schemas_are_tolerant_and_requests_strict() -> None:
    gen = _gen_models()
    status = {"type": "string", "enum": ["up", "down"]}
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/v1/things": {
                "post": {"requestBody": _json("Req"), "responses": {"200": _json("Thing")}},
                "put": {"requestBody": _json("Both"), "responses": {"200": _json("Both")}},
            },
            "/v1/admin": {"get": {"tags": ["admin"], "responses": {"200": _json("Secret")}}},
        },
        "components": {
            "schemas": {
                "Req": {
                    "type": "object",
                    "properties": {"status": status, "id": {"type": "string", "pattern": "^x$"}},
                },
                "Thing": {
                    "type": "object",
                    "properties": {
                        "status": {**status, "description": "Now."},
                        "enum": {"type": "string"},
                        "id": {"type": "string", "pattern": "^t-[0-9]+$"},
                        "history": {"type": "array", "items": status},
                        "kind": {"$ref": "#/components/schemas/Kind"},
                    },
                },
                "Kind": status,
                "Both": {"type": "object", "properties": {"status": status}},
                "Secret": {"type": "object"},
            }
        },
    }
    schemas = gen.user_slice(spec)["components"]["schemas"]
    assert set(schemas) == {"Req", "Thing", "Kind", "Both"}
    open_status = {"anyOf": [status, {"type": "string"}]}
    # Only sent: strict, as written.
    assert schemas["Req"] == spec["components"]["schemas"]["Req"]
    thing = schemas["Thing"]["properties"]
    assert thing["status"] == {**open_status, "description": "Now."}
    assert thing["enum"] == {"type": "string"}  # a property named enum is a property
    assert thing["id"] == {"type": "string"}
    assert thing["history"] == {"type": "array", "items": open_status}
    assert thing["kind"] == {"$ref": "#/components/schemas/Kind"}
    assert schemas["Kind"] == open_status
    # Sent and received: read tolerantly.
    assert schemas["Both"]["properties"]["status"] == open_status
