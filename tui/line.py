"""``vectros-usage line``: one short status line for a tmux status bar or a prompt.

Quick on purpose: no Textual, no plotext. When the history store holds a poll of this
base URL younger than ``--max-age`` (the monitor's, or this command's own from a
previous call), the line comes from it without touching the network. Otherwise it
fetches once with a short timeout and records the poll, so the next call within tmux's
``status-interval`` is instant again. When that fetch fails it shows the last recorded
figures with their age and ``stale``; with nothing recorded, a word
(``vectros: unreachable``). The line is never empty, and the exit status still says
what happened (0 fresh, 3 token refused, 4 unreachable, 5 bad report).
"""

from __future__ import annotations

import asyncio
import math
import re
import string
import time
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from tui import format as fmt
from tui.rates import SHORT_WINDOW, Sample, rate, spent, used
from tui.report import SCOPES

if TYPE_CHECKING:
    from tui.client import Secret
    from tui.report import UsageReport

DEFAULT_MAX_AGE = 60.0
DEFAULT_TIMEOUT = 3.0
HIDDEN = "•••"
PLACEHOLDERS = (
    "credits_pct",  # 42.1%
    "credits",  # whole credits used this period: 2,833
    "credits_left",  # whole credits left of the allowance
    "balance",  # $1,234.56
    "spent",  # inference spent this period: $86.10
    "rate",  # credits per minute over the last 5 minutes: 1.3 cr/min
    "cents_rate",  # inference per minute: 3.0¢/min
    "age",  # of the figures: 12s, 5m, 3h, 2d
    "status",  # '' when fresh, else 'stale 12m' (or the failure's word)
    "period",  # 2026-12
)
Status = Literal["fresh", "stale"]
WORDS = {3: "token refused", 4: "unreachable", 5: "bad report", 2: "not configured"}


class Figures(NamedTuple):
    sample: Sample  # the newest poll of the total
    recent: Sequence[Sample]  # the total's polls of the last few minutes, oldest first
    allowance_milli: int | None
    currency: str
    # False: polls recorded by the monitor, which does not record the allowance and
    # currency; one fetch records them for every later line.
    limits_known: bool = True


