"""Credits panel: the period's usage against the monthly allowance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from fractions import Fraction

from rich.style import Style
from rich.text import Text

from tui import format as fmt
from tui.rates import Rate, Runway
from tui.report import Scope, UsageReport
from tui.thresholds import (
    DEFAULT_THRESHOLDS,
    SYMBOL,
    Level,
    Thresholds,
    allowance_level,
    allowance_runway_level,
    level_label,
)
from tui.trend import Trend
from tui.widgets.diffed import FigurePanel, Row


def allowance_state(used_milli: int, allowance_milli: int | None, t: Thresholds) -> tuple[str, str]:
    """(word, style key) for the account's share of the allowance used."""
    if allowance_milli is None:
        return ("no allowance in report", "muted")
    if used_milli >= allowance_milli > 0:
        return ("✖ exhausted", "critical")
    level = allowance_level(used_milli, allowance_milli, t)
    return (level_label(level), level)  # a word, so the state never rests on colour


def flagged(text: str, level: Level, *, narrow: bool = False) -> str:
    """A runway's words, with the level's symbol in front when it is not fine."""
    if level == "ok":
        return text
    return f"{SYMBOL[level]}{'' if narrow else ' '}{text}"


def runway_words(runway: Runway) -> str:
    """When the allowance runs out, or that it lasts: a date, never a negative time."""
    if runway.kind == "at" and runway.at is not None:
        return f"{fmt.utc_when(runway.at)} at this rate"
    if runway.kind == "after_reset" and runway.at is not None:
        return f"not before the {runway.at:%b} {runway.at.day} reset"
    if runway.kind == "exhausted":
        return "exhausted"
    return "—"


def rate_words(rate: Rate, unit: Callable[[Fraction], str]) -> str:
    return "warming up" if rate.per_minute is None else unit(rate.per_minute)


