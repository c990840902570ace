"""Rates, runways and the budgets' rules: properties over generated poll series."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from tui.rates import (
    LONG_WINDOW,
    SHORT_WINDOW,
    Sample,
    SpreadMemo,
    allowance_runway,
    balance_runway,
    events_between,
    minute_buckets,
    newest_run,
    rate,
    spend_between,
    spent,
    used,
)

T0 = 1_796_300_000.0  # an instant in December 2026
DEC = (2026, 12)
GAP = 60.0

steps = st.lists(
    st.tuples(st.integers(min_value=1, max_value=30), st.integers(min_value=-50, max_value=500)),
    min_size=1,
    max_size=60,
)


def series(moves: list[tuple[int, int]], *, start: int = 1000, period=DEC) -> list[Sample]:
    """Samples every `dt` seconds whose figure moves by `d` (negative: a correction)."""
    out, at, value = [], T0, start
    for dt, d in moves:
        at += dt
        value = max(0, value + d)
        out.append(Sample(at, at, period, value, value // 10))
    return out


@given(steps)
def test_a_rate_is_never_negative(moves: list[tuple[int, int]]) -> None:
    for window in (SHORT_WINDOW, LONG_WINDOW):
        for value in (used, spent):
            r = rate(series(moves), value, window=window, gap=GAP)
            assert r.per_minute is None or r.per_minute >= 0


@given(st.integers(min_value=1, max_value=10_000), st.integers(min_value=3, max_value=40))
def test_a_steady_climb_gives_its_exact_rate(per_poll: int, polls: int) -> None:
    samples = series([(15, per_poll)] * polls)
    r = rate(samples, used, window=LONG_WINDOW, gap=GAP, min_span=15)
    assert r.per_minute == Fraction(per_poll * 60, 15)


def test_two_polls_a_second_apart_are_warming_up_not_a_figure() -> None:
    samples = series([(1, 5000), (1, 5000)])
    assert rate(samples, used, window=SHORT_WINDOW, gap=GAP).warming_up
    # Three polls but only 2 s of data: still warming up, for both windows.
    samples = series([(1, 5000)] * 3)
    assert rate(samples, used, window=SHORT_WINDOW, gap=GAP).warming_up
    assert rate(samples, used, window=LONG_WINDOW, gap=GAP).warming_up


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=120, max_value=86_400))
def test_after_a_gap_the_window_restarts(per_poll: int, gap_seconds: int) -> None:
    before = series([(10, per_poll)] * 30)
    # A suspended laptop: the figure jumped while nobody polled. Not averaged in.
    resumed_at = before[-1].at + gap_seconds
    jump = before[-1].used_milli + 10**6
    after = [
        Sample(resumed_at + 10 * i, resumed_at + 10 * i, DEC, jump + i * per_poll, None)
        for i in range(30)
    ]
    r = rate(before + after, used, window=LONG_WINDOW, gap=GAP, min_span=60)
    assert r.per_minute == Fraction(per_poll * 6)
    assert r.since is not None and r.since >= resumed_at


@given(st.integers(min_value=1, max_value=500))
def test_a_rollover_starts_a_new_series_without_a_negative_spike(per_poll: int) -> None:
    december = series([(10, per_poll)] * 30, start=40_000_000)
    at = december[-1].at
    january = [
        Sample(at + 10 * (i + 1), at + 10 * (i + 1), (2027, 1), i * per_poll, i) for i in range(30)
    ]
    r = rate(december + january, used, window=LONG_WINDOW, gap=GAP, min_span=60)
    assert r.per_minute == Fraction(per_poll * 6)
    events = events_between(december[-1], january[0])
    assert [e.kind for e in events] == ["rollover"]
    assert events[0].detail == "2027-01"


def test_a_correction_is_an_event_and_not_negative_spend() -> None:
    a = Sample(T0, T0, DEC, 5000, 700, balance_cents=10_000)
    b = Sample(T0 + 10, T0 + 10, DEC, 4200, 650, balance_cents=10_000)
    kinds = {(e.kind, e.axis, e.amount) for e in events_between(a, b)}
    assert kinds == {("correction", "credits", 800), ("correction", "inference", 50)}
    samples = [a, b, *series([(30, 10)] * 5, start=4200)]
    last = samples[-1]
    # Measured from the corrected figure on, never across the drop.
    expected = Fraction(last.used_milli - b.used_milli) * 60 / Fraction(last.at - b.at)
    assert rate(samples, used, window=SHORT_WINDOW, gap=GAP).per_minute == expected > 0


@given(
    st.integers(min_value=0, max_value=10**7),
    st.integers(min_value=0, max_value=10**5),
    st.integers(min_value=1, max_value=10**7),
)
def test_a_top_up_is_what_was_put_in_and_never_changes_spend(
    balance: int, spend: int, top_up: int
) -> None:
    a = Sample(T0, T0, DEC, 0, 1000, balance_cents=balance)
    b = Sample(T0 + 60, T0 + 60, DEC, 0, 1000 + spend, balance_cents=balance - spend + top_up)
    assume(b.balance_cents is not None and b.balance_cents > balance)
    events = events_between(a, b)
    assert [(e.kind, e.amount) for e in events] == [("top-up", top_up)]
    # Spend is measured on spent_cents, which a top-up does not touch.
    flat = [Sample(T0 + 60 * i, T0 + 60 * i, DEC, 0, 1000 + spend * i) for i in range(6)]
    topped = [
        Sample(s.at, s.wall, s.period, 0, s.spent_cents, balance_cents=top_up * (i >= 3))
        for i, s in enumerate(flat)
    ]
    assert rate(flat, spent, window=SHORT_WINDOW, gap=120) == rate(
        topped, spent, window=SHORT_WINDOW, gap=120
    )


NOW = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
RESET = datetime(2027, 1, 1, tzinfo=UTC)


@given(
    st.integers(min_value=1, max_value=10**9),
    st.fractions(min_value=Fraction(1, 1000), max_value=10**6),
    st.fractions(min_value=Fraction(1, 1000), max_value=10**6),
)
def test_runway_is_monotone_in_rate(left: int, r1: Fraction, r2: Fraction) -> None:
    slow, fast = sorted((r1, r2))
    a, b = balance_runway(left, slow, NOW), balance_runway(left, fast, NOW)
    far = NOW + timedelta(days=367)
    assert (a.at or far) >= (b.at or far)
    x, y = allowance_runway(left, slow, NOW, RESET), allowance_runway(left, fast, NOW, RESET)
    when = {"at": lambda r: r.at, "after_reset": lambda r: RESET + timedelta(days=1)}
    assert when[x.kind](x) >= when[y.kind](y)


def test_runway_words_for_the_edges() -> None:
    assert allowance_runway(None, Fraction(5), NOW, RESET).kind == "unknown"
    assert allowance_runway(0, Fraction(5), NOW, RESET).kind == "exhausted"
    assert allowance_runway(100, None, NOW, RESET).kind == "unknown"
    assert allowance_runway(100, Fraction(0), NOW, RESET).kind == "after_reset"
    soon = allowance_runway(600, Fraction(10), NOW, RESET)
    assert soon.kind == "at" and soon.at == NOW + timedelta(hours=1)
    assert balance_runway(-5, Fraction(3), NOW).kind == "exhausted"
    assert balance_runway(500, Fraction(0), NOW).kind == "no_spend"
    assert balance_runway(500, Fraction(100), NOW).minutes == 5


@given(steps)
def test_spend_since_a_mark_is_never_negative_and_sums_the_climbs(
    moves: list[tuple[int, int]],
) -> None:
    samples = series(moves)
    total = spend_between(samples, used)
    climbs = sum(max(0, b.used_milli - a.used_milli) for a, b in itertools.pairwise(samples))
    assert total == climbs >= 0


def test_spend_since_a_mark_counts_across_a_rollover() -> None:
    dec = [Sample(T0 + i, T0 + i, DEC, 1000 + 10 * i, None) for i in range(3)]  # +20
    jan = [Sample(T0 + 10 + i, T0 + 10 + i, (2027, 1), 5 * i, None) for i in range(3)]  # 0..10
    assert spend_between(dec + jan, used) == 20 + 0 + 10


@given(steps)
def test_minute_buckets_hold_every_climb_and_never_a_negative(
    moves: list[tuple[int, int]],
) -> None:
    samples = series(moves)
    end = samples[-1].at
    buckets = minute_buckets(samples, used, end=end, gap=10**6, minutes=10**4)
    assert all(b is None or b >= 0 for b in buckets)
    assert sum(b or 0 for b in buckets) == spend_between(samples, used)


def test_a_gap_is_not_put_into_one_minute() -> None:
    before = [Sample(T0 + 60 * i, T0 + 60 * i, DEC, 100 * i, None) for i in range(5)]
    later = T0 + 3000
    after = [Sample(later + 60 * i, later + 60 * i, DEC, 10**6 + 100 * i, None) for i in range(5)]
    buckets = minute_buckets(before + after, used, end=after[-1].at, gap=120)
    assert max(b or 0 for b in buckets) == 100  # the million after the gap is no spike
    assert None in buckets


def test_partly_polled_days_are_the_ones_polling_did_not_cover() -> None:
    from datetime import UTC, datetime

    from tui.report import Period
    from tui.trend import partly_polled_days
    from tui.widgets.chart_plan import day_ranges

    period = Period(2026, 12, datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    day = 86_400.0
    start = datetime(2026, 12, 1, tzinfo=UTC).timestamp()

    def polls(*spans: tuple[float, float]) -> list[Sample]:
        times = [t for a, b in spans for t in range(int(a), int(b) + 1, 300)]  # 5 min apart
        return [Sample(t, t, (2026, 12), 0, 0) for t in times]

    now = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    # Watched from Dec 2 at noon to now, but not from Dec 4 01:00 to 03:00.
    samples = polls(
        (start + 1.5 * day, start + 3 * day + 3600), (start + 3 * day + 3 * 3600, now.timestamp())
    )
    assert partly_polled_days(samples, period, now) == (1, 2, 4)
    # Every day covered to now: none.
    assert partly_polled_days(polls((start - 600, now.timestamp())), period, now) == ()
    # Stopped an hour ago: today is a lower bound.
    gone = polls((start - 600, now.timestamp() - 3600))
    assert partly_polled_days(gone, period, now) == (5,)
    assert day_ranges((1, 2, 3, 5, 7, 8)) == "1–3, 5, 7, 8"


def test_a_climb_between_polls_minutes_apart_is_spread_over_those_minutes() -> None:
    # Two polls ten minutes apart (a demo at x600): a tenth of the climb in each
    # minute, not all of it in the last one as a spike ten times the real pace.
    t0 = 1_800_000_000.0  # on a minute boundary
    samples = [Sample(t0, t0, (2026, 12), 0, 0), Sample(t0 + 600, t0 + 1, (2026, 12), 1000, 0)]
    buckets = minute_buckets(samples, used, end=t0 + 600, gap=60)
    assert buckets[-11:] == [*([100] * 10), 0]  # and nothing yet in the minute now begun
    assert sum(b or 0 for b in buckets) == 1000


@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 5_000)), min_size=2, max_size=60))
def test_kept_spreads_give_the_minutes_a_fresh_count_gives_poll_after_poll(
    steps: list[tuple[int, int]],
) -> None:
    at, figure = 1_800_000_000.0, 0
    samples = [Sample(at, at, DEC, 0, 0)]
    memo = SpreadMemo()
    for seconds, climb in steps:  # one poll more each round, as the monitor sees them
        at, figure = at + seconds, figure + climb
        samples.append(Sample(at, at, DEC, figure, figure // 7))
        recent = samples[-20:]
        memo.turn()
        for value in (used, spent):
            kept = minute_buckets(recent, value, end=at, gap=600, memo=memo)
            assert kept == minute_buckets(recent, value, end=at, gap=600)
    # Only the last round's spreads are held: memory follows the window, not the run.
    assert len(memo._this) <= 2 * 19


def test_a_climb_that_began_before_the_hour_counts_only_its_share_in_it() -> None:
    # Polls 10 minutes apart, the first 5 minutes before the hour shown: half of the
    # climb is the hour's (spread over its first 5 minutes), not all of it.
    t0 = 1_800_000_000.0  # on a minute boundary
    end = t0 + 3600  # the hour shown: its first minute starts at t0 + 60
    samples = [
        Sample(t0 + 60 - 300, 0.0, DEC, 0, 0),
        Sample(t0 + 60 + 300, 1.0, DEC, 1000, 0),
        Sample(end, 2.0, DEC, 1000, 0),
    ]
    buckets = minute_buckets(samples, used, end=end, gap=10**9)
    assert buckets[:5] == [100] * 5
    assert sum(b or 0 for b in buckets) == 500


@given(st.lists(st.tuples(st.integers(1, 400), st.integers(0, 10_000)), min_size=1, max_size=30))
def test_spread_minutes_add_up_to_the_climbs_in_the_window(steps: list[tuple[int, int]]) -> None:
    at, figure = 1_800_000_000.0, 0
    samples = [Sample(at, at, (2026, 12), 0, 0)]
    for seconds, climb in steps:
        at, figure = at + seconds, figure + climb
        samples.append(Sample(at, at, (2026, 12), figure, 0))
    window = 60 * 60 * 24  # a day's minutes: every step inside it
    buckets = minute_buckets(samples, used, end=at, gap=10**9, minutes=window // 60)
    assert all(b is None or b >= 0 for b in buckets)
    assert sum(b or 0 for b in buckets) == figure


def test_a_server_clock_that_goes_back_is_left_out_not_a_crash() -> None:
    # A restarted simulator (or another server behind the URL) answers with an earlier
    # time: at epoch-sized times the climb across it once divided by zero.
    t0 = 1_800_000_000.0
    at = [t0, t0 + 60, t0 + 120, t0 + 13, t0 + 73]  # back by ~107 s after the third poll
    samples = [Sample(a, t0 + 10 * i, (2026, 12), 100 * i, 0) for i, a in enumerate(at)]
    buckets = minute_buckets(samples, used, end=t0 + 130, gap=600)
    assert all(b is None or b >= 0 for b in buckets)
    # The climbs before the jump and after it count; the one across it does not.
    assert sum(b or 0 for b in buckets) == 100 + 100 + 100
    same = [Sample(t0, t0, (2026, 12), 0, 0), Sample(t0, t0 + 5, (2026, 12), 40, 0)]
    assert sum(b or 0 for b in minute_buckets(same, used, end=t0, gap=600)) == 40


def _rate_over_the_whole_run(samples: list[Sample], window: float, gap: float) -> object:
    """The rate as first written: the newest run walked back to its very start, then
    cut to the window."""
    run = newest_run(samples, used, gap)
    last = run[-1]
    inside = [s for s in run if s.at >= last.at - window]
    if len(inside) < 3 or last.at - inside[0].at < (60.0 if window == SHORT_WINDOW else 600.0):
        return None
    return Fraction(last.used_milli - inside[0].used_milli) * 60 / Fraction(last.at - inside[0].at)


polls = st.lists(
    st.tuples(
        # Seconds of server time (back: a restart); whole minutes put polls exactly on
        # a window's edge.
        st.one_of(st.sampled_from([30, 60, 150, 300]), st.integers(min_value=-20, max_value=200)),
        st.integers(min_value=1, max_value=200),  # seconds of wall time (> GAP: a gap)
        st.integers(min_value=-50, max_value=500),  # the figure's move (down: a correction)
        st.booleans(),  # a new period begins
    ),
    min_size=1,
    max_size=80,
)


@settings(max_examples=300)
@given(polls, st.sampled_from([SHORT_WINDOW, LONG_WINDOW]))
# A poll exactly on the window's edge belongs to the window.
@example([(0, 1, 0, False), (150, 30, 100, False), (150, 30, 300, False)], SHORT_WINDOW)
def test_walking_the_run_back_only_as_far_as_the_window_changes_no_rate(
    moves: list[tuple[int, int, int, bool]], window: float
) -> None:
    samples, at, wall, value, month = [], T0, T0, 1000, 12
    for dt, dwall, d, rollover in moves:
        at, wall = at + dt, wall + dwall
        if rollover:
            month, value = month % 12 + 1, 0
        value = max(0, value + d)
        samples.append(Sample(at, wall, (2026, month), value, value // 10))
    got = rate(samples, used, window=window, gap=GAP)
    assert got.per_minute == _rate_over_the_whole_run(samples, window, GAP)


def test_the_last_hour_ends_with_the_last_whole_minute() -> None:
    from tui.trend import _minutes

    # A steady 100 every 10 s, and the newest poll 5 s into a minute: that minute has
    # only its first 50 so far, and on a per-minute scale it would read as a fall.
    start = (T0 // 60 + 1) * 60
    samples = [Sample(start + 10 * i, start + 10 * i, DEC, 100 * i, None) for i in range(19)]
    samples.append(Sample(start + 185, start + 185, DEC, 1850, None))
    minutes = _minutes(samples, lambda s: s.used_milli, gap=60.0, memo=None)
    assert len(minutes) == 60
    assert minutes[-3:] == [600, 600, 600]  # the three whole minutes, none cut short