def short_age(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def _pct(tenths: int | None) -> str:
    return "—" if tenths is None else f"{tenths // 10}.{tenths % 10}%"


def fields(figures: Figures, *, now: float, gap: float, hide_money: bool) -> dict[str, str]:
    s = figures.sample
    allowance = figures.allowance_milli
    credits_rate = rate(figures.recent, used, window=SHORT_WINDOW, gap=gap).per_minute
    cents_rate = rate(figures.recent, spent, window=SHORT_WINDOW, gap=gap).per_minute

    def money(cents: int | None) -> str:
        if hide_money:
            return HIDDEN
        return "—" if cents is None else fmt.money(cents, figures.currency)

    def per_min(value: Fraction | None, unit: str, scale: Fraction | int) -> str:
        """To a tenth of the unit, rounded: ``scale`` units of the figure make one tenth."""
        if value is None:
            return "—"
        t = math.floor(value / scale + Fraction(1, 2))
        return f"{t // 10:,}.{t % 10}{unit}"

    return {
        "credits_pct": _pct(
            None if allowance is None else fmt.ratio_tenths(s.used_milli, allowance)
        ),
        "credits": fmt.group(s.used_milli // 1000),
        "credits_left": "—" if allowance is None else fmt.group((allowance - s.used_milli) // 1000),
        "balance": money(s.balance_cents),
        "spent": money(s.spent_cents),
        "rate": per_min(credits_rate, " cr/min", 100),  # 100 milli-credits: 0.1 credit
        "cents_rate": HIDDEN if hide_money else per_min(cents_rate, "¢/min", Fraction(1, 10)),
        "age": short_age(now - s.wall),
        "period": f"{s.period[0]}-{s.period[1]:02d}",
    }


# A placeholder's spec may align, pad and cut (every value is text already): '>7',
# '^9', '.4'. Two digits at most, so no template asks for gigabytes of padding; number
# specs ('d', '.2f', '%') would fail on text, so they are refused here, not mid-line.
_SPEC = re.compile(r"(?:[^{}]?[<>^])?[0-9]{0,2}(?:\.[0-9]{1,2})?", re.ASCII)


def check_template(template: str) -> str:
    """A --format: only the known placeholders, with at most an alignment, a width and
    a cut (a mistake is a usage error, not a crash)."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"--format is not a valid template: {exc}") from None
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise ValueError(
                f"--format has unknown placeholder {{{name}}}; known: "
                + " ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
        if spec and _SPEC.fullmatch(spec) is None:
            raise ValueError(
                f"--format: {{{name}:{spec}}} is not a spec a placeholder takes; each value "
                "is text, so only alignment, a width up to 99 and a cut, e.g. {credits_pct:>6}"
            )
    try:  # what the checks above may have missed (a conversion, say) fails here
        template.format(**dict.fromkeys(PLACEHOLDERS, "x"))
    except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
        raise ValueError(f"--format is not a valid template: {exc}") from None
    return template


def problem(word: str, *, tmux: bool = False) -> str:
    """The line when there are no figures to show: ``vectros: <word>``."""
    text = f"vectros: {word}"
    return f"#[fg=red]{text}#[default]" if tmux else text


def render(
    figures: Figures | None,
    *,
    now: float,
    stale: bool,
    code: int,
    template: str | None = None,
    hide_money: bool = False,
    tmux: bool = False,
    gap: float = 180.0,
) -> str:
    """The line. Never empty: without figures it is ``vectros: <word>``."""
    if figures is None:
        return problem(WORDS.get(code, "no data"), tmux=tmux)
    values = fields(figures, now=now, gap=gap, hide_money=hide_money)
    word = WORDS.get(code) if code else None
    status = ""
    if stale:
        status = f"stale {values['age']}" + (f" ({word})" if word and code != 4 else "")
    values["status"] = status
    if template is not None:
        try:
            text = template.format(**values).strip() or "vectros"
        except (ValueError, KeyError, IndexError, AttributeError, TypeError, MemoryError):
            # check_template should have caught it; the line must still not be empty.
            return problem("bad --format", tmux=tmux)
    else:
        # Without an allowance there is no percentage: the credits used instead.
        head = values["credits_pct"] if figures.allowance_milli else values["credits"] + " cr"
        parts = [f"vectros {head}"]
        if not hide_money:
            parts.append(values["balance"])
        if values["rate"] != "—":
            parts.append(values["rate"])
        if status:
            parts.append(status)
        text = " · ".join(parts)
    if tmux and stale:
        return f"#[fg=yellow]{text}#[default]"
    return text


class LineOptions(NamedTuple):
    max_age: float = DEFAULT_MAX_AGE
    timeout: float = DEFAULT_TIMEOUT
    template: str | None = None
    hide_money: bool = False
    tmux: bool = False


def _from_history(path: Path | None, base_url: str, window: float) -> Figures | None:
    if path is None:
        return None
    from tui.history import HistoryError, latest_under

    try:
        latest = latest_under(path, base_url, window=window)
    except (HistoryError, OSError):
        return None  # a broken or locked file: fetch instead, never fail the line
    if latest is None:
        return None
    return Figures(
        latest.sample,
        latest.recent,
        latest.allowance_milli,
        latest.currency or "USD",
        limits_known=latest.currency is not None,
    )


def line(
    base_url: str,
    token: Secret,
    options: LineOptions,
    *,
    path: str,
    ca_bundle: str | None,
    history_path: Path | None,
) -> tuple[str, int]:
    """(the line, the exit status). ``history_path`` None: no history (--demo,
    --no-history): always fetch."""
    window = SHORT_WINDOW + 60
    gap = max(180.0, 3 * options.max_age)
    now = time.time()
    known = _from_history(history_path, base_url, window)
    if (
        known is not None
        and known.limits_known
        and -5 <= now - known.sample.wall <= options.max_age
    ):
        return _render(known, options, now=now, stale=False, code=0, gap=gap), 0

    from tui.client import Fetched, UsageClient, UsageError
    from tui.trend import sample_of

    async def fetch() -> Fetched:
        t = options.timeout
        async with UsageClient(
            base_url,
            token,
            path=path,
            ca_bundle=ca_bundle,
            connect_timeout=t,
            read_timeout=t,
            total_timeout=t,
        ) as client:
            return await client.fetch()

    try:
        fetched = asyncio.run(fetch())
    except UsageError as exc:
        code = 3 if exc.is_auth else 5 if exc.kind == "bad_report" else 4
        return _render(known, options, now=time.time(), stale=True, code=code, gap=gap), code
    report, received = fetched.report, fetched.received_at
    samples: dict[str, Sample] = {scope: sample_of(report, scope, received) for scope in SCOPES}
    recent: list[Sample] = [samples["total"]]
    if history_path is not None:
        recent = _record(history_path, base_url, report, samples, window) or recent
    figures = Figures(samples["total"], recent, report.allowance_milli, report.inference.currency)
    return _render(figures, options, now=time.time(), stale=False, code=0, gap=gap), 0


def _record(
    path: Path, base_url: str, report: UsageReport, samples: dict[str, Sample], window: float
) -> list[Sample] | None:
    """Keep this poll for the next call (and the monitor's rates); the recent polls."""
    from tui.history import History

    try:
        store = History(path, base_url, report.account.id or "")
        try:
            store.record(samples)
            store.set_limits(report.allowance_milli, report.inference.currency)
            return store.samples("total", since=samples["total"].at - window)
        finally:
            store.close()
    except Exception:  # a full disk or a broken file must not cost the line its figures
        return None


def _render(
    figures: Figures | None, options: LineOptions, *, now: float, stale: bool, code: int, gap: float
) -> str:
    return render(
        figures,
        now=now,
        stale=stale,
        code=code,
        template=options.template,
        hide_money=options.hide_money,
        tmux=options.tmux,
        gap=gap,
    )
