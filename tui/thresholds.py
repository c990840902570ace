"""Warn and critical levels, and when crossing one is worth an alert. Pure: no Textual.

Three things can be worth a warning: how much of the monthly allowance is gone (a
percentage), how much pre-paid balance is left (cents), and how soon either runs out
at the current rate (minutes). Each is judged on its own and given a level with a word,
so a state never rests on colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Literal, NamedTuple

Level = Literal["ok", "warn", "critical"]
Axis = Literal["allowance", "balance", "allowance runway", "balance runway"]
RANK: dict[Level, int] = {"ok": 0, "warn": 1, "critical": 2}
WORD: dict[Level, str] = {"ok": "ok", "warn": "WARN", "critical": "CRITICAL"}
SYMBOL: dict[Level, str] = {"ok": "✓", "warn": "▲", "critical": "✖"}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The levels, as set in a profile or by flags. ``None`` turns a level off."""

    credits_warn_percent: int | None = 75  # of the monthly allowance used
    credits_critical_percent: int | None = 90
    balance_warn_cents: int | None = 1_000  # balance left at or below
    balance_critical_cents: int | None = 100
    runway_warn_minutes: int | None = 24 * 60  # runs out within, at the current rate
    runway_critical_minutes: int | None = 2 * 60
    bell: bool = False  # ring the terminal bell when a level is crossed upwards
    notify: bool = False  # a desktop notification (OSC 9 and OSC 777) likewise
    cooldown_seconds: int = 300  # one alert per axis per cooldown

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("bell", "notify"):
                if not isinstance(value, bool):
                    raise ValueError(f"{f.name} must be true or false")
                continue
            if value is None and f.name != "cooldown_seconds":
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{f.name} must be a whole number")
            if value < 0:
                raise ValueError(f"{f.name} cannot be negative")
        for name in ("credits_warn_percent", "credits_critical_percent"):
            value = getattr(self, name)
            if value is not None and not 1 <= value <= 100:
                raise ValueError(f"{name} must be 1 to 100")
        # A warning comes before the critical level, whichever way the figure moves.
        pairs = (
            ("credits_warn_percent", "credits_critical_percent"),
            ("balance_critical_cents", "balance_warn_cents"),
            ("runway_critical_minutes", "runway_warn_minutes"),
        )
        for low, high in pairs:
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ValueError(f"{low} ({a}) must be at most {high} ({b})")


DEFAULT_THRESHOLDS = Thresholds()


class Judgement(NamedTuple):
    axis: Axis
    level: Level


def allowance_level(used_milli: int, allowance_milli: int | None, t: Thresholds) -> Level:
    """Level of the share of the allowance used (exact: no float rounding at the edge)."""
    if not allowance_milli or allowance_milli <= 0:
        return "ok"
    share = Fraction(used_milli * 100, allowance_milli)
    if t.credits_critical_percent is not None and share >= t.credits_critical_percent:
        return "critical"
    if t.credits_warn_percent is not None and share >= t.credits_warn_percent:
        return "warn"
    return "ok"


def balance_level(balance_cents: int, t: Thresholds) -> Level:
    if t.balance_critical_cents is not None and balance_cents <= t.balance_critical_cents:
        return "critical"
    if t.balance_warn_cents is not None and balance_cents <= t.balance_warn_cents:
        return "warn"
    return "ok"


def runway_level(minutes: Fraction | int | None, exhausted: bool, t: Thresholds) -> Level:
    """Level of a runway: exhausted is critical; unknown or lasting is ok."""
    if exhausted:
        return "critical"
    if minutes is None:
        return "ok"
    if t.runway_critical_minutes is not None and minutes <= t.runway_critical_minutes:
        return "critical"
    if t.runway_warn_minutes is not None and minutes <= t.runway_warn_minutes:
        return "warn"
    return "ok"


def allowance_runway_level(kind: str, minutes: Fraction | None, t: Thresholds) -> Level:
    """Running out before the reset is news whatever the levels say: at least a warning."""
    if kind == "exhausted":
        return "critical"
    if kind != "at":
        return "ok"
    level = runway_level(minutes, False, t)
    if level == "ok" and t.runway_warn_minutes is not None:
        return "warn"  # (with the warning level turned off, only the critical one counts)
    return level


def level_label(level: Level) -> str:
    """A level as shown: 'ok', '▲ WARN', '✖ CRITICAL'."""
    return WORD[level] if level == "ok" else f"{SYMBOL[level]} {WORD[level]}"


class AlertGate:
    """Says which judgements deserve an alert now: a level crossed upwards (ok → warn,
    warn → critical), at most once per axis per cooldown. A level that falls back only
    re-arms the alert once it has stayed lower for ``settle_seconds``: a runway that
    flaps poll to poll across a level is one episode, not an alert per cooldown."""

    def __init__(self, cooldown_seconds: float, settle_seconds: float = 120.0) -> None:
        self.cooldown = cooldown_seconds
        self.settle = settle_seconds
        self._alerted: dict[Axis, Level] = {}  # the worst level alerted this episode
        self._lower_since: dict[Axis, float] = {}  # when the level fell below it
        self._last_alert: dict[Axis, float] = {}

    def update(self, judgements: list[Judgement], now: float) -> list[Judgement]:
        due: list[Judgement] = []
        for j in judgements:
            alerted = self._alerted.get(j.axis, "ok")
            if RANK[j.level] < RANK[alerted]:
                since = self._lower_since.setdefault(j.axis, now)
                if now - since >= self.settle:  # it stayed better: the episode is over
                    self._alerted[j.axis] = j.level
                    del self._lower_since[j.axis]
                continue
            self._lower_since.pop(j.axis, None)  # back up: still the same episode
            if j.level == alerted:
                continue
            last = self._last_alert.get(j.axis)
            if last is not None and now - last < self.cooldown:
                continue
            self._alerted[j.axis] = j.level
            self._last_alert[j.axis] = now
            due.append(j)
        return due


def judge(
    *,
    used_milli: int,
    allowance_milli: int | None,
    balance_cents: int,
    allowance_runway: tuple[str, Fraction | None],
    balance_runway: tuple[str, Fraction | None],
    t: Thresholds,
) -> list[Judgement]:
    """The account's four levels. A runway is (kind, minutes) as `tui.rates.Runway` has
    them: "exhausted", "at" (runs out in `minutes`), anything else lasts. An allowance
    that runs out before its reset is at least a warning."""

    kind, minutes = balance_runway
    return [
        Judgement("allowance", allowance_level(used_milli, allowance_milli, t)),
        Judgement("balance", balance_level(balance_cents, t)),
        Judgement("allowance runway", allowance_runway_level(*allowance_runway, t)),
        Judgement(
            "balance runway",
            runway_level(minutes if kind == "at" else None, kind == "exhausted", t),
        ),
    ]
