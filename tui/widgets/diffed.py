"""Repaint only the cells that changed.

Textual repaints the whole region of a widget that refreshes. A panel whose last
digits move on every poll would rewrite all its lines to the terminal each second;
over SSH that is most of what the monitor costs. A ``DiffedWidget`` keeps the lines
it last rendered and, when its data changes, marks dirty only the span of each line
that differs, so a poll that moves one figure writes a handful of cells.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from rich.text import Text
from textual.geometry import Region, Size
from textual.widget import Widget

T = TypeVar("T")


def changed_regions(old: list[Text], new: list[Text]) -> list[Region] | None:
    """Regions (content coordinates) where new differs from old; None: repaint it all."""
    if len(old) != len(new):
        return None
    regions: list[Region] = []
    for y, (before, after) in enumerate(zip(old, new, strict=True)):
        a, b = before.plain, after.plain
        if before.spans != after.spans or len(a) != len(b):
            if a != b or before.spans != after.spans:
                regions.append(Region(0, y, max(len(a), len(b), 1), 1))
            continue
        if a == b:
            continue
        first = next(i for i in range(len(a)) if a[i] != b[i])
        last = next(i for i in range(len(a) - 1, -1, -1) if a[i] != b[i])
        regions.append(Region(first, y, last - first + 1, 1))
    return regions


class DiffedWidget(Widget):
    """Subclasses implement ``build_lines(width, height)`` and call ``data_changed()``."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Text] = []
        self._built_for: tuple[int, int] | None = None

    def build_lines(self, width: int, height: int) -> list[Text]:
        raise NotImplementedError

    def _size_key(self) -> tuple[int, int]:
        region = self.content_region
        return (region.width, region.height)

    def data_changed(self) -> None:
        size = self._size_key()
        new = self.build_lines(*size)
        old, self._lines, self._built_for = self._lines, new, size
        regions = changed_regions(old, new)
        if regions is None:
            self.refresh(layout=True)
        elif regions:
            self.refresh(*regions)

    def render(self) -> Text:
        size = self._size_key()
        if size != self._built_for:  # a resize, or the first paint
            self._lines = self.build_lines(*size)
            self._built_for = size
        return Text("\n").join(self._lines)


class TextPanel(DiffedWidget, Generic[T]):
    """A panel drawn as lines of text from one piece of data, repainted by difference."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data: T | None = None

    def show(self, data: T) -> None:
        if data != self.data:
            self.data = data
            self.on_data()
            self.data_changed()

    def on_data(self) -> None:
        """What follows the data besides the lines (a border title, say)."""

    def text(self, width: int) -> Text:
        raise NotImplementedError

    def build_lines(self, width: int, height: int) -> list[Text]:
        return list(self.text(width).split("\n", allow_blank=True))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.build_lines(width, 0))
