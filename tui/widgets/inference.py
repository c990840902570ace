"""Inference panel: the pre-paid balance (account-wide) and this period's spend."""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text

from tui import format as fmt
from tui.report import Scope, UsageReport
from tui.widgets.diffed import FigurePanel, Row

KIND_LABELS = {"chat": "chat", "rag": "rag", "documentAsk": "doc-ask"}


class InferencePanel(FigurePanel[tuple[UsageReport, Scope, datetime]]):
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

    def build_rows(self) -> list[Row]:
        if self.data is None:
            return [("", Text(self.waiting, style=self._style("muted")))]
        report, scope, now = self.data
        currency = report.inference.currency
        figure = self._style("figure")

        balance = report.inference.balance_cents
        line = Text()
        line.append(
            fmt.money(balance, currency), style=self._style("overdraft") if balance < 0 else figure
        )
        if balance < 0:
            line.append(" overdrawn", style=self._style("overdraft"))
        elif scope != "total":
            line.append(" (account)", style=self.label_style)
        # The exact cents on a row of their own, so neither figure is ever cut off.
        rows: list[Row] = [("balance", line), ("", Text(fmt.cents(balance)))]

        spent = report.spent_cents(scope)
        if spent is None:
            rows.append(("spent" if scope == "total" else scope, Text("not in report")))
        else:
            text = (
                Text()
                .append(fmt.money(spent, currency), style=figure)
                .append(f"  {fmt.cents(spent)}")
            )
            rows.append(("spent" if scope == "total" else scope, text))

        calls = report.calls(scope)
        rows.append(("calls", Text("—" if calls is None else fmt.group(calls))))

        if scope == "total":
            parts = []
            for env in ("live", "test"):
                cents = report.environment(env).inference.spent_cents
                parts.append(f"{env} {'—' if cents is None else fmt.money(cents, currency)}")
            rows.append(("split", Text(" · ".join(parts))))
            today = report.day(now.date())
            if today is not None:
                cents = today.figures(scope).inference_cents
                rows.append(("today", Text(f"{fmt.money(cents, currency)} (UTC day)")))
            return rows
        # Two rows for the kinds of call, so every figure fits at 80 columns.
        kinds = list(report.environment(scope).inference.breakdown.items())
        if not kinds:
            return [*rows, ("kinds", Text("not in report"))]
        for n, chunk in enumerate((kinds[:2], kinds[2:])):
            if chunk:
                words = "  ".join(
                    f"{KIND_LABELS.get(k, k)} {fmt.money(v, currency)}" for k, v in chunk
                )
                rows.append(("kinds" if n == 0 else "", Text(words)))
        return rows
