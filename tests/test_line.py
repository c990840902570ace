"""``line``, the one-line status: from history without the network when fresh, a stale
mark when old and the server is gone, a word when there is nothing; never empty."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import example
from tests.servers import ScriptedServer, json_reply
from tui.history import History, default_path
from tui.line import Figures, check_template, render, short_age
from tui.rates import Sample
from tui.simulator import Simulator


def line(
    *args: str, base_url: str | None = None, token: str = "demo-billing"
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VECTROS_BASE_URL", "VECTROS_TOKEN")}
    if base_url is not None:
        env |= {"VECTROS_BASE_URL": base_url, "VECTROS_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "tui", "line", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].strip(), done.stdout  # one line, never empty
    assert "\x1b" not in done.stdout  # no colour codes
    return lines[0]


def test_demo_prints_credits_percent_and_balance() -> None:
    done = line("--demo", "--speed", "0", "--start", "2026-12-03T10:30:00Z")
    assert done.returncode == 0, done.stderr
    text = one_line(done)
    assert re.fullmatch(r"vectros \d+\.\d% · \$[\d,]+\.\d\d", text), text
    assert "5.4%" in text  # 2,743.470 of 50,000 credits, rounded down


def test_fresh_from_history_without_the_network(simulator: Simulator) -> None:
    first = line(base_url=simulator.base_url)
    assert first.returncode == 0, first.stderr
    simulator.stop()  # nothing answers any more
    again = line(
        "--format", "{credits_pct} {balance} age {age}{status}", base_url=simulator.base_url
    )
    assert again.returncode == 0, again.stderr
    text = one_line(again)
    assert re.fullmatch(r"5\.4% \$[\d,]+\.\d\d age \d+s", text), text
    assert one_line(first).split(" · ")[1] in text  # the same balance, recorded


def test_a_fresh_poll_costs_no_request(state_dir: Path) -> None:
    body = json.dumps(example("current-period.json")).encode()
    with ScriptedServer(lambda h: json_reply(200, body)) as server:
        assert line(base_url=server.base_url, token="abcd").returncode == 0
        assert len(server.requests) == 1
        done = line(base_url=server.base_url, token="abcd")
        assert done.returncode == 0 and len(server.requests) == 1
        stale = line("--max-age", "0", base_url=server.base_url, token="abcd")
        assert stale.returncode == 0 and len(server.requests) == 2
    assert "abcd" not in done.stdout + done.stderr
    assert (state_dir / "history.sqlite3").exists()


def test_the_monitors_polls_serve_once_the_allowance_is_known(state_dir: Path) -> None:
    """The monitor records polls but not the allowance: one fetch learns it, after
    which its polls are enough."""
    body = json.dumps(example("current-period.json")).encode()
    with ScriptedServer(lambda h: json_reply(200, body)) as server:
        import time

        store = History(default_path(), server.base_url, "acct_7Qm2")
        now = time.time()
        store.record(
            {
                "total": Sample(now, now, (2026, 12), 1_000_000, 100, 12_345),
                "live": Sample(now, now, (2026, 12), 600_000, 60),
                "test": Sample(now, now, (2026, 12), 400_000, 40),
            }
        )
        first = line(base_url=server.base_url, token="abcd")
        assert first.returncode == 0 and len(server.requests) == 1
        store.record(
            {
                "total": Sample(now + 1, time.time(), (2026, 12), 1_000_000, 100, 12_345),
                "live": Sample(now + 1, time.time(), (2026, 12), 600_000, 60),
                "test": Sample(now + 1, time.time(), (2026, 12), 400_000, 40),
            }
        )
        store.close()
        again = line(base_url=server.base_url, token="abcd")
        assert again.returncode == 0 and len(server.requests) == 1
        assert "$123.45" in one_line(again)


def test_stale_when_old_and_the_server_is_gone(simulator: Simulator) -> None:
    assert line(base_url=simulator.base_url).returncode == 0
    simulator.stop()
    done = line("--max-age", "0", base_url=simulator.base_url)
    assert done.returncode == 4
    text = one_line(done)
    assert re.fullmatch(r"vectros 5\.4% · \$[\d,]+\.\d\d · stale \d+s", text), text
    tmux = line("--max-age", "0", "--tmux", "--hide-money", base_url=simulator.base_url)
    assert re.fullmatch(r"#\[fg=yellow\]vectros 5\.4% · stale \d+s#\[default\]", one_line(tmux))


def test_with_nothing_recorded_a_word() -> None:
    gone = line(base_url="http://127.0.0.1:9", token="abcd")
    assert gone.returncode == 4 and one_line(gone) == "vectros: unreachable"
    unset = line()
    assert unset.returncode == 2 and one_line(unset) == "vectros: not configured"
    assert "VECTROS_BASE_URL" in unset.stderr
    typo = line("--demo", "--format", "{credit_pct}")
    assert typo.returncode == 2 and one_line(typo) == "vectros: bad --format"
    assert "unknown placeholder {credit_pct}" in typo.stderr


def _capped() -> None:
    # A template that asks for a huge width must fail here, not eat the machine.
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@pytest.mark.parametrize(
    "template",
    [
        "{balance:%}",
        "{credits_pct:d}",
        "{rate:.2f}",
        "{credits_pct:>99999999999}",
        "{credits_pct:>{rate}}",
        "{credits_pct:=5}",
        "{credits_pct",
        "{}",
    ],
)
def test_a_bad_format_still_prints_a_line(template: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "line", "--demo", "--speed", "0", "--format", template],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k not in ("VECTROS_TOKEN",)},
        preexec_fn=_capped,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert one_line(done) == "vectros: bad --format"
    assert "--format" in done.stderr and "Traceback" not in done.stderr


def test_a_format_may_align_and_pad() -> None:
    done = line("--demo", "--speed", "0", "--format", "[{credits_pct:>7}|{period:.4}]")
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\[ +\d+\.\d%\|\d{4}\]", one_line(done)), one_line(done)


@pytest.mark.parametrize(
    "args",
    [
        ["--timeout", "0"],
        ["--max-age", "100000"],
        ["--nope"],
        ["--demo", "extra"],
        ["--format"],
    ],
)
def test_bad_arguments_still_print_a_line(args: list[str]) -> None:
    done = line(*args)
    assert done.returncode == 2
    assert one_line(done) == "vectros: bad arguments"
    assert "usage:" in done.stderr and "Traceback" not in done.stderr
    before = subprocess.run(
        [sys.executable, "-m", "tui", "--nope", "line"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert before.returncode == 2 and one_line(before) == "vectros: bad arguments"


def test_a_refused_token_and_a_bad_report_say_so(simulator: Simulator) -> None:
    refused = line(base_url=simulator.base_url, token="wrong-token")
    assert refused.returncode == 3 and one_line(refused) == "vectros: token refused"
    assert "wrong-token" not in refused.stdout + refused.stderr
    with ScriptedServer(lambda h: json_reply(200, b"[]")) as server:
        bad = line(base_url=server.base_url, token="abcd")
    assert bad.returncode == 5 and one_line(bad) == "vectros: bad report"


def test_hide_money_shows_no_money() -> None:
    done = line(
        "--demo", "--hide-money", "--format", "{credits_pct} {balance} {spent} {cents_rate}"
    )
    assert done.returncode == 0
    assert "$" not in done.stdout and "¢" not in done.stdout
    assert one_line(done).count("•••") == 3


def test_no_history_flag_reads_and_writes_nothing(simulator: Simulator, state_dir: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "--no-history", "line"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"VECTROS_BASE_URL": simulator.base_url, "VECTROS_TOKEN": "demo-billing"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not (state_dir / "history.sqlite3").exists()


# --------------------------------------------------------------------- pure parts


def test_short_ages() -> None:
    assert [short_age(s) for s in (-3, 0, 59, 60, 3599, 3600, 172_799, 172_800)] == [
        "0s", "0s", "59s", "1m", "59m", "1h", "47h", "2d",
    ]  # fmt: skip


def test_templates_are_checked() -> None:
    assert check_template("{credits_pct} {rate}") == "{credits_pct} {rate}"
    assert check_template("{credits_pct:>7} {period:.4}") == "{credits_pct:>7} {period:.4}"
    for bad in ("{nope}", "{credits_pct", "{0}", "{balance:%}", "{rate:.2f}", "{credits:d}"):
        with pytest.raises(ValueError):
            check_template(bad)


@given(
    used=st.integers(0, 10**12),
    allowance=st.one_of(st.none(), st.integers(0, 10**12)),
    balance=st.one_of(st.none(), st.integers(-(10**9), 10**12)),
    stale=st.booleans(),
    code=st.sampled_from([0, 3, 4, 5]),
    template=st.sampled_from([None, "", " ", "{status}", "{age} {credits_left}"]),
    hide=st.booleans(),
)
def test_never_an_empty_line(
    used: int,
    allowance: int | None,
    balance: int | None,
    stale: bool,
    code: int,
    template: str | None,
    hide: bool,
) -> None:
    s = Sample(1000.0, 1000.0, (2026, 12), used, None, balance)
    for figures in (Figures(s, [s], allowance, "USD"), None):
        text = render(
            figures, now=1010.0, stale=stale, code=code, template=template, hide_money=hide
        )
        assert text.strip() and "\n" not in text
        if hide:
            assert "$" not in text


async def test_a_running_monitors_polls_answer_line_without_a_request(
    simulator: Simulator,
) -> None:
    from tests.conftest import settings_for
    from tui.app import VectrosUsageApp
    from tui.pilot import press_and_settle

    app = VectrosUsageApp(settings_for(simulator.base_url))
    async with app.run_test(size=(100, 30)) as pilot:
        await press_and_settle(pilot)
    simulator.stop()  # no server: what line prints can only come from the history
    done = line(base_url=simulator.base_url)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"vectros 5\.4% · \$492\.87.*", one_line(done)), one_line(done)


def test_the_readme_tmux_snippet_leaves_room_for_the_stale_word() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    block = readme.split("```tmux\n", 1)[1].split("```", 1)[0]
    found = re.search(r"^set -g status-right-length (\d+)", block, re.MULTILINE)
    assert found, "tmux's default status-right-length (40) cuts the line"
    # A stale line in tmux colours plus the clock, as the snippet prints it.
    s = Sample(1000.0, 1000.0, (2026, 12), 42_100_000, 8_610, 123_456)
    stale = render(
        Figures(s, [s], 100_000_000, "USD"), now=1000.0 + 720, stale=True, code=4, tmux=True
    )
    shown = re.sub(r"#\[[^]]*\]", "", stale) + " 12:34"
    assert "stale 12m" in shown and len(shown) <= int(found.group(1))
