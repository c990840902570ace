from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui import format as fmt


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_milli_is_exact_to_the_milli_credit(n: int) -> None:
    text = fmt.milli(n)
    assert int(text.replace(",", "").replace(".", "")) == n
    assert text.count(".") == 1 and len(text.split(".")[1]) == 3


@given(st.integers(min_value=-(10**13), max_value=10**13))
def test_money_is_exact_to_the_cent(cents: int) -> None:
    text = fmt.money(cents, "USD")
    assert int(text.replace("$", "").replace(",", "").replace(".", "")) == cents


def test_money_formats() -> None:
    assert fmt.money(48213) == "$482.13"
    assert fmt.money(-1234) == "-$12.34"
    assert fmt.money(5, "EUR") == "€0.05"
    assert fmt.money(100, "CHF") == "1.00 CHF"


@given(st.integers(0, 10**12), st.integers(1, 10**12))
def test_ratio_tenths_is_floor_of_exact_ratio(part: int, whole: int) -> None:
    tenths = fmt.ratio_tenths(part, whole)
    assert tenths is not None
    assert tenths * whole <= part * 1000 < (tenths + 1) * whole


def test_ratio_without_an_allowance_is_unknown() -> None:
    assert fmt.ratio_tenths(5, 0) is None
    assert fmt.percent_tenths(None) == "—"
    assert fmt.percent_tenths(58) == "5.8 %"


def test_safe_text_neutralises_terminal_escapes() -> None:
    hostile = "Org\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil"
    shown = fmt.safe_text(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\u202e" not in shown
    assert shown.startswith("Org␛]0;pwned␇␛[2J")


@given(st.text())
def test_safe_text_never_lets_a_control_character_through(text: str) -> None:
    shown = fmt.safe_text(text, limit=10_000)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)


def test_duration_words() -> None:
    assert fmt.duration(3) == "3 s"
    assert fmt.duration(72) == "1 min 12 s"
    assert fmt.duration(3 * 3600 + 12 * 60) == "3 h 12 min"
    assert fmt.duration(28 * 86400 + 13 * 3600) == "28 d 13 h"
