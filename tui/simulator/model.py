"""A deterministic model of one Vectros account's metering, on a virtual clock.

Usage is generated per UTC minute and per series (live/test × credits/inference)
from the seed, so the same seed, scenario and start always give the same report,
and the figures for any instant are consistent with every other instant: period
totals are sums of minutes, `daily` sums to the period total, live + test = total,
and the balance is the starting balance minus spend plus top-ups.

Units inside the model are integers: milli-credits for the allowance and
hundredths of a cent for inference (so a slow trickle still moves); the report
rounds inference down to whole cents.
"""

from __future__ import annotations

import itertools
import math
import random
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, NamedTuple

from tui.report import next_month, period_of

Env = Literal["live", "test"]
Axis = Literal["credits", "cents"]
SERIES: tuple[tuple[Env, Axis], ...] = (
    ("live", "credits"),
    ("live", "cents"),
    ("test", "credits"),
    ("test", "cents"),
)
MINUTES_PER_DAY = 1440
ALLOWANCE_CREDITS = 50_000
HISTORY_MONTHS = 12  # how far back past periods can be asked for
_PREFIX_CACHE = 8  # day × series minute prefixes kept (11.5 KB each): two days of the four series

# Per-minute base rates: milli-credits, and hundredths of a cent. Live runs the
# account at roughly three quarters of its allowance over a month.
BASE_RATE: dict[tuple[Env, Axis], float] = {
    ("live", "credits"): 700.0,
    ("live", "cents"): 180.0,
    ("test", "credits"): 160.0,
    ("test", "cents"): 45.0,
}

SCENARIOS: dict[str, str] = {
    "steady": "ordinary traffic: live follows the day, test ticks over on weekdays",
    "load-test": "a burst on live (×10 for 90 min, from 5 min in) that then cools",
    "noisy-test-loop": "test spikes for 4 min every 20 min",
    "month-end": "starts 15 min before the UTC month ends: credits reset, the balance does not",
    "top-up": "a $120.00 balance that is topped up by $500.00 10 min in",
}

# The day's shape, the same every day: quiet at night (UTC), busy mid-afternoon.
_DIURNAL = [1.0 + 0.55 * math.sin(2 * math.pi * (m / MINUTES_PER_DAY - 0.375)) for m in range(1440)]
# Each series' rate through the day (base x shape, the product a minute's figure starts
# from), worked out once: a month of days is 120 of these at start-up.
_SHAPED = {series: [BASE_RATE[series] * d for d in _DIURNAL] for series in SERIES}
# Each series' hours through the day: the days before a run are drawn an hour at a
# time (see UsageModel._hours), so a late-month start does not draw 40,000 minutes.
_HOURLY = {
    series: [math.fsum(shaped[h * 60 : h * 60 + 60]) for h in range(24)]
    for series, shaped in _SHAPED.items()
}


