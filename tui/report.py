"""The usage report: typed, immutable models and a strict parser.

Every money figure is an ``int`` — milli-credits for the allowance, cents for the
inference balance — from the JSON to the screen. A report that breaks the contract
raises :class:`ReportError` naming the field; a report that keeps the contract but
does not add up (live + test ≠ total, say) parses, and carries the discrepancy in
``UsageReport.warnings`` so the screen can show it instead of hiding it.

Importable without Textual: the CLI's ``snapshot`` and the tests use it directly.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, Literal, NamedTuple

Scope = Literal["total", "live", "test"]
ENVIRONMENTS: tuple[Literal["live", "test"], ...] = ("live", "test")
SCOPES: tuple[Scope, ...] = ("total", "live", "test")

# Far beyond any real account (10^12 credits, 10^13 dollars) yet well inside what
# every figure we derive from it can hold; anything bigger is a broken report.
MAX_FIGURE = 10**15
MILLI_PER_CREDIT = 1000
CREDIT_OPERATIONS = ("writes", "ingests", "searches")
INFERENCE_KINDS = ("chat", "rag", "documentAsk")


class ReportError(ValueError):
    """The body is not a usage report we can trust; ``field`` says where."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}" if field else problem)


# --------------------------------------------------------------------------- models

# Immutable records as NamedTuples: a frozen dataclass costs ~1 ms to create at import
# (six generated methods, each compiled) and twice the memory; a monitor's start-up
# waits on every one. (OperationUsage stays a dataclass: its field `count` would
# shadow tuple.count.)


