"""The keys line: the app's shown keys, grouped as the footer groups them, clickable."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.pilot import Pilot

from tests.conftest import settings_for
from tui.app import VectrosUsageApp
from tui.simulator import Simulator
from tui.widgets.key_bar import KeyBar, entries


async def until(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met")


def test_hidden_keys_are_left_out_and_a_group_shares_its_words() -> None:
    month = Binding.Group("Month")
    shown = entries(
        [
            Binding("r", "refresh", "Refresh"),
            Binding("1", "one", "One", show=False),
            Binding("left_square_bracket", "back", "Earlier", group=month, key_display="["),
            Binding("right_square_bracket", "on", "Later", group=month, key_display="]"),
            Binding("q", "quit", "Quit"),
        ]
    )
    assert [(e.keys, e.description) for e in shown] == [
        ((("r", "r"),), "Refresh"),
        ((("left_square_bracket", "["), ("right_square_bracket", "]")), "Month"),
        ((("q", "q"),), "Quit"),
    ]


def _line(app: VectrosUsageApp) -> str:
    return app.query_one(KeyBar).render().plain


async def test_the_line_reads_as_the_footer_did_and_goes_compact_under_80(
    simulator: Simulator,
) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        assert _line(app) == (" r Refresh  c Chart  [ ] Month  m Mark  h Hide $  ? Help  q Quit ")
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert app.query_one(KeyBar).compact
        assert _line(app) == "r Refresh c Chart  [ ] Month m Mark h Hide $ ? Help q Quit "


async def test_clicking_a_key_or_its_words_presses_it(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        line = _line(app)
        await pilot.click(KeyBar, offset=(line.index("Hide"), 0))  # the words of h
        await pilot.pause()
        assert app.hide_money
        await pilot.click(KeyBar, offset=(line.index(" ] ") + 1, 0))  # ]: later, no-op now
        await pilot.click(KeyBar, offset=(line.index(" ? ") + 1, 0))
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
