"""Daily consumption across the period: one bar per UTC day, live and test stacked.

plotext builds the whole chart as text on every render, which is the costly part
of a frame, so the chart only refreshes when what it shows changes: the series,
quantised to a fraction of the axis, not every poll's last milli-credit.
"""

from __future__ import annotations

from rich.text import Text
from textual_plotext import PlotextPlot

from tui.report import Scope, UsageReport
from tui.widgets.chart_slot import Metric, Source
from tui.widgets.diffed import DiffedWidget

MIN_WIDTH, MIN_HEIGHT = 24, 7


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


def _tick(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".")


class DailyChart(DiffedWidget, PlotextPlot):
    DEFAULT_CSS = """
    DailyChart {
        height: 1fr;
        min-height: 6;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._key: object = None
        self._source: Source = "report"
        self._hidden = False  # money hidden: bars keep their shape, the axis loses its figures
        self._shown: tuple[UsageReport, Scope, Metric, Source, bool] | None = None
        self._empty = True
        self._scheduled = False
        self._next: (
            tuple[UsageReport, Scope, Metric, float, str, float, list[int], list[int]] | None
        ) = None

    def show(
        self,
        report: UsageReport,
        scope: Scope,
        metric: Metric,
        source: Source = "report",
        hide_values: bool = False,
    ) -> None:
        self._shown = (report, scope, metric, source, hide_values)
        self._source = source
        self._hidden = hide_values
        days = report.daily_series()
        if metric == "credits":
            unit, divisor = "credits", 1000.0
            live = [d.live.used_milli for d in days]
            test = [d.test.used_milli for d in days]
        else:
            unit, divisor = report.inference.currency, 100.0
            live = [d.live.inference_cents for d in days]
            test = [d.test.inference_cents for d in days]
        if scope == "live":
            test = [0] * len(days)
        elif scope == "test":
            live = [0] * len(days)
        top = nice_ceiling(
            max((a + b for a, b in zip(live, test, strict=True)), default=0) / divisor
        )
        scale = top * divisor
        # What the chart can show: bar heights in whole rows of the plot (plotext draws
        # full blocks). Building the plot costs tens of ms; skip it when nothing shows.
        rows = max(1, self.content_region.height - 4)
        key = (
            scope,
            metric,
            report.period.key,
            report.daily is None,
            source,
            hide_values,
            top,
            rows,
            tuple(round(v * rows / scale) for v in live),
            tuple(round(v * rows / scale) for v in test),
        )
        if key == self._key:
            return
        self._key = key
        self._next = (report, scope, metric, top, unit, divisor, live, test)
        # A burst of keys (c c c c…) asks for many charts; build only the last one.
        if not self._scheduled:
            self._scheduled = True
            self.set_timer(0.05, self._draw)

    def on_resize(self) -> None:
        # The ticks and the bars' rows were worked out for the old height: again.
        if self._shown is not None:
            self.show(*self._shown)

    @property
    def settled(self) -> bool:
        """Drawn, with nothing waiting to be drawn (for tests and screenshots)."""
        return not self._empty and self._next is None

    def _draw(self) -> None:
        self._scheduled = False
        if self._next is None or not self.is_attached:
            return
        report, scope, metric, top, unit, divisor, live, test = self._next
        self._next = None
        days = report.daily_series()
        rows = max(1, self.content_region.height - 4)
        self._empty = False
        if self._source == "history":
            source = " · from recorded polls (the report has no daily figures)"
        elif report.daily is None:
            source = " · the report has no daily figures"
        else:
            source = ""
        what = "credits used" if metric == "credits" else "inference spent"
        who = "live + test" if scope == "total" else scope
        hidden = " · amounts hidden" if self._hidden else ""
        title = f"Daily {what} · {who} · UTC days of {report.period.label}{source}{hidden}"
        if title != self.border_title:  # setting a border title repaints the whole chart
            self.border_title = title
            legend = Text()
            for env, colour in (("live", "cyan"), ("test", "magenta")):
                if scope in ("total", env):
                    legend.append(" ██ ", style=colour).append(env)
            self.border_subtitle = legend

        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        # Numeric x (day of month): plotext aligns bars with ticks only for numbers.
        xs = [d.day.day for d in days]
        series = [[v / divisor for v in live], [v / divisor for v in test]]
        if scope == "total":
            plt.stacked_bar(xs, series, color=["cyan", "magenta"], width=0.6)  # type: ignore[arg-type]
        else:
            values = series[0] if scope == "live" else series[1]
            plt.bar(xs, values, color="cyan" if scope == "live" else "magenta", width=0.6)
        plt.xlim(0.4, len(xs) + 0.6)
        plt.ylim(0, top)
        # As many ticks as the plot has rows for, evenly spaced: five on a tall chart,
        # three or two on a short one (plotext would squeeze five into uneven rows).
        parts = 4 if rows >= 8 else 2 if rows >= 4 else 1
        ticks_y = [top * i / parts for i in range(parts + 1)]
        plt.yticks(ticks_y, ["" if self._hidden else _tick(t) for t in ticks_y])
        plt.ylabel("" if self._hidden else unit)
        ticks: list[float] = [1, *range(5, len(xs) + 1, 5)]
        plt.xticks(ticks, [str(int(t)) for t in ticks])
        self.data_changed()

    def build_lines(self, width: int, height: int) -> list[Text]:
        if self._empty:
            return [Text("waiting for the first report…", style="dim")]
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            return [Text("(too small for the chart)", style="dim")]
        plot = self.plt
        try:
            plot.plotsize(width, height)
            plot._set_size(width, height)  # as textual-plotext does: see its issue #5
            plot.theme(self._get_plotext_theme_name(self.app.theme))
            text = Text.from_ansi(plot.build())
        except Exception as exc:  # plotext is a renderer we do not control: never crash on it
            return [Text(f"chart unavailable: {type(exc).__name__}", style="dim")]
        return list(text.split("\n", allow_blank=True))
