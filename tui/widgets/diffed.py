"""Repaint only the cells that changed.

Textual repaints the whole region of a widget that refreshes. A panel whose last
digits move on every poll would rewrite all its lines to the terminal each second;
over SSH that is most of what the monitor costs. A ``DiffedWidget`` keeps the lines
it last rendered and, when its data changes, marks dirty only the span of each line
that differs, so a poll that moves one figure writes a handful of cells.

It draws through Textual's line API (``render_line``) and keeps one rendered strip
per line, so a poll also *computes* only the lines that changed: through ``render()``
Textual would turn the whole block into strips again whenever any line of it is
dirty (about 1.3 ms a panel, most of a frame).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Generic, Protocol, Self, TypeVar, runtime_checkable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.dom import NoScreen
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

T = TypeVar("T")


@runtime_checkable
class Repainter(Protocol):
    """A screen that takes a widget's repaint at once (the monitor's: see tui.app)."""

    def repaint_widget(self, widget: Widget) -> None: ...


def changed_regions(old: list[Text], new: list[Text]) -> list[Region] | None:
    """Regions (content coordinates) where new differs from old; None: repaint it all."""
    if len(old) != len(new):
        return None
    regions: list[Region] = []
    for y, (before, after) in enumerate(zip(old, new, strict=True)):
        if before is after:  # a line kept as it was
            continue
        a, b = before.plain, after.plain
        same_spans = before.spans == after.spans
        if not same_spans or len(a) != len(b):
            if not same_spans or a != b:
                regions.append(Region(0, y, max(len(a), len(b), 1), 1))
            continue
        if a == b:
            continue
        first = _common_prefix(a, b)
        last = len(a) - _common_prefix(a[::-1], b[::-1])
        regions.append(Region(first, y, last - first, 1))
    return regions


def _common_prefix(a: str, b: str) -> int:
    """How many leading characters a and b share (halving, string compares in C)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


