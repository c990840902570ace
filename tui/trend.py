"""What the polls add up to for one tab: rates, runways, the latest top-up. Pure.

The app builds a :class:`Trend` after each poll from the recorded samples; the panels
only format it.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import NamedTuple

from tui.rates import (
    LONG_WINDOW,
    SHORT_WINDOW,
    UNKNOWN,
    WARMING_UP,
    Event,
    Rate,
    Runway,
    Sample,
    SpreadMemo,
    allowance_runway,
    balance_runway,
    minute_buckets,
    rate,
    spend_between,
    spent,
    used,
)
from tui.report import DailyUsage, DayFigures, Period, Scope, UsageReport


class SinceMark(NamedTuple):
    name: str
    at: float  # server time the mark was set
    elapsed: float  # seconds of server time since
    used_milli: int  # credits used since, on this tab
    spent_cents: int  # inference spent since, on this tab

    def per_minute(self, amount: int) -> Fraction | None:
        """The average since the mark; None for under a minute (not yet meaningful)."""
        if self.elapsed < 60:
            return None
        return Fraction(amount) * 60 / Fraction(self.elapsed)


class Trend(NamedTuple):
    credits_short: Rate = WARMING_UP
    credits_long: Rate = WARMING_UP
    cents_short: Rate = WARMING_UP
    cents_long: Rate = WARMING_UP
    allowance: Runway = UNKNOWN
    balance: Runway = UNKNOWN
    top_up: Event | None = None  # the latest this period
    rollover: Event | None = None  # when this period began while we watched
    corrections: tuple[Event, ...] = ()  # the latest this period (credits and/or cents)
    closed: bool = False  # a past period: no rates, no runway
    since_mark: SinceMark | None = None
    # The last hour minute by minute, oldest first (None: no poll covered it).
    credits_minutes: tuple[int | None, ...] = ()
    cents_minutes: tuple[int | None, ...] = ()


NO_TREND = Trend()
CLOSED = Trend(closed=True)


def gap_for(interval: float) -> float:
    """Wall seconds between polls beyond which polling had a gap (backoff included)."""
    return max(5 * interval, 60.0)


def build_trend(
    report: UsageReport,
    scope: Scope,
    samples: Sequence[Sample],
    total_samples: Sequence[Sample],
    events: Sequence[Event],
    *,
    interval: float,
    now: datetime,
    memo: SpreadMemo | None = None,
) -> Trend:
    """``memo``: kept by the caller from one poll to the next (see SpreadMemo)."""
    gap = gap_for(interval)
    if memo is not None:
        memo.turn()
    credits_short = rate(samples, used, window=SHORT_WINDOW, gap=gap)
    credits_long = rate(samples, used, window=LONG_WINDOW, gap=gap)
    cents_short = rate(samples, spent, window=SHORT_WINDOW, gap=gap)
    cents_long = rate(samples, spent, window=LONG_WINDOW, gap=gap)

    # Both budgets are the account's: they run out at the account's pace, the last
    # five minutes' when there is enough of it, else the last hour's.
    def account_pace(value: Callable[[Sample], int | None], short: Rate, long: Rate) -> Rate:
        if total_samples is samples:  # the Total tab: the rates just worked out
            return long if short.warming_up else short
        pace = rate(total_samples, value, window=SHORT_WINDOW, gap=gap)
        return rate(total_samples, value, window=LONG_WINDOW, gap=gap) if pace.warming_up else pace

    account_credits = account_pace(used, credits_short, credits_long)
    account_cents = account_pace(spent, cents_short, cents_long)
    left = (
        None
        if report.allowance_milli is None
        else report.allowance_milli - report.credits.used_milli
    )
    start = report.period.start.timestamp()
    this_period = [e for e in events if e.at >= start]
    top_ups = [e for e in this_period if e.kind == "top-up"]
    rollovers = [e for e in this_period if e.kind == "rollover"]
    corrections = [e for e in this_period if e.kind == "correction"]
    return Trend(
        credits_short=credits_short,
        credits_long=credits_long,
        cents_short=cents_short,
        cents_long=cents_long,
        allowance=allowance_runway(left, account_credits.per_minute, now, report.period.end),
        balance=balance_runway(report.inference.balance_cents, account_cents.per_minute, now),
        top_up=top_ups[-1] if top_ups else None,
        rollover=rollovers[-1] if rollovers else None,
        corrections=tuple(e for e in corrections if e.at == corrections[-1].at)
        if corrections
        else (),
        credits_minutes=tuple(_minutes(samples, used, gap, memo)),
        cents_minutes=tuple(_minutes(samples, spent, gap, memo)),
    )


def _minutes(
    samples: Sequence[Sample],
    value: Callable[[Sample], int | None],
    gap: float,
    memo: SpreadMemo | None,
) -> list[int | None]:
    if not samples:
        return []
    # Up to the last whole minute: the minute in progress holds only its first seconds,
    # and drawn on a per-minute scale it would always look like a fall at "now".
    last_whole = (samples[-1].at // 60) * 60 - 1
    return minute_buckets(samples, value, end=last_whole, gap=gap, memo=memo)


def sample_of(report: UsageReport, scope: Scope, received: datetime) -> Sample:
    at = (report.generated_at or received).astimezone(UTC).timestamp()
    return Sample(
        at=at,
        wall=received.timestamp(),
        period=report.period.key,
        used_milli=report.used_milli(scope),
        spent_cents=report.spent_cents(scope),
        balance_cents=report.inference.balance_cents if scope == "total" else None,
    )


POLLED_GAP = 10 * 60.0  # seconds without a poll after which a day's figure is partial


def partly_polled_days(samples: Sequence[Sample], period: Period, now: datetime) -> tuple[int, ...]:
    """Days of the month (so far) whose figure built from the polls is a lower bound:
    polling began after the day did, ended before it did, or stopped for a while in it
    (use then is counted on the day of the next poll, or not at all before the first)."""
    times = sorted(s.at for s in samples if s.period == period.key)
    start, end = period.start.timestamp(), min(period.end, now).timestamp()
    if not times or end <= start:
        return ()
    partial: list[int] = []
    day = period.start
    while day.timestamp() < end:
        day_start, day_end = day.timestamp(), min(end, (day + timedelta(days=1)).timestamp())
        first, last = bisect.bisect_right(times, day_start), bisect.bisect_left(times, day_end)
        # A poll just outside the day covers its edge; before the period's first poll
        # nothing was seen at all.
        opened = times[first - 1] if first > 0 else None
        closed = times[last] if last < len(times) else (day_end if day_end == end else None)
        if opened is None or closed is None:
            partial.append(day.day)
        else:
            edges = [opened, *times[first:last], closed]
            if any(b - a > POLLED_GAP for a, b in itertools.pairwise(edges)):
                partial.append(day.day)
        day += timedelta(days=1)
    return tuple(partial)


def daily_from_history(
    live: Sequence[Sample], test: Sequence[Sample], period: Period
) -> tuple[DailyUsage, ...]:
    """Daily figures for a report without ``daily``, from the recorded polls: each climb
    between two polls of this period counts on the UTC day of the later one."""
    days: dict[date, dict[str, list[int]]] = {}
    for env, samples in (("live", live), ("test", test)):
        for before, after in itertools.pairwise(samples):
            if after.period != period.key:
                continue
            day = datetime.fromtimestamp(after.at, UTC).date()
            figures = days.setdefault(day, {"live": [0, 0], "test": [0, 0]})[env]
            pair = [before, after]
            figures[0] += spend_between(pair, used)
            figures[1] += spend_between(pair, spent)
    return tuple(
        DailyUsage(day, DayFigures(*f["live"]), DayFigures(*f["test"]))
        for day, f in sorted(days.items())
    )
