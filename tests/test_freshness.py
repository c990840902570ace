"""The freshness words, and when they next change (the header is drawn then, not sooner)."""

from __future__ import annotations

from hypothesis import assume, example, given
from hypothesis import strategies as st

from tui.client import UsageError
from tui.freshness import describe, next_change


def words(now: float, last: float | None, interval: float, error: UsageError | None = None) -> str:
    return describe(now=now, last_success=last, interval=interval, error=error, retry_at=None).badge


def test_the_badge_says_just_now_then_counts_seconds_then_stale() -> None:
    assert words(1.9, 0.0, 1) == "● live · just now"
    assert words(2.0, 0.0, 1) == "● live · 2 s ago"
    assert words(11.0, 0.0, 1) == "● live · 11 s ago"
    assert words(11.5, 0.0, 1) == "▲ stale · 11 s old"


@given(
    last=st.floats(0, 1e5),
    age=st.floats(0, 4000),
    interval=st.sampled_from([1.0, 2.5, 5.0, 30.0, 600.0, 3600.0]),
)
@example(last=0.0, age=12.2, interval=2.5)  # turns stale at 12.5 s, between two seconds
@example(last=0.0, age=1.5, interval=1.0)
def test_the_words_hold_until_the_next_change_and_move_then(
    last: float, age: float, interval: float
) -> None:
    now = last + age
    delay = next_change(now=now, last_success=last, interval=interval, error=None)
    assert 0 < delay <= 2
    stale_after = max(3 * interval, interval + 10)
    assume(now - last != stale_after)  # the one instant it turns stale: a ms is asked for
    assume(delay > 1e-6)  # below that, float rounding decides the side of a boundary
    shown = words(now, last, interval)
    for part in (0.0, 0.25, 0.5, 0.9, 0.999):
        assert words(now + delay * part, last, interval) == shown  # never drawn late
    if now + delay - last < 3600 - 2:  # (past an hour the words move by the minute)
        assert words(now + delay + 1e-6, last, interval) != shown  # never woken for nothing


def test_at_a_one_second_interval_a_poll_comes_before_any_change() -> None:
    # A poll every ~1 s keeps "just now": the header needs no tick of its own.
    assert next_change(now=10.0, last_success=10.0, interval=1, error=None) == 2.0


def test_while_something_is_wrong_it_is_drawn_every_second() -> None:
    error = UsageError("unreachable", "connection refused")
    assert next_change(now=50.0, last_success=10.0, interval=5, error=error) == 1.0
    assert next_change(now=50.0, last_success=None, interval=5, error=None) == 1.0
