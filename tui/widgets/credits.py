"""Credits panel: the period's usage against the monthly allowance."""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text

from tui import format as fmt
from tui.report import Scope, UsageReport
from tui.widgets.diffed import TextPanel

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


class CreditsPanel(TextPanel[tuple[UsageReport, Scope, datetime]]):
    DEFAULT_CSS = """
    CreditsPanel {
        height: auto;
        border: round $primary;
        border-title-color: $text-primary;
        border-title-style: bold;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
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

    def on_mount(self) -> None:
        self.border_title = "Credits · monthly allowance"

    def on_data(self) -> None:
        if self.data is not None:
            _, scope, _ = self.data
            title = (
                "Credits · monthly allowance"
                if scope == "total"
                else f"Credits · {scope} · monthly allowance"
            )
            if title != self.border_title:  # setting it repaints the whole panel
                self.border_title = title

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"credits--{name}")

    def text(self, width: int) -> Text:
        if self.data is None:
            return Text("waiting for the first report…", style=self._style("muted"))
        report, scope, now = self.data
        used = report.used_milli(scope)
        allowance = report.allowance_milli
        tenths = fmt.ratio_tenths(used, allowance) if allowance is not None else None
        word, level = allowance_level(
            fmt.ratio_tenths(report.credits.used_milli, allowance) if allowance else None
        )
        label = self._style("label")
        lines = Text(no_wrap=True, overflow="ellipsis")

        width = max(10, width - 16)
        filled = 0 if tenths is None else min(width, (min(tenths, 1000) * width) // 1000)
        lines.append("█" * filled, style=self._style("bar-used"))
        lines.append("░" * (width - filled), style=self._style("bar-free"))
        lines.append(f" {fmt.percent_tenths(tenths):>7} ")
        lines.append(f"{word}\n", style=self._style(level))

        who = "used" if scope == "total" else f"{scope}"
        lines.append(f"{who:<7}", style=label)
        lines.append(f"{fmt.milli(used)} credits\n")
        if allowance is None:
            lines.append("of     ", style=label)
            lines.append("the report gives no allowance\n")
            lines.append("left   ", style=label)
            lines.append("—\n")
        else:
            lines.append("of     ", style=label)
            lines.append(f"{fmt.milli(allowance)} allowance\n")
            left = allowance - report.credits.used_milli
            lines.append("left   ", style=label)
            suffix = "" if scope == "total" else " (account)"
            if left >= 0:
                lines.append(f"{fmt.milli(left)} credits{suffix}\n")
            else:
                lines.append(
                    f"none — {fmt.milli(-left)} over{suffix}\n", style=self._style("critical")
                )
        end = report.period.end
        lines.append("resets ", style=label)
        if now < end:
            left_s = (end - now).total_seconds()
            lines.append(f"{end:%b} {end.day} {end:%H:%M} UTC, in {fmt.duration(left_s)}")
        else:
            lines.append(f"closed period, reset {end:%Y-%m-%d %H:%M} UTC")
        return lines
