"""What a chart shows, worked out from the figures without plotext (which is imported
only when the chart is first drawn): the month by UTC day, or the last hour by minute."""

from __future__ import annotations

from typing import Literal, NamedTuple

from tui.report import Scope, UsageReport

Metric = Literal["credits", "inference"]
# Where the daily figures come from: the report's `daily`, or the recorded polls.
Source = Literal["report", "history"]
Span = Literal["month", "hour"]


def nice_ceiling(value: float) -> float:
    """A tidy axis top at or above value."""
    if value <= 0:
        return 1.0
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    while magnitude > value:
        magnitude /= 10
    # Each is four times a tidy step, so the quarter ticks are tidy too.
    for step in (1, 1.2, 1.6, 2, 2.4, 3.2, 4, 6, 8, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def tick_label(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


class Plan(NamedTuple):
    """What one chart shows, worked out from the figures; drawing it is the costly part."""

    title: str
    legend: tuple[tuple[str, str], ...]  # (colour, name)
    xs: tuple[float, ...]
    stacks: tuple[tuple[tuple[float, ...], str], ...]  # (values in units, colour), bottom up
    top: float
    unit: str
    xticks: tuple[tuple[float, str], ...]


COLOURS = {"live": "cyan", "test": "magenta", "total": "blue"}


def day_ranges(days: tuple[int, ...]) -> str:
    """(1, 2, 3, 5) -> '1–3, 5'."""
    runs: list[list[int]] = []
    for day in days:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 2 else ", ".join(map(str, r)) for r in runs)


def month_plan(
    report: UsageReport,
    scope: Scope,
    metric: Metric,
    source: Source,
    partial: tuple[int, ...] = (),
) -> Plan:
    days = report.daily_series()
    if metric == "credits":
        unit, divisor = "credits", 1000.0
        live = [d.live.used_milli for d in days]
        test = [d.test.used_milli for d in days]
    else:
        unit, divisor = report.inference.currency, 100.0
        live = [d.live.inference_cents for d in days]
        test = [d.test.inference_cents for d in days]
    envs = [e for e in ("live", "test") if scope in ("total", e)]
    figures = {"live": live, "test": test}
    top = nice_ceiling(
        max((sum(figures[e][i] for e in envs) for i in range(len(days))), default=0) / divisor
    )
    if source == "history":
        said = " · from recorded polls (the report has no daily figures)"
        if partial:
            # A day the monitor did not watch throughout is at least what it shows.
            said += f" · partly polled, so at least: {day_ranges(partial)}"
    elif report.daily is None:
        said = " · the report has no daily figures"
    else:
        said = ""
    what = "credits used" if metric == "credits" else "inference spent"
    who = "live + test" if scope == "total" else scope
    # Numeric x (day of month): plotext aligns bars with ticks only for numbers.
    ticks = [1, *range(5, len(days) + 1, 5)]
    return Plan(
        title=f"Daily {what} · {who} · UTC days of {report.period.label}{said}",
        legend=tuple((COLOURS[e], e) for e in envs),
        xs=tuple(float(d.day.day) for d in days),
        stacks=tuple((tuple(v / divisor for v in figures[e]), COLOURS[e]) for e in envs),
        top=top,
        unit=unit,
        xticks=tuple((float(t), str(t)) for t in ticks),
    )


def hour_plan(minutes: tuple[int | None, ...], scope: Scope, metric: Metric, end: str) -> Plan:
    """The last hour, minute by minute, to the last whole minute (``end``, the minute in
    progress left out)."""
    shown = minutes[-60:]
    divisor, unit = (1000.0, "credits/min") if metric == "credits" else (1.0, "¢/min")
    values = tuple((m or 0) / divisor for m in shown)
    gaps = " · unpolled minutes as 0" if any(m is None for m in shown) else ""
    n = len(shown)
    xs = tuple(float(i - n + 1) for i in range(n))  # minutes before the newest
    ticks = [(float(-m), f"-{m}" if m else "now") for m in range(0, n, 15)][::-1]
    who = "live + test" if scope == "total" else scope
    return Plan(
        title=f"Last hour, {unit} · {who} · to {end} UTC{gaps}",
        legend=((COLOURS[scope], who),),
        xs=xs,
        stacks=((values, COLOURS[scope]),),
        top=nice_ceiling(max(values, default=0)),
        unit=unit,
        xticks=tuple(ticks),
    )
