"""The framework floor: the least a Textual app that shows a live figure can cost.

One Label, updated once a second with a changing value, `q` quits. bench/run.py
measures it in the same pty, at the same size, as the monitor, so that the
monitor's figures can be read against what Textual itself costs.
"""

from __future__ import annotations

import time

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Label

READY_MARKER = "floor tick"  # bench/run.py waits for this text (plus a number)


class FloorApp(App[None]):
    BINDINGS = [Binding("q", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self._ticks = 0

    def compose(self) -> ComposeResult:
        yield Label(self._text(), id="value")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def _text(self) -> str:
        return f"{READY_MARKER} {self._ticks} · {time.strftime('%H:%M:%S')}"

    def _tick(self) -> None:
        self._ticks += 1
        self.query_one("#value", Label).update(self._text())


def main() -> None:
    FloorApp().run()


if __name__ == "__main__":
    main()
