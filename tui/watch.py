"""``vectros-usage watch``: a budget guard for CI. Headless: no Textual here.

It polls, keeps what was used and spent *since it started* per environment, prints a
line per change, and stops the moment a budget is exceeded (exit 6), the ``--for``
duration is up (exit 0), the token is refused (3), the server is gone for longer than
``--max-outage`` (4), a report breaks the contract (5) or a signal arrives (128 + n).
Whatever ends it, the last thing on stdout is the summary.

Spend since start is counted poll to poll, by the budgets' rules (see
:class:`SpendMeter`): a climb of a figure counts; a drop (a correction) counts as
nothing; a new month counts the new period's figure on top of what was counted before,
and the closed month's last stretch is read from that month's own report.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any, TextIO, TypeVar

from tui import format as fmt
from tui.backoff import Backoff
from tui.client import Fetched, Secret, UsageClient, UsageError
from tui.exits import (
    EXIT_BUDGET,
    EXIT_OK,
    EXIT_SIGNAL_BASE,
    EXIT_UNREACHABLE,
    exit_code,
)
from tui.rates import Event, Sample, events_between, spent, used
from tui.report import MAX_FIGURE, SCOPES, Scope, UsageReport
from tui.trend import sample_of

# Worth another try: the network, a timeout, a 5xx, a 429. Anything else (a refused
# token, a bad report, a redirect, a 4xx) will not mend by waiting.
TRANSIENT = frozenset({"unreachable", "timeout", "server", "throttled"})
MIN_MAX_OUTAGE = 30.0
OUTAGE_INTERVALS = 6  # default --max-outage: this many intervals, at least 30 s
# Each ends the run with the summary: Ctrl-C / kill -INT, kill, an SSH session dropping.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

T = TypeVar("T")

# ------------------------------------------------------------------ argument parsing


# Plain ASCII decimals only: Decimal() and int() would also take '1e3', '1_000', '+5'
# and other scripts' digits, none of which anyone means as a budget in CI.
_CREDITS = re.compile(r"[0-9]+(?:\.[0-9]{1,3})?", re.ASCII)
_CENTS = re.compile(r"[0-9]+", re.ASCII)


def parse_credits(text: str) -> int:
    """'12.5' -> 12500 milli-credits. Decimal, never float: '0.1' is exactly 100."""
    if _CREDITS.fullmatch(text) is None:
        if re.fullmatch(r"[0-9]+\.[0-9]{4,}", text, re.ASCII):
            raise ValueError(f"credits have at most 3 decimals (milli-credits): {text!r}")
        raise ValueError(
            f"a budget in credits is plain digits with up to 3 decimals (12.5), 0 or more: {text!r}"
        )
    scaled = Decimal(text) * 1000
    if scaled > MAX_FIGURE:
        raise ValueError(f"implausibly large: {text!r}")
    return int(scaled)


def parse_cents(text: str) -> int:
    """Whole cents: '500' is $5.00."""
    if _CENTS.fullmatch(text) is None:
        raise ValueError(
            f"a budget in cents is plain digits, whole cents, 0 or more (500 is $5.00): {text!r}"
        )
    value = int(text)
    if value > MAX_FIGURE:
        raise ValueError(f"implausibly large: {text!r}")
    return value


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> float:
    """'90s', '15m', '1h30m', or plain seconds ('45', '2.5') -> seconds."""
    text = text.strip().lower()
    try:
        seconds = float(text)
    except ValueError:
        match = _DURATION.fullmatch(text)
        if not text or match is None:
            raise ValueError(f"not a duration (e.g. 90s, 15m, 1h30m): {text!r}") from None
        h, m, s = (int(g) if g else 0 for g in match.groups())
        seconds = float(h * 3600 + m * 60 + s)
    if not 0 < seconds <= 366 * 86400:  # `not` also refuses NaN
        raise ValueError(f"a duration is more than 0 and at most a year: {text!r}")
    return seconds


# ------------------------------------------------------------------ accounting


def climb(before: Sample, after: Sample, value: Callable[[Sample], int | None]) -> int:
    """What was used or spent from one poll to the next (``after`` not in an earlier
    period): the climb within a period, the new figure itself after a rollover, and
    nothing for a drop (a correction is the server revising, not money coming back)."""
    b = value(after)
    if b is None:
        return 0
    if after.period != before.period:
        return b  # the new period started from zero
    a = value(before)
    return 0 if a is None else max(0, b - a)


@dataclass(frozen=True, slots=True)
class Delta:
    used_milli: int = 0
    spent_cents: int = 0

    def __bool__(self) -> bool:
        return bool(self.used_milli or self.spent_cents)


@dataclass
class SpendMeter:
    """Used and spent since the first poll, per scope (total, live, test)."""

    first: dict[str, Sample] = field(default_factory=dict)
    last: dict[str, Sample] = field(default_factory=dict)
    used_milli: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCOPES, 0))
    spent_cents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SCOPES, 0))

    def went_back(self, samples: Mapping[str, Sample]) -> bool:
        """The server answered for an earlier month than before: not counted at all."""
        last = self.last.get("total")
        return last is not None and samples["total"].period < last.period

    def rolled_over(self, samples: Mapping[str, Sample]) -> tuple[int, int] | None:
        """The closed period, when this poll is in a later one."""
        last = self.last.get("total")
        if last is not None and samples["total"].period > last.period:
            return last.period
        return None

    def add(
        self, samples: Mapping[str, Sample], closing: Mapping[str, Sample] | None = None
    ) -> dict[str, Delta]:
        """Count one poll; ``closing``: the closed period's final figures, after a
        rollover, so the stretch between the last poll and the month's end counts."""
        if self.went_back(samples):
            return {}
        deltas: dict[str, Delta] = {}
        for scope, sample in samples.items():
            before = self.last.get(scope)
            self.last[scope] = sample
            if before is None:
                self.first[scope] = sample
                continue
            du, dc = climb(before, sample, used), climb(before, sample, spent)
            end = (closing or {}).get(scope)
            if sample.period != before.period and end is not None and end.period == before.period:
                du += climb(before, end, used)
                dc += climb(before, end, spent)
            self.used_milli[scope] = self.used_milli.get(scope, 0) + du
            self.spent_cents[scope] = self.spent_cents.get(scope, 0) + dc
            deltas[scope] = Delta(du, dc)
        return deltas

    def per_minute(self, scope: str) -> tuple[Fraction, Fraction] | None:
        """The average rate per minute of server time since the first poll."""
        first, last = self.first.get(scope), self.last.get(scope)
        if first is None or last is None or last.at <= first.at:
            return None
        minutes = Fraction(last.at - first.at) / 60
        return (
            Fraction(self.used_milli[scope]) / minutes,
            Fraction(self.spent_cents[scope]) / minutes,
        )


