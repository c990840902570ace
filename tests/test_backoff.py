"""Backoff arithmetic: bounded, exponential until the cap, the server's word honoured."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from tui.backoff import CAP_FACTOR, MAX_SERVER_WAIT, Backoff

intervals = st.floats(min_value=1, max_value=3600)


@given(intervals, st.integers(min_value=1, max_value=40), st.integers())
def test_a_wait_is_never_shorter_than_the_interval_nor_longer_than_the_cap(
    interval: float, failures: int, seed: int
) -> None:
    backoff = Backoff(interval, rng=random.Random(seed))
    for _ in range(failures):
        delay = backoff.failure()
        assert interval <= delay <= interval * CAP_FACTOR


@given(intervals, st.integers())
def test_waits_grow_until_the_cap_then_stay_there(interval: float, seed: int) -> None:
    backoff = Backoff(interval, rng=random.Random(seed))
    first, second, third = (backoff.failure() for _ in range(3))
    # 2x then 4x the interval, less at most a quarter of jitter.
    assert 1.5 * interval <= first <= 2 * interval
    assert 3 * interval <= second <= 4 * interval
    assert 3 * interval <= third <= 4 * interval  # capped at 4 intervals


@given(intervals, st.floats(min_value=0, max_value=10**6))
def test_retry_after_is_honoured_within_reason(interval: float, retry_after: float) -> None:
    delay = Backoff(interval).failure(retry_after)
    assert delay == min(max(retry_after, interval), MAX_SERVER_WAIT)


@given(intervals, st.integers(min_value=1, max_value=20))
def test_a_success_starts_over(interval: float, failures: int) -> None:
    backoff = Backoff(interval)
    for _ in range(failures):
        backoff.failure()
    assert backoff.success() == interval
    assert backoff.failure() <= 2 * interval
