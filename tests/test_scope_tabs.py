"""The tabs widget: keys, clicks and hover, as Textual's Tabs does them."""

from __future__ import annotations

from rich.color import Color
from textual.app import App, ComposeResult
from textual.geometry import Offset
from textual.strip import Strip

from tui.widgets.scope_tabs import ScopeTabs

TABS = [("total", "1 Total"), ("live", "2 Live"), ("test", "3 Test")]


class TabsApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.changes: list[str] = []

    def compose(self) -> ComposeResult:
        yield ScopeTabs(TABS, id="tabs")

    def on_scope_tabs_changed(self, event: ScopeTabs.Changed) -> None:
        self.changes.append(event.scope)


async def test_left_and_right_step_through_the_tabs_and_wrap() -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        tabs = app.query_one(ScopeTabs)
        assert app.focused is tabs and tabs.active == "total"
        await pilot.press("right")
        await pilot.press("right")
        await pilot.press("right")
        await pilot.press("left")
        await pilot.pause()
        assert app.changes == ["live", "test", "total", "test"]
        assert tabs.active == "test"


async def test_a_click_on_a_label_or_under_it_activates_that_tab() -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        tabs = app.query_one(ScopeTabs)
        # " 1 Total " is cells 0-8, " 2 Live " 9-16, " 3 Test " 17-24.
        await pilot.click(ScopeTabs, offset=Offset(20, 0))
        assert tabs.active == "test"
        await pilot.click(ScopeTabs, offset=Offset(12, 1))  # the bar under "2 Live"
        assert tabs.active == "live"
        await pilot.click(ScopeTabs, offset=Offset(60, 0))  # past the last tab: nothing
        assert tabs.active == "live"


async def test_the_bar_is_highlighted_under_the_active_label_only() -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        tabs = app.query_one(ScopeTabs)
        tabs.active = "live"
        await pilot.pause()
        bar = tabs.render_line(1)
        highlight = tabs.get_component_rich_style("scope-tabs--bar").color
        lit = [x for x, cell in enumerate(_cells(bar)) if cell[1] == highlight and cell[0] == "━"]
        assert lit == list(range(10, 16))  # "2 Live" is cells 10-15


async def test_hovering_a_tab_brightens_it_and_leaving_restores_it() -> None:
    app = TabsApp()
    async with app.run_test() as pilot:
        tabs = app.query_one(ScopeTabs)
        plain = _cells(tabs.render_line(0))[19][1]  # the "3" of " 3 Test "
        await pilot.hover(ScopeTabs, offset=Offset(20, 0))
        hovered = _cells(tabs.render_line(0))[19][1]
        assert hovered != plain
        assert hovered == tabs.get_component_rich_style("scope-tabs--hover").color
        await pilot.hover(ScopeTabs, offset=Offset(60, 1))
        assert _cells(tabs.render_line(0))[19][1] == plain


def _cells(strip: Strip) -> list[tuple[str, Color | None]]:
    """(character, foreground colour) for every cell of a strip."""
    return [
        (ch, segment.style.color if segment.style else None)
        for segment in strip
        for ch in segment.text
    ]
