"""The header line (account, period, freshness) and the notice line below it."""

from __future__ import annotations

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
        self._title_parts = ["Vectros usage"]
        self._badge = Badge(id="freshness")

    def compose(self) -> ComposeResult:
        yield self._badge

    def build_lines(self, width: int, height: int) -> list[Text]:
        demo = f" {self._demo} " if self._demo else ""
        # The badge (and its blanks) at the right, the demo mark before it, the title first.
        end = max(0, width - self._badge.text_width - 2 - cell_len(demo))
        title = _fitted_title(self._title_parts, end - 2).plain
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
        parts = ["Vectros usage"]
        if report is not None:
            # The period first: when the line is short of room, the name gives way.
            parts = [f"{report.period.label} UTC" + (" · CLOSED" if closed else "")]
            # Plain text: the account name is a person's free text, never markup.
            if name := safe_text(report.account.name, limit=40):
                parts.append(name)
        if parts != self._title_parts:  # once per period, not once per poll
            self._title_parts = parts
            self.data_changed()

    def show_freshness(self, freshness: Freshness) -> None:
        badge = self._badge
        if badge.show(freshness.badge):
            self.data_changed()  # the badge's width changed: so did the title's room
        if not badge.has_class(freshness.state):
            badge.set_classes(freshness.state)


def _fitted_title(parts: list[str], room: int) -> Text:
    """The parts joined with " · ", words left off the end while it is too long (the
    name gives way to the period); the first part is only cut when it alone is."""
    full = " · ".join(parts)
    if cell_len(full) <= room:
        return Text(full)
    words = full.split(" ")
    keep = len(parts[0].split(" "))
    while len(words) > keep and cell_len(" ".join(words)) > room:
        words.pop()
    fitted = Text(" ".join(words).rstrip(" ·"))
    fitted.truncate(max(0, room), overflow="ellipsis")
    return fitted


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