@dataclass(frozen=True, slots=True)
class Budget:
    used_milli: int | None
    spent_cents: int | None
    env: Scope = "total"


def exceeded(meter: SpendMeter, budget: Budget) -> list[tuple[str, int, int]]:
    """(axis, spent, over by) for each budget spend since start is beyond."""
    found = []
    env = budget.env
    if budget.used_milli is not None and meter.used_milli[env] > budget.used_milli:
        found.append(("credits", meter.used_milli[env], meter.used_milli[env] - budget.used_milli))
    if budget.spent_cents is not None and meter.spent_cents[env] > budget.spent_cents:
        found.append(
            ("inference", meter.spent_cents[env], meter.spent_cents[env] - budget.spent_cents)
        )
    return found


# ------------------------------------------------------------------ output


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _human_time(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _round(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


class Output:
    """stdout for the record (lines or JSON lines), stderr for messages."""

    def __init__(self, *, as_json: bool, out: TextIO, err: TextIO) -> None:
        self.json = as_json
        self._out = out
        self._err = err
        self._out_gone = False

    def record(self, obj: dict[str, Any], text: str | None) -> None:
        line = json.dumps(obj, ensure_ascii=False) if self.json else text
        if line is None or self._out_gone:
            return
        try:
            print(line, file=self._out, flush=True)
        except BrokenPipeError:
            # The reader left (`| head -3`): keep guarding the budget, silently; and no
            # complaint at exit when Python flushes stdout again.
            self._out_gone = True
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), self._out.fileno())

    def say(self, text: str) -> None:
        with contextlib.suppress(OSError):
            print(f"vectros-usage: {text}", file=self._err, flush=True)


@dataclass
class _State:
    meter: SpendMeter = field(default_factory=SpendMeter)
    currency: str = "USD"
    polls: int = 0
    failed: int = 0
    over: list[tuple[str, int, int]] = field(default_factory=list)
    last_problem: str = ""


