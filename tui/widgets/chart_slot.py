"""Where the chart goes, filled only once there is data to draw.

plotext is the heaviest import and the chart the costliest paint; neither is
needed for the first figures, so the chart is imported and drawn just after the
first report is on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.containers import Container

from tui.widgets.chart_plan import Metric, Plan, Source

if TYPE_CHECKING:
    from tui.widgets.daily_chart import DailyChart

__all__ = ["ChartSlot", "Metric", "Source"]


class ChartSlot(Container):
    DEFAULT_CSS = "ChartSlot { height: 1fr; min-height: 6; }"
    BLANK = True  # only background around the chart: no styles cache to ask, a frame

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._chart: DailyChart | None = None
        self._pending: tuple[Plan, bool] | None = None

    def show(self, plan: Plan, *, hide_values: bool = False) -> None:
        first = self._pending is None and self._chart is None
        self._pending = (plan, hide_values)
        if self._chart is not None:
            self._chart.show(plan, hide_values)
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
