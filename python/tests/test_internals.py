"""Small pieces: Retry-After parsing, backoff bounds, SSE frame parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

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
