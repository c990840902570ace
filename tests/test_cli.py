"""The command line end to end, as subprocesses: snapshot, simulate, configuration."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tui.simulator import Simulator

FROZEN = ["--speed", "0", "--start", "2026-12-03T10:30:00Z"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("VECTROS_BASE_URL", "VECTROS_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=base | (env or {}),
        check=False,
    )


def test_snapshot_json_carries_every_figure_as_an_integer() -> None:
    done = run("snapshot", "--json", "--demo", *FROZEN)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout holds only the report
    assert report["credits"]["usedMilli"] == 2743470
    assert report["credits"]["used"] == 2743
    assert (
        report["environments"]["live"]["credits"]["usedMilli"]
        + report["environments"]["test"]["credits"]["usedMilli"]
        == 2743470
    )
    assert isinstance(report["inference"]["balanceCents"], int)
    assert report["limits"]["creditAllowanceMilli"] == 50_000_000
    assert all(isinstance(d["live"]["usedMilli"], int) for d in report["daily"])
    assert "demo-billing" not in done.stdout + done.stderr
    assert "simulated figures (--demo)" in done.stderr


def test_snapshot_table_is_readable() -> None:
    done = run("snapshot", "--demo", *FROZEN)
    assert done.returncode == 0, done.stderr
    assert "2,743.470" in done.stdout
    assert "DEMO" in done.stdout
    assert re.search(r"inference balance\s+\$\d", done.stdout)


def test_without_configuration_says_what_to_set_and_exits_2() -> None:
    done = run("snapshot")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "VECTROS_BASE_URL" in done.stderr and "VECTROS_TOKEN" in done.stderr
    assert "--demo" in done.stderr


def test_plain_http_to_a_remote_host_is_refused() -> None:
    done = run(
        "snapshot",
        env={"VECTROS_BASE_URL": "http://billing.example.com", "VECTROS_TOKEN": "abc"},
    )
    assert done.returncode == 2
    assert "--allow-insecure" in done.stderr


def test_interval_below_one_second_is_refused() -> None:
    done = run("--demo", "--interval", "0.5")
    assert done.returncode == 2
    assert "at least 1" in done.stderr


@pytest.fixture
def simulate() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", "--port", "0", *FROZEN],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", line)
    assert match, line
    yield match.group()
    proc.terminate()
    proc.wait(10)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_simulate_stops_cleanly_with_a_client_connected(signum: int) -> None:
    # Ctrl-C with a monitor's kept-alive connection open once printed a traceback.
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "simulate", "--port", "0", *FROZEN],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    match = re.search(r"http://127\.0\.0\.1:\d+", proc.stderr.readline())
    assert match
    with httpx.Client(headers={"Authorization": "Bearer demo-billing"}) as client:
        assert client.get(match.group() + "/v1/auth/usage").status_code == 200
        proc.send_signal(signum)  # the connection is still open
        assert proc.wait(10) == 0
    rest = proc.stderr.read()
    assert "Traceback" not in rest and "Exception" not in rest, rest


def test_simulate_serves_the_snapshot_command_over_http(simulate: str) -> None:
    env = {"VECTROS_BASE_URL": simulate, "VECTROS_TOKEN": "demo-billing"}
    done = run("snapshot", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["credits"]["usedMilli"] == 2743470
    # Its figures are made up, and it says so: beside the JSON, and in the table.
    assert "simulated figures (the server says steady" in done.stderr
    table = run("snapshot", env=env)
    assert "SIMULATOR steady" in table.stdout and "simulated figures" in table.stdout


def test_snapshot_exit_codes_for_refused_tokens_and_no_server(simulate: str) -> None:
    scoped = run("snapshot", env={"VECTROS_BASE_URL": simulate, "VECTROS_TOKEN": "demo-records"})
    assert scoped.returncode == 3
    assert "billing:r" in scoped.stderr and scoped.stdout == ""
    refused = run("snapshot", env={"VECTROS_BASE_URL": simulate, "VECTROS_TOKEN": "x" * 20})
    assert refused.returncode == 3
    assert "x" * 20 not in refused.stderr
    gone = run("snapshot", env={"VECTROS_BASE_URL": "http://127.0.0.1:9", "VECTROS_TOKEN": "abc"})
    assert gone.returncode == 4


def test_version_and_help() -> None:
    assert run("--version").stdout.startswith("vectros-usage ")
    helped = run("--help").stdout
    for flag in ("--demo", "--base-url", "--interval", "snapshot", "simulate"):
        assert flag in helped
    # Descriptions are printed as written (argparse formats only the arguments' help).
    assert "credits % of the allowance" in run("line", "--help").stdout


def test_snapshot_says_on_stderr_when_the_report_does_not_add_up() -> None:
    from tests.conftest import example
    from tests.servers import ScriptedServer, json_reply

    data = example("current-period.json")
    del data["environments"]["test"]
    body = json.dumps(data).encode()
    with ScriptedServer(lambda h: json_reply(200, body)) as server:
        done = run("snapshot", env={"VECTROS_BASE_URL": server.base_url, "VECTROS_TOKEN": "t"})
    assert done.returncode == 0
    assert "test environment is missing from the report; shown as 0" in done.stderr
    assert "2,891.587" in done.stdout


def test_bad_flags_are_usage_errors_not_tracebacks() -> None:
    for args in (
        ["simulate", "--port", "99999"],
        ["simulate", "--token", ""],
        ["--demo", "--interval", "inf"],
        ["snapshot", "--demo", "--start", "1970-01-01"],
        ["--demo", "--scenario", "nope"],
        ["--demo", "--speed", "-1"],
        ["snapshot", "--demo", "--base-url", "http://127.0.0.1:1"],
    ):
        done = run(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("url", "token", "says"),
    [
        ("http://127.0.0.1:99999", "abc", "port must be 1 to 65535"),
        ("http://127.0.0.1:8787", "d\xffé-secret", "characters a token cannot have"),
        ("http://127.0.0.1:8787", "two words", "characters a token cannot have"),
        # A query would swallow the report's path (and a secret in it would be logged).
        ("http://127.0.0.1:8787/?token=secret", "abc", "must not have a query or a fragment"),
        ("http://127.0.0.1:8787/api#secret", "abc", "must not have a query or a fragment"),
    ],
)
def test_bad_settings_are_said_without_echoing_the_token(url: str, token: str, says: str) -> None:
    done = run("snapshot", env={"VECTROS_BASE_URL": url, "VECTROS_TOKEN": token})
    assert done.returncode == 2
    assert says in done.stderr
    assert "secret" not in done.stderr and "Traceback" not in done.stderr


def test_debug_log_shows_requests_but_never_the_token(simulator: Simulator, tmp_path: Path) -> None:
    log = tmp_path / "debug.log"
    token = "demo-billing"
    done = run(
        "snapshot",
        "--debug",
        str(log),
        env={"VECTROS_BASE_URL": simulator.base_url, "VECTROS_TOKEN": token},
    )
    assert done.returncode == 0, done.stderr
    text = log.read_text()
    assert f"GET {simulator.base_url}/v1/auth/usage" in text
    assert "Authorization: Bearer ‹redacted›" in text
    assert "200 in " in text  # the answer, with its timing
    assert token not in text and token not in done.stdout + done.stderr
    as_json = run(
        "snapshot",
        "--json",
        env={"VECTROS_BASE_URL": simulator.base_url, "VECTROS_TOKEN": token},
    )
    assert as_json.returncode == 0 and token not in as_json.stdout + as_json.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600  # a log is nobody else's business
    refused = run(
        "snapshot",
        "--debug",
        str(log),
        env={"VECTROS_BASE_URL": simulator.base_url, "VECTROS_TOKEN": "wrong-" + token},
    )
    assert refused.returncode == 3
    assert "failed: auth" in log.read_text()
    assert "wrong-" + token not in log.read_text()


def test_debug_log_that_cannot_be_written_is_a_usage_error(tmp_path: Path) -> None:
    done = run("snapshot", "--demo", "--debug", str(tmp_path / "no" / "such" / "dir" / "log"))
    assert done.returncode == 2
    assert "cannot write the debug log" in done.stderr


def test_server_words_on_stderr_are_neutralised(tmp_path: Path) -> None:
    from tests.servers import ScriptedServer, json_reply

    said = '{"error": {"code": "unauthenticated", "message": "\\u001b]0;PWN\\u0007\\u001b[2J no"}}'
    with ScriptedServer(lambda h: json_reply(401, said.encode())) as server:
        done = run("snapshot", env={"VECTROS_BASE_URL": server.base_url, "VECTROS_TOKEN": "abcd"})
    assert done.returncode == 3
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr
    assert "␛]0;PWN␇␛[2J no" in done.stderr


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (["--ca-bundle", "/etc/hostname"], {}, "holds no usable CA certificates"),
        ([], {"SSL_CERT_FILE": "/etc/hostname"}, "SSL_CERT_FILE names '/etc/hostname'"),
        (["--path", "/x\r\nX-Inj: 1"], {}, "--path must be a plain path"),
        (["--debug", ""], {}, "--debug needs a file name"),
        ([], {"VECTROS_TOKEN": "Bearer abc"}, "the token alone, without 'Bearer '"),
    ],
)
def test_more_bad_settings_are_usage_errors(
    args: list[str], env: dict[str, str], said: str
) -> None:
    base = {"VECTROS_BASE_URL": "https://api.vectros.example", "VECTROS_TOKEN": "abcd"}
    done = run("snapshot", *args, env=base | env)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr


def test_snapshot_into_a_closed_pipe_is_no_error() -> None:
    shell = f"{sys.executable} -m tui snapshot --demo {' '.join(FROZEN)} | head -c 10 >/dev/null"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", shell], capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert done.returncode == 0, done.stderr


def test_an_older_debug_log_is_made_private(tmp_path: Path) -> None:
    log = tmp_path / "debug.log"
    log.write_text("old\n")
    log.chmod(0o644)
    done = run("snapshot", "--demo", *FROZEN, "--debug", str(log))
    assert done.returncode == 0
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_debug_log_is_not_written_through_a_symlink(tmp_path: Path) -> None:
    # It is chmod-ed 0600: through a link that would change some other file.
    target = tmp_path / "target"
    target.write_text("")
    target.chmod(0o644)
    (tmp_path / "link").symlink_to(target)
    done = run("snapshot", "--demo", *FROZEN, "--debug", str(tmp_path / "link"))
    assert done.returncode == 2
    assert "it is a symbolic link" in done.stderr
    assert target.stat().st_mode & 0o777 == 0o644 and target.read_text() == ""
