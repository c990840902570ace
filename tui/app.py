"""The monitor: polls the usage report in a worker and shows it per environment."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import signal
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.driver import Driver
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget

from tui import format as fmt
from tui import memory
from tui.alerts import notification
from tui.backoff import Backoff
from tui.client import Fetched, UsageClient, UsageError
from tui.config import Settings
from tui.format import duration
from tui.frames import FrameClock
from tui.freshness import describe, next_change
from tui.history import History, HistoryError, default_path
from tui.messages import PastFailed, PastReceived, PollFailed, ReportReceived
from tui.rates import LONG_WINDOW, Sample, SpreadMemo, spend_between, spent, used
from tui.report import (
    SCOPES,
    DailyUsage,
    Scope,
    UsageReport,
    next_month,
    previous_month,
)
from tui.thresholds import AlertGate, Judgement, judge, level_label
from tui.trend import (
    CLOSED,
    NO_TREND,
    SinceMark,
    Trend,
    build_trend,
    daily_from_history,
    partly_polled_days,
    sample_of,
)
from tui.widgets.chart_plan import Metric, Source, Span, hour_plan, month_plan
from tui.widgets.chart_slot import ChartSlot
from tui.widgets.credits import CreditsPanel, runway_words
from tui.widgets.inference import InferencePanel, balance_runway_words
from tui.widgets.intraday import IntradayStrip
from tui.widgets.key_bar import KeyBar
from tui.widgets.scope_tabs import ScopeTabs
from tui.widgets.status import NoticeBar, StatusHeader
from tui.widgets.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmall

log = logging.getLogger("vectros_usage.app")

EXIT_OK = 0
EXIT_SIGNAL = 128  # + the signal number, as shells do
SKEW_TOLERANCE = 15 * 60  # seconds between generatedAt and arrival before we say so
EARLY = timedelta(hours=1)  # clock slack for a report generated just before its month
BACKWARDS_ACCEPTED_AFTER = 3  # polls in a row for an earlier month before we believe it
MONTH = Binding.Group("Month")  # [ and ] share one footer entry
CHART_FROM_HEIGHT = 27  # rows: below, the figures keep the room and the daily chart goes


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class MonitorScreen(Screen[None]):
    """The monitor's screen. BLANK: its own cells are only background, so each frame
    hands Textual blank lines instead of asking its styles cache for 40 of them.
    Its frames come from a ``FrameClock`` (see tui.frames): no wake-up after each."""

    BLANK = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._frames = FrameClock(self._draw_frame, lambda error: self.app._handle_exception(error))
        self._resumed = False

    @property
    def _update_timer(self) -> FrameClock:  # type: ignore[override]
        return self._frames

    def _draw_frame(self) -> None:
        if not self.app._exit:  # as Textual's timer: no frame once the app is closing
            self._on_timer_update()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler. The first resume comes right after the
        # widgets were registered, and registering styled each one with every rule
        # there is: Textual adds a widget class's default CSS before styling it, and
        # that CSS is scoped to the class. Restyling all of them again there was ~6 ms
        # of start-up before the first frame (tests/test_app.py checks nothing stale).
        if not self._resumed:
            self._resumed = True
            event.refresh_styles = False

    def on_unmount(self) -> None:
        self._frames.stop()

    def repaint_widget(self, widget: Widget) -> None:
        """A widget's dirty regions, for the next frame: what Textual's Update message
        would do here, without the widget's own message and wake-up (see
        DiffedWidget.refresh). The frame itself still comes from the screen's idle
        handling, after what is queued for the screen: a layout another widget asked
        for in the same poll (the header's badge growing) is in that frame, not after."""
        if widget.display and self in self._compositor:
            self._dirty_widgets.add(widget)
            self.check_idle()


class Panels(Horizontal):
    """The credits and inference panels side by side (blank between them, see above)."""

    BLANK = True


class Band(Vertical):
    """Rows that seldom change, grouped: a frame that repaints the figures then asks
    Textual for this one blank widget, not for each row in it (a widget is skipped
    when its parent's region is not in the frame)."""

    DEFAULT_CSS = "Band { height: auto; }"
    BLANK = True


class LoopService(Protocol):
    """Something served from the app's own event loop: the demo's simulator."""

    async def start_serving(self) -> None: ...

    async def aclose(self) -> None: ...


class VectrosUsageApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "vectros-usage"
    # The screen gets one class per axis: below the minimum the figures would be cut,
    # so a message shows instead; short of rows, the daily chart goes first.
    HORIZONTAL_BREAKPOINTS = [(0, "-too-narrow"), (MIN_WIDTH, "-fits")]
    VERTICAL_BREAKPOINTS = [(0, "-too-short"), (MIN_HEIGHT, "-short"), (CHART_FROM_HEIGHT, "-tall")]

    BINDINGS = [
        # The tabs say 1 2 3 themselves: the footer keeps its room for the rest.
        Binding("1", "scope('total')", "Total", show=False),
        Binding("2", "scope('live')", "Live", show=False),
        Binding("3", "scope('test')", "Test", show=False),
        Binding("r", "refresh_now", "Refresh"),
        Binding("c", "toggle_chart", "Chart"),
        Binding("t", "toggle_span", "Span", show=False),  # in ? and the palette: room
        # key_display spelled out: Textual would look "[" up by its Unicode name, and
        # the names table (the unicodedata module's) costs the process ~0.7 MB.
        Binding("left_square_bracket", "period(-1)", "Earlier", group=MONTH, key_display="["),
        Binding("right_square_bracket", "period(1)", "Later", group=MONTH, key_display="]"),
        Binding("m", "mark", "Mark"),
        Binding("M", "marks", "Marks", show=False),
        Binding("h", "toggle_money", "Hide $"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        # A monitor left in a tmux pane should stop on Ctrl-C like any other.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    scope: reactive[Scope] = reactive("total")
    metric: reactive[Metric] = reactive("credits")
    span: reactive[Span] = reactive("month")  # the chart: the month by day, or the hour
    hide_money: reactive[bool] = reactive(False, init=False)

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        client: UsageClient | None = None,
        service: LoopService | None = None,
        manage_memory: bool = False,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._service = service
        # The process's own run (not tests, which share one process): see tui.memory.
        self._manage_memory = manage_memory
        self._collect_at: float | None = None  # the next full collection, once settled
        if settings.theme:
            self.theme = settings.theme
        self.set_reactive(VectrosUsageApp.hide_money, settings.hide_money)
        self._alerts = AlertGate(settings.thresholds.cooldown_seconds)
        self._clock = clock
        self._tick_timer: asyncio.TimerHandle | None = None  # when it is next shown
        self._client = client
        self.report: UsageReport | None = None
        self.polls = 0  # successful polls, for tests and the curious
        self._received_wall: datetime | None = None
        self._last_success: float | None = None
        self._error: UsageError | None = None
        self._retry_at: float | None = None
        self._refresh_asked = False  # `r` since the poll in flight began
        self._pause: asyncio.Future[None] | None = None  # the wait for the next poll
        self._simulated: str | None = None
        self._draw_error: str | None = None
        self._backwards = 0  # polls in a row that answered for an earlier month
        self._daily: tuple[DailyUsage, ...] = ()  # from history, when reports have none
        self._daily_key: object = None
        self._partial: tuple[int, ...] = ()  # days the recorded polls do not cover
        self._history: History | None = None
        self._history_key: tuple[str, str] | None = None
        self._history_problem: str | None = None
        self._limits: tuple[int | None, str] | None = None  # as last given to the store
        self._trend: Trend = NO_TREND
        self._spreads = SpreadMemo()  # the last hour's minutes, kept from poll to poll
        self.viewing: tuple[int, int] | None = None  # a closed period on screen; None: live
        self._past: dict[tuple[int, int], UsageReport] = {}  # fetched once each
        self._past_error: str | None = None
        self._wanted: tuple[int, int] | None = None  # a closed period being fetched
        self._mark: tuple[float, str] | None = None  # the latest: (server time, name)
        # Per tab: (last sample counted, credits used since the mark, cents spent since).
        self._since: dict[str, tuple[Sample, int, int]] = {}

    # ------------------------------------------------------------------ layout

    def get_driver_class(self) -> type[Driver]:
        driver = super().get_driver_class()
        linux = sys.modules.get("textual.drivers.linux_driver")  # imported if Textual chose it
        if linux is not None and driver is linux.LinuxDriver:  # not TEXTUAL_DRIVER's choice
            from tui.driver import HangupAwareDriver

            return HangupAwareDriver
        return driver

    def get_default_screen(self) -> Screen[None]:
        return MonitorScreen(id="_default")

    def compose(self) -> ComposeResult:
        thresholds = self.settings.thresholds
        inference = InferencePanel(thresholds=thresholds, id="inference")
        inference.hide_money = self.hide_money
        # "body": what gives way to the "too small" message below the minimum size.
        with Band(id="top").add_class("body"):
            yield StatusHeader(self.settings.demo_label)
            yield NoticeBar(id="notice")
            yield ScopeTabs(
                [("total", "1 Total"), ("live", "2 Live"), ("test", "3 Test")], id="scopes"
            )
        with Panels(id="panels").add_class("body"):
            yield CreditsPanel(thresholds=thresholds, id="credits")
            yield inference
        yield IntradayStrip(id="intraday").add_class("body")
        yield ChartSlot(id="chart-slot").add_class("body")
        keys = [binding for binding in self.BINDINGS if isinstance(binding, Binding)]
        with Band(id="bottom").add_class("body"):
            yield KeyBar(keys, id="keys")
        yield TooSmall()

    async def on_load(self) -> None:
        # The first poll starts before the screen is composed: its answer is then
        # there for the first frame (and the network's wait overlaps the start-up).
        if self._service is not None:
            await self._service.start_serving()
        if self._client is None:
            self._client = UsageClient(
                self.settings.base_url,
                self.settings.token,
                path=self.settings.path,
                ca_bundle=self.settings.ca_bundle,
            )
        self.poll_loop()

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        # Ctrl-C typed in the terminal arrives as a key (quit, status 0); SIGINT sent to
        # the process (kill -INT) ends it with 130, like SIGTERM (143) and SIGHUP (129).
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            # An SSH session dropping sends SIGHUP: quit cleanly, leave nothing polling.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, self._exit_on_signal, signum)
        self._tick()

    def on_resize(self, event: events.Resize) -> None:
        # Under 80 columns the footer drops its padding so that q Quit still shows.
        # (The event's size: the app's own is not yet the new one.)
        with contextlib.suppress(NoMatches):
            self.query_one(KeyBar).compact = event.size.width < 80

    def _exit_on_signal(self, signum: int) -> None:
        self.exit(return_code=EXIT_SIGNAL + signum)

    async def on_unmount(self) -> None:
        if self._tick_timer is not None:
            self._tick_timer.cancel()
        if self._client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._client.aclose(), timeout=2)
        if self._service is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._service.aclose(), timeout=2)

    # ------------------------------------------------------------------ polling

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def poll_loop(self) -> None:
        """The only poller: one request at a time, so polls never overlap."""
        assert self._client is not None
        backoff = Backoff(self.settings.interval)
        while True:
            self._refresh_asked = False  # before the request: an `r` during it is kept
            try:
                fetched = await self._client.fetch()
            except UsageError as exc:
                delay = backoff.failure(exc.retry_after)
                self.post_message(PollFailed(exc, delay))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let a poll kill the app
                delay = backoff.failure()
                error = UsageError("bad_report", f"internal error while polling: {exc!r:.200}")
                self.post_message(PollFailed(error, delay))
            else:
                delay = backoff.success()
                self.post_message(ReportReceived(fetched))
            if not self._refresh_asked:
                await self._until_next_poll(delay)

    async def _until_next_poll(self, delay: float) -> None:
        """``delay`` seconds, or until `r`: a future a loop timer ends (a timeout would
        end the wait by cancelling it, and wait_for would start a task a poll)."""
        loop = asyncio.get_running_loop()
        self._pause = pause = loop.create_future()
        timer = loop.call_later(delay, _settle, pause)
        try:
            await pause
        finally:
            timer.cancel()
            self._pause = None

    @property
    def settled(self) -> bool:
        """A report is on screen, chart included: what tests and screenshots wait for."""
        return self.report is not None and self.query_one(ChartSlot).settled

    def action_refresh_now(self) -> None:
        error, retry_at = self._error, self._retry_at
        if error is not None and error.retry_after is not None and retry_at is not None:
            left = retry_at - self._clock()
            if left > 0:
                # The server asked for the pause (429 or 503 with Retry-After): asking
                # again sooner, as often as `r` is pressed, is what it asked us not to do.
                wait = duration(math.ceil(left))
                self.notify(
                    f"The server asked for a pause: the next try is in {wait}.",
                    title="Refresh",
                    markup=False,
                )
                return
        self._refresh_asked = True
        if self._pause is not None:
            _settle(self._pause)

    @on(ReportReceived)
    def _on_report(self, message: ReportReceived) -> None:
        with contextlib.suppress(NoMatches):  # an answer landing while the app closes
            self._take_report(message)

    def _take_report(self, message: ReportReceived) -> None:
        new = message.fetched.report
        if new.generated_at is not None and new.generated_at < new.period.start - EARLY:
            # A report dated before the month it reports is not the current period's.
            self._refuse(
                f"the server sent a report for {new.period.label} generated on "
                f"{new.generated_at:%b} {new.generated_at.day}, before that month began: "
                "not a current report, so the figures on screen are kept"
            )
            return
        if self.report is not None and new.period.key < self.report.period.key:
            self._backwards += 1
            if self._backwards < BACKWARDS_ACCEPTED_AFTER:
                # Periods only move forward: a report for an earlier month is the
                # server confused (or a cache), not news. Keep what we have and say so.
                self._refuse(
                    f"the server answered for {new.period.label} after "
                    f"{self.report.period.label}: a period cannot go backwards, "
                    f"so the {self.report.period.label} figures are kept"
                )
                return
            # It keeps saying so: then it was the later month that was wrong.
            log.warning("accepting %s after %d polls", new.period.label, self._backwards)
        self._backwards = 0
        self.polls += 1
        if self.polls == 1 and self._manage_memory:
            self.set_timer(memory.SETTLE_AFTER, self._settle_memory)
        self.report = new
        self._received_wall = message.fetched.received_at
        self._simulated = message.fetched.simulated
        if not self.settings.demo:
            # The header is ASCII ("steady x60"); the badge writes speed as --demo does.
            said = re.sub(r"\bx(?=\d)", "×", self._simulated) if self._simulated else None
            label = f"SIMULATOR {said}" if said else None
            self.query_one(StatusHeader).show_simulated(label)
        self._last_success = self._clock()
        self._error = None
        self._retry_at = None
        self._record(message.fetched)
        self._apply()

    def _settle_memory(self) -> None:
        memory.settle()
        self._collect_at = self._clock() + memory.COLLECT_EVERY

    def _collect_if_due(self) -> None:
        # From the polls' own path: a timer of its own would wake the process for it.
        if self._collect_at is not None and self._clock() >= self._collect_at:
            memory.collect()
            self._collect_at = self._clock() + memory.COLLECT_EVERY

    # ------------------------------------------------------------------ history

    def _store(self, report: UsageReport) -> History:
        """The history for this base URL and account (opened on its first report)."""
        key = (self.settings.base_url, report.account.id or "")
        if self._history is None or key != self._history_key:
            if self._history is not None:
                self._history.close()
            # The demo's figures are made up: they live in memory and die with it.
            keep = self.settings.history and not self.settings.demo
            try:
                self._history = History(default_path() if keep else None, *key)
            except (HistoryError, OSError) as exc:
                self._history_problem = f"history is off for this run: {exc}"
                self._history = History(None, *key)
            self._history_key = key
            self._limits = None
            marks = self._history.marks()
            self._set_mark(marks[-1] if marks else None)
        return self._history

    def _record(self, fetched: Fetched) -> None:
        report = fetched.report
        try:
            store = self._store(report)
            received = fetched.received_at
            samples: dict[str, Sample] = {
                scope: sample_of(report, scope, received) for scope in SCOPES
            }
            store.record(samples)
            limits = (report.allowance_milli, report.inference.currency)
            if limits != self._limits:  # `vectros-usage line` reads them with the polls
                store.set_limits(*limits)
                self._limits = limits
            for scope, sample in samples.items():  # what was spent since the mark, kept up
                if scope in self._since:
                    last, credits, cents = self._since[scope]
                    if sample.wall > last.wall:
                        pair = [last, sample]
                        credits += spend_between(pair, used)
                        cents += spend_between(pair, spent)
                        self._since[scope] = (sample, credits, cents)
        except Exception as exc:  # a full disk or a locked file must not stop the monitor
            self._history_problem = f"could not record this poll: {exc!r:.160}"
            log.exception("recording failed")

    def _build_trend(self, report: UsageReport, now: datetime) -> Trend:
        store = self._history
        if store is None:
            return NO_TREND
        at = sample_of(report, "total", now).at
        since = at - LONG_WINDOW - 60
        samples = store.recent(self.scope, since)
        total = samples if self.scope == "total" else store.recent("total", since)
        events = store.events(since=report.period.start.timestamp())
        trend = build_trend(
            report,
            self.scope,
            samples,
            total,
            events,
            interval=self.settings.interval,
            now=now,
            memo=self._spreads,
        )
        mark, counted = self._mark, self._since.get(self.scope)
        if mark is None or counted is None:
            return trend
        last, credits, cents = counted
        return trend._replace(
            since_mark=SinceMark(mark[1], mark[0], last.at - mark[0], credits, cents)
        )

    def _set_mark(self, mark: tuple[float, str] | None) -> None:
        """Count from this mark: once from the recorded polls, then poll by poll."""
        self._mark = mark
        self._since = {}
        if mark is None or self._history is None:
            return
        for scope in SCOPES:
            samples = self._history.samples(scope, since=mark[0])
            if samples:
                self._since[scope] = (
                    samples[-1],
                    spend_between(samples, used),
                    spend_between(samples, spent),
                )

    def action_mark(self) -> None:
        if self.report is None or self._history is None:
            self.notify("No figures yet: a mark needs a first report.", severity="warning")
            return
        default = f"mark {len(self._history.marks()) + 1}"

        def done(name: str | None) -> None:
            store, latest = self._history, self._history and self._history.latest("total")
            if name is None or store is None or not latest:
                return
            store.add_mark(latest.at, name)
            self._set_mark((latest.at, name))
            self._apply()
            self.notify(f"Mark set: {name}", title="⚑ mark", markup=False)

        from tui.widgets.marks import MarkScreen  # a dialog: loaded when first asked for

        self.push_screen(MarkScreen(default), done)

    def action_marks(self) -> None:
        if self._history is None:
            self.notify("No marks yet: m sets one.")
            return

        def done(clear: bool | None) -> None:
            if clear and self._history is not None:
                self._history.clear_marks()
                self._set_mark(None)
                self._apply()
                self.notify("Marks cleared.")

        from tui.widgets.marks import MarksScreen

        self.push_screen(MarksScreen(self._history.marks()), done)

    def _apply(self) -> None:
        """Show the report; a bug in drawing it is an error state, not a dead monitor."""
        try:
            self._draw()
            self._draw_error = None
        except Exception as exc:
            self._draw_error = f"internal error while drawing the figures: {exc!r:.200}"
            log.exception("drawing failed")
        self._tick()

    def _refuse(self, reason: str) -> None:
        error = UsageError("bad_report", reason)
        self._take_failure(PollFailed(error, self.settings.interval))

    @on(PollFailed)
    def _on_failure(self, message: PollFailed) -> None:
        with contextlib.suppress(NoMatches):  # a failure landing while the app closes
            self._take_failure(message)

    def _take_failure(self, message: PollFailed) -> None:
        self._error = message.error
        self._retry_at = self._clock() + message.retry_in
        if self.report is None:
            waiting = "no figures yet (see above)"
            self.query_one(CreditsPanel).show_waiting(waiting)
            self.query_one(InferencePanel).show_waiting(waiting)
        self._tick()

    # ------------------------------------------------------------------ display

    def _server_now(self) -> datetime:
        """The report's own clock, moved on by the time since it arrived."""
        report = self.report
        if report is not None and report.generated_at is not None:
            since = 0.0 if self._last_success is None else self._clock() - self._last_success
            return report.generated_at + timedelta(seconds=since)
        return self._received_wall or datetime.now(UTC)

    def _shown(self) -> UsageReport | None:
        if self.viewing is not None and self.viewing in self._past:
            return self._past[self.viewing]
        return self.report

    def _draw(self) -> None:
        report = self._shown()
        if report is None:
            return
        closed = report is not self.report
        self.query_one(StatusHeader).show_report(report, closed=closed)
        if closed:
            now = report.period.end
            self._trend = trend = CLOSED
        else:
            now = self._server_now()
            self._trend = trend = self._build_trend(report, now)
        self.query_one(CreditsPanel).show((report, self.scope, now, trend))
        self.query_one(InferencePanel).show((report, self.scope, now, trend))
        hide = self.hide_money and self.metric == "inference"
        hour = self.span == "hour" and not closed  # a closed month has no last hour
        strip = self.query_one(IntradayStrip)
        strip.show(trend, self.metric, hide_values=hide)
        strip.set_class(hour, "-in-chart")  # the chart shows the same hour, larger
        if hour:
            minutes = trend.credits_minutes if self.metric == "credits" else trend.cents_minutes
            plan = hour_plan(minutes, self.scope, self.metric, end=f"{now:%H:%M}")
        else:
            chart_report, source = self._daily_for_chart(report, closed)
            partial = self._partial if source == "history" else ()
            plan = month_plan(chart_report, self.scope, self.metric, source, partial)
        self.query_one(ChartSlot).show(plan, hide_values=hide)
        if not closed:
            self._judge(report, trend)

    # ------------------------------------------------------------------ alerts

    def _judge(self, report: UsageReport, trend: Trend) -> None:
        """Alert when a level is crossed upwards: a toast, and a bell or a desktop
        notification if the profile asks for them (once per level per cooldown)."""
        judgements = judge(
            used_milli=report.credits.used_milli,
            allowance_milli=report.allowance_milli,
            balance_cents=report.inference.balance_cents,
            allowance_runway=(trend.allowance.kind, trend.allowance.minutes),
            balance_runway=(trend.balance.kind, trend.balance.minutes),
            t=self.settings.thresholds,
        )
        for judgement in self._alerts.update(judgements, self._clock()):
            self._alert(judgement, self._alert_words(judgement, report, trend))

    def _alert_words(self, judgement: Judgement, report: UsageReport, trend: Trend) -> str:
        allowance = report.allowance_milli
        if judgement.axis == "allowance" and allowance:
            share = fmt.percent_tenths(fmt.ratio_tenths(report.credits.used_milli, allowance))
            return f"{share} of the monthly allowance used"
        if judgement.axis == "balance":
            if self.hide_money:
                return "the inference balance is low"
            money = fmt.money(report.inference.balance_cents, report.inference.currency)
            return f"inference balance down to {money}"
        if judgement.axis == "allowance runway":
            return f"monthly allowance runs out: {runway_words(trend.allowance)}"
        return f"inference balance runs out {balance_runway_words(trend.balance)}"

    def _alert(self, judgement: Judgement, words: str) -> None:
        t = self.settings.thresholds
        critical = judgement.level == "critical"
        title = level_label(judgement.level)
        self.notify(
            words,
            title=title,
            severity="error" if critical else "warning",
            timeout=20 if critical else 10,
            markup=False,
        )
        if t.bell:
            self.bell()
        if t.notify and not self.is_headless and self._driver is not None:
            self._driver.write(notification(f"vectros-usage {title}", words, os.environ))

    def _daily_for_chart(self, report: UsageReport, closed: bool) -> tuple[UsageReport, Source]:
        """The report's own daily figures, or, when it has none, the recorded polls'."""
        store = self._history
        if report.daily is not None or closed or store is None:
            return report, "report"
        latest = store.latest("total")
        key = (report.period.key, None if latest is None else int(latest.at // 60))
        if self._daily_key != key:  # rebuilt at most once a minute of server time
            since = report.period.start.timestamp()
            self._daily = daily_from_history(
                store.samples("live", since=since),
                store.samples("test", since=since),
                report.period,
            )
            self._partial = partly_polled_days(
                store.samples("total", since=since), report.period, self._server_now()
            )
            self._daily_key = key
        if not self._daily:
            return report, "report"
        return report._replace(daily=self._daily), "history"

    def _tick(self) -> None:
        with contextlib.suppress(NoMatches):  # the timer firing while the app closes
            self._show_freshness()
        self._plan_tick()
        self._collect_if_due()

    def _plan_tick(self) -> None:
        """Show the freshness again when its words next change, not every second: each
        poll plans it anew, so at a 1 s interval nothing but the polls wakes up.
        (A loop timer: a Textual interval timer cost ~0.2 ms a tick.)"""
        if self._tick_timer is not None:
            self._tick_timer.cancel()
        delay = next_change(
            now=self._clock(),
            last_success=self._last_success,
            interval=self.settings.interval,
            error=self._error,
        )
        self._tick_timer = asyncio.get_running_loop().call_later(delay, self._timed_tick)

    def _timed_tick(self) -> None:
        self._tick_timer = None
        if self._exit:
            return
        try:
            self._tick()
        except Exception:  # a loop callback: nothing above it would say so
            log.exception("showing the freshness failed")

    def _show_freshness(self) -> None:
        freshness = describe(
            now=self._clock(),
            last_success=self._last_success,
            interval=self.settings.interval,
            error=self._error,
            retry_at=self._retry_at,
        )
        self.query_one(StatusHeader).show_freshness(freshness)
        lines = [freshness.detail] if freshness.detail else []
        if self._draw_error:
            lines.append(f"✖ {self._draw_error}; polling goes on")
        if self._history_problem:
            lines.append(f"⚠ {self._history_problem}")
        if self._past_error:
            lines.append(f"⚠ {self._past_error}")
        if self.viewing is not None and self.viewing in self._past:
            label = self._past[self.viewing].period.label
            lines.append(
                f"◀ {label} is a closed period: fetched once, not polled "
                "(] steps forward; past the current month, back to live)"
            )
        corrections = self._trend.corrections
        if corrections and self.report is not None:
            since = self._server_now().timestamp() - corrections[0].at
            if since < 3600:
                currency = self.report.inference.currency
                what = " and ".join(
                    f"credits by {fmt.milli(e.amount)}"
                    if e.axis == "credits"
                    else "inference spend"
                    if self.hide_money
                    else f"inference spend by {fmt.money(e.amount, currency)}"
                    for e in corrections
                )
                lines.append(
                    f"⚠ the server lowered this period's {what} {duration(since)} ago: "
                    "a correction, not negative spend"
                )
        rollover = self._trend.rollover
        if rollover is not None and self.report is not None:
            since = self._server_now().timestamp() - rollover.at
            if since < 3600:  # for an hour after it, say why the credits fell to zero
                lines.append(
                    f"⟳ a new period began {duration(since)} ago: {self.report.period.label} "
                    "(credits start again from 0; the balance carries on)"
                )
        if self.report is not None:
            lines += [f"⚠ {w}" for w in self.report.warnings]
            lines += self._clock_skew()
        self.query_one(NoticeBar).show(lines, error=bool(freshness.detail or self._draw_error))

    def _clock_skew(self) -> list[str]:
        """A report generated long before it arrived is old news, whatever its age here."""
        report, received = self.report, self._received_wall
        simulated = self.settings.demo or self._simulated
        if simulated or report is None or report.generated_at is None or not received:
            return []  # the simulator's clock runs at its own speed on purpose
        skew = (received - report.generated_at).total_seconds()
        if abs(skew) <= SKEW_TOLERANCE:
            return []
        if skew > 0:
            return [
                f"⚠ these figures were computed {duration(skew)} before they arrived: "
                "they may be old (or the server's clock is behind)"
            ]
        return [f"⚠ the server's clock is {duration(-skew)} ahead of this machine's"]

    def watch_scope(self) -> None:
        self._apply()

    def watch_metric(self) -> None:
        self._apply()

    def watch_span(self) -> None:
        self._apply()

    def action_toggle_span(self) -> None:
        self.span = "hour" if self.span == "month" else "month"

    def action_scope(self, scope: str) -> None:
        if scope in SCOPES:
            self.query_one(ScopeTabs).active = scope

    @on(ScopeTabs.Changed)
    def _on_tab(self, event: ScopeTabs.Changed) -> None:
        if event.scope in SCOPES:
            self.scope = event.scope

    def action_period(self, step: int) -> None:
        """[ and ]: an earlier or later month; later than the current one is live."""
        current = self.report
        if current is None:
            return
        self._past_error = None
        # Step from the month on its way, if one is being fetched: `[[[` is three months.
        base = self._wanted or self.viewing or current.period.key
        target = previous_month(*base) if step < 0 else next_month(*base)
        self._wanted = None
        if target >= current.period.key:
            self.viewing = None
        elif target in self._past:
            self.viewing = target
        else:
            self._wanted = target
            self.fetch_past(target)  # exclusive: a fetch for a month passed by is dropped
            return
        self._apply()

    @work(exclusive=True, group="past", exit_on_error=False)
    async def fetch_past(self, period: tuple[int, int]) -> None:
        assert self._client is not None
        try:
            fetched = await self._client.fetch(period)
        except UsageError as exc:
            self.post_message(PastFailed(period, exc))
        except Exception as exc:  # never let a fetch kill the app
            self.post_message(PastFailed(period, UsageError("bad_report", f"{exc!r:.200}")))
        else:
            self.post_message(PastReceived(fetched))

    @on(PastReceived)
    def _on_past(self, message: PastReceived) -> None:
        report = message.fetched.report
        self._past[report.period.key] = report
        if report.period.key != self._wanted:
            return  # stepped on past it meanwhile: cached, not shown
        self._wanted = None
        self.viewing = report.period.key
        self._apply()

    @on(PastFailed)
    def _on_past_failed(self, message: PastFailed) -> None:
        if message.period == self._wanted:
            self._wanted = None
        year, month = message.period
        self._past_error = f"cannot show {year}-{month:02d}: {message.error.message}"
        self._tick()

    def action_toggle_chart(self) -> None:
        self.metric = "inference" if self.metric == "credits" else "credits"

    def action_toggle_money(self) -> None:
        self.hide_money = not self.hide_money
        self.notify(
            "Money hidden: percentages and rates stay. h shows it again."
            if self.hide_money
            else "Money shown.",
            timeout=3,
        )

    def watch_hide_money(self, hidden: bool) -> None:
        panel = self.query_one(InferencePanel)
        panel.hide_money = hidden
        panel.redraw()
        self._apply()

    def action_help(self) -> None:
        from tui.widgets.help import HelpScreen  # loaded when first asked for

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(
                HelpScreen(
                    self.settings.thresholds,
                    hide_money=self.hide_money,
                    profile=self.settings.profile,
                )
            )

    def deliver_screenshot(
        self,
        filename: str | None = None,
        path: str | None = None,
        time_format: str | None = None,
    ) -> str | None:
        # (The palette's "Screenshot" and the screenshot action both come here.) Textual
        # saves to the Downloads folder, which an ops box often lacks, and then says only
        # "Failed to save screenshot": there, the folder the monitor was started in.
        if path is None:
            from platformdirs import user_downloads_path

            downloads = user_downloads_path()
            path = str(downloads if downloads.is_dir() else Path.cwd())
        return super().deliver_screenshot(filename, path, time_format)

    @on(events.DeliveryFailed)
    def _on_screenshot_failed(self, event: events.DeliveryFailed) -> None:
        if event.name == "screenshot":
            event.prevent_default()  # Textual's own says only "Failed to save screenshot"
            error = event.exception
            reason = getattr(error, "strerror", None) or str(error)
            where = getattr(error, "filename", None) or "its folder"  # the file it tried
            self.notify(
                f"Could not save the screenshot as {where}: {reason}",
                title="Screenshot",
                severity="error",
                markup=False,
            )

    def action_command_palette(self) -> None:
        # Ctrl-P again closes it: no key needs Esc alone (which lags in some terminals).
        if isinstance(self.screen, CommandPalette):
            self.screen.dismiss()
            return
        super().action_command_palette()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Textual's own, but for "Keys" (its panel squeezes the monitor; ? is the help
        # here) and "Maximize" (nothing here to maximize).
        for command in super().get_system_commands(screen):
            if command.title not in ("Keys", "Maximize"):
                yield command
        money = "Show money" if self.hide_money else "Hide money"
        commands = (
            ("Total tab", "live + test, the account", lambda: self.action_scope("total")),
            ("Live tab", "the live environment", lambda: self.action_scope("live")),
            ("Test tab", "the test environment", lambda: self.action_scope("test")),
            ("Refresh now", "poll the usage report now (r)", self.action_refresh_now),
            (
                "Chart: credits / inference",
                "switch the chart's figure (c)",
                self.action_toggle_chart,
            ),
            ("Chart: month / last hour", "by UTC day, or by minute (t)", self.action_toggle_span),
            ("Earlier month", "a closed past period ([)", lambda: self.action_period(-1)),
            ("Later month", "towards the current period (])", lambda: self.action_period(1)),
            ("Set a mark", "count spend from now on every tab (m)", self.action_mark),
            ("List marks", "and clear them (M)", self.action_marks),
            (money, "for screen-sharing: percentages and rates stay (h)", self.action_toggle_money),
            ("Help", "keys and what the words mean (?)", self.action_help),
        )
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)