class _Stopped(Exception):
    def __init__(self, signum: int) -> None:
        self.signum = signum


@dataclass(frozen=True, slots=True)
class WatchOptions:
    budget: Budget
    interval: float
    duration: float | None = None  # --for, seconds
    max_outage: float | None = None  # None: OUTAGE_INTERVALS × interval, at least 30 s
    as_json: bool = False

    @property
    def outage(self) -> float:
        if self.max_outage is not None:
            return self.max_outage
        return max(MIN_MAX_OUTAGE, OUTAGE_INTERVALS * self.interval)


class Watch:
    def __init__(
        self,
        client: UsageClient,
        options: WatchOptions,
        output: Output,
        *,
        demo: bool = False,
    ) -> None:
        self.client = client
        self.options = options
        self.out = output
        self.demo = demo
        self.state = _State()
        self._stop = asyncio.Event()
        self._signum = 0

    # -------------------------------------------------------------- formatting

    def _share(self, spend: int, budget: int | None) -> int | None:
        return None if budget is None else fmt.ratio_tenths(spend, budget)

    def _figures(self, scope: str) -> dict[str, int]:
        m = self.state.meter
        return {"usedMilli": m.used_milli[scope], "spentCents": m.spent_cents[scope]}

    def _start_line(self, report: UsageReport, at: float) -> None:
        b = self.options.budget
        env = b.env
        obj = {
            "event": "start",
            "at": _iso(at),
            "env": env,
            "period": f"{report.period.year}-{report.period.month:02d}",
            "budget": {"usedMilli": b.used_milli, "spentCents": b.spent_cents},
            "figures": {"usedMilli": report.used_milli(env), "spentCents": report.spent_cents(env)},
            "currency": report.inference.currency,
            "demo": self.demo,
        }
        limits = []
        if b.used_milli is not None:
            limits.append(f"{fmt.milli(b.used_milli)} credits")
        if b.spent_cents is not None:
            limits.append(fmt.money(b.spent_cents, self.state.currency))
        spent_now = report.spent_cents(env)
        self.out.record(obj, None)
        # On stderr in both modes: stdout stays the record (JSON only with --json).
        spent_text = "—" if spent_now is None else fmt.money(spent_now, self.state.currency)
        self.out.say(
            f"watching {env} from {_human_time(at)}: budget {' and '.join(limits)} "
            f"(this period so far: {fmt.milli(report.used_milli(env))} credits, "
            f"{spent_text} spent)" + (" · DEMO: simulated figures" if self.demo else "")
        )

    def _change_line(self, at: float, delta: Delta) -> None:
        b = self.options.budget
        env = b.env
        m = self.state.meter
        credits_share = self._share(m.used_milli[env], b.used_milli)
        cents_share = self._share(m.spent_cents[env], b.spent_cents)
        obj = {
            "event": "change",
            "at": _iso(at),
            "env": env,
            "delta": {"usedMilli": delta.used_milli, "spentCents": delta.spent_cents},
            "spend": self._figures(env),
            # Tenths of a percent of each budget (an integer), null without that budget.
            "budgetPermille": {"credits": credits_share, "inference": cents_share},
        }
        shares = []
        if b.used_milli is not None:
            shares.append(f"credits {fmt.percent_tenths(credits_share)}")
        if b.spent_cents is not None:
            shares.append(f"inference {fmt.percent_tenths(cents_share)}")
        text = (
            f"{_human_time(at)}  {env:<5}  +{fmt.milli(m.used_milli[env])} credits  "
            f"+{fmt.money(m.spent_cents[env], self.state.currency)}  "
            f"(this poll +{fmt.milli(delta.used_milli)} credits, "
            f"+{fmt.money(delta.spent_cents, self.state.currency)}; "
            f"budget {' · '.join(shares)})"
        )
        self.out.record(obj, text)

    def _event_line(self, event: Event) -> None:
        obj: dict[str, Any] = {
            "event": event.kind,
            "at": _iso(event.at),
            "axis": event.axis,
            "amount": event.amount,
        }
        if event.kind == "rollover":
            obj["period"] = event.detail
            text = f"{_human_time(event.at)}  a new period, {event.detail}: credits reset"
        elif event.kind == "top-up":
            amount = fmt.money(event.amount, self.state.currency)
            text = f"{_human_time(event.at)}  the balance was topped up by {amount} (not spend)"
        else:
            size = (
                f"{fmt.milli(event.amount)} credits"
                if event.axis == "credits"
                else fmt.money(event.amount, self.state.currency)
            )
            text = (
                f"{_human_time(event.at)}  the server corrected {event.axis} down by {size} "
                "(not counted as spend)"
            )
        self.out.record(obj, text)

    def summary(self, code: int, reason: str, duration: float) -> None:
        m = self.state.meter
        b = self.options.budget
        rates: dict[str, Any] = {}
        for scope in SCOPES:
            r = m.per_minute(scope)
            rates[scope] = (
                None
                if r is None
                else {"usedMilli": _round(r[0]), "spentMillicents": _round(r[1] * 1000)}
            )
        first, last = m.first.get("total"), m.last.get("total")
        server_span = 0.0 if first is None or last is None else max(0.0, last.at - first.at)
        obj = {
            "event": "summary",
            "exit": code,
            "reason": reason,
            "env": b.env,
            # Always floats, to a tenth of a second (never 3 here and 3.0 there).
            "durationSeconds": float(round(duration, 1)),
            "serverSeconds": float(round(server_span, 1)),
            "polls": self.state.polls,
            "failedPolls": self.state.failed,
            "budget": {"usedMilli": b.used_milli, "spentCents": b.spent_cents},
            "spend": {scope: self._figures(scope) for scope in SCOPES},
            # Per minute of server time (the report's own clock; the demo's runs fast),
            # rounded: milli-credits, and thousandths of a cent.
            "perMinute": rates,
            "exceeded": [
                {"axis": axis, "spent": spent_, "over": over}
                for axis, spent_, over in self.state.over
            ],
            "currency": self.state.currency,
        }
        cur = self.state.currency
        lines = [
            f"summary: {reason} · {fmt.duration(duration)}"
            + (
                f" (server time {fmt.duration(server_span)})"
                if abs(server_span - duration) > max(5.0, duration / 10)
                else ""
            )
            + f" · {self.state.polls} polls"
            + (f", {self.state.failed} failed" if self.state.failed else ""),
            f"  {'':<6}{'credits':>16}{'inference':>14}{'credits/min':>14}{'¢/min':>12}",
        ]
        for scope in SCOPES:
            r = m.per_minute(scope)
            per_min = ("—", "—") if r is None else (fmt.milli(_round(r[0])), _cents_min(r[1]))
            lines.append(
                f"  {scope:<6}{fmt.milli(m.used_milli[scope]):>16}"
                f"{fmt.money(m.spent_cents[scope], cur):>14}{per_min[0]:>14}{per_min[1]:>12}"
            )
        self.out.record(obj, "\n".join(lines))

    # -------------------------------------------------------------- polling

    def stop(self, signum: int) -> None:
        self._signum = signum
        self._stop.set()

    async def _unless_stopped(self, work: Awaitable[T]) -> T:
        """``work``, unless a signal comes first (then :class:`_Stopped`)."""
        task = asyncio.ensure_future(work)
        waiter = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, UsageError):
                await task
            raise _Stopped(self._signum)
        return task.result()

    async def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        if self._stop.is_set():
            raise _Stopped(self._signum)

    async def _closing(self, period: tuple[int, int]) -> dict[str, Sample] | None:
        """The closed period's final figures (its own report), for the stretch between
        the last poll and the month's end; None when it cannot be had."""
        try:
            fetched = await self._unless_stopped(self.client.fetch(period))
        except UsageError as exc:
            self.out.say(
                f"could not read the closed period {period[0]}-{period[1]:02d} "
                f"({safe(exc.message)}): its last {self.options.interval:g} s or so are "
                "not counted"
            )
            return None
        if fetched.report.period.key != period:
            return None
        closing: dict[str, Sample] = {
            s: sample_of(fetched.report, s, fetched.received_at) for s in SCOPES
        }
        return closing

    async def _take(self, fetched: Fetched) -> bool:
        """Count one good poll; True when a budget is exceeded."""
        report = fetched.report
        for warning in report.warnings:
            self.out.say(f"warning: {safe(warning)}")
        samples: dict[str, Sample] = {s: sample_of(report, s, fetched.received_at) for s in SCOPES}
        meter = self.state.meter
        env = self.options.budget.env
        if self.state.polls == 0:
            self.state.currency = report.inference.currency
            if self.options.budget.spent_cents is not None and report.spent_cents(env) is None:
                raise UsageError(
                    "bad_report",
                    f"the report has no inference spend for {env}: the --budget-cents "
                    "budget cannot be judged",
                )
        self.state.polls += 1
        if meter.went_back(samples):
            self.out.say("the server answered for an earlier period than before; not counted")
            return False
        before = meter.last.get("total")
        closed = meter.rolled_over(samples)
        closing = await self._closing(closed) if closed is not None else None
        deltas = meter.add(samples, closing)
        if before is None:
            self._start_line(report, samples["total"].at)
        else:
            for event in events_between(before, samples["total"]):
                self._event_line(event)
        delta = deltas.get(env)
        if delta:
            self._change_line(samples[env].at, delta)
        self.state.over = exceeded(meter, self.options.budget)
        return bool(self.state.over)

    async def run(self) -> int:
        started = time.monotonic()
        deadline = None if self.options.duration is None else started + self.options.duration
        backoff = Backoff(self.options.interval)
        last_good = started
        code, reason = EXIT_OK, "time is up, within budget"
        try:
            while True:
                try:
                    fetched = await self._unless_stopped(self.client.fetch())
                    if await self._take(fetched):
                        code, reason = EXIT_BUDGET, self._over_reason()
                        self.out.say(reason)
                        break
                except UsageError as exc:
                    self.state.failed += 1
                    self.state.last_problem = safe(exc.message)
                    if exc.kind not in TRANSIENT:
                        code = exit_code(exc)
                        reason = self.state.last_problem
                        self.out.say(reason)
                        break
                    down = time.monotonic() - last_good
                    if down >= self.options.outage:
                        code = EXIT_UNREACHABLE
                        reason = (
                            f"no good poll for {fmt.duration(down)} (--max-outage "
                            f"{self.options.outage:g} s): {self.state.last_problem}"
                        )
                        self.out.say(f"giving up: {reason}")
                        break
                    wait = backoff.failure(exc.retry_after)
                    self.out.say(f"{self.state.last_problem}; retrying in {wait:.0f} s")
                else:
                    last_good = time.monotonic()
                    wait = backoff.success()
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    if self.state.polls == 0:
                        code, reason = EXIT_UNREACHABLE, f"no good poll: {self.state.last_problem}"
                    break
                if deadline is not None:
                    wait = min(wait, deadline - now)
                await self._sleep(wait)
        except _Stopped as stopped:
            code = EXIT_SIGNAL_BASE + stopped.signum
            reason = f"stopped by {signal.Signals(stopped.signum).name}"
            self.out.say(reason)
        self.summary(code, reason, time.monotonic() - started)
        return code

    def _over_reason(self) -> str:
        env = self.options.budget.env
        parts = []
        for axis, spent_, over in self.state.over:
            if axis == "credits":
                parts.append(
                    f"credits budget exceeded on {env}: {fmt.milli(spent_)} credits used, "
                    f"{fmt.milli(over)} over"
                )
            else:
                parts.append(
                    f"inference budget exceeded on {env}: "
                    f"{fmt.money(spent_, self.state.currency)} spent, "
                    f"{fmt.money(over, self.state.currency)} over"
                )
        return "; ".join(parts)


def _cents_min(per_minute: Fraction) -> str:
    return fmt.cents_rate(per_minute).removesuffix(" ¢/min")


def safe(text: str) -> str:
    return fmt.safe_text(text, limit=1000)


async def _main(
    base_url: str,
    token: Secret,
    *,
    path: str,
    ca_bundle: str | None,
    options: WatchOptions,
    output: Output,
    demo: bool,
) -> int:
    loop = asyncio.get_running_loop()
    async with UsageClient(base_url, token, path=path, ca_bundle=ca_bundle) as client:
        watch = Watch(client, options, output, demo=demo)
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, watch.stop, signum)
        try:
            return await watch.run()
        finally:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)


def run(
    base_url: str,
    token: Secret,
    options: WatchOptions,
    *,
    path: str,
    ca_bundle: str | None = None,
    demo: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    output = Output(as_json=options.as_json, out=out or sys.stdout, err=err or sys.stderr)
    return asyncio.run(
        _main(
            base_url,
            token,
            path=path,
            ca_bundle=ca_bundle,
            options=options,
            output=output,
            demo=demo,
        )
    )
