"""Inference panel: the pre-paid balance (account-wide) and this period's spend."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from tui import format as fmt
from tui.report import Scope, UsageReport
from tui.widgets.diffed import TextPanel

KIND_LABELS = {"chat": "chat", "rag": "rag", "documentAsk": "doc-ask"}


class InferencePanel(TextPanel[tuple[UsageReport, Scope]]):
    DEFAULT_CSS = """
    InferencePanel {
        height: auto;
        border: round $secondary;
        border-title-color: $text-secondary;
        border-title-style: bold;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
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
        self.border_title = "Inference · pre-paid balance"

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"inference--{name}")

    def text(self, width: int) -> Text:
        if self.data is None:
            return Text("waiting for the first report…", style=self._style("muted"))
        report, scope = self.data
        currency = report.inference.currency
        label = self._style("label")
        out = Text(no_wrap=True, overflow="ellipsis")

        balance = report.inference.balance_cents
        out.append("balance ", style=label)
        style = self._style("overdraft") if balance < 0 else self._style("figure")
        out.append(fmt.money(balance, currency), style=style)
        out.append(f"  {fmt.cents(balance)}")
        if balance < 0:
            out.append(" overdrawn", style=self._style("overdraft"))
        elif scope != "total":
            out.append(" (account)", style=label)
        out.append("\n")

        spent = report.spent_cents(scope)
        who = "spent" if scope == "total" else f"{scope}"
        out.append(f"{who:<8}", style=label)
        if spent is None:
            out.append("not in report\n")
        else:
            out.append(fmt.money(spent, currency), style=self._style("figure"))
            out.append(f"  {fmt.cents(spent)}\n")

        calls = report.calls(scope)
        out.append("calls   ", style=label)
        out.append(("—" if calls is None else fmt.group(calls)) + "\n")

        if scope == "total":
            parts = []
            for env in ("live", "test"):
                cents = report.environment(env).inference.spent_cents
                parts.append(f"{env} {'—' if cents is None else fmt.money(cents, currency)}")
            out.append("split   ", style=label)
            out.append(" · ".join(parts) + "\n")
        else:
            # Two lines for the kinds of call, so every figure fits at 80 columns.
            kinds = list(report.environment(scope).inference.breakdown.items())
            rows = [kinds[:2], kinds[2:]] if kinds else [[]]
            for n, row in enumerate(rows):
                out.append("kinds   " if n == 0 else "        ", style=label)
                out.append(
                    "  ".join(f"{KIND_LABELS.get(k, k)} {fmt.money(v, currency)}" for k, v in row)
                    if kinds
                    else "not in report"
                )
                if n < len(rows) - 1:
                    out.append("\n")
            return out
        out.append("never resets · topped up out of band", style=self._style("muted"))
        return out
