"""The monitor driven by Pilot, against the simulator over real loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from textual import events
from textual.geometry import Offset, Region
from textual.pilot import Pilot
from textual.widget import Widget

from tests.conftest import EXAMPLES, FROZEN_START, settings_for
from tests.servers import Reply, ScriptedServer, json_reply
from tui.app import MonitorScreen, VectrosUsageApp
from tui.simulator import Simulator
from tui.widgets.credits import CreditsPanel
from tui.widgets.daily_chart import DailyChart
from tui.widgets.inference import InferencePanel
from tui.widgets.status import NoticeBar, StatusHeader


async def until(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 10) -> None:
    """Let the app run until condition holds (a liveness bound, not a speed check)."""
    async with asyncio.timeout(timeout):
        while not condition():
            await pilot.pause(0.02)


def shown(app: VectrosUsageApp, widget: type) -> str:
    """The text a widget and everything inside it draws (borders and titles too)."""
    root = app.query_one(widget)
    return "\n".join(_drawn(w) for w in [root, *root.query("*")] if w.display)


def _drawn(widget: Widget) -> str:
    width, height = widget.outer_size
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, width, height)))


def header(app: VectrosUsageApp) -> str:
    return shown(app, StatusHeader)


def notice_text(app: VectrosUsageApp) -> str:
    """The notice line as drawn. It comes out of hiding with the header's change, but
    has its rows only once the screen is laid out again (the same frame on screen; a
    test reading the widgets in between sees it empty): wait for it, do not assert."""
    return shown(app, NoticeBar)


async def test_first_poll_fills_every_panel(simulator: Simulator) -> None:
    expected = simulator.model.report()
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.settled)
        credits = shown(app, CreditsPanel)
        assert "2,743.470 credits" in credits  # the exact figure, to the milli-credit
        assert "50,000.000 allowance" in credits
        assert "5.4 %" in credits and "ok" in credits
        inference = shown(app, InferencePanel)
        balance = expected["inference"]["balanceCents"]
        assert f"${balance // 100}.{balance % 100:02d}" in inference
        assert "Demo Org (simulated)" in header(app)
        assert "December 2026" in header(app)
        assert "● live" in header(app)
        assert app.query_one(DailyChart).border_title.startswith("Daily credits used")


async def test_the_first_frame_needs_no_restyle(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The monitor's screen skips Textual's restyle of every widget on its first resume,
    # the one that draws the first frame (MonitorScreen._on_screen_resume). That holds
    # only if every widget's styles are already what the stylesheet gives it then.
    stale: list[str] = []
    skip_restyle = MonitorScreen._on_screen_resume

    def check_then_skip(screen: MonitorScreen, event: events.ScreenResume) -> None:
        if not screen._resumed:
            nodes = list(screen.walk_children(with_self=True))
            registered = [node.styles.base.css_lines for node in nodes]
            screen.app.stylesheet.update(screen)  # every rule applied afresh
            fresh = [node.styles.base.css_lines for node in nodes]
            stale.extend(
                f"{node!r}: {a} != {b}"
                for node, a, b in zip(nodes, registered, fresh, strict=True)
                if a != b
            )
        skip_restyle(screen, event)

    monkeypatch.setattr(MonitorScreen, "_on_screen_resume", check_then_skip)
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.settled)
        assert app.screen._resumed  # type: ignore[attr-defined]
    assert stale == []


async def test_a_screenshot_without_a_downloads_folder_lands_in_the_current_one(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_downloads_path", lambda: tmp_path / "Downloads")
    monkeypatch.chdir(tmp_path)
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.settled)
        said = lambda: [n.message for n in app._notifications if n.title == "Screenshot"]  # noqa: E731
        app.deliver_screenshot()  # what the palette's "Screenshot" does
        # (Said once the file is written whole: a thread writes it.)
        await until(pilot, lambda: any("Saved screenshot" in m for m in said()))
        assert "credits" in next(tmp_path.glob("*.svg")).read_text()
        # And when it cannot be saved, the reason is said.
        app.deliver_screenshot(path=str(tmp_path / "gone"))
        await until(pilot, lambda: any("Could not save" in m for m in said()))
        assert any("No such file or directory" in m and "gone" in m for m in said()), said()


async def test_tabs_switch_with_keys_and_show_each_environment(simulator: Simulator) -> None:
    live = simulator.model.report()["environments"]["live"]["credits"]["usedMilli"]
    test = simulator.model.report()["environments"]["test"]["credits"]["usedMilli"]
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        await pilot.press("2")
        assert app.scope == "live"
        assert f"{live // 1000:,}.{live % 1000:03d} credits" in shown(app, CreditsPanel)
        await until(pilot, lambda: app.settled)
        assert "live" in app.query_one(DailyChart).border_title
        await pilot.press("3")
        assert app.scope == "test"
        assert f"{test // 1000:,}.{test % 1000:03d} credits" in shown(app, CreditsPanel)
        await pilot.press("1")
        assert app.scope == "total"
        assert "2,743.470 credits" in shown(app, CreditsPanel)


async def test_tabs_switch_with_a_click_and_with_the_arrow_keys(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        await pilot.click("#scopes", offset=Offset(20, 0))  # " 3 Test "
        await pilot.pause()
        assert app.scope == "test"
        await pilot.press("left")  # the tabs have the focus: the one before
        await pilot.pause()
        assert app.scope == "live"
        assert "live" in app.query_one(CreditsPanel).border_title


async def test_r_refreshes_and_the_panels_follow_the_simulator_clock(
    simulator: Simulator,
) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url, interval=60))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        before = shown(app, CreditsPanel)
        simulator.clock.advance(3 * 3600)
        await pilot.press("r")
        await until(pilot, lambda: app.polls >= 2)
        await pilot.pause()
        after = shown(app, CreditsPanel)
        assert before != after
        assert "2,743.470" not in after
        assert app.report is not None and app.report.credits.used_milli > 2_743_470


async def test_c_switches_the_chart_to_inference(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        await pilot.press("c")
        await until(pilot, lambda: app.settled)
        assert app.query_one(DailyChart).border_title.startswith("Daily inference spent")


async def test_q_quits_cleanly(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test() as pilot:
        await until(pilot, lambda: app.polls >= 1)
        await pilot.press("q")
    assert app.return_code == 0


async def test_while_a_request_hangs_the_figures_age_on_screen(simulator: Simulator) -> None:
    """No answer, no failure yet: only the once-a-second tick can say the figures age."""
    report = json_reply(200, json.dumps(simulator.model.report()).encode())
    answered = 0

    def first_then_hang(handler: BaseHTTPRequestHandler) -> Reply | None:
        nonlocal answered
        if answered:
            server_release.wait(30)
            return None
        answered += 1
        return report

    now = [1000.0]
    with ScriptedServer(first_then_hang) as server:
        server_release = server.release
        app = VectrosUsageApp(settings_for(server.base_url, interval=1), clock=lambda: now[0])
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.polls >= 1)
            assert "just now" in header(app)
            await until(pilot, lambda: len(server.requests) >= 2)  # the next one hangs
            now[0] += 45  # the request's own timeouts run on the real clock: still waiting
            await until(pilot, lambda: "stale · 45 s old" in header(app), timeout=3)
            await until(pilot, lambda: "no answer from the server yet" in notice_text(app))
            assert app.polls == 1
            server_release.set()


async def test_q_quits_even_while_a_request_hangs() -> None:
    def hang(handler: BaseHTTPRequestHandler) -> Reply | None:
        server_release.wait(30)
        return None

    with ScriptedServer(hang) as server:
        server_release = server.release
        app = VectrosUsageApp(settings_for(server.base_url))
        async with asyncio.timeout(8):  # far above a clean exit, far below the read timeout
            async with app.run_test() as pilot:
                await until(pilot, lambda: len(server.requests) >= 1)
                assert app.polls == 0
                await pilot.press("q")
    assert app.return_code == 0


async def test_failed_poll_keeps_the_figures_and_marks_them_stale(
    make_simulator: Callable[..., Simulator],
) -> None:
    sim = make_simulator()
    app = VectrosUsageApp(settings_for(sim.base_url, interval=1))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        sim.stop()
        await until(pilot, lambda: "stale" in header(app))
        assert "2,743.470 credits" in shown(app, CreditsPanel)  # the last good figures stay
        await until(pilot, lambda: "retrying in" in notice_text(app))
        notice = notice_text(app)
        assert "refused" in notice or "cannot connect" in notice
        assert "retrying in" in notice


async def test_r_waits_out_a_pause_the_server_asked_for() -> None:
    def throttled(_: BaseHTTPRequestHandler) -> Reply:
        return json_reply(429, b"{}", **{"Retry-After": "30"})

    with ScriptedServer(throttled) as server:
        app = VectrosUsageApp(settings_for(server.base_url))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app._error is not None)
            asked = len(server.requests)
            for _ in range(5):
                await pilot.press("r")
            await pilot.pause(0.3)
            assert len(server.requests) == asked  # no request before the 30 s are up
            said = [n.message for n in app._notifications if n.title == "Refresh"]
            assert said and "the server asked for a pause" in said[-1].lower()


async def test_refused_token_is_said_in_words(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url, token="demo-records"))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "token refused" in header(app))
        await until(pilot, lambda: "billing:r" in notice_text(app))


async def test_report_that_does_not_add_up_is_flagged_on_screen() -> None:
    data = json.loads((EXAMPLES / "current-period.json").read_text())
    data["credits"]["usedMilli"] = 2_000_000
    body = json.dumps(data).encode()
    with ScriptedServer(lambda h: json_reply(200, body)) as server:
        app = VectrosUsageApp(settings_for(server.base_url))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.polls >= 1)
            await pilot.pause()
            assert "live + test = 2891587 milli-credits" in shown(app, NoticeBar)


async def test_server_text_is_shown_literally_never_as_markup() -> None:
    data = json.loads((EXAMPLES / "current-period.json").read_text())
    data["account"]["name"] = "[bold]Evil[/] [@click=app.quit]x[/] [link=http://x]y[/] \x1b]0;t\x07"
    body = json.dumps(data).encode()
    with ScriptedServer(lambda h: json_reply(200, body)) as server:
        app = VectrosUsageApp(settings_for(server.base_url))
        async with app.run_test(size=(160, 40)) as pilot:
            await until(pilot, lambda: app.polls >= 1)
            await pilot.pause()
            title = header(app)
            assert "[bold]Evil[/] [@click=app.quit]x[/]" in title
            assert "\x1b" not in title and "\x07" not in title
            await pilot.click(StatusHeader)
            assert app.is_running


async def test_a_simulator_reached_by_url_is_marked_as_simulated(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        await pilot.pause()
        assert "SIMULATOR steady frozen" in header(app)


async def test_a_burst_of_keys_draws_the_chart_once(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.settled)
        chart = app.query_one(DailyChart)
        builds = 0
        original = chart.build_lines

        def counting(width: int, height: int) -> list:  # type: ignore[type-arg]
            nonlocal builds
            builds += 1
            return original(width, height)

        chart.build_lines = counting  # type: ignore[method-assign]
        for _ in range(21):  # as a terminal delivers a burst: all at once, no pauses
            app.post_message(events.Key("c", "c"))
        await until(pilot, lambda: app.metric == "inference" and app.settled)
        assert app.metric == "inference"
        assert builds <= 2


async def test_labels_column_grows_with_a_longer_label(simulator: Simulator) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.settled)
        await pilot.press("2")
        await pilot.pause()
        panel = app.query_one(CreditsPanel)
        # The values start after the longest label and a blank, wherever it is.
        assert "acct left" in _drawn(panel)
        values = panel.query_one(".values")
        assert values.region.x == panel.content_region.x + len("acct left") + 1
        assert "acct left" not in _drawn(values)


async def test_hundreds_of_polls_leave_no_descriptor_open(
    make_simulator: Callable[..., Simulator],
) -> None:
    # One client, one kept-alive connection: a leak (a client or a socket per poll)
    # would show here long before it exhausted anything. (RSS: bench/soak.py.)
    sim = make_simulator(speed=600)
    app = VectrosUsageApp(settings_for(sim.base_url, interval=0.01))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.polls >= 20)
        before = len(os.listdir("/proc/self/fd"))
        await until(pilot, lambda: app.polls >= 300, timeout=60)
        # Not more (fewer is other tests garbage-collected meanwhile, in this process).
        assert len(os.listdir("/proc/self/fd")) <= before


async def test_an_answer_landing_while_the_screen_closes_is_dropped(simulator: Simulator) -> None:
    # At quit, widgets go before the poll worker's last message is handled.
    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.settled)
        await app.query_one(StatusHeader).remove()
        await app.query_one(NoticeBar).remove()
        polls = app.polls
        await pilot.press("r")
        await until(pilot, lambda: app.polls > polls)
        await pilot.pause(1.1)  # the freshness timer fires too
        assert app.is_running and app.return_code is None


async def test_the_demo_simulator_answers_from_the_apps_own_loop() -> None:
    # --demo hands the app its simulator unstarted: the app serves it, polls it over
    # loopback HTTP, and closes it on the way out.
    sim = Simulator(port=0, speed=0, start=FROZEN_START)
    app = VectrosUsageApp(settings_for(sim.base_url, interval=1), service=sim)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.settled)
        assert app.query_one(CreditsPanel).figures()["used"].endswith("credits")
        assert "vectros-simulator" not in {t.name for t in threading.enumerate()}
    with pytest.raises(OSError):
        socket.create_connection((sim.host, sim.port), timeout=2).close()


async def test_a_server_clock_that_goes_back_does_not_stop_the_drawing(
    simulator: Simulator,
) -> None:
    # A restarted simulator's clock starts again from now: earlier than the one the
    # monitor had been polling. The figures must follow it, with no drawing error.
    app = VectrosUsageApp(settings_for(simulator.base_url, interval=1))
    async with app.run_test(size=(120, 40)) as pilot:
        for polls in range(1, 5):
            simulator.clock.advance(60)
            await pilot.press("r")
            await until(pilot, lambda polls=polls: app.polls >= polls + 1)
        simulator.clock.advance(-200)
        expected = simulator.model.report()["credits"]["usedMilli"]
        await pilot.press("r")
        await until(pilot, lambda: app.report is not None and app.polls >= 6)
        await pilot.pause()
        assert app._draw_error is None
        assert f"{expected // 1000:,}.{expected % 1000:03d} credits" in shown(app, CreditsPanel)


def test_the_header_title_gives_way_name_first_and_keeps_closed() -> None:
    from tui.widgets.status import _fitted_title

    live = ["December 2026 UTC", "Dec 2026 UTC", "Dec 2026"]
    name = "Demo Org (simulated)"
    assert _fitted_title(live, name, 80) == "December 2026 UTC · Demo Org (simulated)"
    assert _fitted_title(live, name, 30) == "December 2026 UTC · Demo Org…"  # cut: says so
    assert _fitted_title(live, name, 22) == "December 2026 UTC"
    assert _fitted_title(live, name, 13) == "Dec 2026 UTC"
    assert _fitted_title(live, name, 6) == "Dec 2…"
    closed = [f"{p} · CLOSED" for p in ("November 2026 UTC", "Nov 2026 UTC", "Nov 2026")]
    assert _fitted_title(closed, name, 22) == "Nov 2026 UTC · CLOSED"
    assert _fitted_title(closed, name, 18) == "Nov 2026 · CLOSED"


async def test_a_narrow_header_keeps_closed_and_the_mark_and_drops_the_scenario_first(
    simulator: Simulator,
) -> None:
    app = VectrosUsageApp(settings_for(simulator.base_url))  # "SIMULATOR steady frozen"
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: app.polls >= 1)
        await pilot.press("left_square_bracket")
        await until(pilot, lambda: app.viewing is not None and app.settled)
        await pilot.pause()
        line = header(app).splitlines()[0]
        assert "· CLOSED" in line and " SIMULATOR " in line
        assert "steady" not in line  # the scenario gave way, not the period


MEMORY_SCRIPT = """
import asyncio, gc, sys
from tui import memory
memory.SETTLE_AFTER, memory.COLLECT_EVERY = 0.3, 0.3
from tests.conftest import settings_for
from tui.app import MonitorScreen, VectrosUsageApp
from tui.simulator.server import Simulator

async def main(manage):
    sim = Simulator(speed=60)
    sim.start()
    app = VectrosUsageApp(settings_for(sim.base_url, interval=1), manage_memory=manage)
    frozen, full = gc.get_freeze_count(), gc.get_stats()[2]["collections"]
    async with app.run_test(size=(120, 40)) as pilot:
        while app.polls < 1:
            await pilot.pause(0.05)
        await pilot.pause(3.5)
    sim.stop()
    print(gc.get_freeze_count() > frozen, gc.get_stats()[2]["collections"] - full >= 3)

asyncio.run(main(sys.argv[1] == "manage"))
"""


@pytest.mark.parametrize("manage", [True, False])
def test_the_monitor_freezes_what_start_up_left_and_collects_regularly(manage: bool) -> None:
    # In a process of its own: freezing objects in the test process would keep them.
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, "manage" if manage else "leave"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.returncode == 0, out.stderr
    frozen, collected = out.stdout.split()
    assert frozen == str(manage)
    if manage:
        # Due every 0.3 s here, run with the polls (1 s apart): at least 3 in 3.5 s.
        assert collected == "True"
