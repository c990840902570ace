"""Inference panel: the pre-paid balance (account-wide) and this period's spend."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text

from tui import format as fmt
from tui.rates import Runway
from tui.report import Scope, UsageReport
from tui.trend import Trend
from tui.widgets.credits import rate_words
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


class InferencePanel(FigurePanel[tuple[UsageReport, Scope, datetime, Trend]]):
    DEFAULT_CSS = """
    InferencePanel {
        border: round $secondary;
        border-title-color: $text-secondary;
        border-title-style: bold;
    }
    InferencePanel TextBlock { text-wrap: nowrap; text-overflow: ellipsis; }
    InferencePanel > .inference--label { color: $text-muted; }
    InferencePanel > .inference--figure { text-style: bold; }
    InferencePanel > .inference--overdraft { color: $text-error; text-style: bold; }
    InferencePanel > .inference--muted { color: $text-muted; }
    """
    COMPONENT_CLASSES = {
        "inference--label",
        "inference--figure",
        "inference--overdraft",
        "inference--muted",
    }

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "Inference · pre-paid balance"

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
        words = balance_runway_words(trend.balance)
        if self.data is not None and self.data[1] != "total":
            # The balance is the account's: it runs out at the account's pace.
            words = words.replace(" at this rate", ", account pace")
        soon = trend.balance.kind == "exhausted" or (
            trend.balance.minutes is not None and trend.balance.minutes < 24 * 60
        )
        rows.append(("runs out", Text(words, style=self._style("overdraft") if soon else "")))
        if (mark := trend.since_mark) is not None:
            money = fmt.money(mark.spent_cents, report.inference.currency)
            rows.append(("since mark", Text(f"+{money}  {fmt.cents(mark.spent_cents)}")))
            average = mark.per_minute(mark.spent_cents)
            rows.append(("mark avg", Text("—" if average is None else fmt.cents_rate(average))))
        if trend.top_up is not None:
            when = datetime.fromtimestamp(trend.top_up.at, UTC)
            at = f"{when:%H:%M} UTC" if when.date() == now.date() else fmt.utc_when(when)
            money = fmt.money(trend.top_up.amount, report.inference.currency)
            rows.append(("top-up", Text(f"+{money} at {at}", style=self._style("figure"))))
        return rows

    def build_rows(self) -> list[Row]:
        if self.data is None:
            return [("", Text(self.waiting, style=self._style("muted")))]
        report, scope, now, trend = self.data
        currency = report.inference.currency
        figure = self._style("figure")
        # One figure a row, so none is cut off at 80 columns whatever its size.
        balance = report.inference.balance_cents
        line = Text(fmt.money(balance, currency), style=figure)
        cents = Text(fmt.cents(balance))
        if balance < 0:
            line.stylize(self._style("overdraft"))
            cents.append(" overdrawn", style=self._style("overdraft"))
        elif scope != "total":
            line.append(" (account)", style=self.label_style)
        rows: list[Row] = [("balance", line), ("", cents)]

        spent = report.spent_cents(scope)
        who = "spent" if scope == "total" else scope
        if spent is None:
            rows.append((who, Text("not in report")))
        else:
            text = Text().append(fmt.money(spent, currency), style=figure)
            rows.append((who, text.append(f"  {fmt.cents(spent)}")))

        calls = report.calls(scope)
        rows.append(("calls", Text("—" if calls is None else fmt.group(calls))))

        if not trend.closed:
            rows += self._trend_rows(report, trend, now)
        if scope == "total":
            for env in ("live", "test"):
                env_cents = report.environment(env).inference.spent_cents
                money = "—" if env_cents is None else fmt.money(env_cents, currency)
                rows.append((f"· {env}", Text(money)))
            today = report.day(now.date())
            if today is not None:
                spent_today = today.figures(scope).inference_cents
                rows.append(("today", Text(f"{fmt.money(spent_today, currency)} (UTC day)")))
            return rows
        kinds = report.environment(scope).inference.breakdown
        if not kinds:
            return [*rows, ("kinds", Text("not in report"))]
        for kind, kind_cents in kinds.items():
            rows.append((f"· {KIND_LABELS.get(kind, kind)}", Text(fmt.money(kind_cents, currency))))
        return rows
