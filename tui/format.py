"""Formatting at the edge: integers in, text out. No floats touch a money figure.

Also the one place server text is made safe for a terminal (`safe_text`).
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from fractions import Fraction

_CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}

# C0 controls (ESC, BEL, CR, ...), DEL and C1 controls (0x80-0x9F, which include the
# 8-bit CSI and OSC introducers). Each is shown as a visible stand-in, never sent.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Bidirectional overrides can make text display in a different order than it reads;
# lone surrogates (JSON allows "\ud800") cannot be written to a terminal at all.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # ␛ for ESC, ␇ for BEL, ...
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def safe_text(text: str | None, *, limit: int = 120) -> str:
    """Server-chosen text, made inert for a terminal: controls shown, length capped."""
    if not text:
        return ""
    clean = _BIDI.sub("\ufffd", _CONTROL.sub(_picture, text))
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def group(n: int) -> str:
    return f"{n:,}"


def milli(milli_credits: int) -> str:
    """2891587 -> '2,891.587': the exact figure, to the milli-credit."""
    sign = "-" if milli_credits < 0 else ""
    whole, frac = divmod(abs(milli_credits), 1000)
    return f"{sign}{whole:,}.{frac:03d}"


def money(cents: int, currency: str = "USD") -> str:
    """48213 -> '$482.13'; -1234 -> '-$12.34'; other currencies as '482.13 EUR'."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    figure = f"{whole:,}.{frac:02d}"
    symbol = _CURRENCY_SIGNS.get(currency)
    return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {currency}"


def cents(cents: int) -> str:
    return f"{cents:,} ¢"


def ratio_tenths(part: int, whole: int) -> int | None:
    """part/whole in tenths of a percent, rounded down, exactly (no floats)."""
    if whole <= 0:
        return None
    return (part * 1000) // whole


def percent_tenths(tenths: int | None) -> str:
    if tenths is None:
        return "—"
    return f"{tenths // 10}.{tenths % 10} %"


def duration(seconds: float) -> str:
    """A short human duration: '3 s', '1 min 12 s', '2 h 05 min', '3 d 4 h'."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    minutes, s = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min {s:02d} s" if s else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def milli_rate(per_minute: Fraction) -> str:
    """Milli-credits per minute, to the nearest milli-credit: '12.345 credits/min'."""
    return f"{milli(math.floor(per_minute + Fraction(1, 2)))} credits/min"


def cents_rate(per_minute: Fraction) -> str:
    """Cents per minute to the nearest tenth of a cent: '3.2 ¢/min'.

    (Rounded, not cut: 1.49 ¢/min shown as 1.4 would disagree with the runway beside it.)
    """
    tenths = math.floor(per_minute * 10 + Fraction(1, 2))
    return f"{tenths // 10:,}.{tenths % 10} ¢/min"


def utc_when(moment: datetime) -> str:
    return f"{moment:%b} {moment.day} {moment:%H:%M} UTC"
