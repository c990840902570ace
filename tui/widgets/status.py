"""The header line (account, period, freshness) and the notice line below it."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Label, Static

from tui.format import safe_text
from tui.freshness import Freshness
from tui.report import UsageReport


class StatusHeader(Horizontal):
    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
    }
    StatusHeader > Label { height: 1; padding: 0 1; }
    StatusHeader > Badge { height: 1; padding: 0 1; }
    StatusHeader #title { width: 1fr; text-style: bold; }
    StatusHeader #demo {
        background: $warning;
        color: $text-warning;
        text-style: bold;
        display: none;
    }
    StatusHeader #demo.on { display: block; background: $warning-muted; }
    StatusHeader #freshness { width: auto; }
    StatusHeader #freshness.live { color: $text-success; }
    StatusHeader #freshness.stale { color: $text-warning; text-style: bold; }
    StatusHeader #freshness.refused { color: $text-error; text-style: bold; }
    StatusHeader #freshness.error { color: $text-error; text-style: bold; }
    StatusHeader #freshness.connecting { color: $text-muted; }
    """

    def __init__(self, demo_label: str = "") -> None:
        super().__init__()
        self._demo_label = demo_label

    def compose(self) -> ComposeResult:
        yield Label(Text("Vectros usage"), id="title", markup=False)
        yield Label(
            self._demo_label, id="demo", classes="on" if self._demo_label else "", markup=False
        )
        yield Badge(id="freshness")

    _title = "Vectros usage"

    def show_simulated(self, label: str | None) -> None:
        """Mark figures from a simulator reached by URL, as --demo marks its own;
        ``None`` takes the mark away (the server stopped saying it is one)."""
        demo = self.query_one("#demo", Label)
        if label is None:
            if demo.has_class("on"):
                demo.remove_class("on")
            return
        text = safe_text(label, limit=28)
        if not demo.has_class("on") or str(demo.render()) != text:
            demo.update(Text(text))
            demo.add_class("on")

    def show_report(self, report: UsageReport | None, *, closed: bool = False) -> None:
        parts = ["Vectros usage"]
        if report is not None:
            # The period first: when the line is short of room, the name gives way.
            parts = [f"{report.period.label} UTC" + (" · CLOSED" if closed else "")]
            if name := safe_text(report.account.name, limit=40):
                parts.append(name)
        title = " · ".join(parts)
        if title != self._title:  # once per period, not once per poll
            self._title = title
            # Plain Text: the account name is a person's free text, never markup.
            self.query_one("#title", Label).update(Text(title))

    def show_freshness(self, freshness: Freshness) -> None:
        # A method, not a reactive: a reactive on this container would repaint the
        # whole header line every second, not just the badge.
        badge = self.query_one(Badge)
        badge.show(freshness.badge)
        if not badge.has_class(freshness.state):
            badge.set_classes(freshness.state)


class Badge(Widget):
    """One short line that changes every second: repainted, laid out only on a new width.

    (``Label.update`` asks for a layout of the whole screen each time.)
    """

    DEFAULT_CSS = "Badge { width: auto; height: 1; padding: 0 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text("◌ connecting…")

    def show(self, text: str) -> None:
        if text == self._text.plain:
            return
        resized = cell_len(text) != self._text.cell_len
        self._text = Text(text)
        self.refresh(layout=resized)

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
