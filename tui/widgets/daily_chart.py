"""Daily consumption across the period: one bar per UTC day, live and test stacked.

plotext builds the whole chart as text on every render, which is the costly part
of a frame, so the chart only refreshes when what it shows changes: the series,
quantised to a fraction of the axis, not every poll's last milli-credit.
"""

from __future__ import annotations

from rich.text import Text
from textual_plotext import PlotextPlot

from tui.widgets.chart_plan import Plan, tick_label
from tui.widgets.diffed import DiffedWidget

MIN_WIDTH, MIN_HEIGHT = 24, 7


class DailyChart(DiffedWidget, PlotextPlot):
    """The chart: the month by UTC day (default), or the last hour by minute."""

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
        self._hidden = False  # money hidden: bars keep their shape, the axis loses its figures
        self._shown: tuple[Plan, bool] | None = None
        self._empty = True
        self._scheduled = False
        self._next: Plan | None = None

    def show(self, plan: Plan, hide_values: bool = False) -> None:
        self._shown = (plan, hide_values)
        # What the chart can show: bar heights in whole rows of the plot (plotext draws
        # full blocks). Building the plot costs tens of ms; skip it when nothing shows.
        rows = max(1, self.content_region.height - 4)
        scale = plan.top or 1.0
        key = (
            plan.title,
            plan.legend,
            plan.xticks,
            hide_values,
            plan.top,
            rows,
            tuple(tuple(round(v * rows / scale) for v in values) for values, _ in plan.stacks),
        )
        if key == self._key:
            return
        self._key = key
        self._hidden = hide_values
        self._next = plan
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
        plan, self._next = self._next, None
        rows = max(1, self.content_region.height - 4)
        self._empty = False
        title = plan.title + (" · amounts hidden" if self._hidden else "")
        if title != self.border_title:  # setting a border title repaints the whole chart
            self.border_title = title
            legend = Text()
            for colour, name in plan.legend:
                legend.append(" ██ ", style=colour).append(name)
            self.border_subtitle = legend

        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        xs = list(plan.xs)
        if len(plan.stacks) > 1:
            plt.stacked_bar(
                xs,
                [list(values) for values, _ in plan.stacks],
                color=[colour for _, colour in plan.stacks],  # type: ignore[arg-type]
                width=0.6,
            )
        else:
            values, colour = plan.stacks[0]
            plt.bar(xs, list(values), color=colour, width=0.6)
        plt.xlim(xs[0] - 0.6 if xs else 0, xs[-1] + 0.6 if xs else 1)
        plt.ylim(0, plan.top)
        # As many ticks as the plot has rows for, evenly spaced: five on a tall chart,
        # three or two on a short one (plotext would squeeze five into uneven rows).
        parts = 4 if rows >= 8 else 2 if rows >= 4 else 1
        ticks_y = [plan.top * i / parts for i in range(parts + 1)]
        plt.yticks(ticks_y, ["" if self._hidden else tick_label(t) for t in ticks_y])
        plt.ylabel("" if self._hidden else plan.unit)
        plt.xticks([x for x, _ in plan.xticks], [label for _, label in plan.xticks])
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
