"""The keys line at the foot of the screen: what Textual's Footer shows, in one widget.

Textual's Footer is a scrolling container of one widget per key, recomposed from
the screen's active bindings (each key looked up by its Unicode name, which loads
the unicodedata tables). The monitor's keys never change, so this draws them as
one line of text: the same words in the same theme colours, ~1.5 MB and a dozen
widgets fewer on a screen meant to be left open.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.reactive import reactive
from textual.widget import Widget


class _Entry(NamedTuple):
    """One item of the line: a key and its words, or a group's keys and its words."""

    keys: tuple[tuple[str, str], ...]  # (key, as shown)
    description: str


def entries(bindings: list[Binding]) -> list[_Entry]:
    """The shown bindings in order; consecutive keys of one group share its words."""
    out: list[_Entry] = []
    group_of: list[Binding.Group | None] = []
    for binding in bindings:
        if not binding.show:
            continue
        shown = binding.key_display or binding.key
        if binding.group is not None and group_of and group_of[-1] is binding.group:
            last = out[-1]
            out[-1] = _Entry((*last.keys, (binding.key, shown)), last.description)
            continue
        words = binding.group.description if binding.group is not None else binding.description
        out.append(_Entry(((binding.key, shown),), words))
        group_of.append(binding.group)
    return out


class KeyBar(Widget):
    """The app's keys, docked at the bottom; click one to press it."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-bar--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
    }
    """

    compact = reactive(False)  # under 80 columns: no padding around the keys

    def __init__(self, bindings: list[Binding], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._entries = entries(bindings)
        self._spans: list[tuple[int, int, str]] = []  # (start, end, key) on the line

    def render(self) -> Text:
        # Laid out as Textual's Footer lays out its key widgets (their padding and
        # margins), so the line reads and lines up the same.
        key_style = self.get_component_rich_style("key-bar--key")
        words_style = self.get_component_rich_style("key-bar--description")
        line = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, str]] = []
        compact = self.compact

        def key(name: str, text: str) -> None:
            spans.append((line.cell_len, line.cell_len + len(text), name))
            line.append(text, key_style)

        for entry in self._entries:
            if len(entry.keys) > 1:  # a group: its keys a space apart, then its words
                for name, shown in entry.keys:
                    line.append(" ")
                    key(name, shown)
                line.append(" ")
                line.append(entry.description, words_style)
                line.append(" ")
            else:
                ((name, shown),) = entry.keys
                key(name, shown if compact else f" {shown} ")
                line.append(
                    f" {entry.description}" if compact else f"{entry.description} ", words_style
                )
                if compact:
                    line.append(" ")
        self._spans = spans
        return line

    def watch_compact(self) -> None:
        self.refresh()

    def key_at(self, x: int) -> str | None:
        """The key under column x: a key, or the words after it up to the next key."""
        found = None
        for start, _end, name in self._spans:
            if start > x:
                break
            found = name
        return found

    def on_click(self, event: events.Click) -> None:
        key_name = self.key_at(event.x)
        if key_name is not None:
            event.stop()
            self.app.simulate_key(key_name)
