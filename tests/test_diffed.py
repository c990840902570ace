"""DiffedWidget hands Textual its kept lines directly when its box allows: the lines
must be exactly what Textual's own styles cache would have drawn."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget

from tui.widgets.diffed import TextBlock, changed_regions

LINES = [
    Text.assemble("used     ", ("3,729.788", "bold"), " credits"),
    Text("of       50,000.000 allowance", style="italic"),
    Text.assemble(("▇▆▇█", "bold red"), "  peak 0.639 credits/min"),
]


class BlockApp(App[None]):
    CSS = """
    #bare { height: 3; }
    #sides { height: 3; padding: 0 2 0 1; background: $panel; }
    #boxed { height: 5; border: round $primary; padding: 0 1; }
    #faded { height: 3; text-opacity: 50%; }
    """

    def compose(self) -> ComposeResult:
        for name in ("bare", "sides", "boxed", "faded"):
            block = TextBlock(id=name)
            block.builder = lambda width: LINES
            yield block


@contextlib.asynccontextmanager
async def mounted(name: str) -> AsyncIterator[tuple[BlockApp, Pilot[None], TextBlock, Region]]:
    """The app running, and one block with its whole region."""
    app = BlockApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        block = app.query_one(f"#{name}", TextBlock)
        yield app, pilot, block, Region(0, 0, *block.outer_size)


def change_the_middle_line(block: TextBlock) -> None:
    changed = [LINES[0], Text("of       49,999.000 allowance"), LINES[2]]
    block.builder = lambda width: changed
    block.data_changed()


def cells(strips: list[Strip]) -> list[list[tuple[str, str]]]:
    return [[(s.text, repr(s.style)) for s in strip] for strip in strips]


@pytest.mark.parametrize("name", ["bare", "sides", "boxed", "faded"])
async def test_the_lines_are_what_textuals_styles_cache_draws(name: str) -> None:
    app = BlockApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        block = app.query_one(f"#{name}", TextBlock)
        width, height = block.outer_size
        for crop in (Region(0, 0, width, height), Region(3, 1, width - 10, 2)):
            ours = block.render_lines(crop)
            block._styles_cache.clear()
            theirs = Widget.render_lines(block, crop)
            assert [s.cell_length for s in ours] == [crop.width] * crop.height
            assert cells(ours) == cells(theirs), (name, crop)


async def test_only_a_bare_or_side_padded_box_skips_the_styles_cache() -> None:
    app = BlockApp()
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        padding = {
            name: app.query_one(f"#{name}", TextBlock)._side_padding()
            for name in ("bare", "sides", "boxed", "faded")
        }
        assert padding == {"bare": (0, 0), "sides": (1, 2), "boxed": None, "faded": None}


async def test_a_changed_line_is_drawn_anew_with_its_padding() -> None:
    async with mounted("sides") as (_, _, block, full):
        before = block.render_lines(full)
        change_the_middle_line(block)
        after = block.render_lines(full)
        assert after[0] is before[0] and after[2] is before[2]  # kept, not redrawn
        assert "49,999.000" in after[1].text and after[1].text.startswith(" of")
        assert after[1].cell_length == before[1].cell_length


@settings(max_examples=300)
@given(
    st.lists(st.text(alphabet="0123456789,. ab¢", max_size=12), min_size=1, max_size=4),
    st.data(),
)
def test_changed_regions_cover_exactly_the_cells_that_differ(old: list[str], data: Any) -> None:
    new = [
        data.draw(st.one_of(st.just(line), st.text(alphabet="0123456789,. ab¢", max_size=12)))
        for line in old
    ]
    regions = changed_regions([Text(line) for line in old], [Text(line) for line in new])
    assert regions is not None
    by_line = {region.y: region for region in regions}
    assert len(by_line) == len(regions)  # at most one region a line
    for y, (a, b) in enumerate(zip(old, new, strict=True)):
        if a == b:
            assert y not in by_line
            continue
        region = by_line[y]
        if len(a) != len(b):  # a figure that grew or shrank: the whole line
            assert (region.x, region.width) == (0, max(len(a), len(b), 1))
            continue
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        assert (region.x, region.right - 1) == (differ[0], differ[-1])


def test_changed_regions_repaint_all_when_the_line_count_changes() -> None:
    assert changed_regions([Text("a")], [Text("a"), Text("b")]) is None


async def test_a_boxed_block_is_drawn_again_after_any_change_and_only_then() -> None:
    async with mounted("boxed") as (app, pilot, block, full):
        first = block.render_lines(full)
        assert block.render_lines(full) is first  # nothing changed: what was drawn
        change_the_middle_line(block)
        changed = block.render_lines(full)
        assert "49,999.000" in changed[2].text and "50,000.000" in first[2].text
        block.border_title = "Credits"
        await pilot.pause()
        assert "Credits" in block.render_lines(full)[0].text
        block.add_class("-hover-like")  # a class (and a theme) restyles it
        app.theme = "textual-light"
        await pilot.pause()
        assert cells(block.render_lines(full)) != cells(changed)
