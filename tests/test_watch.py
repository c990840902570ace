"""``watch``, the budget guard: the accounting (pure, hypothesis) and the command as a
real subprocess against the simulator and scripted servers over loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import example
from tests.servers import ScriptedServer, json_reply
from tui.rates import Sample
from tui.simulator import Simulator
from tui.watch import (
    Budget,
    SpendMeter,
    exceeded,
    parse_cents,
    parse_credits,
    parse_duration,
)

# --------------------------------------------------------------------- parsing


def test_budgets_parse_exactly_without_floats() -> None:
    assert parse_credits("12.5") == 12_500
    assert parse_credits("0.1") == 100
    assert parse_credits("0.001") == 1
    assert parse_credits("3") == 3_000
    assert parse_credits("0") == 0
    assert parse_cents("500") == 500
    assert parse_credits("007.250") == 7_250
    for bad in ("0.0001", "-1", "nan", "inf", "", "abc", "1e400"):
        with pytest.raises(ValueError):
            parse_credits(bad)
    for bad in ("5.00", "-5", "", "5c", "٣"):
        with pytest.raises(ValueError):
            parse_cents(bad)


@pytest.mark.parametrize(
    "bad", ["1e3", "1E3", "1_000", "١٠", "１０", "+5", " 5", "5\n", ".5", "5.", "1,000", "0x10"]
)
def test_budgets_are_plain_ascii_decimals_only(bad: str) -> None:
    with pytest.raises(ValueError, match="plain digits"):
        parse_credits(bad)
    with pytest.raises(ValueError, match="plain digits"):
        parse_cents(bad)


def test_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("15m") == 900
    assert parse_duration("1h30m") == 5400
    assert parse_duration("1h2m3s") == 3723
    assert parse_duration("2.5") == 2.5
    for bad in ("", "0", "0s", "1d", "m", "1m1h", "nan", "-3"):
        with pytest.raises(ValueError):
            parse_duration(bad)


# --------------------------------------------------------------------- accounting

DEC, JAN = (2026, 12), (2027, 1)


def polls(at: float, period: tuple[int, int], used: int, spent: int, balance: int = 0) -> dict:
    return {
        "total": Sample(at, at, period, used, spent, balance),
        "live": Sample(at, at, period, used, spent),
        "test": Sample(at, at, period, 0, 0),
    }


def test_a_correction_never_counts_negative_and_the_climb_after_it_counts() -> None:
    meter = SpendMeter()
    meter.add(polls(0, DEC, 1_000, 100))
    meter.add(polls(60, DEC, 1_500, 150))
    meter.add(polls(120, DEC, 1_200, 120))  # the server revised down
    assert meter.used_milli["total"] == 500 and meter.spent_cents["total"] == 50
    meter.add(polls(180, DEC, 1_300, 130))  # real use from the corrected figure
    assert meter.used_milli["total"] == 600 and meter.spent_cents["total"] == 60


def test_a_rollover_carries_on_and_counts_the_closed_months_tail() -> None:
    meter = SpendMeter()
    meter.add(polls(0, DEC, 9_000, 900))
    meter.add(polls(60, DEC, 9_500, 950))
    closing = polls(90, DEC, 9_800, 980)  # the closed month's final figures
    meter.add(polls(120, JAN, 200, 20), closing)
    assert meter.used_milli["total"] == 500 + 300 + 200
    assert meter.spent_cents["total"] == 50 + 30 + 20
    # Without the closed month's report, what is known still counts, and never negative.
    blind = SpendMeter()
    blind.add(polls(0, DEC, 9_000, 900))
    blind.add(polls(60, DEC, 9_500, 950))
    blind.add(polls(120, JAN, 200, 20))
    assert blind.used_milli["total"] == 700 and blind.spent_cents["total"] == 70


def test_a_top_up_is_not_spend_and_an_earlier_month_is_not_counted() -> None:
    meter = SpendMeter()
    meter.add(polls(0, DEC, 0, 100, balance=1_000))
    meter.add(polls(60, DEC, 0, 110, balance=50_990))  # $500 in, 10 ¢ spent
    assert meter.spent_cents["total"] == 10
    assert meter.add(polls(120, (2026, 11), 0, 99_999)) == {}
    assert meter.spent_cents["total"] == 10
    budget = Budget(None, 9)
    assert exceeded(meter, budget) == [("inference", 10, 1)]
    assert exceeded(meter, Budget(None, 10)) == []  # at the budget is within it


# A month of polls: each step either climbs, is corrected down, or rolls over.
step = st.tuples(
    st.sampled_from(["climb", "climb", "climb", "correct", "rollover"]),
    st.integers(0, 5_000),
    st.integers(0, 500),
)


@given(start=st.tuples(st.integers(0, 10**6), st.integers(0, 10**5)), steps=st.lists(step))
def test_spend_since_start_is_never_negative_and_never_goes_down(
    start: tuple[int, int], steps: list[tuple[str, int, int]]
) -> None:
    meter = SpendMeter()
    used, spent = start
    period = DEC
    meter.add(polls(0, period, used, spent))
    seen = (0, 0)
    for i, (kind, du, dc) in enumerate(steps, 1):
        if kind == "rollover":
            period = (period[0] + period[1] // 12, period[1] % 12 + 1)
            used, spent = du, dc
        elif kind == "correct":
            used, spent = max(0, used - du), max(0, spent - dc)
        else:
            used, spent = used + du, spent + dc
        meter.add(polls(60 * i, period, used, spent))
        now = (meter.used_milli["total"], meter.spent_cents["total"])
        assert now[0] >= seen[0] >= 0 and now[1] >= seen[1] >= 0
        seen = now


@given(
    months=st.lists(
        st.tuples(st.integers(0, 10**6), st.lists(st.integers(0, 10**4), min_size=1)),
        min_size=1,
        max_size=5,
    )
)
def test_without_corrections_spend_is_exactly_what_was_used(
    months: list[tuple[int, list[int]]],
) -> None:
    """Each month: a figure at its first poll, climbs at each later one, and a tail
    the closed month's own report shows. Counted: every climb and tail, plus each new
    month's figure at its first poll; nothing of the first month before the start."""
    meter = SpendMeter()
    at, expected = 0.0, 0
    period = DEC
    previous_end: dict[str, Sample] | None = None
    for index, (first_figure, climbs) in enumerate(months):
        figure = first_figure
        meter.add(polls(at, period, figure, 0), previous_end)
        if index:
            expected += figure
        for c in climbs[:-1]:
            at += 60
            figure += c
            expected += c
            meter.add(polls(at, period, figure, 0))
        tail = climbs[-1]
        previous_end = polls(at + 30, period, figure + tail, 0)
        if index < len(months) - 1:
            expected += tail
        at += 60
        period = (period[0] + period[1] // 12, period[1] % 12 + 1)
    assert meter.used_milli["total"] == expected


# --------------------------------------------------------------------- the command

FROZEN_ARGS = ["--speed", "0", "--start", "2026-12-03T10:30:00Z"]


def env_for(base_url: str | None = None, token: str = "demo-billing") -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("VECTROS_BASE_URL", "VECTROS_TOKEN")}
    if base_url is not None:
        base |= {"VECTROS_BASE_URL": base_url, "VECTROS_TOKEN": token}
    return base


