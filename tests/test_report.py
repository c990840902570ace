"""The report model on the contract's examples, and on everything that breaks it."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import EXAMPLES, example
from tui.report import MAX_FIGURE, ReportError, UsageReport, parse_report, report_from_data


def test_current_period_example_parses_to_exact_integers() -> None:
    report = parse_report((EXAMPLES / "current-period.json").read_bytes())
    assert report.account.name == "Example Org"
    assert report.period.key == (2026, 12)
    assert report.credits.used_milli == 2891587
    assert report.used_milli("live") == 2115683
    assert report.used_milli("test") == 775904
    assert report.allowance_milli == 50_000_000
    assert report.inference.balance_cents == 48213
    assert report.spent_cents("total") == 4967
    assert report.spent_cents("live") == 3815
    assert report.calls("total") == 2210 + 610
    assert report.breakdown("total")["ingests"].count == 431
    assert report.warnings == ()
    for figure in (report.credits.used_milli, report.inference.balance_cents):
        assert type(figure) is int


def test_sparse_daily_is_filled_with_zero_days_across_the_month() -> None:
    report = parse_report((EXAMPLES / "current-period.json").read_bytes())
    series = report.daily_series()
    assert len(series) == 31
    assert series[0].day == date(2026, 12, 1)
    assert series[1].test.used_milli == 0  # 2 December has no test entry
    assert series[1].live.used_milli == 901220
    assert series[3].figures("total").used_milli == 0  # a day not in `daily` at all
    assert series[2].figures("total").used_milli == 402118 + 655900


def test_minimal_example_leaves_optional_parts_unknown() -> None:
    report = parse_report((EXAMPLES / "minimal.json").read_bytes())
    assert report.allowance_milli is None
    assert report.daily is None
    assert report.account.name is None
    assert report.spent_cents("total") is None
    assert report.inference.currency == "USD"
    assert report.warnings == ()
    assert report.period.end.month == 1 and report.period.end.year == 2027


@pytest.mark.parametrize(
    "name", ["error-401.json", "error-403-insufficient-scope.json", "error-429.json"]
)
def test_error_bodies_are_not_reports(name: str) -> None:
    with pytest.raises(ReportError, match="period: is missing"):
        parse_report((EXAMPLES / name).read_bytes())


def _mutated(path: list[str | int], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(example("current-period.json"))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (["credits", "usedMilli"], 1.5, "credits.usedMilli"),
        (["credits", "usedMilli"], "2891587", "credits.usedMilli"),
        (["credits", "usedMilli"], True, "credits.usedMilli"),
        (["credits", "usedMilli"], -1, "credits.usedMilli"),
        (["credits", "usedMilli"], MAX_FIGURE + 1, "credits.usedMilli"),
        (["credits", "usedMilli"], None, "credits.usedMilli"),
        (["inference", "balanceCents"], 482.13, "inference.balanceCents"),
        (["environments", "live", "credits", "usedMilli"], -5, "environments.live.credits"),
        (["environments", "test", "inference", "spentCents"], "9", "environments.test.inf"),
        (["period", "month"], 13, "period.month"),
        (["period", "year"], 1999, "period.year"),
        (["period", "start"], "2026-11-01T00:00:00Z", "period.start"),
        (["limits", "creditAllowanceMilli"], -1, "limits.creditAllowanceMilli"),
        (["daily", 0, "date"], "2026-11-30", "daily[0].date"),
        (["daily", 1, "date"], "2026-12-01", "daily[1].date"),
        (["daily", 0, "live", "usedMilli"], 1e3, "daily[0].live.usedMilli"),
        (["account", "name"], 42, "account.name"),
        (["inference", "currency"], "dollars", "inference.currency"),
        (["object"], "list", "object"),
        (["credits"], [], "credits"),
    ],
)
def test_contract_violations_name_the_field(path: list[str | int], value: Any, field: str) -> None:
    body = json.dumps(_mutated(path, value))
    with pytest.raises(ReportError) as caught:
        parse_report(body)
    assert field in str(caught.value)


@pytest.mark.parametrize("section", ["period", "credits", "inference", "environments"])
def test_missing_required_section(section: str) -> None:
    data = example("current-period.json")
    del data[section]
    with pytest.raises(ReportError, match=f"{section}: is missing"):
        report_from_data(data)


@pytest.mark.parametrize(
    "body",
    [
        '{"period": {"year": 2026, "month": 12}, "credits": {"usedMilli": NaN}}',
        '{"period": {"year": 2026, "month": 12}, "credits": {"usedMilli": Infinity}}',
        '{"period": {"year": 2026, "month": 12}, "credits": {"usedMilli": -Infinity}}',
        "not json at all",
        '{"period": {"year": 2026, "mon',
        "[1, 2, 3]",
        "",
        "1" * 5000,
        "[" * 100_000,
        b"\xff\xfe{",
    ],
)
def test_bodies_that_are_not_reports_are_clear_errors(body: str | bytes) -> None:
    with pytest.raises(ReportError):
        parse_report(body)


def test_live_plus_test_not_matching_total_is_flagged_not_hidden() -> None:
    report = report_from_data(_mutated(["credits", "usedMilli"], 2891000))
    assert report.credits.used_milli == 2891000  # the server's figure, as it said
    assert any("live + test = 2891587" in w for w in report.warnings)


def test_whole_credits_disagreeing_with_milli_is_flagged() -> None:
    report = report_from_data(_mutated(["credits", "used"], 9))
    assert any("says 9 credits" in w for w in report.warnings)


def test_missing_environment_is_zero_and_said() -> None:
    data = example("current-period.json")
    del data["environments"]["test"]
    report = report_from_data(data)
    assert not report.test.present
    assert report.used_milli("test") == 0
    assert any("test environment is missing" in w for w in report.warnings)


def test_negative_balance_is_an_overdraft_not_an_error() -> None:
    report = report_from_data(_mutated(["inference", "balanceCents"], -1250))
    assert report.inference.balance_cents == -1250


def test_unknown_fields_are_ignored() -> None:
    data = example("minimal.json")
    data["surprise"] = {"nested": [1, 2]}
    data["credits"]["alsoNew"] = "x"
    assert report_from_data(data).credits.used_milli == 2891687


def test_allowance_prefers_the_exact_figure() -> None:
    data = example("minimal.json")
    data["limits"] = {"creditAllowance": 7, "creditAllowanceMilli": 7500}
    assert report_from_data(data).allowance_milli == 7500
    data["limits"] = {"creditAllowance": 7}
    assert report_from_data(data).allowance_milli == 7000


figures = st.integers(min_value=0, max_value=10**12)


@given(live=figures, test=figures, balance=st.integers(-(10**9), 10**12), spent=figures)
def test_json_round_trip_keeps_every_figure_as_the_same_integer(
    live: int, test: int, balance: int, spent: int
) -> None:
    data = example("minimal.json")
    data["environments"]["live"]["credits"]["usedMilli"] = live
    data["environments"]["test"]["credits"]["usedMilli"] = test
    data["credits"]["usedMilli"] = live + test
    data["inference"] = {"balanceCents": balance, "spentCents": spent}
    report = report_from_data(data)
    again: UsageReport = report_from_data(json.loads(json.dumps(report.to_json())))
    assert again.credits.used_milli == live + test
    assert again.used_milli("live") == live
    assert again.inference.balance_cents == balance
    assert again.spent_cents("total") == spent
    assert report.warnings == ()


def test_environment_figure_off_by_a_credit_count_is_flagged_both_ways() -> None:
    data = example("current-period.json")
    data["environments"]["live"]["credits"]["usedMilli"] += 1_000_000
    report = report_from_data(data)
    assert any("environments.live.credits.used says 2115" in w for w in report.warnings)
    assert any(w.startswith("live + test = 3891587") for w in report.warnings)


def test_generated_before_its_own_period_is_flagged() -> None:
    report = report_from_data(_mutated(["generatedAt"], "2020-01-01T00:00:00Z"))
    assert any("before the period it reports" in w for w in report.warnings)


def test_total_calls_are_unknown_when_an_environment_is_left_out() -> None:
    data = example("current-period.json")
    del data["environments"]["live"]
    report = report_from_data(data)
    assert any("live environment is missing" in w for w in report.warnings)
    assert report.spent_cents("total") == 4967  # the account's own figure, both envs
    assert report.calls("test") == 610
    assert report.calls("total") is None  # not 610: that would be the test env's alone
