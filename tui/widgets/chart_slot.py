"""Where the daily chart goes, filled only once there is data to draw.

plotext is the heaviest import and the chart the costliest paint; neither is
needed for the first figures, so the chart is imported and drawn just after the
first report is on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from textual.containers import Container

from tui.report import Scope, UsageReport

if TYPE_CHECKING:
    from tui.widgets.daily_chart import DailyChart

Metric = Literal["credits", "inference"]
# Where the daily figures come from: the report's `daily`, or the recorded polls.
Source = Literal["report", "history"]


class ChartSlot(Container):
    DEFAULT_CSS = "ChartSlot { height: 1fr; min-height: 6; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._chart: DailyChart | None = None
        self._pending: tuple[UsageReport, Scope, Metric, Source, bool] | None = None

    def show(
        self,
        report: UsageReport,
        scope: Scope,
        metric: Metric,
        source: Source = "report",
        *,
        hide_values: bool = False,
    ) -> None:
        first = self._pending is None and self._chart is None
        self._pending = (report, scope, metric, source, hide_values)
        if self._chart is not None:
            self._chart.show(report, scope, metric, source, hide_values)
        elif first:
            self.call_after_refresh(self._create)

    @property
    def settled(self) -> bool:
        return self._chart is not None and self._chart.settled

    def _create(self) -> None:
        if not self.is_attached or self._chart is not None:
            return  # the app is closing (q right after the first report)
        from tui.widgets.daily_chart import DailyChart

        self._chart = DailyChart(id="chart")
        self.mount(self._chart)
        if self._pending is not None:
            self._chart.show(*self._pending)