def watch(
    *args: str, base_url: str | None = None, token: str = "demo-billing", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "watch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env_for(base_url, token),
        check=False,
    )


def json_lines(stdout: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines()]  # every line parses
    assert lines and lines[-1]["event"] == "summary"
    return lines


def ints_only(obj: Any) -> None:
    """Money is an integer everywhere: no float hides in a figure."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key not in ("durationSeconds", "serverSeconds"):
                ints_only(value)
    elif isinstance(obj, list):
        for value in obj:
            ints_only(value)
    else:
        assert not isinstance(obj, float), obj


def test_a_budget_exceeded_exits_6_with_the_summary_last() -> None:
    done = watch("--demo", "--budget-credits", "2", "--json")
    assert done.returncode == 6, done.stderr
    lines = json_lines(done.stdout)
    for line in lines:
        ints_only(line)
    assert lines[0]["event"] == "start" and lines[0]["demo"] is True
    summary = lines[-1]
    assert summary["exit"] == 6
    assert summary["exceeded"][0]["axis"] == "credits"
    total = summary["spend"]["total"]["usedMilli"]
    assert total > 2_000 and summary["exceeded"][0]["over"] == total - 2_000
    assert total == summary["spend"]["live"]["usedMilli"] + summary["spend"]["test"]["usedMilli"]
    changes = [line for line in lines if line["event"] == "change"]
    assert changes and changes[-1]["spend"]["usedMilli"] == total
    assert changes[-1]["budgetPermille"]["credits"] > 1000
    assert changes[-1]["budgetPermille"]["inference"] is None
    assert summary["perMinute"]["total"]["usedMilli"] > 0
    assert "credits budget exceeded on total" in done.stderr


def test_within_budget_for_3s_exits_0_in_human_form() -> None:
    started = time.monotonic()
    done = watch("--demo", "--budget-credits", "1000", "--budget-cents", "10000", "--for", "3s")
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 30
    out = done.stdout.splitlines()
    assert any("total  +" in line and "budget credits" in line for line in out)
    summary = out.index(next(line for line in out if line.startswith("summary:")))
    assert "within budget" in out[summary]
    assert [line.split()[0] for line in out[summary + 2 :]] == ["total", "live", "test"]
    assert "watching total" in done.stderr  # the start is a message, not the record


def test_a_test_environment_budget_and_the_inference_axis() -> None:
    done = watch(
        "--demo", "--scenario", "noisy-test-loop", "--env", "test", "--budget-cents", "0", "--json"
    )
    assert done.returncode == 6, done.stderr
    summary = json_lines(done.stdout)[-1]
    assert summary["env"] == "test"
    assert summary["exceeded"][0]["axis"] == "inference"
    assert summary["spend"]["test"]["spentCents"] > 0


def test_a_refused_token_exits_3_at_once(simulator: Simulator) -> None:
    done = watch("--budget-credits", "1", base_url=simulator.base_url, token="nope-nope")
    assert done.returncode == 3
    assert "refused (401)" in done.stderr and "nope-nope" not in done.stderr + done.stdout
    assert done.stdout.splitlines()[0].startswith("summary: the token was refused")
    scoped = watch(
        "--budget-credits", "1", "--json", base_url=simulator.base_url, token="demo-records"
    )
    assert scoped.returncode == 3
    assert json_lines(scoped.stdout)[-1]["polls"] == 0


def test_unreachable_is_retried_then_given_up_with_4() -> None:
    done = watch(
        "--budget-credits", "1", "--interval", "1", "--max-outage", "2", "--json",
        base_url="http://127.0.0.1:9",
    )  # fmt: skip
    assert done.returncode == 4
    assert "retrying in" in done.stderr and "giving up" in done.stderr
    summary = json_lines(done.stdout)[-1]
    assert summary["exit"] == 4 and summary["failedPolls"] >= 2 and summary["polls"] == 0


def test_a_bad_report_exits_5() -> None:
    with ScriptedServer(lambda h: json_reply(200, b'{"object": "usage_report"}')) as server:
        done = watch("--budget-credits", "1", base_url=server.base_url, token="abcd")
    assert done.returncode == 5
    assert "bad report" in done.stderr
    assert "summary:" in done.stdout


def test_a_5xx_and_a_429_are_retried_and_watching_carries_on() -> None:
    body = json.dumps(example("current-period.json")).encode()
    answers = iter([(503, b"{}"), (429, b"{}")])

    def script(handler: object) -> tuple[int, dict[str, str], bytes]:
        status, reply = next(answers, (200, body))
        return json_reply(status, reply, **({"Retry-After": "1"} if status == 429 else {}))

    with ScriptedServer(script) as server:
        done = watch(
            "--budget-credits", "1", "--interval", "1", "--for", "5s", "--json",
            base_url=server.base_url, token="abcd",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "server trouble (503)" in done.stderr and "throttled" in done.stderr
    summary = json_lines(done.stdout)[-1]
    assert summary["failedPolls"] == 2 and summary["polls"] >= 1


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--budget-credits", "1.0001"],
        ["--budget-cents", "1.5"],
        ["--budget-credits", "1", "--for", "0"],
        ["--budget-credits", "1", "--env", "staging"],
        ["--budget-credits", "1", "--interval", "0.2"],
    ],
)
def test_bad_flags_are_usage_errors(args: list[str]) -> None:
    done = watch("--demo", *args)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr


def _spend_series(lines: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [
        (line["spend"]["usedMilli"], line["spend"]["spentCents"])
        for line in lines
        if line["event"] == "change"
    ]


def test_month_end_never_gives_negative_spend_and_carries_on() -> None:
    # 15 virtual minutes before the month ends, at ×300: the rollover ~3 s in.
    done = watch(
        "--demo", "--scenario", "month-end", "--speed", "300", "--for", "7s", "--json",
        "--budget-credits", "100000",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    assert any(line["event"] == "rollover" for line in lines)
    series = _spend_series(lines)
    assert series and all(u >= 0 and c >= 0 for u, c in series)
    assert series == sorted(series)  # never goes down, not even at the reset
    assert all(line["delta"]["usedMilli"] >= 0 for line in lines if line["event"] == "change")


def test_a_top_up_is_not_counted_as_spend() -> None:
    # The balance gets $500.00 ten virtual minutes in: at ×150, 4 s in.
    done = watch(
        "--demo", "--scenario", "top-up", "--speed", "150", "--for", "7s", "--json",
        "--budget-cents", "5000",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stdout)
    top_ups = [line for line in lines if line["event"] == "top-up"]
    assert top_ups and top_ups[0]["amount"] >= 50_000
    summary = lines[-1]
    assert 0 < summary["spend"]["total"]["spentCents"] < 5_000


def _read_until(proc: subprocess.Popen[str], wanted: Callable[[dict[str, Any]], bool]) -> list:
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line, "watch ended early"
        seen.append(json.loads(line))
        if wanted(seen[-1]):
            return seen
    raise AssertionError(f"not seen in time: {seen}")


def test_spend_across_a_rollover_is_exact_and_sigterm_prints_the_summary(
    make_simulator: Callable[..., Simulator],
) -> None:
    start = datetime(2027, 1, 1, tzinfo=UTC) - timedelta(minutes=2)
    sim = make_simulator(start=start)
    first = sim.model.report()["credits"]["usedMilli"]
    command = ["watch", "--json", "--budget-credits", "100000", "--interval", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(sim.base_url),
    )
    try:
        _read_until(proc, lambda line: line["event"] == "start")
        sim.clock.advance(60)
        _read_until(proc, lambda line: line["event"] == "change")
        sim.clock.advance(180)  # past midnight: January
        _read_until(proc, lambda line: line["event"] == "change")
        december = sim.model.report((2026, 12))["credits"]["usedMilli"]
        january = sim.model.report()["credits"]["usedMilli"]
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["event"] == "summary" and summary["reason"] == "stopped by SIGTERM"
    assert "stopped by SIGTERM" in err  # why it stopped, on stderr too
    assert "watching total from" in err  # with --json the start is said as well
    assert summary["spend"]["total"]["usedMilli"] == (december - first) + january


def test_sigint_mid_watch_prints_the_human_summary() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "watch", "--demo", "--budget-credits", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(),
    )
    assert proc.stdout is not None
    try:
        assert "+" in proc.stdout.readline()  # the first change line
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "summary: stopped by SIGINT" in out
    assert "stopped by SIGINT" in err
    assert "Traceback" not in err


def test_sighup_prints_the_summary_last_and_says_why() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "watch", "--demo", "--json", "--budget-credits", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(),
    )
    try:
        _read_until(proc, lambda line: line["event"] == "change")
        proc.send_signal(signal.SIGHUP)  # the SSH session dropped
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGHUP, err
    summary = json.loads(out.splitlines()[-1])
    assert summary["event"] == "summary" and summary["reason"] == "stopped by SIGHUP"
    assert summary["exit"] == 129
    assert "stopped by SIGHUP" in err and "Traceback" not in err


def test_durations_in_the_summary_are_always_floats() -> None:
    # A frozen clock: no server time passes, which once came out as the integer 0.
    done = watch("--demo", *FROZEN_ARGS, "--budget-credits", "1", "--for", "2s", "--json")
    assert done.returncode == 0, done.stderr
    summary = json_lines(done.stdout)[-1]
    assert summary["serverSeconds"] == 0 and isinstance(summary["serverSeconds"], float)
    assert isinstance(summary["durationSeconds"], float)


def test_a_cents_budget_on_a_report_without_inference_spend_is_a_bad_report() -> None:
    body = json.dumps(example("minimal.json")).encode()
    with ScriptedServer(lambda h: json_reply(200, body)) as server:
        cents = watch("--budget-cents", "100", base_url=server.base_url, token="abcd")
        credits = watch(
            "--budget-credits", "1", "--for", "1s", base_url=server.base_url, token="abcd"
        )
    assert cents.returncode == 5
    assert "cannot be judged" in cents.stderr
    assert credits.returncode == 0, credits.stderr  # the credits can still be guarded


def test_a_reader_that_leaves_early_does_not_stop_the_guard() -> None:
    shell = (
        f"{sys.executable} -m tui watch --demo --budget-credits 3 --json | head -n 1 >/dev/null;"
        " exit ${PIPESTATUS[0]}"
    )
    done = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, timeout=60, env=env_for()
    )
    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
