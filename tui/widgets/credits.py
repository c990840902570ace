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
from tui.trend import Trend
from tui.widgets.diffed import FigurePanel, Row

# Words for how much of the allowance is gone, so the state never rests on colour.
LEVELS = ((1000, "exhausted", "critical"), (900, "critical", "critical"), (750, "high", "warn"))


def allowance_level(tenths: int | None) -> tuple[str, str]:
    """(word, style key) for a share of the allowance in tenths of a percent."""
    if tenths is None:
        return ("no allowance in report", "muted")
    for floor, word, style in LEVELS:
        if tenths >= floor:
            return (word, style)
    return ("ok", "ok")


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
    CreditsPanel TextBlock { text-wrap: nowrap; text-overflow: ellipsis; }
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

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "Credits · monthly allowance"

    def on_data(self) -> None:
        if self.data is not None:
            scope = self.data[1]
            title = (
                "Credits · monthly allowance"
                if scope == "total"
                else f"Credits · {scope} · monthly allowance"
            )
            if title != self.border_title:  # setting it repaints the whole panel
                self.border_title = title

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
        word, level = allowance_level(
            fmt.ratio_tenths(report.credits.used_milli, allowance) if allowance else None
        )
        bar = max(6, width - 19)  # leaves room for ' 100.0 % exhausted'
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
        rows: list[Row] = [
            (
                "used" if scope == "total" else scope,
                Text(f"{fmt.milli(report.used_milli(scope))} credits"),
            )
        ]
        if allowance is None:
            rows.append(("of", Text("the report gives no allowance")))
            rows.append(("left", Text("—")))
        else:
            rows.append(("of", Text(f"{fmt.milli(allowance)} allowance")))
            left = allowance - report.credits.used_milli
            label = "left" if scope == "total" else "acct left"
            if left >= 0:
                rows.append((label, Text(f"{fmt.milli(left)} credits")))
            else:
                over = f"none: {fmt.milli(-left)} over"
                rows.append((label, Text(over, style=self._style("critical"))))
        today = report.day(now.date())
        if today is not None:
            milli = today.figures(scope).used_milli
            rows.append(("today", Text(f"{fmt.milli(milli)} credits (UTC day)")))
        if not trend.closed:
            rows.append(("rate 5m", Text(rate_words(trend.credits_short, fmt.milli_rate))))
            rows.append(("rate 1h", Text(rate_words(trend.credits_long, fmt.milli_rate))))
        if report.period.end > now and not trend.closed:
            words = runway_words(trend.allowance)
            if scope != "total" and trend.allowance.kind == "at":
                # The allowance is the account's: it runs out at the account's pace.
                words = words.replace(" at this rate", ", account pace")
            # Running out before the reset is news: a warning, critical within a day.
            runway = trend.allowance
            level = None
            if runway.kind == "exhausted" or (
                runway.minutes is not None and runway.minutes < 24 * 60
            ):
                level = "critical"
            elif runway.kind == "at":
                level = "warn"
            rows.append(("runs out", Text(words, style=self._style(level) if level else "")))
        if (mark := trend.since_mark) is not None and not trend.closed:
            name = fmt.safe_text(mark.name, limit=24)
            rows.append(("mark", Text(f"“{name}” {fmt.duration(mark.elapsed)} ago")))
            rows.append(("since mark", Text(f"+{fmt.milli(mark.used_milli)} credits")))
            average = mark.per_minute(mark.used_milli)
            rows.append(("mark avg", Text("—" if average is None else fmt.milli_rate(average))))
        end = report.period.end
        if now < end:
            until = fmt.duration((end - now).total_seconds())
            rows.append(("resets", Text(f"{end:%b} {end.day} {end:%H:%M} UTC, {until}")))
        else:
            rows.append(("resets", Text(f"closed period; reset {end:%b} {end.day} UTC")))
        return rows