class DiffedWidget(Widget):
    """Subclasses implement ``build_lines(width, height)`` and call ``data_changed()``."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Text] = []
        self._built_for: tuple[int, int] | None = None
        self._strips: dict[int, Strip] = {}
        self._strip_style: Style | None = None
        self._padded: dict[int, tuple[Strip, Strip]] = {}  # y: (line, line with padding)
        self._boxed_frame: tuple[tuple[Region, Size], list[Strip]] | None = None

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
        if regions is None or (
            self.styles.width is not None
            and self.styles.width.is_auto
            and (
                max((line.cell_len for line in new), default=0)
                != max((line.cell_len for line in old), default=0)
            )
        ):
            # More lines, or (in an auto-sized column) a longer one: lay out again.
            self._strips.clear()
            self.refresh(layout=True)
        elif regions:
            for region in regions:
                self._strips.pop(region.y, None)
            self.refresh(*regions)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # A new theme or class: every line in its new colours, built again at the next
        # paint (a line's own styles, a label's say, were looked up when it was built).
        self._strips.clear()
        self._built_for = None

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        self._boxed_frame = None  # whatever changed, Textual draws the box again
        if regions and repaint and not layout and not recompose and self._is_mounted:
            target = self._repainter()
            if target is not None:
                # Textual's refresh of regions, told to the screen at once: Textual would
                # post this widget a message to wake its own task, which then posts the
                # screen one; for the few cells a poll changes, those wake-ups cost more
                # than the cells.
                self._layout_cache.clear()
                self._set_dirty(*regions)
                self.clear_cached_dimensions()
                self._rich_style_cache.clear()
                target.repaint_widget(self)
                return self
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _repainter(self) -> Repainter | None:
        try:
            screen = self.screen
        except NoScreen:
            return None
        return screen if isinstance(screen, Repainter) else None

    def render_line(self, y: int) -> Strip:
        return self._kept_line(y, self._current_width())

    def _current_width(self) -> int:
        """The content width, after dropping kept strips a resize or restyle made stale."""
        width, height = size = self._size_key()
        if size != self._built_for:  # a resize, or the first paint
            self._lines = self.build_lines(width, height)
            self._built_for = size
            self._strips.clear()
        style = self.visual_style.rich_style
        if style != self._strip_style:
            self._strips.clear()
            self._strip_style = style
        return width

    def _kept_line(self, y: int, width: int) -> Strip:
        strip = self._strips.get(y)
        if strip is None:
            strip = self._strips[y] = self._render_text_line(y, width)
        return strip

    def render_lines(self, crop: Region) -> list[Strip]:
        """The kept lines as they are, when Textual's box around them is at most
        padding at the sides.

        Textual's styles cache would hand back the same strips, after ~0.1 ms a widget
        of working out what goes around them, on every frame that touches its rows.
        """
        sides = self._side_padding()
        if sides is None:
            # A bordered panel: its own rows seldom change, though each poll's frame
            # takes in its region (its values are inside it). What Textual drew for
            # the same crop is reused until the panel is refreshed.
            key = (crop, self.outer_size)
            if self._boxed_frame is None or self._boxed_frame[0] != key:
                self._boxed_frame = (key, super().render_lines(crop))
            return self._boxed_frame[1]
        width = self._current_width()
        if sides == (0, 0):
            strips = [self._kept_line(y, width) for y in crop.line_range]
        else:
            strips = [self._padded_line(y, width, *sides) for y in crop.line_range]
        if filters := self.get_line_filters():
            background = self.background_colors[1]
            for line_filter in filters:
                strips = [strip.apply_filter(line_filter, background) for strip in strips]
        x1, x2 = crop.column_span
        if (x1, x2) != (0, self.outer_size.width):
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def _side_padding(self) -> tuple[int, int] | None:
        """(left, right) padding when that is all the box has; None: anything more."""
        styles = self.styles
        top, right, bottom, left = styles.padding
        width, height = self.outer_size
        if (
            top
            or bottom
            or self.content_region.size != (width - left - right, height)  # a border
            or any(edge for edge, _ in styles.outline)
            or styles.tint.a
            or self.opacity != 1.0
            or styles.text_opacity != 1.0
            or styles.has_rule("hatch")
        ):
            return None
        return left, right

    def _padded_line(self, y: int, width: int, left: int, right: int) -> Strip:
        strip = self._kept_line(y, width)
        kept = self._padded.get(y)
        if kept is not None and kept[0] is strip:
            return kept[1]
        blank = _blank_style(self._strip_style or self.visual_style.rich_style)
        segments = [Segment(" " * left, blank), *strip, Segment(" " * right, blank)]
        padded = Strip([s for s in segments if s.text], left + strip.cell_length + right)
        self._padded[y] = (strip, padded)
        return padded

    def _render_text_line(self, y: int, width: int) -> Strip:
        style = self._strip_style or self.visual_style.rich_style
        if y >= len(self._lines):
            return Strip.blank(width, style)
        line = self._lines[y]
        cells = line.cell_len
        if cells > width:  # never wrap: cut with an ellipsis
            line = line.copy()
            line.truncate(width, overflow="ellipsis")
            cells = line.cell_len
        # Rich renders one line ~4x faster than Textual's Content path (50 vs 220 us);
        # the widget's colours go under the line's own spans, as render() would put them.
        # (Text.render leaves out the Text's own base style: it goes on top of ours.)
        console = self.app.console
        base = style + console.get_style(line.style) if line.style else style
        segments = _split_blank_runs(Segment.apply_style(line.render(console), base))
        if (pad := width - cells) > 0:
            segments.append(Segment(" " * pad, _blank_style(style)))
        return Strip(segments, max(width, cells))


_BLANK_RUN = re.compile(r"( {2,})")


@lru_cache(maxsize=64)
def _blank_style(style: Style) -> Style:
    """What a blank needs of a style: its background (and what shows on a blank)."""
    if style.reverse or style.underline or style.strike or style.overline:
        return style
    return Style(bgcolor=style.bgcolor)


def _split_blank_runs(segments: Iterable[Segment]) -> list[Segment]:
    """Runs of blanks as segments of their own, with only their background.

    What the terminal shows is the same; an SVG export (screenshots, snapshots) then
    draws the text after a run at its cell instead of after a long run of spaces,
    which some renderers measure short.
    """
    out: list[Segment] = []
    for segment in segments:
        text, style, control = segment
        if control or style is None or "  " not in text:
            out.append(segment)
            continue
        blank = _blank_style(style)
        for part in _BLANK_RUN.split(text):
            if part:
                out.append(Segment(part, blank if not part.strip(" ") else style))
    return out


class TextBlock(DiffedWidget):
    """Lines of text from a builder (given the width), repainted by difference."""

    DEFAULT_CSS = "TextBlock { height: auto; }"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id)
        if classes:
            self.set_classes(classes)
        self.builder: Callable[[int], list[Text]] = lambda width: []

    def build_lines(self, width: int, height: int) -> list[Text]:
        return self.builder(width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.builder(width)))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((line.cell_len for line in self.builder(container.width)), default=1)


# (label, value) or (label, value, shorter forms for a narrow panel, longest first).
Row = (
    tuple[str, Text]
    | tuple[str, Text, Text]
    | tuple[str, Text, Text, Text]
    | tuple[str, Text, Text, Text, Text]
)


def fitted(row: Row, width: int) -> Text:
    """The row's value, or the longest shorter form that is not cut (else the shortest)."""
    forms = row[1:]
    return next((form for form in forms if form.cell_len <= width), forms[-1])


