"""The Total · Live · Test tabs, and the bar under them, as one widget.

It looks and behaves as Textual's ``Tabs`` (the same colours, focus, hover, click,
left/right), which builds eight widgets for three tabs: every widget costs memory
and start-up, and the tabs sit inside the area the header's freshness repaints
every second, so each of them was composited again on every frame.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.renderables.bar import Bar
from textual.strip import Strip
from textual.widget import Widget


class ScopeTabs(Widget, can_focus=True):
    """Tabs given as (id, label); ``active`` is the id of the one shown."""

    DEFAULT_CSS = """
    ScopeTabs {
        width: 1fr;
        height: 2;
        & > .scope-tabs--tab { color: $foreground 50%; }
        & > .scope-tabs--hover { color: $foreground; }
        & > .scope-tabs--active { color: $foreground; }
        & > .scope-tabs--bar {
            color: $block-cursor-background;
            background: $foreground 10%;
        }
        &:focus {
            & > .scope-tabs--active {
                text-style: $block-cursor-text-style;
                color: $block-cursor-foreground;
                background: $block-cursor-background;
            }
            & > .scope-tabs--bar { background: $foreground 30%; }
        }
        &:ansi {
            & > .scope-tabs--tab { text-style: dim; }
            & > .scope-tabs--active { text-style: not dim bold; }
            & > .scope-tabs--bar { background: $border-blurred; }
        }
    }
    """
    COMPONENT_CLASSES = {
        "scope-tabs--tab",
        "scope-tabs--hover",
        "scope-tabs--active",
        "scope-tabs--bar",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous tab", show=False),
        Binding("right", "step(1)", "Next tab", show=False),
    ]
    ALLOW_SELECT = False

    active: reactive[str] = reactive("", init=False)
    _hover: reactive[int | None] = reactive(None, init=False)

    class Changed(Message):
        """Another tab became active (by key, click or ``active``)."""

        def __init__(self, scope: str) -> None:
            self.scope = scope
            super().__init__()

    def __init__(self, tabs: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tabs = tabs
        self.set_reactive(ScopeTabs.active, tabs[0][0])
        # Each tab's cells: its label with a blank either side, the tabs side by side.
        self._spans: list[tuple[int, int]] = []
        x = 0
        for _, label in tabs:
            width = cell_len(label) + 2
            self._spans.append((x, x + width))
            x += width

    @property
    def ids(self) -> list[str]:
        return [tab_id for tab_id, _ in self._tabs]

    def watch_active(self) -> None:  # (the reactives repaint the widget themselves)
        self.post_message(self.Changed(self.active))

    def action_step(self, step: int) -> None:
        ids = self.ids
        self.active = ids[(ids.index(self.active) + step) % len(ids)]

    def _tab_at(self, x: int) -> int | None:
        return next((i for i, (a, b) in enumerate(self._spans) if a <= x < b), None)

    def on_click(self, event: events.Click) -> None:
        # On a tab's label or on its part of the bar, as Textual's Tabs.
        index = self._tab_at(event.x)
        if index is not None:
            self.active = self._tabs[index][0]

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover = self._tab_at(event.x) if event.y == 0 else None

    def on_leave(self, event: events.Leave) -> None:
        self._hover = None

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self._spans[-1][1] if self._spans else 0

    def render_line(self, y: int) -> Strip:
        # No cache here: Textual's keeps each line until the widget repaints.
        width = self.size.width
        return self._tabs_line(width) if y == 0 else self._bar_line(width)

    def _tabs_line(self, width: int) -> Strip:
        base = self.visual_style.rich_style
        line = Text()
        for index, (tab_id, label) in enumerate(self._tabs):
            part = "active" if tab_id == self.active else "hover" if index == self._hover else "tab"
            line.append(f" {label} ", style=self.get_component_rich_style(f"scope-tabs--{part}"))
        line.truncate(width, pad=True)
        segments = Segment.apply_style(line.render(self.app.console), base)
        return Strip(segments, width)

    def _bar_line(self, width: int) -> Strip:
        bar = self.get_component_rich_style("scope-tabs--bar")
        index = self.ids.index(self.active)
        start, end = self._spans[index]
        renderable = Bar(
            highlight_range=(start + 1, end - 1),  # under the label, not its blanks
            highlight_style=Style.from_color(bar.color),
            background_style=Style.from_color(bar.bgcolor),
        )
        console = self.app.console
        lines = console.render_lines(
            renderable, console.options.update_width(width), style=self.visual_style.rich_style
        )
        return Strip(lines[0], width) if lines else Strip.blank(width)
