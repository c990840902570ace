"""The simulator's model: deterministic, consistent, and true to the two budgets' rules."""

from __future__ import annotations

import re
import socket
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import FROZEN_START
from tui.client import Secret, UsageClient, UsageError
from tui.report import report_from_data
from tui.simulator import Simulator, UsageModel, VirtualClock


def model(scenario: str = "steady", seed: int = 1, start: datetime = FROZEN_START) -> UsageModel:
    return UsageModel(scenario=scenario, seed=seed, clock=VirtualClock(start, speed=0))


def test_same_seed_same_report_other_seed_other_figures() -> None:
    assert model(seed=7).report() == model(seed=7).report()
    assert model(seed=7).report()["credits"] != model(seed=8).report()["credits"]


def test_report_keeps_the_contract_and_adds_up() -> None:
    data = model().report()
    report = report_from_data(data)
    assert report.warnings == ()
    assert report.used_milli("live") + report.used_milli("test") == report.credits.used_milli
    daily_milli = sum(d.live.used_milli + d.test.used_milli for d in report.daily or ())
    daily_cents = sum(d.live.inference_cents + d.test.inference_cents for d in report.daily or ())
    assert daily_milli == report.credits.used_milli
    assert daily_cents == report.spent_cents("total")
    assert report.generated_at == FROZEN_START


def test_figures_move_forward_with_the_clock() -> None:
    m = model()
    before = report_from_data(m.report())
    m.clock.advance(600)
    after = report_from_data(m.report())
    assert after.credits.used_milli > before.credits.used_milli
    assert after.spent_cents("total") >= before.spent_cents("total")  # type: ignore[operator]
    assert after.inference.balance_cents <= before.inference.balance_cents


@pytest.mark.parametrize("scenario", ["steady", "noisy-test-loop", "month-end"])
def test_a_long_running_model_reports_what_a_fresh_one_does(scenario: str) -> None:
    """Whole days are worked out once and kept; a day in progress never is."""
    start = datetime(2026, 12, 30, 20, 7, tzinfo=UTC)
    running = model(scenario, start=start)
    for step in range(40):  # 40 polls, 97 minutes apart: across midnights and a month
        running.clock.advance(97 * 60)
        fresh = model(scenario, start=start)
        fresh.clock.advance((step + 1) * 97 * 60)
        report = running.report()
        assert report == fresh.report()
        for env in ("live", "test"):  # the days add up to the period so far, no more
            days = sum(d.get(env, {}).get("usedMilli", 0) for d in report["daily"])
            assert days == report["environments"][env]["credits"]["usedMilli"]
        if step % 10 == 0:
            assert running.report((2026, 12)) == fresh.report((2026, 12))


def test_within_a_minute_figures_still_move_at_real_time_speed() -> None:
    m = model()
    first = m.report()["credits"]["usedMilli"]
    m.clock.advance(5)
    assert m.report()["credits"]["usedMilli"] > first


def test_month_end_resets_credits_not_the_balance() -> None:
    m = model("month-end", start=datetime(2026, 12, 31, 23, 45, tzinfo=UTC))
    december = report_from_data(m.report())
    assert december.period.key == (2026, 12)
    m.clock.advance(14 * 60)
    last = report_from_data(m.report())
    m.clock.advance(2 * 60)  # now 00:01 on 1 January
    january = report_from_data(m.report())
    assert january.period.key == (2027, 1)
    assert january.credits.used_milli < last.credits.used_milli  # the allowance reset
    assert january.credits.used_milli < 100_000  # a minute's worth, not a month's
    # The balance carries on: only a minute or two of spend lower, never reset.
    assert 0 <= last.inference.balance_cents - january.inference.balance_cents < 100
    # December, asked for as a past period, is the whole month, at least what we saw.
    closed = report_from_data(m.report((2026, 12)))
    assert closed.credits.used_milli >= last.credits.used_milli
    assert closed.inference.balance_cents >= january.inference.balance_cents


LATE_START = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)  # 30 days of the month before it