class VirtualClock:
    """Virtual UTC time: ``start`` plus real seconds elapsed times ``speed``.

    ``speed`` 0 freezes it (tests, screenshots); ``advance`` moves it by hand.
    """

    def __init__(
        self, start: datetime, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if speed < 0 or not math.isfinite(speed):
            raise ValueError("speed must be a finite number >= 0")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            elapsed = (self._monotonic() - self._origin) * self.speed + self._offset
        return self.start + timedelta(seconds=elapsed)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


def _month_end_start(now: datetime) -> datetime:
    year, month = next_month(now.year, now.month)
    return datetime(year, month, 1, tzinfo=UTC) - timedelta(minutes=15)


def default_start(scenario: str, now: datetime | None = None) -> datetime:
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    return _month_end_start(now) if scenario == "month-end" else now


class Account(NamedTuple):
    id: str = "acct_demo"
    name: str = "Demo Org (simulated)"
    live_tenant: str = "ten_live_demo"
    test_tenant: str = "ten_test_demo"
    currency: str = "USD"


class UsageModel:
    def __init__(
        self,
        *,
        scenario: str = "steady",
        seed: int = 1,
        clock: VirtualClock,
        account: Account | None = None,
    ) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; one of: {', '.join(SCENARIOS)}")
        self.scenario = scenario
        self.seed = seed
        self.clock = clock
        self.account = account or Account()
        self.start = clock.start
        rng = random.Random(f"balance:{seed}")
        # The balance when the run starts, in cents; top-up starts low on purpose.
        self.start_balance = 12_000 if scenario == "top-up" else 40_000 + rng.randrange(20_000)
        self.topups: list[tuple[datetime, int]] = (
            [(self.start + timedelta(minutes=10), 50_000)] if scenario == "top-up" else []
        )
        # One day of the month before the run with no traffic at all: `daily` leaves
        # it out, as the contract allows for days with no traffic.
        self._freeze_day = 1 + random.Random(f"freeze:{seed}").randrange(28)
        # Minute-level prefixes only for recent days (bounded); whole-day totals for all.
        self._prefix: OrderedDict[tuple[Env, Axis, date], array[int]] = OrderedDict()
        self._day_totals: dict[tuple[Env, Axis, date], int] = {}
        # Per period start: (the whole days' entries, where they end, cents so far).
        self._days_done: dict[datetime, tuple[list[dict[str, Any]], datetime, dict[str, int]]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ generation

    def _multiplier(self, env: Env, axis: Axis, minute: datetime) -> float:
        """The scenario's effect on one minute, relative to the run's start."""
        since = (minute - self.start).total_seconds() / 60
        if since < 0:
            return 1.0
        if self.scenario == "load-test" and env == "live" and since >= 5:
            t = since - 5
            if t < 10:
                return 1 + 9 * t / 10  # ramp up
            if t < 100:
                return 10.0
            return 1 + 9 * float(0.5 ** ((t - 100) / 30))  # cool, half-life 30 min
        if self.scenario == "noisy-test-loop" and env == "test":
            return (15.0 if axis == "credits" else 8.0) if since % 20 < 4 else 1.0
        return 1.0

    def _quiet(self, env: Env, day: date) -> bool:
        """No traffic: test at weekends, and one day of the month before the run."""
        return (env == "test" and day.weekday() >= 5) or (
            day.day == self._freeze_day and day < self.start.date()
        )

    def _draw(self, env: Env, axis: Axis, day: date) -> Callable[[], float]:
        return random.Random(f"{self.seed}:{env}:{axis}:{day.isoformat()}").random

    def _hours(self, env: Env, axis: Axis, day: date) -> list[int]:
        """Usage in each hour of a day before the run's: one draw an hour, not a minute.

        A start late in the month reports some 30 whole days of four series: drawn by
        the minute that was ~33 ms of the demo's first answer, by the hour ~1 ms. The
        run's own days are drawn by the minute, for a live-looking rate poll to poll.
        """
        if self._quiet(env, day):
            return [0] * 24
        draw = self._draw(env, axis, day)
        return [int(hour * (0.6 + 0.8 * draw())) for hour in _HOURLY[(env, axis)]]

    def _day_prefix(self, env: Env, axis: Axis, day: date) -> array[int]:
        """Cumulative usage at each minute boundary of a UTC day (1441 entries)."""
        key = (env, axis, day)
        cached = self._prefix.get(key)
        if cached is not None:
            self._prefix.move_to_end(key)
            return cached
        if day < self.start.date():
            # An hour's usage spread over its minutes as the day's shape goes.
            shaped, hourly = _SHAPED[(env, axis)], _HOURLY[(env, axis)]
            incs: list[int] = []
            for h, used in enumerate(self._hours(env, axis, day)):
                minutes, whole, given = shaped[h * 60 : h * 60 + 60], hourly[h], 0
                for m, upto in enumerate(itertools.accumulate(minutes), 1):
                    part = used if m == 60 else min(used, int(used * upto / whole))
                    incs.append(part - given)
                    given = part
        elif self._quiet(env, day):
            incs = [0] * MINUTES_PER_DAY
        else:
            draw = self._draw(env, axis, day)
            incs = [int(shape * (0.6 + 0.8 * draw())) for shape in _SHAPED[(env, axis)]]
            day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            day_end = day_start + timedelta(days=1)
            if day_end > self.start and self.scenario in ("load-test", "noisy-test-loop"):
                for m in range(MINUTES_PER_DAY):
                    factor = self._multiplier(env, axis, day_start + timedelta(minutes=m))
                    if factor != 1.0:
                        incs[m] = int(incs[m] * factor)
        # A packed array, not a list of int objects: a month of prefixes stays small.
        prefix = array("q", itertools.accumulate(incs, initial=0))
        self._prefix[key] = prefix
        self._day_totals[key] = prefix[-1]
        if len(self._prefix) > _PREFIX_CACHE:
            self._prefix.popitem(last=False)
        return prefix

    def _day_total(self, env: Env, axis: Axis, day: date) -> int:
        key = (env, axis, day)
        total = self._day_totals.get(key)
        if total is None:
            if day < self.start.date():
                total = self._day_totals[key] = sum(self._hours(env, axis, day))
            else:
                total = self._day_prefix(env, axis, day)[-1]
        return total

    def _within_day(self, env: Env, axis: Axis, moment: datetime) -> int:
        """Usage from the start of moment's UTC day up to moment (the minute interpolated)."""
        if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
            return 0  # midnight: no prefix needed (the daily figures ask for it often)
        prefix = self._day_prefix(env, axis, moment.date())
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6
        m, part = divmod(seconds, 60)
        m = int(m)
        return prefix[m] + int((prefix[m + 1] - prefix[m]) * part / 60)

    def _span(self, env: Env, axis: Axis, a: datetime, b: datetime) -> int:
        """Usage in [a, b), a <= b."""
        if b <= a:
            return 0
        if a.date() == b.date():
            return self._within_day(env, axis, b) - self._within_day(env, axis, a)
        total = self._day_total(env, axis, a.date()) - self._within_day(env, axis, a)
        day = a.date() + timedelta(days=1)
        while day < b.date():
            total += self._day_total(env, axis, day)
            day += timedelta(days=1)
        return total + self._within_day(env, axis, b)

    # ------------------------------------------------------------------ figures

    def _reported_cents(self, period_start: datetime, moment: datetime) -> int:
        """Cents spent from a period's start to moment, rounded as the report rounds."""
        return sum(self._span(e, "cents", period_start, moment) // 100 for e in ("live", "test"))

    def _spent_between(self, a: datetime, b: datetime) -> int:
        """Reported cents spent in [a, b), across period boundaries."""
        total, cursor = 0, a
        while cursor < b:
            period = period_of(cursor.year, cursor.month)
            end = min(period.end, b)
            total += self._reported_cents(period.start, end)
            total -= self._reported_cents(period.start, cursor)
            cursor = end
        return total

    def balance_at(self, moment: datetime) -> int:
        """Cents left at moment: the start balance, less spend since, plus top-ups since.

        Spend is counted as the report counts it, so within a period the balance plus
        the period's spentCents stays constant until a top-up.
        """
        if moment >= self.start:
            topped = sum(c for when, c in self.topups if self.start < when <= moment)
            return self.start_balance - self._spent_between(self.start, moment) + topped
        topped = sum(c for when, c in self.topups if moment < when <= self.start)
        return self.start_balance + self._spent_between(moment, self.start) - topped

    def earliest_period(self) -> tuple[int, int]:
        year, month = self.start.year, self.start.month - HISTORY_MONTHS
        while month < 1:
            year, month = year - 1, month + 12
        return year, month

    def report(self, period: tuple[int, int] | None = None) -> dict[str, Any]:
        """The usage report at the clock's now, for the current or a past period.

        Raises ValueError for a future period or one before the model's history.
        """
        now = self.clock.now()
        current = (now.year, now.month)
        key = period or current
        if key > current:
            raise ValueError(f"{key[0]}-{key[1]:02} is in the future")
        if key < self.earliest_period():
            raise ValueError(f"{key[0]}-{key[1]:02} is before this account's history")
        p = period_of(*key)
        upto = min(now, p.end)
        with self._lock:
            return self._report(p.year, p.month, p.start, p.end, upto)

    def _report(
        self, year: int, month: int, start: datetime, end: datetime, upto: datetime
    ) -> dict[str, Any]:
        envs: dict[str, Any] = {}
        total_milli = 0
        total_cents = 0
        tenants: tuple[tuple[Env, str], ...] = (
            ("live", self.account.live_tenant),
            ("test", self.account.test_tenant),
        )
        for env, tenant in tenants:
            milli = self._span(env, "credits", start, upto)
            cents = self._span(env, "cents", start, upto) // 100
            total_milli += milli
            total_cents += cents
            envs[env] = {
                "tenantId": tenant,
                "credits": {"used": milli // 1000, "usedMilli": milli, "breakdown": _ops(milli)},
                "inference": {
                    "spentCents": cents,
                    "calls": cents // 2,
                    "breakdown": {
                        "chat": cents * 55 // 100,
                        "rag": cents * 30 // 100,
                        "documentAsk": cents - cents * 55 // 100 - cents * 30 // 100,
                    },
                },
            }
        return {
            "object": "usage_report",
            "account": {"id": self.account.id, "name": self.account.name},
            "period": {"year": year, "month": month, "start": _z(start), "end": _z(end)},
            "generatedAt": _z(upto if upto < end else self.clock.now()),
            "credits": {
                "used": total_milli // 1000,
                "usedMilli": total_milli,
                "breakdown": _ops(total_milli),
            },
            "inference": {
                "balanceCents": self.balance_at(upto),
                "spentCents": total_cents,
                "currency": self.account.currency,
            },
            "environments": envs,
            "limits": {
                "creditAllowance": ALLOWANCE_CREDITS,
                "creditAllowanceMilli": ALLOWANCE_CREDITS * 1000,
            },
            "daily": self._daily(start, upto),
        }

    def _daily(self, start: datetime, upto: datetime) -> list[dict[str, Any]]:
        # Whole days that are over never change: they are worked out once per period
        # (a poll then costs the day in progress, not the whole month so far).
        days, day_start, running_cc = self._days_done.get(
            start, ([], start, {"live": 0, "test": 0})
        )
        days = list(days)
        running_cc = dict(running_cc)
        while day_start + timedelta(days=1) <= upto:
            self._add_day(days, running_cc, day_start, day_start + timedelta(days=1))
            day_start += timedelta(days=1)
        self._days_done[start] = (list(days), day_start, dict(running_cc))
        if day_start < upto:
            self._add_day(days, running_cc, day_start, upto)
        return days

    def _add_day(
        self,
        days: list[dict[str, Any]],
        running_cc: dict[str, int],
        day_start: datetime,
        end: datetime,
    ) -> None:
        # Running period totals at each day's end: whole cents per day are differences
        # of them, so the days add up to the period's figure exactly.
        entry: dict[str, Any] = {"date": day_start.date().isoformat()}
        env: Env
        for env in ("live", "test"):
            milli = self._span(env, "credits", day_start, end)
            before = running_cc[env]
            running_cc[env] = before + self._span(env, "cents", day_start, end)
            cents = running_cc[env] // 100 - before // 100
            if milli or cents:  # a day without traffic is left out, as allowed
                entry[env] = {"usedMilli": milli, "inferenceCents": cents}
        if len(entry) > 1:
            days.append(entry)


def _ops(milli: int) -> dict[str, Any]:
    writes = milli * 38 // 100
    ingests = milli * 45 // 100
    searches = milli - writes - ingests
    return {
        "writes": {"usedMilli": writes, "count": writes // 10},
        "ingests": {"usedMilli": ingests, "count": ingests // 3000},
        "searches": {"usedMilli": searches, "count": searches // 3},
    }


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
