"""The header line (account, period, freshness) and the notice line below it."""

from __future__ import annotations

import calendar

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Static

from tui.format import safe_text
from tui.freshness import Freshness
from tui.report import UsageReport
from tui.widgets.diffed import DiffedWidget

UNTITLED = "Vectros usage"  # the header's title before the first report


class StatusHeader(DiffedWidget):
    """The account, the period and a DEMO mark, drawn by the header itself; the
    freshness is a child docked at the right, so its change every second is written
    from its own column, not from the start of the line."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
    }
    StatusHeader > .status--title { text-style: bold; }
    StatusHeader > .status--demo {
        background: $warning-muted;
        color: $text-warning;
        text-style: bold;
    }
    StatusHeader > Badge { dock: right; }
    StatusHeader #freshness.live { color: $text-success; }
    StatusHeader #freshness.stale { color: $text-warning; text-style: bold; }
    StatusHeader #freshness.refused { color: $text-error; text-style: bold; }
    StatusHeader #freshness.error { color: $text-error; text-style: bold; }
    StatusHeader #freshness.connecting { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"status--title", "status--demo"}

    def __init__(self, demo_label: str = "") -> None:
        super().__init__()
        self._demo = demo_label
        # The period's forms, longest first (the month in full, then abbreviated, then
        # without "UTC"; " · CLOSED" on all of them), and the account's name.
        self._periods = [UNTITLED]
        self._account_name = ""
        self._badge = Badge(id="freshness")

    def compose(self) -> ComposeResult:
        yield self._badge

    def build_lines(self, width: int, height: int) -> list[Text]:
        # The badge (and its blanks) at the right, the demo mark before it, the title
        # first. What gives way when the line is short: the account's name (word by
        # word, with "…"), then the demo mark's scenario (DEMO itself stays), then the
        # month's spelling; never the period or CLOSED while a short form fits.
        room = max(0, width - self._badge.text_width - 2)
        demo = f" {self._demo} " if self._demo else ""
        if demo and cell_len(self._periods[-1]) + 2 > room - cell_len(demo):
            demo = f" {self._demo.split(' ')[0]} "
        end = max(0, room - cell_len(demo))
        title = _fitted_title(self._periods, self._account_name, end - 2)
        line = Text(" ").append(title, style=self.get_component_rich_style("status--title"))
        line.append(" " * (end - line.cell_len))
        if demo:
            line.append(demo, style=self.get_component_rich_style("status--demo"))
        return [line]

    def show_simulated(self, label: str | None) -> None:
        """Mark figures from a simulator reached by URL, as --demo marks its own;
        ``None`` takes the mark away (the server stopped saying it is one)."""
        text = "" if label is None else safe_text(label, limit=28)
        if text != self._demo:
            self._demo = text
            self.data_changed()

    def show_report(self, report: UsageReport | None, *, closed: bool = False) -> None:
        periods, name = [UNTITLED], ""
        if report is not None:
            period, mark = report.period, " · CLOSED" if closed else ""
            short = f"{calendar.month_abbr[period.month]} {period.year}"
            periods = [f"{period.label} UTC{mark}", f"{short} UTC{mark}", f"{short}{mark}"]
            # Plain text: the account name is a person's free text, never markup.
            name = safe_text(report.account.name, limit=40) or ""
        if (periods, name) != (self._periods, self._account_name):  # once per period, not per poll
            self._periods, self._account_name = periods, name
            self.data_changed()

    def show_freshness(self, freshness: Freshness) -> None:
        badge = self._badge
        if badge.show(freshness.badge):
            self.data_changed()  # the badge's width changed: so did the title's room
        if not badge.has_class(freshness.state):
            badge.set_classes(freshness.state)


def _fitted_title(periods: list[str], name: str, room: int) -> str:
    """The longest period form with as much of the name as fits (cut at a word, with
    "…"); else the longest period form alone; else the shortest, cut."""
    for period in periods:
        if name and cell_len(full := f"{period} · {name}") <= room:
            return full
        words = name.split(" ")[:-1]
        while words:
            if cell_len(cut := f"{period} · {' '.join(words)}…") <= room:
                return cut
            words.pop()
        if cell_len(period) <= room:
            return period
    shortest = Text(periods[-1])
    shortest.truncate(max(0, room), overflow="ellipsis")
    return shortest.plain


class Badge(Widget):
    """One short line that changes every second: repainted, laid out only on a new width.

    (``Label.update`` asks for a layout of the whole screen each time.)
    """

    DEFAULT_CSS = "Badge { width: auto; height: 1; padding: 0 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text("◌ connecting…")

    @property
    def text_width(self) -> int:
        return self._text.cell_len

    def show(self, text: str) -> bool:
        """Show text; True when its width changed."""
        if text == self._text.plain:
            return False
        resized = cell_len(text) != self._text.cell_len
        self._text = Text(text)
        self.refresh(layout=resized)
        return resized

    def render(self) -> Text:
        return self._text

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self._text.cell_len


class NoticeBar(Static):
    """Says in words what is wrong: a failed poll, figures that do not add up."""

    DEFAULT_CSS = """
    NoticeBar {
        height: auto;
        max-height: 6;
        padding: 0 1;
        display: none;
        background: $warning-muted;
        color: $text;
    }
    NoticeBar.shown { display: block; }
    NoticeBar.error { background: $error-muted; }
    """

    _shown: tuple[tuple[str, ...], bool] | None = None

    def show(self, lines: list[str], *, error: bool) -> None:
        if self._shown == (tuple(lines), error):
            return  # called every second; repaint only on change
        self._shown = (tuple(lines), error)
        text = Text("\n".join(safe_text(line, limit=300) for line in lines))
        self.update(text)
        self.set_class(bool(lines), "shown")
        self.set_class(error, "error")