class FigurePanel(DiffedWidget, Generic[T]):
    """A bordered panel: an optional full-width lead line, then label/value rows.

    The panel draws the lead and the labels itself; the values are one child widget
    laid over the column after the labels. Terminal writes start at a widget's edge,
    so a changing figure is written from the start of its value, not from the
    panel's border, and two widgets a panel cost less than a widget per part did.
    """

    DEFAULT_CSS = """
    FigurePanel { height: auto; padding: 0 1; }
    FigurePanel > .values { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data: T | None = None
        self.waiting = "waiting for the first report…"  # what shows before any data
        self._rows_cache: list[Row] | None = None
        self._values = TextBlock(classes="values")
        self._values.builder = lambda width: [fitted(row, width) for row in self.rows()]
        self._values.styles.margin = (0, 0, 0, 1)  # no lead yet, no labels: one blank
        self._values_margin = (0, 1)
        self._has_lead = False  # as last built

    def compose(self) -> ComposeResult:
        yield self._values

    def build_lines(self, width: int, height: int) -> list[Text]:
        lead = self.lead(width)
        self._has_lead = lead is not None
        label_style = self.label_style
        labels = [Text(row[0], style=label_style) for row in self.rows()]
        return labels if lead is None else [lead, *labels]

    def _changed(self) -> None:
        self.data_changed()
        # The values start after the longest label and a blank, below the lead.
        top = int(self._has_lead)
        left = max((cell_len(row[0]) for row in self.rows()), default=0) + 1
        if (top, left) != self._values_margin:
            self._values_margin = (top, left)
            self._values.styles.margin = (top, 0, 0, left)
        self._values.data_changed()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rows_cache = None  # the rows carry styles of their own too
        self._values._built_for = None

    def show_waiting(self, text: str) -> None:
        """Before the first report: say why there are no figures yet."""
        if self.data is None and text != self.waiting:
            self.waiting = text
            self._rows_cache = None
            self._changed()

    def show(self, data: T) -> None:
        if data == self.data:
            return
        self.data = data
        self.redraw()

    def redraw(self) -> None:
        """Build the rows again for the same data (a setting they follow changed)."""
        self._rows_cache = None
        self.on_data()
        self.retitle()
        self._changed()

    @property
    def label_style(self) -> Style:
        return Style()

    def on_data(self) -> None:
        """What follows the data besides the rows."""

    def titles(self) -> list[str]:
        """The border title, longest first: the first that fits the panel is shown."""
        return []

    def retitle(self) -> None:
        options = self.titles()
        if not options:
            return
        room = self.size.width - 6  # the corners, and a space each side
        title = next((t for t in options if len(t) <= room), options[-1])
        if title != self.border_title:  # setting it repaints the whole panel
            self.border_title = title

    def on_resize(self) -> None:
        self.retitle()

    def lead(self, width: int) -> Text | None:
        return None

    def rows(self) -> list[Row]:
        cached = self._rows_cache
        if cached is None:
            cached = self._rows_cache = self.build_rows()
        return cached

    def figures(self) -> dict[str, str]:
        """Each row's full value by label (for tests and the curious)."""
        return {row[0]: row[1].plain for row in self.rows()}

    def build_rows(self) -> list[Row]:
        raise NotImplementedError
