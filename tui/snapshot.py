"""``vectros-usage snapshot``: the report once, as a readable table."""

from __future__ import annotations

from tui import format as fmt
from tui.report import SCOPES, UsageReport


def render_table(report: UsageReport, *, demo: bool = False, simulated: str | None = None) -> str:
    """``demo``: --demo's own simulator; ``simulated``: what a simulator reached by URL
    says it runs (its header), so its figures are not taken for real ones either."""
    currency = report.inference.currency
    head = ["Vectros usage"]
    if report.account.name:
        head.append(fmt.safe_text(report.account.name, limit=60))
    head.append(f"{report.period.label} (UTC)")
    if report.generated_at:
        head.append(f"generated {report.generated_at:%Y-%m-%d %H:%M:%S} UTC")
    if demo:
        head.append("DEMO: simulated figures")
    elif simulated is not None:
        head.append(f"SIMULATOR {fmt.safe_text(simulated, limit=40)}: simulated figures")
    allowance = report.allowance_milli

    def row(label: str, cells: list[str]) -> str:
        return f"{label:<22}" + "".join(f"{c:>18}" for c in cells)

    def pct(scope: str) -> str:
        if allowance is None:
            return "—"
        return fmt.percent_tenths(fmt.ratio_tenths(report.used_milli(scope), allowance))  # type: ignore[arg-type]

    def spent(scope: str) -> str:
        cents = report.spent_cents(scope)  # type: ignore[arg-type]
        return "—" if cents is None else fmt.money(cents, currency)

    def calls(scope: str) -> str:
        n = report.calls(scope)  # type: ignore[arg-type]
        return "—" if n is None else fmt.group(n)

    lines = [
        " · ".join(head),
        "",
        row("", list(SCOPES)),
        row("credits used", [fmt.milli(report.used_milli(s)) for s in SCOPES]),
        row("% of allowance", [pct(s) for s in SCOPES]),
        row("inference spent", [spent(s) for s in SCOPES]),
        row("inference calls", [calls(s) for s in SCOPES]),
        "",
        row("monthly allowance", ["—" if allowance is None else fmt.milli(allowance)]),
    ]
    if allowance is not None:
        left = allowance - report.credits.used_milli
        lines.append(
            row("credits left", [fmt.milli(left)])
            if left >= 0
            else row("credits left", ["none"]) + f"  ({fmt.milli(-left)} over the allowance)"
        )
    balance = report.inference.balance_cents
    overdrawn = ", OVERDRAWN" if balance < 0 else ""
    lines.append(
        row("inference balance", [fmt.money(balance, currency)])
        + f"  ({fmt.cents(balance)}, account-wide, never resets{overdrawn})"
    )
    lines.append(row("resets", [f"{report.period.end:%Y-%m-%d %H:%M} UTC"]))
    return "\n".join(lines)
