"""`?`: the keys, and what each state word on screen means."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui import format as fmt
from tui.thresholds import Thresholds

KEYS = (
    ("1 2 3", "Total, Live and Test tabs (← → too)"),
    ("r", "poll now"),
    ("c", "the chart: credits or inference spend"),
    ("t", "the chart: the month by UTC day, or the last hour by minute"),
    ("[ ]", "an earlier or later month (closed periods are fetched once)"),
    ("m", "set a named mark: spend is counted from it on every tab"),
    ("M", "list the marks; x there, twice, clears them"),
    ("h", "hide money (balances and amounts) for screen-sharing; again shows it"),
    ("ctrl+p", "command palette: every action by name, and the theme"),
    ("?", "this help"),
    ("q  ctrl+c", "quit"),
)

STATES = (
    ("● live", "the last poll succeeded; its age follows"),
    ("▲ stale", "polls are failing: the figures shown are the last good ones, with their age"),
    ("✖ token refused", "the token lacks billing:r or is wrong: a permission, not an outage"),
    ("ok ▲ WARN ✖ CRITICAL", "a level of the allowance used, the balance left or a runway"),
    ("▲ / ✖ runs out", "the allowance runs out before the reset, or the balance soon"),
    ("CLOSED", "a past month, fetched once and not polled"),
    ("DEMO / SIMULATOR", "figures from the built-in simulator, never real ones"),
)


def _money(cents: int | None) -> str:
    return "off" if cents is None else fmt.money(cents)


def _minutes(minutes: int | None) -> str:
    if minutes is None:
        return "off"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def levels_text(t: Thresholds, *, hide_money: bool = False) -> list[tuple[str, str]]:
    def pct(value: int | None) -> str:
        return "off" if value is None else f"{value} %"

    alerts = [w for w, on in (("toast", True), ("bell", t.bell), ("notification", t.notify)) if on]
    return [
        (
            "allowance used",
            f"WARN at {pct(t.credits_warn_percent)}, CRITICAL at {pct(t.credits_critical_percent)}",
        ),
        (
            "balance left",
            "levels hidden with the money (h shows them)"
            if hide_money
            else f"WARN at {_money(t.balance_warn_cents)}, "
            f"CRITICAL at {_money(t.balance_critical_cents)}",
        ),
        (
            "runway",
            f"WARN within {_minutes(t.runway_warn_minutes)}, "
            f"CRITICAL within {_minutes(t.runway_critical_minutes)}",
        ),
        ("on a crossing", f"{', '.join(alerts)}; once per {t.cooldown_seconds} s a level"),
    ]


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%; height: auto; max-height: 100%; padding: 0 1;
        border: round $accent; background: $surface;
    }
    HelpScreen .heading { text-style: bold; color: $text-accent; margin-top: 1; }
    """
    BINDINGS = [
        Binding("question_mark", "close", "Close", key_display="?"),
        Binding("q", "close", "Close", show=False),
        Binding("enter", "close", "Close", show=False),
        Binding("escape", "close", "Close", show=False),
    ]

    def __init__(
        self, thresholds: Thresholds, *, hide_money: bool = False, profile: str | None = None
    ) -> None:
        super().__init__()
        self._profile = profile
        self._thresholds = thresholds
        self._hide_money = hide_money

    def compose(self) -> ComposeResult:
        def table(rows: tuple[tuple[str, str], ...] | list[tuple[str, str]], width: int) -> Table:
            grid = Table.grid(padding=(0, 1))
            grid.add_column(width=width, style="bold", no_wrap=True)
            grid.add_column(ratio=1)  # wraps under itself, not under the key
            for key, words in rows:
                grid.add_row(Text(key), Text(words))
            return grid

        with VerticalScroll():
            yield Static("Keys", classes="heading")
            yield Static(table(KEYS, 10))
            yield Static("What the words mean", classes="heading")
            yield Static(table(STATES, 21))
            source = (
                f"from profile {self._profile}"
                if self._profile
                else "defaults; a profile sets its own"
            )
            yield Static(f"Levels in effect ({source})", classes="heading")
            yield Static(table(levels_text(self._thresholds, hide_money=self._hide_money), 15))
            yield Static(Text("? q or Enter closes", style="dim"), classes="heading")

    def action_close(self) -> None:
        self.dismiss(None)
