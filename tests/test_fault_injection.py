"""The monitor through one fault after another, and back to healthy each time.

One app, one server we control: it serves the frozen simulator's report, or the fault
it is told to. After every fault the last good figures must still be on screen,
marked stale with the reason in words; after every recovery the figures are live
again and have moved on. The token appears nowhere on screen and reaches no other
origin.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler
from typing import Any

from textual.pilot import Pilot

from tests.conftest import FROZEN_START, settings_for
from tests.servers import Reply, ScriptedServer, json_reply
from tests.test_app import header, shown, until
from tui.app import VectrosUsageApp
from tui.client import SIMULATOR_HEADER, Secret, UsageClient
from tui.pilot import poll_through
from tui.simulator.model import UsageModel, VirtualClock
from tui.widgets.credits import CreditsPanel
from tui.widgets.daily_chart import DailyChart
from tui.widgets.status import NoticeBar

TOKEN = "tok-F4ULT-s3cret"  # made up; looked for everywhere afterwards


class FaultServer:
    """The report of a frozen simulator model, or whatever fault ``mode`` names."""

    def __init__(self) -> None:
        self.clock = VirtualClock(FROZEN_START, speed=0)
        self.model = UsageModel(clock=self.clock)
        self.mode = "ok"
        self.elsewhere = ScriptedServer(lambda h: json_reply(200, b"{}"))
        self.server = ScriptedServer(self.answer)

    def report(self, **changes: Any) -> dict[str, Any]:
        data = self.model.report()
        data.update(changes)
        return data

    def answer(self, handler: BaseHTTPRequestHandler) -> Reply | None:
        mode = self.mode
        # Says it is a simulator: its frozen clock is then not taken for a skewed one.
        simulated = {SIMULATOR_HEADER: "steady frozen"}
        if mode == "ok":
            return json_reply(200, json.dumps(self.report()).encode(), **simulated)
        if mode == "no-daily":  # a report without the optional `daily`
            data = self.report()
            data.pop("daily")
            return json_reply(200, json.dumps(data).encode(), **simulated)
        if mode == "plain":  # the report without the simulator's header
            return json_reply(200, json.dumps(self.report()).encode())
        if mode == "future":  # January's figures, generated in December
            january = {"start": "2027-01-01T00:00:00Z", "end": "2027-02-01T00:00:00Z"}
            future = self.report(period={"year": 2027, "month": 1, **january})
            future.pop("daily", None)  # December's days would already give it away
            return json_reply(200, json.dumps(future).encode(), **simulated)
        if mode == "corrected":  # the server took back 0.8 credits
            data = self.report()
            data["credits"]["usedMilli"] -= 800
            data["credits"]["used"] = data["credits"]["usedMilli"] // 1000
            data["environments"]["live"]["credits"]["usedMilli"] -= 800
            return json_reply(200, json.dumps(data).encode(), **simulated)
        if mode == "500":
            said = "try [bold]later[/] [@click=app.quit]now[/]\x1b[2J\x1b]0;pwned\x07"
            body = {"error": {"code": "internal", "message": said}}
            return json_reply(500, json.dumps(body).encode())
        if mode == "429":
            return json_reply(429, b"{}", **{"Retry-After": "1"})
        if mode == "401":
            return json_reply(401, b'{"error":{"code":"unauthenticated","message":"revoked"}}')
        if mode == "403":
            return json_reply(403, b'{"error":{"code":"insufficient_scope","message":"no"}}')
        if mode == "not-json":
            return 200, {"Content-Type": "text/html"}, b"<html>gateway says hi</html>"
        if mode == "truncated":
            return json_reply(200, json.dumps(self.report()).encode()[:300])
        if mode == "nan":
            text = json.dumps(self.report())
            return json_reply(
                200, text.replace('"usedMilli": ', '"usedMilli": NaN, "x": ', 1).encode()
            )
        if mode == "huge":
            return json_reply(200, b" " * (5 * 1024 * 1024))
        if mode == "redirect":
            return 302, {"Location": self.elsewhere.base_url + "/v1/auth/usage"}, b""
        if mode == "backwards":
            past = self.model.report((2026, 11))
            return json_reply(200, json.dumps(past).encode())
        if mode == "echo-token":
            said = handler.headers.get("Authorization", "")
            body = {"error": {"code": "internal", "message": f"bad header {said}"}}
            return json_reply(502, json.dumps(body).encode())
        if mode == "hostile":
            account = {
                "id": "acct_x",
                "name": "[bold]Evil[/] [@click=app.quit]x[/] \x1b]0;pwned\x07",
            }
            return json_reply(200, json.dumps(self.report(account=account)).encode())
        if mode == "hang":
            self.server.release.wait(20)
            return None
        if mode == "trickle":
            handler.send_response(200)
            handler.send_header("Content-Length", "100000")
            handler.end_headers()
            while not self.server.release.wait(0.05):
                handler.wfile.write(b" ")
                handler.wfile.flush()
            return None
        raise AssertionError(mode)


@contextlib.asynccontextmanager
async def running(faults: FaultServer) -> AsyncIterator[tuple[VectrosUsageApp, Pilot[int]]]:
    """The fault server up and an app polling it every second, first report on screen."""
    with faults.server:
        app = VectrosUsageApp(settings_for(faults.server.base_url, interval=1))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.settled)
            yield app, pilot


def notice(app: VectrosUsageApp) -> str:
    return shown(app, NoticeBar) if app.query_one(NoticeBar).has_class("shown") else ""


async def test_every_fault_in_a_row_then_healthy_again() -> None:
    faults = FaultServer()
    # (mode, what the notice must say, the header's state word)
    steps = [
        # The server's own words, markup and escapes included, shown as plain text.
        ("500", "the server said: try [bold]later[/] [@click=app.quit]now[/]", "stale"),
        ("429", "throttled by the gateway (429) (the server asked for 1 s)", "stale"),
        ("not-json", "the server sent a bad report", "stale"),
        ("truncated", "the server sent a bad report", "stale"),
        ("nan", "the server sent a bad report", "stale"),
        ("huge", "larger than 4 MB", "stale"),
        ("hang", "timed out waiting for data", "stale"),
        ("trickle", "the server is sending too slowly", "stale"),
        ("redirect", "not followed, so the token is only ever sent to the configured", "stale"),
        ("backwards", "a period cannot go backwards", "stale"),
        ("echo-token", "bad header Bearer ‹redacted›", "stale"),
        ("refused", "connection refused by 127.0.0.1", "stale"),
        ("401", "the token was refused (401)", "token refused"),
        ("403", "this is a permission of the token, not an outage", "token refused"),
    ]
    with faults.elsewhere, faults.server:
        settings = settings_for(faults.server.base_url, token=TOKEN, interval=1)
        client = UsageClient(
            faults.server.base_url, Secret(TOKEN), read_timeout=0.5, total_timeout=1.0
        )
        app = VectrosUsageApp(settings, client=client)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.settled)
            assert "2,743.470 credits" in shown(app, CreditsPanel)
            minutes = 0
            for mode, said, state in steps:
                before = shown(app, CreditsPanel)
                if mode == "refused":
                    faults.server.stop_listening()
                else:
                    faults.mode = mode
                await pilot.press("r")
                await until(pilot, lambda said=said: said in notice(app), timeout=15)
                assert state in header(app), (mode, header(app))
                assert "old" in header(app)  # the age of what is still shown
                assert "retrying in" in notice(app) or "retrying now" in notice(app)
                assert shown(app, CreditsPanel) == before, mode  # last good figures kept
                assert "\x1b" not in notice(app) and "\x07" not in notice(app)
                # Healthy again, with the clock moved on: live, new figures, no notice.
                if mode == "refused":
                    faults.server.listen_again()
                faults.server.release.set()  # let a hanging handler go
                faults.server.release.clear()
                faults.mode = "ok"
                minutes += 7
                faults.clock.advance(7 * 60)
                await pilot.press("r")
                await until(pilot, lambda: "● live" in header(app), timeout=15)
                await until(pilot, lambda: notice(app) == "")
                assert shown(app, CreditsPanel) != before, mode
            # Hostile text from the server is shown as typed and does nothing.
            faults.mode = "hostile"
            await pilot.press("r")
            await until(pilot, lambda: "[bold]Evil[/]" in header(app))
            assert "\x1b" not in header(app) and "\x07" not in header(app)
            assert app.is_running
            screen = app.export_screenshot()
        # The whole run: the token was never drawn and never went anywhere else.
        assert TOKEN not in screen
        assert faults.elsewhere.requests == []
        used = faults.model.report()["credits"]["usedMilli"]
        assert used > 2_743_470 and minutes == 7 * len(steps)


async def test_a_bug_while_drawing_is_an_error_state_and_polling_goes_on(
    monkeypatch: Any,
) -> None:
    faults = FaultServer()
    async with running(faults) as (app, pilot):
        original = CreditsPanel.build_rows

        def broken(self: CreditsPanel) -> Any:
            raise ZeroDivisionError("a bug in a panel")

        monkeypatch.setattr(CreditsPanel, "build_rows", broken)
        faults.clock.advance(600)
        await pilot.press("r")
        await until(pilot, lambda: "internal error while drawing" in notice(app))
        assert "ZeroDivisionError('a bug in a panel')" in notice(app)
        assert "polling goes on" in notice(app)
        assert app.is_running
        monkeypatch.setattr(CreditsPanel, "build_rows", original)
        polls = app.polls
        faults.clock.advance(600)
        await pilot.press("r")
        await until(pilot, lambda: app.polls > polls and notice(app) == "")
        assert "credits" in shown(app, CreditsPanel)


async def test_a_report_for_a_month_not_begun_is_refused_and_cannot_wedge_the_monitor() -> None:
    faults = FaultServer()
    async with running(faults) as (app, pilot):
        faults.mode = "future"
        await pilot.press("r")
        await until(pilot, lambda: "before that month began" in notice(app))
        assert "December 2026" in header(app) and "stale" in header(app)
        faults.mode = "ok"
        await pilot.press("r")
        await until(pilot, lambda: "● live" in header(app) and notice(app) == "")


async def test_an_earlier_month_is_believed_after_three_polls_in_a_row() -> None:
    faults = FaultServer()
    async with running(faults) as (app, pilot):
        faults.mode = "backwards"
        await pilot.press("r")
        await until(pilot, lambda: "cannot go backwards" in notice(app))
        assert "December 2026" in header(app)
        # The server insists: then December was the mistake, not November.
        await until(pilot, lambda: "November 2026" in header(app), timeout=15)
        assert "● live" in header(app)


async def test_a_correction_is_said_and_not_counted_as_negative_spend() -> None:
    faults = FaultServer()
    async with running(faults) as (app, pilot):
        faults.mode = "corrected"
        await pilot.press("r")
        await until(pilot, lambda: "a correction, not negative spend" in notice(app))
        assert "lowered this period's credits by 0.800 " in notice(app)
        assert "-" not in shown(app, CreditsPanel).split("rate 5m")[-1].split("\n")[0]


async def test_the_simulator_mark_goes_when_the_server_stops_saying_so() -> None:
    faults = FaultServer()
    with faults.server:
        app = VectrosUsageApp(settings_for(faults.server.base_url, interval=1))
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.settled and "SIMULATOR" in header(app))
            faults.mode = "plain"
            faults.clock.advance(60)
            polls = app.polls
            await pilot.press("r")
            await until(pilot, lambda: app.polls > polls)
            await pilot.pause()
            assert "SIMULATOR" not in header(app)


async def test_without_daily_figures_the_chart_is_built_from_recorded_polls() -> None:
    faults = FaultServer()
    faults.mode = "no-daily"
    async with running(faults) as (app, pilot):
        first = faults.model.report()
        for _ in range(4):
            polls = app.polls
            faults.clock.advance(600)
            await pilot.press("r")
            await until(pilot, lambda polls=polls: app.polls > polls)
        await until(pilot, lambda: app.settled)
        chart = app.query_one(DailyChart)
        assert "from recorded polls (the report has no daily figures)" in str(chart.border_title)
        # Polling began on Dec 3 at 10:30: the 1st to the 3rd are lower bounds, and said.
        assert "partly polled, so at least: 1–3" in str(chart.border_title)
        last = faults.model.report()
        live = [r["environments"]["live"]["credits"]["usedMilli"] for r in (first, last)]
        (today,) = [d for d in app._daily if d.day.day == 3]
        assert today.live.used_milli == live[1] - live[0]  # what the polls saw, exactly


async def test_a_server_clock_that_jumps_back_starts_rates_again_not_stuck() -> None:
    faults = FaultServer()
    async with running(faults) as (app, pilot):
        await poll_through(pilot, faults.clock.advance, polls=6, step=60)
        # The server restarted: its clock and figures went back.
        await poll_through(pilot, faults.clock.advance, polls=1, step=-1800)
        await poll_through(pilot, faults.clock.advance, polls=6, step=60)
        rate = app.query_one(CreditsPanel).figures()["rate 5m"]
        assert rate.endswith("credits/min")  # measured on the new polls, not stuck
        assert app._history is not None
        corrections = [e for e in app._history.events() if e.kind == "correction"]
        assert len({e.at for e in corrections}) == 1  # said once, not on every later poll