def test_a_late_month_start_reports_its_days_drawn_by_the_hour() -> None:
    m = model(start=LATE_START)
    report = report_from_data(m.report())
    assert report.warnings == ()
    daily_milli = sum(d.live.used_milli + d.test.used_milli for d in report.daily or ())
    assert daily_milli == report.credits.used_milli
    assert 29 <= len(report.daily or ()) <= 31  # the frozen day may be left out


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["live", "test"]),
    st.sampled_from(["credits", "cents"]),
    st.lists(st.integers(0, 30 * 1440 * 60), min_size=3, max_size=3, unique=True).map(sorted),
)
def test_days_before_the_run_add_up_to_the_minute(env: str, axis: str, seconds: list[int]) -> None:
    # Those days are drawn an hour at a time and spread over their minutes: any moment
    # within them splits a span into two parts that add up to it, and none is negative.
    m = model(start=LATE_START)
    a, b, c = (datetime(2026, 12, 1, tzinfo=UTC) + timedelta(seconds=s) for s in seconds)
    whole = m._span(env, axis, a, c)  # type: ignore[arg-type]
    first, second = m._span(env, axis, a, b), m._span(env, axis, b, c)  # type: ignore[arg-type]
    assert first >= 0 and second >= 0
    assert first + second == whole


def test_past_period_is_consistent_with_the_running_figures() -> None:
    m = model(start=datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    m.clock.advance(3600 - 1)
    end_of_november = report_from_data(m.report())
    m.clock.advance(3 * 86400)
    november = report_from_data(m.report((2026, 11)))
    assert november.period.key == (2026, 11)
    diff = november.credits.used_milli - end_of_november.credits.used_milli
    assert 0 <= diff < 5_000  # the last second of November
    assert len(november.daily or ()) <= 30


def test_top_up_makes_the_balance_jump() -> None:
    m = model("top-up")
    start = m.report()["inference"]["balanceCents"]
    m.clock.advance(9 * 60)
    before = m.report()["inference"]["balanceCents"]
    m.clock.advance(2 * 60)
    after = m.report()["inference"]["balanceCents"]
    assert before <= start
    assert after - before > 49_000  # +$500.00 less two minutes of spend


def test_load_test_bursts_on_live_only() -> None:
    m = model("load-test")

    def rate(env: str) -> int:
        a = m.report()["environments"][env]["credits"]["usedMilli"]
        m.clock.advance(600)
        b = m.report()["environments"][env]["credits"]["usedMilli"]
        m.clock.advance(-600)
        return b - a

    quiet_live, quiet_test = rate("live"), rate("test")
    m.clock.advance(30 * 60)
    assert rate("live") > 5 * quiet_live
    assert rate("test") < 2 * quiet_test + 1


def test_noisy_test_loop_spikes_test() -> None:
    m = model("noisy-test-loop")
    a = m.report()["environments"]["test"]["credits"]["usedMilli"]
    m.clock.advance(4 * 60)  # in the spike
    b = m.report()["environments"]["test"]["credits"]["usedMilli"]
    m.clock.advance(4 * 60)  # out of it
    c = m.report()["environments"]["test"]["credits"]["usedMilli"]
    assert b - a > 4 * (c - b)


def test_daily_leaves_out_days_without_traffic() -> None:
    m = model()
    november = m.report((2026, 11))
    days = {d["date"]: d for d in november["daily"]}
    # Weekends have no test traffic: the test key is left out (the contract allows it).
    assert "test" not in days["2026-11-07"] and "live" in days["2026-11-07"]
    assert "test" in days["2026-11-09"]
    assert len(days) == 29  # one day of the month had no traffic at all


def test_future_and_too_old_periods_are_refused() -> None:
    m = model()
    with pytest.raises(ValueError, match="future"):
        m.report((2027, 1))
    with pytest.raises(ValueError, match="before"):
        m.report((2020, 1))


def test_virtual_clock_runs_at_speed() -> None:
    ticks = iter([0.0, 10.0])
    clock = VirtualClock(FROZEN_START, speed=60, monotonic=lambda: next(ticks))
    assert clock.now() == FROZEN_START + timedelta(minutes=10)


# ------------------------------------------------------------------ over HTTP


def _get(sim: Simulator, token: str | None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(sim.base_url + "/v1/auth/usage", headers=headers, params=params)


def test_http_tokens_and_scopes(simulator: Simulator) -> None:
    assert _get(simulator, "demo-billing").status_code == 200
    denied = _get(simulator, "demo-records")
    assert denied.status_code == 403
    assert denied.json()["error"] == {
        "code": "insufficient_scope",
        "message": "This token cannot read billing figures.",
        "required": "billing:r",
    }
    assert _get(simulator, "wrong").status_code == 401
    assert _get(simulator, None).json()["error"]["code"] == "unauthenticated"


def test_http_periods(simulator: Simulator) -> None:
    past = _get(simulator, "demo-billing", year="2026", month="11")
    assert past.status_code == 200 and past.json()["period"]["month"] == 11
    for params in ({"year": "2026"}, {"year": "2027", "month": "1"}, {"year": "x", "month": "1"}):
        answer = _get(simulator, "demo-billing", **params)
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "bad_period"


def test_http_etag_answers_304_while_nothing_changed(simulator: Simulator) -> None:
    first = _get(simulator, "demo-billing")
    etag = first.headers["ETag"]
    again = httpx.get(
        simulator.base_url + "/v1/auth/usage",
        headers={"Authorization": "Bearer demo-billing", "If-None-Match": etag},
    )
    assert again.status_code == 304
    simulator.clock.advance(60)
    moved = httpx.get(
        simulator.base_url + "/v1/auth/usage",
        headers={"Authorization": "Bearer demo-billing", "If-None-Match": etag},
    )
    assert moved.status_code == 200


def test_http_binds_loopback_by_default(simulator: Simulator) -> None:
    assert simulator.host == "127.0.0.1"


def test_balance_plus_spent_is_constant_within_a_period_until_a_top_up() -> None:
    m = model("top-up")
    first = m.report()
    constant = first["inference"]["balanceCents"] + first["inference"]["spentCents"]
    for _ in range(8):
        m.clock.advance(61)
        r = m.report()
        assert r["inference"]["balanceCents"] + r["inference"]["spentCents"] == constant
    m.clock.advance(3 * 60)  # past the top-up at 10 min
    r = m.report()
    assert r["inference"]["balanceCents"] + r["inference"]["spentCents"] == constant + 50_000


def test_simulator_says_it_is_one(simulator: Simulator) -> None:
    answer = _get(simulator, "demo-billing")
    assert answer.headers["X-Vectros-Simulator"] == "steady frozen"


def test_http_only_reads_are_served(simulator: Simulator) -> None:
    answer = httpx.post(
        simulator.base_url + "/v1/auth/usage", headers={"Authorization": "Bearer demo-billing"}
    )
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, HEAD"
    assert answer.json()["error"]["code"] == "method_not_allowed"
    head = httpx.head(
        simulator.base_url + "/v1/auth/usage", headers={"Authorization": "Bearer demo-billing"}
    )
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) > 1000  # what a GET would have sent


def test_http_a_malformed_request_gets_400_and_the_connection_closes(
    simulator: Simulator,
) -> None:
    with socket.create_connection((simulator.host, simulator.port), timeout=5) as sock:
        sock.sendall(b"GET /v1/auth/usage HTTP/1.1\r\nno colon here\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400 ")
    assert b'"bad_request"' in data


def test_http_pipelined_requests_and_a_get_with_a_body_are_each_answered_in_turn(
    simulator: Simulator,
) -> None:
    auth = b"Authorization: Bearer demo-billing\r\n"
    requests = (
        b"GET /v1/auth/usage HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 5\r\n\r\nhello"
        b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /v1/auth/usage HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n"
    )
    with socket.create_connection((simulator.host, simulator.port), timeout=5) as sock:
        sock.sendall(requests)  # all three in one write: answered in order, then closed
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", data) == [b"200", b"404", b"200"]


def test_http_many_polls_on_one_kept_alive_connection(simulator: Simulator) -> None:
    with httpx.Client(headers={"Authorization": "Bearer demo-billing"}) as client:
        answers = [client.get(simulator.base_url + "/v1/auth/usage") for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert len(simulator._connections) <= 1


async def test_served_from_the_running_loop_then_closed() -> None:
    # How --demo runs it: in the monitor's own event loop, no thread of its own.
    sim = Simulator(port=0, speed=0, start=FROZEN_START)
    threads = threading.active_count()
    await sim.start_serving()
    assert threading.active_count() == threads
    async with UsageClient(sim.base_url, Secret("demo-billing")) as client:
        fetched = await client.fetch()
        assert fetched.report.account.name == "Demo Org (simulated)"
        await sim.aclose()
        with pytest.raises(UsageError) as caught:
            await client.fetch()  # the kept-alive connection went with the server
        assert caught.value.kind == "unreachable"
