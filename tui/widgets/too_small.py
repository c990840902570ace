"""What shows instead of cut-off figures when the terminal is below the minimum."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

MIN_WIDTH, MIN_HEIGHT = 60, 18  # below either, figures would be cut: say so instead


class TooSmall(Widget):
    DEFAULT_CSS = """
    TooSmall {
        display: none;
        width: 1fr; height: 1fr;
        content-align: center middle;
        color: $text-warning;
        text-style: bold;
    }
    """

    def render(self) -> Text:
        width, height = self.app.size
        return Text(
            f"Terminal too small: {width}×{height}.\n"
            f"vectros-usage needs {MIN_WIDTH}×{MIN_HEIGHT}: make it bigger.\n"
            "Polling goes on. q quits.",
            justify="center",
        )
