"""The config file and its profiles: loading, precedence, token sources, `config check`.

Real files in tmp_path, real subprocesses for the token commands and the CLI.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import certifi
import pytest

from tests.test_cli import run
from tui import profiles
from tui.cli import _settings, build_parser
from tui.config import ConfigError, Resolved, resolve, resolve_explained
from tui.simulator import DEMO_TOKEN, Simulator
from tui.thresholds import DEFAULT_THRESHOLDS

EXAMPLE = Path(__file__).parent.parent / "docs" / "config.example.toml"
# Long and distinctive, so a leak of any piece of it would be found.
TOKEN = "vx7Qm2ZpK9wLr4TnB8yHc3JdF6gS1aE5uXoV0iMk"


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def script(tmp_path: Path, name: str, body: str) -> Path:
    """An executable Python script: a stand-in for `pass show ...`."""
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    path.chmod(0o700)
    return path


def explain(config: Path, env: dict[str, str] | None = None, **flags: Any) -> Resolved:
    flags.setdefault("base_url", None)
    return resolve_explained(environ={"VECTROS_USAGE_CONFIG": str(config), **(env or {})}, **flags)


def fails(config: Path, env: dict[str, str] | None = None, **flags: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        explain(config, env, **flags)
    return str(caught.value)


# --- the file -------------------------------------------------------------------


def test_the_example_config_loads_and_means_what_it_says() -> None:
    config = profiles.load_file(EXAMPLE)
    assert config.default_profile == "prod"
    assert set(config.profiles) == {"prod", "staging"}
    assert config.profiles["prod"].token_command == ("pass", "show", "vectros/billing")
    # VECTROS_TOKEN wins, so `pass` is never run here.
    prod = explain(EXAMPLE, {"VECTROS_TOKEN": TOKEN}).settings
    assert prod.profile == "prod" and prod.base_url == "https://api.vectros.example"
    assert prod.interval == 10
    assert prod.thresholds.balance_warn_cents == 5000 and prod.thresholds.bell
    staging = explain(EXAMPLE, {"VECTROS_STAGING_TOKEN": TOKEN}, profile="staging").settings
    assert staging.token.reveal() == TOKEN
    assert staging.thresholds.credits_warn_percent is None  # "off"
    assert staging.thresholds.balance_warn_cents == 1000  # from the top-level table


def test_a_missing_file_at_the_default_path_means_no_profiles(
    config_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, named = profiles.config_path({})
    assert path == config_home / "vectros-usage" / "config.toml" and not named
    settings = resolve(base_url="https://api.vectros.example", environ={"VECTROS_TOKEN": TOKEN})
    assert settings.profile is None and settings.thresholds == DEFAULT_THRESHOLDS
    assert settings.interval == 5


def test_a_missing_file_named_by_the_environment_is_an_error(tmp_path: Path) -> None:
    said = fails(tmp_path / "nope.toml", {"VECTROS_TOKEN": TOKEN}, base_url="https://a.example")
    assert "VECTROS_USAGE_CONFIG" in said and "nope.toml" in said and "does not exist" in said


def test_a_toml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles.prod]\nbase_url = "https://a.example"\ninterval = = 3\n')
    said = fails(path)
    assert str(path) in said and "line 3" in said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[profiles.prod]\ntokn_env = "X"\n', "[profiles.prod]: unknown key 'tokn_env'"),
        ('[profiles.prod]\ntokn_env = "X"\n', "did you mean 'token_env'?"),
        ("colour = 1\n", "the top level: unknown key 'colour'"),
        ("[thresholds]\nbalance_warn = 1\n", "[thresholds]: unknown key 'balance_warn'"),
        (
            "[profiles.p.thresholds]\nbel = true\n",
            "[profiles.p.thresholds]: unknown key 'bel' (did you mean 'bell'?)",
        ),
        ("[profiles.p]\ninterval = '10'\n", "[profiles.p] interval: must be a number"),
        ("[profiles.p]\nbase_url = 3\n", "[profiles.p] base_url: must be a non-empty string"),
        ("[thresholds]\nbell = 1\n", "[thresholds] bell: must be true or false"),
        ("[thresholds]\nbalance_warn_cents = 9.5\n", 'must be a whole number or "off"'),
        ("[thresholds]\ncooldown_seconds = 'off'\n", "cooldown_seconds: must be a whole number"),
        ("profiles = 3\n", "profiles must be a table"),
        ("[profiles]\np = 3\n", "profiles.p must be a table"),
        ("default_profile = 'gone'\n", "default_profile is 'gone'"),
        (
            '[profiles.p]\ntoken_env = "A"\ntoken_file = "/b"\n',
            "[profiles.p]: give one token source, not token_env and token_file",
        ),
        ("[profiles.p]\ntoken_command = 'pass show \"x'\n", "token_command: No closing quotation"),
        ("[profiles.p]\ntoken_command = []\n", "token_command: a list must hold"),
        ("[profiles.p]\ntoken_command = ''\n", "[profiles.p] token_command: is empty"),
        ("[profiles.p]\nbase_url = ' '\n", "[profiles.p] base_url: is empty"),
        (
            '[profiles.p]\nbase_url = "https://a.example"\n\ntoken_env = "A"\ntoken_env = "B"\n',
            "Cannot overwrite a value (at line 5, column 16): line 5 sets 'token_env' again",
        ),
    ],
)
def test_a_bad_file_says_where_and_what(tmp_path: Path, text: str, said: str) -> None:
    path = write(tmp_path, text)
    message = fails(path, {"VECTROS_TOKEN": TOKEN}, base_url="https://a.example")
    assert said in message
    assert str(path) in message


def test_off_turns_a_level_off_whatever_its_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[thresholds]\ncredits_warn_percent = 'OFF'\nbalance_warn_cents = 'Off'\n",
    )
    config = profiles.load_file(path)
    assert config.thresholds == {"credits_warn_percent": None, "balance_warn_cents": None}


def test_a_bad_threshold_combination_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "default_profile = 'p'\n[thresholds]\ncredits_critical_percent = 90\n"
        "[profiles.p]\n[profiles.p.thresholds]\ncredits_warn_percent = 95\n",
    )
    said = fails(path, {"VECTROS_TOKEN": TOKEN}, base_url="https://a.example")
    assert "credits_warn_percent (95) must be at most credits_critical_percent (90)" in said
    assert "[profiles.p.thresholds]" in said and "[thresholds]" in said
    over = write(tmp_path, "[thresholds]\ncredits_warn_percent = 150\n", "over.toml")
    assert "credits_warn_percent must be 1 to 100" in fails(
        over, {"VECTROS_TOKEN": TOKEN}, base_url="https://a.example"
    )


def test_out_of_range_profile_values_name_the_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "default_profile = 'p'\n[profiles.p]\nbase_url = 'ftp://a.example'\ninterval = 0.5\n",
    )
    said = fails(path, {"VECTROS_TOKEN": TOKEN})
    assert f"{path} [profiles.p] base_url" in said and "must look like https://" in said
    fixed = write(tmp_path, "default_profile = 'p'\n[profiles.p]\ninterval = 0.5\n", "i.toml")
    said = fails(fixed, {"VECTROS_TOKEN": TOKEN}, base_url="https://a.example")
    assert f"{fixed} [profiles.p] interval must be at least 1 s" in said


# --- precedence -----------------------------------------------------------------

PRECEDENCE = """
default_profile = "file"
[thresholds]
balance_warn_cents = 2000
credits_warn_percent = 60
[profiles.file]
base_url = "https://file.example"
token_env = "FILE_TOKEN"
interval = 30
path = "/file/usage"
[profiles.file.thresholds]
balance_warn_cents = 3000
[profiles.other]
base_url = "https://other.example"
token_env = "FILE_TOKEN"
"""


@pytest.mark.parametrize(
    ("flags", "env", "setting", "value", "source"),
    [
        # base URL: flag > env > file
        ({"base_url": "https://flag.example"}, {"VECTROS_BASE_URL": "https://env.example"},
         "base_url", "https://flag.example", "flag --base-url"),
        ({}, {"VECTROS_BASE_URL": "https://env.example"},
         "base_url", "https://env.example", "env VECTROS_BASE_URL"),
        ({}, {}, "base_url", "https://file.example", "[profiles.file] base_url"),
        # token: VECTROS_TOKEN > the profile's source
        ({}, {"VECTROS_TOKEN": "env-token"}, "token", "env-token", "env VECTROS_TOKEN"),
        ({}, {}, "token", TOKEN, "token_env: FILE_TOKEN"),
        # interval: flag > file > default (the default is checked below)
        ({"interval": 7.0}, {}, "interval", 7.0, "flag --interval"),
        ({}, {}, "interval", 30.0, "[profiles.file] interval"),
        # path: flag > file
        ({"path": "/flag/usage"}, {}, "path", "/flag/usage", "flag --path"),
        ({}, {}, "path", "/file/usage", "[profiles.file] path"),
        # profile: --profile > VECTROS_USAGE_PROFILE > default_profile
        ({"profile": "file"}, {"VECTROS_USAGE_PROFILE": "other"}, "profile", "file", "--profile"),
        ({}, {"VECTROS_USAGE_PROFILE": "other"}, "profile", "other", "VECTROS_USAGE_PROFILE"),
        ({}, {}, "profile", "file", "default_profile"),
    ],
)  # fmt: skip
def test_each_level_beats_the_next(
    tmp_path: Path,
    flags: dict[str, Any],
    env: dict[str, str],
    setting: str,
    value: object,
    source: str,
) -> None:
    path = write(tmp_path, PRECEDENCE)
    resolved = explain(path, {"FILE_TOKEN": TOKEN, **env}, **flags)
    got = getattr(resolved.settings, setting)
    assert (got.reveal() if setting == "token" else got) == value
    where = resolved.profile_source if setting == "profile" else resolved.sources[setting]
    assert where.endswith(source), where


def test_thresholds_profile_beats_file_beats_default(tmp_path: Path) -> None:
    resolved = explain(write(tmp_path, PRECEDENCE), {"FILE_TOKEN": TOKEN})
    t, src = resolved.settings.thresholds, resolved.threshold_sources
    assert (t.balance_warn_cents, src["balance_warn_cents"]) == (
        3000,
        "file [profiles.file.thresholds]",
    )
    assert (t.credits_warn_percent, src["credits_warn_percent"]) == (60, "file [thresholds]")
    assert (t.credits_critical_percent, src["credits_critical_percent"]) == (90, "default")
    other = explain(write(tmp_path, PRECEDENCE), {"FILE_TOKEN": TOKEN}, profile="other")
    assert other.settings.thresholds.balance_warn_cents == 2000  # only the top level


def test_without_a_profile_the_defaults_and_the_environment_rule(tmp_path: Path) -> None:
    path = write(tmp_path, "[profiles.p]\nbase_url = 'https://p.example'\ninterval = 20\n")
    resolved = explain(path, {"VECTROS_TOKEN": TOKEN, "VECTROS_BASE_URL": "https://env.example"})
    assert resolved.settings.profile is None and resolved.profile_source == "none"
    assert resolved.settings.interval == 5 and resolved.sources["interval"] == "default"
    assert resolved.settings.base_url == "https://env.example"


def test_ca_bundle_flag_beats_env_beats_file(tmp_path: Path) -> None:
    bundles = {}
    for name in ("flag", "env", "file"):
        bundles[name] = str(tmp_path / f"{name}.pem")
        shutil.copy(certifi.where(), bundles[name])
    path = write(
        tmp_path,
        f"default_profile = 'p'\n[profiles.p]\nbase_url = 'https://a.example'\n"
        f"ca_bundle = '{bundles['file']}'\n",
    )
    env = {"VECTROS_TOKEN": TOKEN}
    clean = {k: "" for k in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    assert explain(path, env | clean).settings.ca_bundle == bundles["file"]
    with_env = env | clean | {"SSL_CERT_FILE": bundles["env"]}
    assert explain(path, with_env).settings.ca_bundle == bundles["env"]
    flagged = explain(path, with_env, ca_bundle=bundles["flag"])
    assert flagged.settings.ca_bundle == bundles["flag"]
    assert flagged.sources["ca_bundle"] == "flag --ca-bundle"
    gone = write(tmp_path, "default_profile = 'p'\n[profiles.p]\nca_bundle = '/no/ca.pem'\n", "g")
    said = fails(gone, env | clean, base_url="https://a.example")
    assert f"{gone} [profiles.p] ca_bundle names '/no/ca.pem', which does not exist" in said


def test_a_profile_without_url_or_token_says_what_is_missing(tmp_path: Path) -> None:
    path = write(tmp_path, "default_profile = 'p'\n[profiles.p]\ninterval = 10\n")
    said = fails(path)
    assert "missing VECTROS_BASE_URL and VECTROS_TOKEN" in said
    assert (
        "profile 'p'" in said
        and "no base_url and no token_env, token_file or token_command" in said
    )


# --- token sources --------------------------------------------------------------


def profile_with(tmp_path: Path, source: str) -> Path:
    return write(
        tmp_path,
        f"default_profile = 'p'\n[profiles.p]\nbase_url = 'https://a.example'\n{source}\n",
    )


def test_token_env_names_a_variable_that_must_be_set(tmp_path: Path) -> None:
    path = profile_with(tmp_path, "token_env = 'MY_TOKEN'")
    assert explain(path, {"MY_TOKEN": TOKEN}).settings.token.reveal() == TOKEN
    assert "token_env: $MY_TOKEN is not set" in fails(path)


def test_token_file_first_line_relative_to_the_config_and_private(tmp_path: Path) -> None:
    token_file = tmp_path / "prod.token"
    token_file.write_text(f"  {TOKEN}\nsecond line\n")
    token_file.chmod(0o600)
    path = profile_with(tmp_path, "token_file = 'prod.token'")
    warnings: list[str] = []
    resolved = explain(path, warn=warnings.append)
    assert resolved.settings.token.reveal() == TOKEN
    assert resolved.sources["token"] == f"token_file: {token_file}"
    assert warnings == []


def test_a_token_file_readable_by_others_warns_but_works(tmp_path: Path) -> None:
    token_file = tmp_path / "prod.token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o640)
    path = profile_with(tmp_path, f"token_file = '{token_file}'")
    warnings: list[str] = []
    assert explain(path, warn=warnings.append).settings.token.reveal() == TOKEN
    assert len(warnings) == 1 and "chmod 600" in warnings[0] and "0640" in warnings[0]
    assert "can be read by its group (" in warnings[0] and "others" not in warnings[0]
    assert TOKEN not in warnings[0]
    for mode, said in (
        (0o604, "can be read by others ("),
        (0o644, "can be read by its group and by others ("),
        (0o660, "can be read and written by its group ("),
        (0o642, "can be read by its group, and written by others ("),
    ):
        token_file.chmod(mode)
        warnings.clear()
        explain(path, warn=warnings.append)
        assert len(warnings) == 1 and said in warnings[0], (oct(mode), warnings)
    done = run("config", "check", env={"VECTROS_USAGE_CONFIG": str(path)})
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "chmod 600" in done.stderr
    assert "warning" not in done.stdout  # stdout is the report only


def test_a_missing_or_empty_token_file_is_an_error(tmp_path: Path) -> None:
    path = profile_with(tmp_path, "token_file = '~/surely/not/here.token'")
    said = fails(path)
    assert "token_file:" in said and "does not exist" in said and "~" not in said
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "empty").chmod(0o600)
    assert "is empty" in fails(profile_with(tmp_path, "token_file = 'empty'"))


def config_check_limited(
    config: Path, timeout: float = 30
) -> tuple[subprocess.CompletedProcess[str], float]:
    """`config check` in a subprocess with its address space capped at 2 GiB, so a
    token source read without a limit fails there rather than eating the machine."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    env = {k: v for k, v in os.environ.items() if k not in ("VECTROS_BASE_URL", "VECTROS_TOKEN")}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tui", "config", "check"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env | {"VECTROS_USAGE_CONFIG": str(config)},
        preexec_fn=cap,
        check=False,
    )
    return done, time.monotonic() - started


