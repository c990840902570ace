"""Burn rates, runways and the two budgets' rules. Pure: no Textual, no clock, no I/O.

A report is a point-in-time total; a rate needs several of them over enough time. The
allowance's figure (milli-credits used) climbs within a UTC month and restarts at the
next; the inference spend (cents spent this period) climbs too, while the balance only
falls, except when it is topped up out of band. So a rate is measured over the newest
*run* of samples: same period, never decreasing, no gap in polling. A rollover, a
correction (a figure that went down) or a gap (a suspended laptop, a network outage)
starts a new run instead of being averaged into a wild or negative figure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal, NamedTuple

SHORT_WINDOW = 5 * 60.0  # seconds of server time
LONG_WINDOW = 60 * 60.0
# Before a window has this much data it says "warming up", not a figure.
MIN_SPAN = {SHORT_WINDOW: 60.0, LONG_WINDOW: 10 * 60.0}
MIN_SAMPLES = 3


class Sample(NamedTuple):
    """One poll's figures for one environment (or the total)."""

    at: float  # server time (the report's generatedAt, else arrival), Unix seconds
    wall: float  # when it arrived here, Unix seconds: gaps in polling are measured on it
    period: tuple[int, int]
    used_milli: int  # this period's credits so far
    spent_cents: int | None  # this period's inference spend so far, when reported
    balance_cents: int | None = None  # account-wide; only on the total's samples


class Rate(NamedTuple):
    per_minute: Fraction | None  # None: not enough data yet ("warming up")
    since: float | None = None  # server time the measured stretch starts
    span: float = 0.0  # seconds of server time measured

    @property
    def warming_up(self) -> bool:
        return self.per_minute is None


WARMING_UP = Rate(None)


def newest_run(
    samples: Sequence[Sample],
    value: Callable[[Sample], int | None],
    gap: float,
    *,
    not_before: float | None = None,
) -> Sequence[Sample]:
    """The newest stretch of samples the figure can be measured over (see the module);
    with ``not_before`` (server time), only its part from then on."""
    end = len(samples)
    start = end - 1
    while start > 0:
        before, after = samples[start - 1], samples[start]
        a, b = value(before), value(after)
        if (
            (not_before is not None and before.at < not_before)
            or a is None
            or b is None
            or before.period != after.period
            or b < a
            or after.wall - before.wall > gap
            or after.at < before.at
        ):
            break
        start -= 1
    if start < 0 or value(samples[start]) is None:
        return samples[end:]
    return samples[start:end]


def rate(
    samples: Sequence[Sample],
    value: Callable[[Sample], int | None],
    *,
    window: float,
    gap: float,
    min_span: float | None = None,
) -> Rate:
    """Per minute of server time, over the last ``window`` seconds of the newest run."""
    if not samples:
        return WARMING_UP
    # The run is walked back only as far as the window: an hour of 1 s polls is 3,600
    # samples, and this runs for every rate on every poll. (A run's server times never
    # go back, so its part inside the window is exactly the samples from its start.)
    inside = newest_run(samples, value, gap, not_before=samples[-1].at - window)
    if len(inside) < MIN_SAMPLES:
        return WARMING_UP
    first, last = inside[0], inside[-1]
    span = last.at - first.at
    needed = MIN_SPAN.get(window, window / 5) if min_span is None else min_span
    if span < needed or span <= 0:
        return WARMING_UP
    a, b = value(first), value(last)
    if a is None or b is None:  # cannot happen: a run has values throughout
        return WARMING_UP
    return Rate(Fraction(b - a) * 60 / Fraction(span), since=first.at, span=span)


def used(sample: Sample) -> int | None:
    return sample.used_milli


def spent(sample: Sample) -> int | None:
    return sample.spent_cents


# ---------------------------------------------------------------------------- runway

RunwayKind = Literal["unknown", "exhausted", "at", "after_reset", "no_spend", "far"]
FAR = Fraction(366 * 24 * 60)  # minutes: beyond a year, a date is noise (and may overflow)


class Runway(NamedTuple):
    kind: RunwayKind
    at: datetime | None = None  # when it runs out ("at"), or the reset ("after_reset")
    minutes: Fraction | None = None  # from now, for "at"


UNKNOWN = Runway("unknown")


def allowance_runway(
    left_milli: int | None, per_minute: Fraction | None, now: datetime, reset: datetime
) -> Runway:
    """When the monthly allowance runs out at this rate, or that it lasts to the reset."""
    if left_milli is None:
        return Runway("unknown")
    if left_milli <= 0:
        return Runway("exhausted")
    if per_minute is None:
        return Runway("unknown")
    if per_minute <= 0:
        return Runway("after_reset", at=reset)
    minutes = Fraction(left_milli) / per_minute
    if minutes * 60 >= Fraction(int((reset - now).total_seconds() * 1000), 1000):
        return Runway("after_reset", at=reset)
    return Runway("at", at=now + timedelta(minutes=float(minutes)), minutes=minutes)


def balance_runway(balance_cents: int, per_minute: Fraction | None, now: datetime) -> Runway:
    """When the pre-paid balance runs out at this rate (it does not reset)."""
    if balance_cents <= 0:
        return Runway("exhausted")
    if per_minute is None:
        return Runway("unknown")
    if per_minute <= 0:
        return Runway("no_spend")
    minutes = Fraction(balance_cents) / per_minute
    if minutes > FAR:
        return Runway("far")
    return Runway("at", at=now + timedelta(minutes=float(minutes)), minutes=minutes)


# ---------------------------------------------------------------------------- events