class Period(NamedTuple):
    year: int
    month: int
    start: datetime
    end: datetime  # exclusive: the first instant of the next period

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def key(self) -> tuple[int, int]:
        return (self.year, self.month)

    @property
    def label(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class OperationUsage:
    used_milli: int
    count: int | None = None


class CreditUsage(NamedTuple):
    used_milli: int
    breakdown: Mapping[str, OperationUsage] = MappingProxyType({})

    @property
    def used_credits(self) -> int:
        return self.used_milli // MILLI_PER_CREDIT


class EnvironmentInference(NamedTuple):
    spent_cents: int | None = None
    calls: int | None = None
    breakdown: Mapping[str, int] = MappingProxyType({})


class EnvironmentUsage(NamedTuple):
    name: Literal["live", "test"]
    credits: CreditUsage
    inference: EnvironmentInference = EnvironmentInference()
    tenant_id: str | None = None
    present: bool = True  # False: absent from the report, shown as zero


class InferenceAccount(NamedTuple):
    balance_cents: int  # may be negative: an overdraft, shown as such
    spent_cents: int | None = None
    currency: str = "USD"


class DayFigures(NamedTuple):
    used_milli: int = 0
    inference_cents: int = 0


class DailyUsage(NamedTuple):
    day: date
    live: DayFigures = DayFigures()
    test: DayFigures = DayFigures()

    def figures(self, scope: Scope) -> DayFigures:
        if scope == "live":
            return self.live
        if scope == "test":
            return self.test
        return DayFigures(
            self.live.used_milli + self.test.used_milli,
            self.live.inference_cents + self.test.inference_cents,
        )


class Account(NamedTuple):
    id: str | None = None
    name: str | None = None


class UsageReport(NamedTuple):
    period: Period
    credits: CreditUsage
    inference: InferenceAccount
    live: EnvironmentUsage
    test: EnvironmentUsage
    account: Account = Account()
    allowance_milli: int | None = None
    generated_at: datetime | None = None
    daily: tuple[DailyUsage, ...] | None = None  # None: the report has no `daily`
    warnings: tuple[str, ...] = ()

    def environment(self, name: Literal["live", "test"]) -> EnvironmentUsage:
        return self.live if name == "live" else self.test

    def used_milli(self, scope: Scope) -> int:
        if scope == "total":
            return self.credits.used_milli
        return self.environment(scope).credits.used_milli

    def spent_cents(self, scope: Scope) -> int | None:
        if scope == "total":
            if self.inference.spent_cents is not None:
                return self.inference.spent_cents
            parts = [self.live.inference.spent_cents, self.test.inference.spent_cents]
            if any(part is None for part in parts):
                return None
            return sum(part for part in parts if part is not None)
        return self.environment(scope).inference.spent_cents

    def calls(self, scope: Scope) -> int | None:
        if scope == "total":
            # Known only when both are: a sum of one would sit beside a spend of both
            # (the account's own), e.g. when the report leaves an environment out.
            parts = [self.live.inference.calls, self.test.inference.calls]
            if any(part is None for part in parts):
                return None
            return sum(part for part in parts if part is not None)
        return self.environment(scope).inference.calls

    def breakdown(self, scope: Scope) -> Mapping[str, OperationUsage]:
        if scope == "total":
            return self.credits.breakdown
        return self.environment(scope).credits.breakdown

    def day(self, when: date) -> DailyUsage | None:
        """The figures of one UTC day of the period (zero if the report left it out);
        None when the report has no `daily` or the day is outside the period."""
        if self.daily is None or not self.period.start.date() <= when < self.period.end.date():
            return None
        return next((d for d in self.daily if d.day == when), DailyUsage(when))

    def daily_series(self) -> tuple[DailyUsage, ...]:
        """One entry per UTC day of the period, oldest first, missing days as zero."""
        by_day = {entry.day: entry for entry in self.daily or ()}
        series: list[DailyUsage] = []
        day, one = self.period.start.date(), timedelta(days=1)
        for _ in range(self.period.days):
            entry = by_day.get(day)
            series.append(DailyUsage(day) if entry is None else entry)
            day += one
        return tuple(series)

    def to_json(self) -> dict[str, Any]:
        """Every figure as an integer, in the contract's own field names."""

        def credits(c: CreditUsage) -> dict[str, Any]:
            out: dict[str, Any] = {"used": c.used_credits, "usedMilli": c.used_milli}
            if c.breakdown:
                out["breakdown"] = {
                    name: {"usedMilli": op.used_milli}
                    | ({"count": op.count} if op.count is not None else {})
                    for name, op in c.breakdown.items()
                }
            return out

        def env(e: EnvironmentUsage) -> dict[str, Any]:
            inference: dict[str, Any] = {}
            if e.inference.spent_cents is not None:
                inference["spentCents"] = e.inference.spent_cents
            if e.inference.calls is not None:
                inference["calls"] = e.inference.calls
            if e.inference.breakdown:
                inference["breakdown"] = dict(e.inference.breakdown)
            out: dict[str, Any] = {"present": e.present, "credits": credits(e.credits)}
            if e.tenant_id is not None:
                out["tenantId"] = e.tenant_id
            if inference:
                out["inference"] = inference
            return out

        body: dict[str, Any] = {
            "object": "usage_report",
            "account": {"id": self.account.id, "name": self.account.name},
            "period": {
                "year": self.period.year,
                "month": self.period.month,
                "start": _iso(self.period.start),
                "end": _iso(self.period.end),
            },
            "generatedAt": _iso(self.generated_at) if self.generated_at else None,
            "credits": credits(self.credits),
            "inference": {
                "balanceCents": self.inference.balance_cents,
                "spentCents": self.spent_cents("total"),
                "currency": self.inference.currency,
            },
            "environments": {"live": env(self.live), "test": env(self.test)},
            "limits": {
                "creditAllowanceMilli": self.allowance_milli,
                "creditAllowance": (
                    None
                    if self.allowance_milli is None
                    else self.allowance_milli // MILLI_PER_CREDIT
                ),
            },
            "warnings": list(self.warnings),
        }
        if self.daily is not None:
            body["daily"] = [
                {
                    "date": d.day.isoformat(),
                    "live": {
                        "usedMilli": d.live.used_milli,
                        "inferenceCents": d.live.inference_cents,
                    },
                    "test": {
                        "usedMilli": d.test.used_milli,
                        "inferenceCents": d.test.inference_cents,
                    },
                }
                for d in self.daily
            ]
        return body


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- parsing


def _reject_constant(name: str) -> object:
    raise ReportError("", f"{name} is not a number the contract allows")


def loads(body: bytes | str) -> object:
    """Decode JSON strictly: NaN/Infinity rejected, floats kept exact for rejection."""
    try:
        return json.loads(body, parse_constant=_reject_constant, parse_float=Decimal)
    except ReportError:
        raise
    except RecursionError:
        raise ReportError("", "the body nests too deeply to be a usage report") from None
    except UnicodeDecodeError:
        raise ReportError("", "the body is not UTF-8 text") from None
    except ValueError as exc:  # JSONDecodeError, and int() on a 5,000-digit number
        raise ReportError("", f"the body is not valid JSON ({exc})") from None


def parse_report(body: bytes | str) -> UsageReport:
    return report_from_data(loads(body))


class _Reader:
    """Walks one JSON object, collecting the dotted path for error messages."""

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise ReportError(path or "report", f"must be an object, got {_kind(data)}")
        self.data: dict[str, object] = data
        self.path = path

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def obj(self, key: str) -> _Reader:
        if key not in self.data or self.data[key] is None:
            raise ReportError(self._at(key), "is missing")
        return _Reader(self.data[key], self._at(key))

    def opt_obj(self, key: str) -> _Reader | None:
        return self.obj(key) if self.has(key) else None

    def num(self, key: str, *, minimum: int | None = 0, low: int | None = None) -> int:
        value = self.data.get(key)
        if value is None:
            raise ReportError(self._at(key), "is missing")
        return _integer(value, lambda: self._at(key), minimum=minimum, low=low)

    def opt_num(self, key: str, *, minimum: int | None = 0) -> int | None:
        return None if self.data.get(key) is None else self.num(key, minimum=minimum)

    def opt_str(self, key: str) -> str | None:
        if not self.has(key):
            return None
        value = self.data[key]
        if not isinstance(value, str):
            raise ReportError(self._at(key), f"must be text, got {_kind(value)}")
        # A lone surrogate ("\ud800" is valid JSON) cannot be printed or re-encoded.
        return value.encode("utf-8", "replace").decode("utf-8")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, Decimal):
        return f"the fraction {value}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _integer(
    value: object, path: Callable[[], str], *, minimum: int | None, low: int | None = None
) -> int:
    """``path`` is worked out only for an error: most figures are fine, and a report
    has hundreds of them."""
    # bool is an int subclass in Python; `true` is not a count of milli-credits.
    if type(value) is not int:
        raise ReportError(path(), f"must be a whole number, got {_kind(value)}")
    if minimum is not None and value < minimum:
        raise ReportError(path(), f"must not be negative, got {value}")
    if abs(value) > MAX_FIGURE:
        raise ReportError(path(), f"is implausibly large ({len(str(abs(value)))} digits)")
    if low is not None and value < low:
        raise ReportError(path(), f"must be at least {low}, got {value}")
    return value