def test_a_token_file_must_be_a_regular_file(tmp_path: Path) -> None:
    done, _ = config_check_limited(profile_with(tmp_path, "token_file = '/dev/zero'"))
    assert done.returncode == 2 and done.stdout == ""
    assert "'/dev/zero' is a character device, not a regular file" in done.stderr
    assert "Traceback" not in done.stderr
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    done, took = config_check_limited(profile_with(tmp_path, "token_file = 'fifo'"), timeout=20)
    assert done.returncode == 2 and "is a FIFO (named pipe), not a regular file" in done.stderr
    assert took < 15
    assert "is a directory" in fails(profile_with(tmp_path, f"token_file = '{tmp_path}'"))


def test_a_token_file_larger_than_64_kib_is_not_a_token_file(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(TOKEN.encode() + b"\n" + b"x" * (64 * 1024))
    big.chmod(0o600)
    said = fails(profile_with(tmp_path, "token_file = 'big'"))
    assert "larger than 64 KiB: not a token file" in said
    no_piece_of_the_token_in(said)
    big.write_bytes(TOKEN.encode() + b"\n" + b"x" * (60 * 1024))  # under the cap: fine
    assert explain(profile_with(tmp_path, "token_file = 'big'")).settings.token.reveal() == TOKEN


def test_a_token_command_with_endless_output_is_stopped_at_the_cap(tmp_path: Path) -> None:
    path = profile_with(tmp_path, "token_command = ['cat', '/dev/zero']\ntoken_timeout = 3")
    done, took = config_check_limited(path)
    assert done.returncode == 2 and done.stdout == ""
    assert "printed more than 64 KiB, so it was stopped" in done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert took < 10


def test_the_timeout_holds_while_a_command_keeps_writing(tmp_path: Path) -> None:
    cmd = script(
        tmp_path,
        "drip",
        "while True:\n    sys.stdout.write('x'); sys.stdout.flush(); time.sleep(0.01)",
    )
    started = time.monotonic()
    said = fails(profile_with(tmp_path, f"token_command = '{cmd}'"), token_timeout=1)
    assert "no answer within 1 s" in said
    assert time.monotonic() - started < 5


def _alive(pid: int) -> bool:
    """Running, not a zombie (a container's init may be slow to reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_timed_out_command_takes_its_children_with_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    cmd = script(
        tmp_path,
        "slow",
        "import subprocess\n"
        "child = subprocess.Popen(['sleep', '100'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "child.wait()",
    )
    said = fails(profile_with(tmp_path, f"token_command = '{cmd}'"), token_timeout=1)
    assert "no answer within 1 s" in said
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):  # do not leave it behind for the next test run
        os.kill(pid, 9)
        raise AssertionError("the command's child survived its timeout")


def test_token_command_prints_the_token(tmp_path: Path) -> None:
    cmd = script(tmp_path, "pass", f"print({TOKEN!r}); print('other lines are ignored')")
    path = profile_with(tmp_path, f"token_command = '{cmd} show vectros/billing'")
    resolved = explain(path)
    assert resolved.settings.token.reveal() == TOKEN
    assert resolved.sources["token"] == f"token_command: {cmd} show vectros/billing"
    listed = profile_with(tmp_path, f"token_command = ['{cmd}', 'show', 'a b']")
    assert explain(listed).settings.token.reveal() == TOKEN


def test_token_command_gets_no_shell_and_no_stdin(tmp_path: Path) -> None:
    cmd = script(
        tmp_path,
        "args",
        "data = sys.stdin.read()\n"
        "print('T' + str(len(data)) + '-' + '-'.join(sys.argv[1:]).replace(' ', '_'))",
    )
    path = profile_with(tmp_path, f"token_command = '{cmd} $HOME \"a b\"'")
    # $HOME is not expanded (no shell); stdin is empty, not the terminal.
    assert explain(path).settings.token.reveal() == "T0-$HOME-a_b"


def test_a_failing_token_command_says_so_without_its_output(tmp_path: Path) -> None:
    cmd = script(
        tmp_path,
        "pass",
        f"print({TOKEN!r}); print('gpg: decryption failed: ' + {TOKEN!r}, file=sys.stderr)\n"
        "sys.exit(3)",
    )
    said = fails(profile_with(tmp_path, f"token_command = '{cmd}'"))
    assert "exited with status 3" in said and "run it by hand to see why" in said
    # Its stderr is not repeated: it may carry a secret into a CI log.
    assert "gpg: decryption failed" not in said
    assert TOKEN not in said and TOKEN[:8] not in said


def test_a_hanging_token_command_is_stopped_after_the_timeout(tmp_path: Path) -> None:
    cmd = script(tmp_path, "hang", "time.sleep(60)")
    path = profile_with(tmp_path, f"token_command = '{cmd}'")
    started = time.monotonic()
    said = fails(path, token_timeout=0.5)
    assert time.monotonic() - started < 10
    assert "no answer within 0.5 s" in said and "token_timeout" in said
    # The file's token_timeout works the same way.
    slow = profile_with(tmp_path, f"token_command = '{cmd}'\ntoken_timeout = 1")
    assert "no answer within 1 s" in fails(slow)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("pass", "printed no token on its first line"),
        ("print(' two words ')", "holds characters a token cannot have"),
        ("print('Bearer abc')", "without 'Bearer '"),
    ],
)
def test_a_token_command_printing_no_usable_token(tmp_path: Path, body: str, said: str) -> None:
    cmd = script(tmp_path, "tok", body)
    message = fails(profile_with(tmp_path, f"token_command = '{cmd}'"))
    assert said in message
    assert "two words" not in message and "abc" not in message


def test_a_token_command_that_is_not_there(tmp_path: Path) -> None:
    said = fails(profile_with(tmp_path, "token_command = 'no-such-program-here show x'"))
    assert "'no-such-program-here' not found" in said
    (tmp_path / "noexec").write_text("#!/bin/sh\n")
    said = fails(profile_with(tmp_path, f"token_command = '{tmp_path / 'noexec'}'"))
    assert "cannot run" in said and "Permission denied" in said


def test_vectros_token_wins_and_the_command_is_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cmd = script(tmp_path, "pass", f"open({str(marker)!r}, 'w').close(); print('x')")
    path = profile_with(tmp_path, f"token_command = '{cmd}'")
    assert explain(path, {"VECTROS_TOKEN": TOKEN}).settings.token.reveal() == TOKEN
    assert not marker.exists()


# --- the command line -----------------------------------------------------------


def test_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, PRECEDENCE)
    for args in (
        ["config", "check", "--profile", "prdo"],
        ["snapshot", "--profile", "prdo"],
        ["--profile", "prdo", "snapshot"],
        ["--profile", "prdo"],  # the monitor: refused before the screen is taken
    ):
        done = run(*args, env={"VECTROS_USAGE_CONFIG": str(path)})
        assert done.returncode == 2, (args, done.stderr)
        assert "profile 'prdo'" in done.stderr and "known profiles: file, other" in done.stderr
        assert done.stdout == ""
    by_env = run(
        "config", "check", env={"VECTROS_USAGE_CONFIG": str(path), "VECTROS_USAGE_PROFILE": "x"}
    )
    assert by_env.returncode == 2 and "VECTROS_USAGE_PROFILE names profile 'x'" in by_env.stderr


def no_piece_of_the_token_in(text: str) -> None:
    for i in range(len(TOKEN) - 5):
        assert TOKEN[i : i + 6] not in text, TOKEN[i : i + 6]


def test_config_check_shows_what_it_resolved_but_not_the_token(tmp_path: Path) -> None:
    cmd = script(tmp_path, "pass", f"print({TOKEN!r})")
    path = write(
        tmp_path,
        f"default_profile = 'prod'\n[profiles.prod]\nbase_url = 'https://api.vectros.example'\n"
        f"token_command = '{cmd} show vectros/billing'\ninterval = 10\n"
        "[profiles.prod.thresholds]\nbalance_warn_cents = 5000\nnotify = true\n",
    )
    done = run("config", "check", "--interval", "15", env={"VECTROS_USAGE_CONFIG": str(path)})
    assert done.returncode == 0, done.stderr
    no_piece_of_the_token_in(done.stdout + done.stderr)
    out = done.stdout
    assert f"config file  {path}" in out
    assert "profile      prod  (default_profile)" in out
    assert "https://api.vectros.example" in out and "[profiles.prod] base_url" in out
    assert "15 s  (flag --interval)" in out
    assert f"‹redacted, {len(TOKEN)} chars›  (token_command: {cmd} show vectros/billing)" in out
    assert "5000  (file [profiles.prod.thresholds])" in out
    assert "not contacted" in out
    as_json = run("config", "check", "--json", env={"VECTROS_USAGE_CONFIG": str(path)})
    assert as_json.returncode == 0, as_json.stderr
    no_piece_of_the_token_in(as_json.stdout + as_json.stderr)
    data = json.loads(as_json.stdout)
    assert data["config_file"] == {"path": str(path), "exists": True}
    assert data["profile"] == {"value": "prod", "source": "default_profile"}
    assert data["interval"]["value"] == 10 and isinstance(data["interval"]["value"], float)
    assert data["token"]["value"] == f"‹redacted, {len(TOKEN)} chars›"
    assert data["thresholds"]["balance_warn_cents"] == {
        "value": 5000,
        "source": "file [profiles.prod.thresholds]",
    }
    assert data["thresholds"]["credits_warn_percent"] == {"value": 75, "source": "default"}
    assert data["api_contacted"] is False


def test_config_check_with_only_the_environment(config_home: Path) -> None:
    env = {"VECTROS_TOKEN": TOKEN, "VECTROS_BASE_URL": "https://env.example"}
    done = run("config", "check", "--json", env=env)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["config_file"] == {
        "path": str(config_home / "vectros-usage" / "config.toml"),
        "exists": False,
    }
    assert data["profile"]["value"] is None
    # The default is a float as the file's and the flag's are: one type in the JSON.
    assert data["interval"] == {"value": 5.0, "source": "default"}
    assert isinstance(data["interval"]["value"], float)
    assert data["token"]["source"] == "env VECTROS_TOKEN"
    no_piece_of_the_token_in(done.stdout)


def test_config_check_fails_with_status_2_and_nothing_on_stdout(tmp_path: Path) -> None:
    path = write(tmp_path, "[profiles.p]\ntoken_env = 'A'\ntoken_command = 'b'\n")
    done = run("config", "check", "--json", env={"VECTROS_USAGE_CONFIG": str(path)})
    assert done.returncode == 2
    assert done.stdout == ""
    assert "give one token source" in done.stderr and "Traceback" not in done.stderr
    assert run("config", "check", "--demo").returncode == 2
    assert "--demo" in run("config", "check", "--demo").stderr


def test_config_check_with_nothing_set_says_where_it_looked(config_home: Path) -> None:
    done = run("config", "check")
    assert done.returncode == 2 and done.stdout == ""
    expected = config_home / "vectros-usage" / "config.toml"
    assert f"config file: {expected} (the default place; not found)" in done.stderr


def test_config_path_prints_where_the_file_is(tmp_path: Path, config_home: Path) -> None:
    assert run("config", "path").stdout.strip() == str(
        config_home / "vectros-usage" / "config.toml"
    )
    moved = tmp_path / "elsewhere.toml"
    done = run("config", "path", env={"VECTROS_USAGE_CONFIG": str(moved)})
    assert done.returncode == 0 and done.stdout.strip() == str(moved)
    assert "not contacted" in run("config", "check", "--help").stdout.replace("\n", " ").replace(
        "NOT", "not"
    )


def test_snapshot_through_a_profile_with_a_token_command(
    tmp_path: Path, simulator: Simulator
) -> None:
    cmd = script(tmp_path, "pass", f"print({DEMO_TOKEN!r})")
    path = write(
        tmp_path,
        f"[profiles.sim]\nbase_url = '{simulator.base_url}'\ntoken_command = '{cmd}'\n",
    )
    env = {"VECTROS_USAGE_CONFIG": str(path)}
    done = run("snapshot", "--json", "--profile", "sim", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["credits"]["usedMilli"] == 2743470
    assert DEMO_TOKEN not in done.stdout + done.stderr
    # Without the profile there is nothing to go on.
    assert run("snapshot", "--json", env=env).returncode == 2


def test_demo_ignores_the_profiles_url_and_token_but_keeps_its_thresholds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        "[profiles.p]\nbase_url = 'https://never.example'\ntoken_command = 'no-such-program'\n"
        "[profiles.p.thresholds]\nbalance_warn_cents = 4321\n",
    )
    monkeypatch.setenv("VECTROS_USAGE_CONFIG", str(path))
    args = build_parser().parse_args(["--demo", "--profile", "p", "--speed", "0"])
    with _settings(args) as settings:
        assert settings.demo and settings.base_url.startswith("http://127.0.0.1:")
        assert settings.token.reveal() == DEMO_TOKEN
        assert settings.profile == "p"
        assert settings.thresholds.balance_warn_cents == 4321
        assert settings.interval == 1  # the demo's, not the profile's


def test_the_readme_example_is_a_valid_config(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Configuration file and profiles", 1)[1]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    config = profiles.load_file(write(tmp_path, block))
    assert config.default_profile == "prod" and set(config.profiles) == {"prod", "staging"}
    assert config.profiles["prod"].thresholds == {
        "balance_warn_cents": 5000,
        "bell": True,
        "notify": True,
    }