EventKind = Literal["top-up", "rollover", "correction"]


class Event(NamedTuple):
    kind: EventKind
    at: float  # server time
    axis: Literal["credits", "inference", "period"]
    amount: int = 0  # cents for a top-up; the size of a correction (milli or cents)
    detail: str = ""
    since: float | None = None  # server time of the poll before: it happened in between


def events_between(before: Sample, after: Sample) -> list[Event]:
    """What happened between two polls of the total, by the two budgets' rules."""
    if after.period > before.period:
        label = f"{after.period[0]}-{after.period[1]:02d}"
        return [Event("rollover", after.at, "period", detail=label)]
    if after.period < before.period:
        return []  # the server went back a month: refused or said elsewhere, not news here
    found: list[Event] = []
    if after.used_milli < before.used_milli:
        found.append(Event("correction", after.at, "credits", before.used_milli - after.used_milli))
    if (
        before.spent_cents is not None
        and after.spent_cents is not None
        and after.spent_cents < before.spent_cents
    ):
        found.append(
            Event("correction", after.at, "inference", before.spent_cents - after.spent_cents)
        )
    if (
        before.balance_cents is not None
        and after.balance_cents is not None
        and after.balance_cents > before.balance_cents
    ):
        # The balance only falls, but for money put in: what it gained, plus what was
        # spent meanwhile, is the top-up. (A rise is required: a balance that lags the
        # spend figure by a cent is not a top-up.)
        spend = 0
        if before.spent_cents is not None and after.spent_cents is not None:
            spend = max(0, after.spent_cents - before.spent_cents)
        added = after.balance_cents - before.balance_cents + spend
        if added > 0:
            found.append(Event("top-up", after.at, "inference", added, since=before.at))
    return found


# ---------------------------------------------------------------------------- marks


def spend_between(samples: Sequence[Sample], value: Callable[[Sample], int | None]) -> int:
    """What was used or spent over these samples, whatever happened in between.

    Within a period it is the climb of the figure; across a rollover the new period's
    figure counts from zero; a correction (a drop) counts as nothing, never negative.
    """
    total = 0
    for before, after in itertools.pairwise(samples):
        a, b = value(before), value(after)
        if b is None:
            continue
        if after.period != before.period:
            total += b
        elif a is not None and b > a:
            total += b - a
    return total


def minute_buckets(
    samples: Sequence[Sample],
    value: Callable[[Sample], int | None],
    *,
    end: float,
    gap: float,
    minutes: int = 60,
    memo: SpreadMemo | None = None,
) -> list[int | None]:
    """Used (or spent) in each of the ``minutes`` UTC minutes up to ``end``, oldest first.

    Each climb between two polls is spread over the minutes between them, by how much
    of each it covers (two polls ten minutes apart put a tenth in each minute, not all
    of it in the last as a false spike); ``None`` is a minute no poll covered (before
    the first one, or across a gap in polling, whose jump is left out, as is a climb
    across a server clock that went back). A climb that began before the first minute
    counts only its share from that minute on.
    """
    first_minute = int(end // 60) - minutes + 1
    start = first_minute * 60.0
    buckets: list[int | None] = [None] * minutes
    for before, after in itertools.pairwise(samples):
        a, b = value(before), value(after)
        if a is None or b is None or after.wall - before.wall > gap or after.at <= start:
            continue
        climb = b if after.period != before.period else max(0, b - a)
        if after.at < before.at:
            # The server's clock went back (a restart, another server behind the same
            # URL): the climb has no place in time, so it is left out, as across a gap.
            continue
        t0, t1 = before.at, after.at
        shares = _spread(t0, t1, climb) if memo is None else memo.spread(t0, t1, climb)
        for minute, share in shares:
            slot = minute - first_minute
            if 0 <= slot < minutes:
                buckets[slot] = (buckets[slot] or 0) + share
    return buckets


Spread = tuple[tuple[int, int], ...]


class SpreadMemo:
    """The spreads one poll's minutes used, for the next poll's: each poll spreads the
    same pairs of polls as the last one did (the last hour's), plus one, and that was
    most of what a poll computed (~0.3 ms a metric for an hour at one poll a minute).
    It holds what the last round used: ``turn()`` starts a round."""

    def __init__(self) -> None:
        self._last: dict[tuple[float, float, int], Spread] = {}
        self._this: dict[tuple[float, float, int], Spread] = {}

    def turn(self) -> None:
        self._last, self._this = self._this, {}

    def spread(self, t0: float, t1: float, climb: int) -> Spread:
        key = (t0, t1, climb)
        found = self._this.get(key)
        if found is None:
            found = self._last.get(key)
        if found is None:
            found = _spread(t0, t1, climb)
        self._this[key] = found
        return found


def _spread(t0: float, t1: float, climb: int) -> Spread:
    """(UTC minute, share) of a climb from ``t0`` to ``t1``: by overlap, the remainder
    in the minute ``t1`` falls in."""
    if t1 == t0:  # the same instant: all of it in that minute
        return ((int(t1 // 60), climb),)
    span = t1 - t0
    given = 0
    spread: list[tuple[int, int]] = []
    for minute in range(int(t0 // 60), int(t1 // 60) + 1):
        overlap = min(t1, (minute + 1) * 60.0) - max(t0, minute * 60.0)
        share = climb - given if minute * 60.0 < t1 <= (minute + 1) * 60.0 else 0
        if not share:
            share = int(climb * max(0.0, overlap) // span)
        given += share
        spread.append((minute, share))
    return tuple(spread)