def _timestamp(text: str, path: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(path, f"is not a date-time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        raise ReportError(path, "has no time zone (the contract's times are UTC)")
    return moment.astimezone(UTC)


def _month_start(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def period_of(year: int, month: int) -> Period:
    return Period(year, month, _month_start(year, month), _month_start(*next_month(year, month)))


def _period(r: _Reader) -> Period:
    year = r.num("year", low=2000)
    month = r.num("month", low=1)
    if year > 9999:
        raise ReportError(r._at("year"), f"must be at most 9999, got {year}")
    if month > 12:
        raise ReportError(r._at("month"), f"must be 1 to 12, got {month}")
    period = period_of(year, month)
    start_text, end_text = r.opt_str("start"), r.opt_str("end")
    if start_text is not None and _timestamp(start_text, r._at("start")) != period.start:
        raise ReportError(r._at("start"), f"{start_text!r} is not the start of {year}-{month:02}")
    if end_text is not None and _timestamp(end_text, r._at("end")) != period.end:
        raise ReportError(r._at("end"), f"{end_text!r} is not the end of {year}-{month:02}")
    return period


def _credits(r: _Reader, warnings: list[str]) -> CreditUsage:
    used_milli = r.num("usedMilli")
    whole = r.opt_num("used")
    if whole is not None and whole != used_milli // MILLI_PER_CREDIT:
        warnings.append(
            f"{r._at('used')} says {whole} credits but {r._at('usedMilli')} says "
            f"{used_milli} milli-credits; showing the exact figure"
        )
    breakdown: dict[str, OperationUsage] = {}
    if (parts := r.opt_obj("breakdown")) is not None:
        for name in CREDIT_OPERATIONS:
            if (op := parts.opt_obj(name)) is not None:
                breakdown[name] = OperationUsage(op.num("usedMilli"), op.opt_num("count"))
        if breakdown and len(breakdown) == len(CREDIT_OPERATIONS):
            total = sum(op.used_milli for op in breakdown.values())
            if total != used_milli:
                warnings.append(
                    f"{r._at('breakdown')} adds up to {total} milli-credits, not {used_milli}"
                )
    return CreditUsage(used_milli, breakdown)


def _environment(
    envs: _Reader, name: Literal["live", "test"], warnings: list[str]
) -> EnvironmentUsage:
    if not envs.has(name):
        warnings.append(f"the {name} environment is missing from the report; shown as 0")
        return EnvironmentUsage(name, CreditUsage(0), present=False)
    r = envs.obj(name)
    inference = EnvironmentInference()
    if (inf := r.opt_obj("inference")) is not None:
        kinds: dict[str, int] = {}
        if (parts := inf.opt_obj("breakdown")) is not None:
            for kind in INFERENCE_KINDS:
                if (cents := parts.opt_num(kind)) is not None:
                    kinds[kind] = cents
        inference = EnvironmentInference(inf.opt_num("spentCents"), inf.opt_num("calls"), kinds)
    return EnvironmentUsage(
        name, _credits(r.obj("credits"), warnings), inference, r.opt_str("tenantId")
    )


def _daily(value: object, period: Period) -> tuple[DailyUsage, ...]:
    if not isinstance(value, list):
        raise ReportError("daily", f"must be a list, got {_kind(value)}")
    days: dict[date, DailyUsage] = {}
    for index, item in enumerate(value):
        r = _Reader(item, f"daily[{index}]")
        text = r.opt_str("date")
        if text is None:
            raise ReportError(f"daily[{index}].date", "is missing")
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ReportError(f"daily[{index}].date", f"is not a date: {text[:40]!r}") from None
        if not period.start.date() <= day < period.end.date():
            raise ReportError(f"daily[{index}].date", f"{day} is outside the report's period")
        if day in days:
            raise ReportError(f"daily[{index}].date", f"{day} appears twice")
        figures = []
        for env in ENVIRONMENTS:
            f = r.opt_obj(env)
            figures.append(
                DayFigures(f.opt_num("usedMilli") or 0, f.opt_num("inferenceCents") or 0)
                if f is not None
                else DayFigures()
            )
        days[day] = DailyUsage(day, figures[0], figures[1])
    return tuple(sorted(days.values(), key=lambda d: d.day))


def report_from_data(data: object) -> UsageReport:
    if isinstance(data, list):
        raise ReportError("report", "must be an object, got a list")
    root = _Reader(data, "")
    warnings: list[str] = []
    kind = root.opt_str("object")
    if kind is not None and kind != "usage_report":
        raise ReportError("object", f"is {kind[:40]!r}, not 'usage_report'")

    period = _period(root.obj("period"))
    credits = _credits(root.obj("credits"), warnings)

    inf = root.obj("inference")
    currency = inf.opt_str("currency") or "USD"
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise ReportError("inference.currency", f"is not an ISO 4217 code: {currency[:20]!r}")
    inference = InferenceAccount(
        inf.num("balanceCents", minimum=None), inf.opt_num("spentCents"), currency.upper()
    )

    envs = root.obj("environments")
    live = _environment(envs, "live", warnings)
    test = _environment(envs, "test", warnings)
    if live.present and test.present:
        both = live.credits.used_milli + test.credits.used_milli
        if both != credits.used_milli:
            warnings.append(
                f"live + test = {both} milli-credits but the total says {credits.used_milli}"
            )
        spent = [live.inference.spent_cents, test.inference.spent_cents]
        if inference.spent_cents is not None and None not in spent:
            both_cents = sum(s for s in spent if s is not None)
            if both_cents != inference.spent_cents:
                warnings.append(
                    f"live + test inference = {both_cents} cents "
                    f"but the total says {inference.spent_cents}"
                )

    allowance: int | None = None
    if (limits := root.opt_obj("limits")) is not None:
        exact = limits.opt_num("creditAllowanceMilli")
        whole = limits.opt_num("creditAllowance")
        allowance = exact if exact is not None else (None if whole is None else whole * 1000)

    account = Account()
    if (acct := root.opt_obj("account")) is not None:
        account = Account(acct.opt_str("id"), acct.opt_str("name"))

    generated_at = None
    if (text := root.opt_str("generatedAt")) is not None:
        generated_at = _timestamp(text, "generatedAt")

    if generated_at is not None and generated_at < period.start:
        warnings.append(
            f"generatedAt {_iso(generated_at)} is before the period it reports "
            f"({period.label}); the figures may not be what they claim"
        )

    daily = _daily(root.data["daily"], period) if root.has("daily") else None
    if daily:
        day_total = sum(d.live.used_milli + d.test.used_milli for d in daily)
        if day_total > credits.used_milli:
            warnings.append(
                f"daily figures add up to {day_total} milli-credits, "
                f"more than the period's {credits.used_milli}"
            )

    return UsageReport(
        period=period,
        credits=credits,
        inference=inference,
        live=live,
        test=test,
        account=account,
        allowance_milli=allowance,
        generated_at=generated_at,
        daily=daily,
        warnings=tuple(warnings),
    )
