"""The last hour, minute by minute, as one line of blocks: what the chart's metric did."""

from __future__ import annotations

from rich.text import Text

from tui import format as fmt
from tui.trend import Trend
from tui.widgets.diffed import TextBlock

BLOCKS = "▂▃▄▅▆▇█"  # a minute with some use, scaled to the hour's peak


def sparkline(minutes: tuple[int | None, ...], width: int) -> tuple[str, int]:
    """(line, peak): the newest ``width`` minutes; ``·`` no poll, ``▁`` nothing used."""
    shown = minutes[-width:] if width > 0 else ()
    peak = max((m for m in shown if m), default=0)
    cells = []
    for minute in shown:
        if minute is None:
            cells.append("·")
        elif minute == 0 or peak == 0:
            cells.append("▁")
        else:
            cells.append(BLOCKS[min(len(BLOCKS) - 1, (minute * len(BLOCKS) - 1) // peak)])
    return "".join(cells), peak


class IntradayStrip(TextBlock):
    DEFAULT_CSS = """
    IntradayStrip { height: 1; padding: 0 1; color: $text-muted; }
    IntradayStrip.-hidden { display: none; }
    IntradayStrip.-in-chart { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._data: tuple[Trend, str, bool] | None = None
        self.builder = self._line

    def show(self, trend: Trend, metric: str, *, hide_values: bool = False) -> None:
        data = (trend, metric, hide_values)
        self.set_class(trend.closed or not trend.credits_minutes, "-hidden")
        if data != self._data:
            self._data = data
            self.data_changed()

    def _line(self, width: int) -> list[Text]:
        if self._data is None:
            return [Text("")]
        trend, metric, hidden = self._data
        minutes = trend.credits_minutes if metric == "credits" else trend.cents_minutes
        label = "last hour, credits/min " if metric == "credits" else "last hour, ¢/min "
        room = max(0, min(60, width - len(label) - 28))  # and "  peak 1,234.567 credits/min"
        line, peak = sparkline(minutes, room)
        top = fmt.milli(peak) + " credits/min" if metric == "credits" else fmt.cents(peak) + "/min"
        if hidden:
            top = "hidden"
        return [Text(label).append(line, style="bold").append(f"  peak {top}")]
