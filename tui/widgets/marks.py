"""Marks: `m` names a moment ("load test started"); `M` lists them and can clear them."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui import format as fmt


class MarkScreen(ModalScreen[str | None]):
    """Asks for a mark's name; Enter sets it (an empty name is fine), Esc or Ctrl-G not."""

    DEFAULT_CSS = """
    MarkScreen { align: center middle; }
    MarkScreen > Vertical {
        width: 60; height: auto; padding: 1 2;
        border: round $accent; background: $surface;
    }
    MarkScreen Label { margin-bottom: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+g", "cancel", "Cancel", show=False),  # for terminals where Esc lags
    ]

    def __init__(self, default: str) -> None:
        super().__init__()
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Set a mark: spend is counted from now on every tab.")
            yield Input(placeholder=self._default, max_length=80, id="mark-name")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or self._default)

    def action_cancel(self) -> None:
        self.dismiss(None)


HELP = "x clears all marks (it asks first) · Enter, q or Esc closes"


class MarksScreen(ModalScreen[bool]):
    """The marks set for this account; `x` twice clears them all (the first asks).
    Dismisses True on clear."""

    DEFAULT_CSS = """
    MarksScreen { align: center middle; }
    MarksScreen > Vertical {
        width: 70; height: auto; max-height: 80%; padding: 1 2;
        border: round $accent; background: $surface;
    }
    MarksScreen #marks-help { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("x", "clear", "Clear all marks"),
        Binding("n", "keep", "Keep them", show=False),
        Binding("escape", "close", "Close"),
        Binding("q", "close", "Close", show=False),
        Binding("M", "close", "Close", show=False),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, marks: list[tuple[float, str]]) -> None:
        super().__init__()
        self._marks = marks
        self._asked = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Marks")
            if not self._marks:
                yield Static(Text("none yet: m sets one"))
            for at, name in self._marks:
                when = fmt.utc_when(datetime.fromtimestamp(at, UTC))
                # A name is the user's own text; shown literally all the same.
                yield Static(Text(f"⚑ {when}  {fmt.safe_text(name, limit=60)}"))
            yield Static(HELP, id="marks-help")

    def action_clear(self) -> None:
        if not self._marks:
            return
        if self._asked:  # the second x: it was meant
            self.dismiss(True)
            return
        self._asked = True
        count = len(self._marks)
        self.query_one("#marks-help", Static).update(
            Text(f"Clear all {count} mark{'s' if count > 1 else ''}? x again clears · n keeps them")
        )

    def action_keep(self) -> None:
        if self._asked:
            self._asked = False
            self.query_one("#marks-help", Static).update(HELP)

    def action_close(self) -> None:
        self.dismiss(False)