class CreditsPanel(FigurePanel[tuple[UsageReport, Scope, datetime, Trend]]):
    DEFAULT_CSS = """
    CreditsPanel {
        border: round $primary;
        border-title-color: $text-primary;
        border-title-style: bold;
    }
    CreditsPanel > .credits--bar-used { color: $primary; }
    CreditsPanel > .credits--bar-free { color: $panel-lighten-2; }
    CreditsPanel > .credits--label { color: $text-muted; }
    CreditsPanel > .credits--ok { color: $text-success; }
    CreditsPanel > .credits--warn { color: $text-warning; text-style: bold; }
    CreditsPanel > .credits--critical { color: $text-error; text-style: bold; }
    CreditsPanel > .credits--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "credits--bar-used",
        "credits--bar-free",
        "credits--label",
        "credits--ok",
        "credits--warn",
        "credits--critical",
        "credits--muted",
    }

    def __init__(self, *, thresholds: Thresholds = DEFAULT_THRESHOLDS, id: str | None = None):
        super().__init__(id=id)
        self.thresholds = thresholds

    def on_mount(self) -> None:
        self.retitle()

    def titles(self) -> list[str]:
        scope = "total" if self.data is None else self.data[1]
        if scope == "total":
            return ["Credits · monthly allowance", "Credits · allowance", "Credits"]
        return [f"Credits · {scope} · monthly allowance", f"Credits · {scope}", "Credits"]

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"credits--{name}")

    @property
    def label_style(self) -> Style:
        return self._style("label")

    def lead(self, width: int) -> Text | None:
        """The bar: the share of the allowance this tab's figure is, with a word."""
        if self.data is None:
            return None
        report, scope, _, _ = self.data
        allowance = report.allowance_milli
        used = report.used_milli(scope)
        tenths = fmt.ratio_tenths(used, allowance) if allowance is not None else None
        word, level = allowance_state(report.credits.used_milli, allowance, self.thresholds)
        bar = max(6, width - 21)  # leaves room for ' 100.0 % ✖ exhausted'
        filled = 0 if tenths is None else min(bar, (min(tenths, 1000) * bar) // 1000)
        if used > 0 and filled == 0:
            filled = 1  # something used shows as something
        if scope != "total":
            # The state word belongs to the account; here the figure is one share of it.
            word, level = "share", "muted"
        line = Text()
        line.append("█" * filled, style=self._style("bar-used"))
        line.append("░" * (bar - filled), style=self._style("bar-free"))
        line.append(f" {fmt.percent_tenths(tenths):>7} ")
        line.append(word, style=self._style(level))
        return line

    def build_rows(self) -> list[Row]:
        if self.data is None:
            return [("", Text(self.waiting, style=self._style("muted")))]
        report, scope, now, trend = self.data
        allowance = report.allowance_milli
        used_milli = fmt.milli(report.used_milli(scope))
        rows: list[Row] = [
            ("used" if scope == "total" else scope, Text(f"{used_milli} credits"), Text(used_milli))
        ]
        if allowance is None:
            rows.append(("of", Text("the report gives no allowance"), Text("not given")))
            rows.append(("left", Text("—")))
        else:
            rows.append(
                ("of", Text(f"{fmt.milli(allowance)} allowance"), Text(fmt.milli(allowance)))
            )
            left = allowance - report.credits.used_milli
            label = "left" if scope == "total" else "acct left"
            if left >= 0:
                rows.append((label, Text(f"{fmt.milli(left)} credits"), Text(fmt.milli(left))))
            else:
                over = fmt.milli(-left)
                critical = self._style("critical")
                rows.append(
                    (label, Text(f"none: {over} over", critical), Text(f"-{over}", critical))
                )
        today = report.day(now.date())
        if today is not None:
            milli = fmt.milli(today.figures(scope).used_milli)
            rows.append(("today", Text(f"{milli} credits (UTC day)"), Text(milli)))
        if not trend.closed:
            for label, rate in (("rate 5m", trend.credits_short), ("rate 1h", trend.credits_long)):
                words = rate_words(rate, fmt.milli_rate)
                rows.append((label, Text(words), Text(words.replace(" credits", ""))))
        if report.period.end > now and not trend.closed:
            runway = trend.allowance
            words = runway_words(runway)
            if scope != "total" and runway.kind == "at":
                # The allowance is the account's: it runs out at the account's pace.
                words = words.replace(" at this rate", ", account pace")
            level = allowance_runway_level(runway.kind, runway.minutes, self.thresholds)
            style = self._style(level) if level != "ok" else ""
            short = words.replace(" at this rate", "").replace(", account pace", "")
            if runway.kind == "after_reset" and runway.at is not None:
                short = f"not before {runway.at:%b} {runway.at.day}"
            rows.append(
                (
                    "runs out",
                    Text(flagged(words, level), style),
                    Text(flagged(short, level), style),
                    Text(flagged(short, level, narrow=True), style),
                    # Last resort in a narrow panel: the header says the month is UTC.
                    Text(flagged(short.removesuffix(" UTC"), level, narrow=True), style),
                )
            )
        if (mark := trend.since_mark) is not None and not trend.closed:
            name = fmt.safe_text(mark.name, limit=24)
            ago = f"{fmt.duration(mark.elapsed)} ago"
            rows.append(("mark", Text(f"“{name}” {ago}"), Text(ago)))
            since = fmt.milli(mark.used_milli)
            rows.append(("since mark", Text(f"+{since} credits"), Text(f"+{since}")))
            average = mark.per_minute(mark.used_milli)
            words = "—" if average is None else fmt.milli_rate(average)
            rows.append(("mark avg", Text(words), Text(words.replace(" credits", ""))))
        end = report.period.end
        if now < end:
            until = fmt.duration((end - now).total_seconds())
            reset = f"{end:%b} {end.day} {end:%H:%M} UTC"
            rows.append(
                ("resets", Text(f"{reset}, {until}"), Text(reset), Text(f"{end:%b} {end.day} UTC"))
            )
        else:
            reset = f"{end:%b} {end.day}"
            rows.append(
                (
                    "resets",
                    Text(f"closed period; reset {reset} UTC"),
                    Text(f"closed; reset {reset} UTC"),
                    Text(f"closed; {reset}"),
                )
            )
        return rows
