"""Inference panel: the pre-paid balance (account-wide) and this period's spend."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text

from tui import format as fmt
from tui.rates import Event, Runway
from tui.report import Scope, UsageReport
from tui.thresholds import (
    DEFAULT_THRESHOLDS,
    Thresholds,
    balance_level,
    level_label,
    runway_level,
)
from tui.trend import Trend
from tui.widgets.credits import flagged, rate_words
from tui.widgets.diffed import FigurePanel, Row

KIND_LABELS = {"chat": "chat", "rag": "rag", "documentAsk": "doc-ask"}


def balance_runway_words(runway: Runway) -> str:
    if runway.kind == "at" and runway.minutes is not None:
        return f"in {fmt.duration(float(runway.minutes) * 60)} at this rate"
    return {
        "exhausted": "exhausted",
        "no_spend": "not while nothing is spent",
        "far": "more than a year away",
    }.get(runway.kind, "—")


SEEN_AFTER_GAP = 120.0  # seconds between polls beyond which "at" would be a guess


def top_up_when(event: Event, now: datetime) -> str:
    """When a top-up happened: at the poll that saw it, or, after a gap in polling (the
    monitor was stopped), somewhere between the two polls, said as such."""

    def clock(at: float) -> str:
        when = datetime.fromtimestamp(at, UTC)
        return (
            f"{when:%H:%M}" if when.date() == now.date() else f"{when:%b} {when.day} {when:%H:%M}"
        )

    if event.since is not None and event.at - event.since > SEEN_AFTER_GAP:
        return f"between {clock(event.since)} and {clock(event.at)} UTC"
    return f"at {clock(event.at)} UTC"


class InferencePanel(FigurePanel[tuple[UsageReport, Scope, datetime, Trend]]):
    DEFAULT_CSS = """
    InferencePanel {
        border: round $secondary;
        border-title-color: $text-secondary;
        border-title-style: bold;
    }
    InferencePanel > .inference--label { color: $text-muted; }
    InferencePanel > .inference--figure { text-style: bold; }
    InferencePanel > .inference--overdraft { color: $text-error; text-style: bold; }
    InferencePanel > .inference--muted { color: $text-muted; }
    InferencePanel > .inference--ok { color: $text-success; }
    InferencePanel > .inference--warn { color: $text-warning; text-style: bold; }
    InferencePanel > .inference--critical { color: $text-error; text-style: bold; }
    """
    COMPONENT_CLASSES = {
        "inference--label",
        "inference--figure",
        "inference--overdraft",
        "inference--muted",
        "inference--ok",
        "inference--warn",
        "inference--critical",
    }

    def __init__(self, *, thresholds: Thresholds = DEFAULT_THRESHOLDS, id: str | None = None):
        super().__init__(id=id)
        self.thresholds = thresholds
        self.hide_money = False  # pairing: balances and amounts hidden, rates kept

    def on_mount(self) -> None:
        self.retitle()

    def titles(self) -> list[str]:
        if self.hide_money:
            return ["Inference · pre-paid balance · money hidden", "Inference · money hidden"]
        return ["Inference · pre-paid balance", "Inference · balance", "Inference"]

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"inference--{name}")

    @property
    def label_style(self) -> Style:
        return self._style("label")

    def _trend_rows(self, report: UsageReport, trend: Trend, now: datetime) -> list[Row]:
        rows: list[Row] = [
            ("rate 5m", Text(rate_words(trend.cents_short, fmt.cents_rate))),
            ("rate 1h", Text(rate_words(trend.cents_long, fmt.cents_rate))),
        ]
        runway = trend.balance
        words = balance_runway_words(runway)
        if self.data is not None and self.data[1] != "total":
            # The balance is the account's: it runs out at the account's pace.
            words = words.replace(" at this rate", ", account pace")
        level = runway_level(runway.minutes, runway.kind == "exhausted", self.thresholds)
        style = self._style(level) if level != "ok" else ""
        short = words.replace(" at this rate", "").replace(", account pace", "")
        rows.append(
            (
                "runs out",
                Text(flagged(words, level), style),
                Text(flagged(words.replace(", account pace", ", acct pace"), level), style),
                Text(flagged(short, level, narrow=True), style),
            )
        )
        hidden = self.hide_money
        if (mark := trend.since_mark) is not None:
            if not hidden:
                money = fmt.money(mark.spent_cents, report.inference.currency)
                since = f"+{money}  {fmt.cents(mark.spent_cents)}"
                rows.append(("since mark", Text(since), Text(f"+{money}")))
            average = mark.per_minute(mark.spent_cents)
            rows.append(("mark avg", Text("—" if average is None else fmt.cents_rate(average))))
        if (top_up := trend.top_up) is not None:
            money = "" if hidden else "+" + fmt.money(top_up.amount, report.inference.currency)
            words = f"{money} {top_up_when(top_up, now)}".strip()
            figure = self._style("figure")
            local = words.removesuffix(" UTC")  # the header says the month is UTC
            rows.append(
                (
                    "top-up",
                    Text(words, style=figure),
                    Text(local, style=figure),
                    Text(money or local, style=figure),
                )
            )
        return rows

    def _balance_rows(self, report: UsageReport, scope: Scope) -> list[Row]:
        """The balance, and its level in a word (which stays when the money is hidden)."""
        balance = report.inference.balance_cents
        level = balance_level(balance, self.thresholds)
        word = Text(f"  {level_label(level)}", style=self._style(level))
        if self.hide_money:
            hidden = Text("hidden (h shows)", style=self.label_style).append(word)
            return [("balance", hidden, Text("hidden", style=self.label_style).append(word))]
        figure = self._style("figure")
        line = Text(fmt.money(balance, report.inference.currency), style=figure)
        cents = Text(fmt.cents(balance))
        if balance < 0:
            line.stylize(self._style("overdraft"))
            cents.append(" overdrawn", style=self._style("overdraft"))
        short = line.copy().append(word)
        if balance >= 0 and scope != "total":  # the balance is the account's, on every tab
            mid = line.copy().append(" (acct)", style=self.label_style).append(word)
            line.append(" (account)", style=self.label_style)
            return [("balance", line.append(word), mid, short), ("", cents)]
        return [("balance", line.append(word), short), ("", cents)]

    def build_rows(self) -> list[Row]:
        if self.data is None:
            return [("", Text(self.waiting, style=self._style("muted")))]
        report, scope, now, trend = self.data
        currency = report.inference.currency
        figure = self._style("figure")
        hidden = self.hide_money
        # One figure a row, so none is cut off at 80 columns whatever its size.
        rows = self._balance_rows(report, scope)

        spent = report.spent_cents(scope)
        who = "spent" if scope == "total" else scope
        if spent is None:
            rows.append((who, Text("not in report")))
        elif not hidden:
            money = fmt.money(spent, currency)
            text = Text().append(money, style=figure)
            rows.append((who, text.append(f"  {fmt.cents(spent)}"), Text(money, style=figure)))

        calls = report.calls(scope)
        rows.append(("calls", Text("—" if calls is None else fmt.group(calls))))

        if not trend.closed:
            rows += self._trend_rows(report, trend, now)
        if hidden:
            return rows
        if scope == "total":
            for env in ("live", "test"):
                env_cents = report.environment(env).inference.spent_cents
                money = "—" if env_cents is None else fmt.money(env_cents, currency)
                rows.append((f"· {env}", Text(money)))
            today = report.day(now.date())
            if today is not None:
                spent_today = fmt.money(today.figures(scope).inference_cents, currency)
                rows.append(("today", Text(f"{spent_today} (UTC day)"), Text(spent_today)))
            return rows
        kinds = report.environment(scope).inference.breakdown
        if not kinds:
            return [*rows, ("kinds", Text("not in report"))]
        for kind, kind_cents in kinds.items():
            rows.append((f"· {KIND_LABELS.get(kind, kind)}", Text(fmt.money(kind_cents, currency))))
        return rows
