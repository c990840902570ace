"""The client against real loopback HTTP: the simulator, and scripted servers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler

import pytest

from tests.conftest import EXAMPLES
from tests.servers import Reply, ScriptedServer, json_reply
from tui.client import Secret, UsageClient, UsageError, parse_retry_after
from tui.simulator import Simulator

GOOD = (EXAMPLES / "current-period.json").read_bytes()


async def fetch(base_url: str, token: str = "demo-billing", **kw: object) -> object:
    async with UsageClient(base_url, Secret(token), **kw) as client:  # type: ignore[arg-type]
        return await client.fetch()


async def test_fetches_the_current_and_a_past_period(simulator: Simulator) -> None:
    async with UsageClient(simulator.base_url, Secret("demo-billing")) as client:
        now = await client.fetch()
        past = await client.fetch((2026, 11))
    assert now.report.period.key == (2026, 12)
    assert past.report.period.key == (2026, 11)
    assert now.report.credits.used_milli == simulator.model.report()["credits"]["usedMilli"]


async def test_401_says_the_token_was_refused(simulator: Simulator) -> None:
    with pytest.raises(UsageError) as caught:
        await fetch(simulator.base_url, "not-a-token")
    assert caught.value.kind == "auth" and caught.value.status == 401
    assert "invalid, expired or revoked" in caught.value.message


async def test_403_says_billing_r_is_missing_and_is_not_an_outage(simulator: Simulator) -> None:
    with pytest.raises(UsageError) as caught:
        await fetch(simulator.base_url, "demo-records")
    err = caught.value
    assert err.kind == "scope" and err.is_auth
    assert "billing:r" in err.message and "not an outage" in err.message


async def test_sends_bearer_token_and_asks_for_json() -> None:
    with ScriptedServer(lambda h: json_reply(200, GOOD)) as server:
        await fetch(server.base_url, "s3cret-token")
    headers = server.requests[0]["headers"]
    assert headers["Authorization"] == "Bearer s3cret-token"
    assert headers["Accept"] == "application/json"
    assert server.requests[0]["path"] == "/v1/auth/usage"


async def test_path_is_configurable() -> None:
    with ScriptedServer(lambda h: json_reply(200, GOOD)) as server:
        await fetch(server.base_url + "/prefix/", path="billing/usage")
    assert server.requests[0]["path"] == "/prefix/billing/usage"


async def test_redirect_is_not_followed_and_the_token_goes_nowhere_else() -> None:
    with ScriptedServer(lambda h: json_reply(200, GOOD)) as elsewhere:
        target = elsewhere.base_url + "/v1/auth/usage"
        with ScriptedServer(lambda h: (302, {"Location": target}, b"")) as server:
            with pytest.raises(UsageError) as caught:
                await fetch(server.base_url)
    assert caught.value.kind == "redirect"
    assert elsewhere.requests == []


async def test_304_keeps_the_report_and_counts_as_fresh(simulator: Simulator) -> None:
    async with UsageClient(simulator.base_url, Secret("demo-billing")) as client:
        first = await client.fetch()
        second = await client.fetch()
    assert not first.not_modified
    assert second.not_modified and second.report == first.report


async def test_connection_refused_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UsageError) as caught:
        await fetch(f"http://127.0.0.1:{port}")
    assert caught.value.kind == "unreachable"
    assert "refused" in caught.value.message


async def test_read_timeout_is_said() -> None:
    def slow(handler: BaseHTTPRequestHandler) -> Reply:
        time.sleep(1.5)
        return json_reply(200, GOOD)

    with ScriptedServer(slow) as server:
        with pytest.raises(UsageError) as caught:
            await fetch(server.base_url, read_timeout=0.3)
    assert caught.value.kind == "timeout"
    assert "waiting for data" in caught.value.message


async def test_oversized_body_is_refused_without_reading_it_all() -> None:
    big = b"[" + b"0," * 3_000_000 + b"0]"
    with ScriptedServer(lambda h: json_reply(200, big)) as server:
        with pytest.raises(UsageError) as caught:
            await fetch(server.base_url, max_body_bytes=1024 * 1024)
    assert caught.value.kind == "too_large"


@pytest.mark.parametrize(
    ("status", "kind"), [(500, "server"), (502, "server"), (503, "server"), (400, "bad_request")]
)
async def test_status_codes_are_words(status: int, kind: str) -> None:
    with ScriptedServer(lambda h: (status, {}, b"<html>oops</html>")) as server:
        with pytest.raises(UsageError) as caught:
            await fetch(server.base_url)
    assert caught.value.kind == kind and str(status) in caught.value.message


async def test_429_carries_retry_after() -> None:
    body = (EXAMPLES / "error-429.json").read_bytes()
    with ScriptedServer(lambda h: json_reply(429, body, **{"Retry-After": "7"})) as server:
        with pytest.raises(UsageError) as caught:
            await fetch(server.base_url)
    assert caught.value.kind == "throttled"
    assert caught.value.retry_after == 7
    assert "Slow down." in caught.value.message


async def test_bad_report_is_a_clear_error() -> None:
    with ScriptedServer(lambda h: json_reply(200, b'{"credits": {"usedMilli": NaN}}')) as server:
        with pytest.raises(UsageError) as caught:
            await fetch(server.base_url)
    assert caught.value.kind == "bad_report"
    assert "NaN" in caught.value.message


async def test_a_server_echoing_the_token_gets_it_redacted() -> None:
    body = b'{"error": {"code": "unauthenticated", "message": "bad token tok-ABCDEF-123"}}'
    with ScriptedServer(lambda h: json_reply(401, body)) as server:
        with pytest.raises(UsageError) as caught:
            await fetch(server.base_url, "tok-ABCDEF-123")
    assert "tok-ABCDEF-123" not in caught.value.message
    assert "‹redacted›" in caught.value.message


def test_secret_never_prints_itself() -> None:
    secret = Secret("tok-ABCDEF-123")
    assert "tok-ABCDEF" not in repr(secret)
    assert "tok-ABCDEF" not in str(secret)
    assert "tok-ABCDEF" not in f"{secret} {[secret]} { ({'t': secret}) }"
    assert secret.reveal() == "tok-ABCDEF-123"


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
    assert parse_retry_after("12", now=now) == 12
    assert parse_retry_after("Thu, 03 Dec 2026 10:30:45 GMT", now=now) == 45
    assert parse_retry_after("Thu, 03 Dec 2026 10:00:00 GMT", now=now) == 0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


async def test_a_token_echoed_anywhere_in_a_report_is_redacted_before_parsing() -> None:
    data = json.loads(GOOD)
    data["account"]["name"] = "Bearer tok-ECHO-42 (yours)"
    reports = [json.dumps(data).encode()]
    bad = json.loads(GOOD)
    bad["inference"]["currency"] = "tok-ECHO-42"
    reports.append(json.dumps(bad).encode())
    with ScriptedServer(lambda h: json_reply(200, reports.pop(0))) as server:
        fetched = await fetch(server.base_url, "tok-ECHO-42")
        assert fetched.report.account.name == "Bearer ‹redacted› (yours)"  # type: ignore[attr-defined]
        with pytest.raises(UsageError) as caught:
            await fetch(server.base_url, "tok-ECHO-42")
    assert "inference.currency" in caught.value.message
    assert "tok-ECHO-42" not in caught.value.message


async def test_an_unasked_304_is_said_as_such() -> None:
    with ScriptedServer(lambda h: (304, {}, b"")) as server, pytest.raises(UsageError) as caught:
        await fetch(server.base_url)
    assert "304 Not Modified to a request that did not ask" in caught.value.message


def test_the_data_layer_imports_nothing_of_the_tui() -> None:
    # In a process of its own: this one has Textual loaded by other tests.
    code = (
        "import sys, tui.client, tui.report, tui.history, tui.rates\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'rich', 'plotext'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
