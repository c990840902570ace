"""Warn and critical levels: exact at the edges, monotone, and alerting once a crossing."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.thresholds import (
    RANK,
    AlertGate,
    Judgement,
    Thresholds,
    allowance_level,
    balance_level,
    judge,
    runway_level,
)

T = Thresholds()  # 75 / 90 %, $10.00 / $1.00, 24 h / 2 h


def test_edges_are_exact() -> None:
    # 75 % of 50,000 credits is 37,500,000 milli-credits: one milli below is still ok.
    assert allowance_level(37_499_999, 50_000_000, T) == "ok"
    assert allowance_level(37_500_000, 50_000_000, T) == "warn"
    assert allowance_level(45_000_000, 50_000_000, T) == "critical"
    assert allowance_level(90_000_000, 50_000_000, T) == "critical"  # over the allowance
    assert allowance_level(10, None, T) == "ok"  # no allowance reported: nothing to judge
    assert balance_level(1_001, T) == "ok"
    assert balance_level(1_000, T) == "warn"
    assert balance_level(100, T) == "critical"
    assert balance_level(-5, T) == "critical"  # overdrawn
    assert runway_level(Fraction(24 * 60 + 1), False, T) == "ok"
    assert runway_level(24 * 60, False, T) == "warn"
    assert runway_level(120, False, T) == "critical"
    assert runway_level(None, False, T) == "ok"  # unknown: not a warning
    assert runway_level(None, True, T) == "critical"  # exhausted


def test_a_level_turned_off_never_fires() -> None:
    off = Thresholds(
        credits_warn_percent=None,
        credits_critical_percent=None,
        balance_warn_cents=None,
        balance_critical_cents=None,
        runway_warn_minutes=None,
        runway_critical_minutes=None,
    )
    assert allowance_level(10**9, 1, off) == "ok"
    assert balance_level(-(10**9), off) == "ok"
    assert runway_level(0, False, off) == "ok"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"credits_warn_percent": 95, "credits_critical_percent": 90}, "must be at most"),
        ({"balance_warn_cents": 50, "balance_critical_cents": 100}, "must be at most"),
        ({"runway_warn_minutes": 10, "runway_critical_minutes": 60}, "must be at most"),
        ({"credits_warn_percent": 0}, "1 to 100"),
        ({"credits_critical_percent": 101}, "1 to 100"),
        ({"balance_warn_cents": -1}, "negative"),
        ({"balance_warn_cents": 10.5}, "whole number"),
        ({"runway_warn_minutes": True}, "whole number"),
        ({"bell": "yes"}, "true or false"),
        ({"cooldown_seconds": None}, "whole number"),
    ],
)
def test_bad_levels_are_refused_in_words(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Thresholds(**kwargs)  # type: ignore[arg-type]


@given(
    st.integers(0, 10**12),
    st.integers(0, 10**12),
    st.integers(1, 10**12),
    st.integers(1, 100),
    st.integers(1, 100),
)
def test_allowance_level_is_monotone_in_use(
    a: int, b: int, allowance: int, warn: int, critical: int
) -> None:
    warn, critical = min(warn, critical), max(warn, critical)
    t = Thresholds(credits_warn_percent=warn, credits_critical_percent=critical)
    low, high = sorted((a, b))
    assert RANK[allowance_level(low, allowance, t)] <= RANK[allowance_level(high, allowance, t)]


@given(st.integers(-(10**9), 10**9), st.integers(-(10**9), 10**9))
def test_less_balance_is_never_a_better_level(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert RANK[balance_level(low, T)] >= RANK[balance_level(high, T)]


@given(st.fractions(min_value=0, max_value=10**7), st.fractions(min_value=0, max_value=10**7))
def test_a_shorter_runway_is_never_a_better_level(a: Fraction, b: Fraction) -> None:
    short, long = sorted((a, b))
    assert RANK[runway_level(short, False, T)] >= RANK[runway_level(long, False, T)]


def test_judge_reads_each_runway_by_its_kind() -> None:
    levels = {
        j.axis: j.level
        for j in judge(
            used_milli=0,
            allowance_milli=1000,
            balance_cents=50_000,
            allowance_runway=("after_reset", None),  # lasts to the reset: fine
            balance_runway=("at", Fraction(90)),  # an hour and a half: critical
            t=T,
        )
    }
    assert levels == {
        "allowance": "ok",
        "balance": "ok",
        "allowance runway": "ok",
        "balance runway": "critical",
    }


def test_the_gate_alerts_on_a_crossing_once_per_cooldown() -> None:
    gate = AlertGate(cooldown_seconds=300)

    def levels(level: str, now: float) -> list[str]:
        return [j.level for j in gate.update([Judgement("balance", level)], now)]  # type: ignore[arg-type]

    assert levels("ok", 0) == []
    assert levels("warn", 10) == ["warn"]  # crossed upwards: alert
    assert levels("warn", 20) == []  # still warn: said already
    assert levels("critical", 30) == []  # worse, but within the cooldown
    assert levels("ok", 40) == []  # better: re-armed, nothing to say
    assert levels("critical", 400) == ["critical"]  # cooldown over: alert again
    assert levels("critical", 900) == []  # no new crossing


def test_a_level_flapping_poll_to_poll_is_one_alert() -> None:
    gate = AlertGate(cooldown_seconds=300, settle_seconds=120)
    said = []
    for t in range(0, 2000, 5):  # warn, ok, warn, ok… every 5 s for half an hour
        level = "warn" if (t // 5) % 2 == 0 else "ok"
        said += gate.update([Judgement("allowance runway", level)], t)  # type: ignore[arg-type]
    assert [j.level for j in said] == ["warn"]


def test_a_level_that_stayed_better_alerts_again_on_the_next_crossing() -> None:
    gate = AlertGate(cooldown_seconds=300, settle_seconds=120)
    assert gate.update([Judgement("balance", "warn")], 0)
    for t in range(10, 400, 10):  # back to ok, seen on every poll, for over 2 minutes
        assert not gate.update([Judgement("balance", "ok")], t)
    assert [j.level for j in gate.update([Judgement("balance", "warn")], 400)] == ["warn"]


def test_the_gate_keeps_axes_apart() -> None:
    gate = AlertGate(cooldown_seconds=300)
    first = gate.update([Judgement("balance", "warn"), Judgement("allowance", "ok")], 0)
    second = gate.update([Judgement("balance", "warn"), Judgement("allowance", "warn")], 1)
    assert [j.axis for j in first] == ["balance"]
    assert [j.axis for j in second] == ["allowance"]


def test_runway_levels_turned_off_do_not_warn_for_running_out_before_the_reset() -> None:
    from tui.thresholds import allowance_runway_level

    off = Thresholds(runway_warn_minutes=None, runway_critical_minutes=None)
    assert allowance_runway_level("at", Fraction(10_000), off) == "ok"
    assert allowance_runway_level("at", Fraction(10_000), T) == "warn"  # before the reset
    assert allowance_runway_level("exhausted", None, off) == "critical"
