"""The configuration file: named profiles (where the API is, where the token comes
from, how often to poll, the thresholds). No Textual here.

Loading only reads and checks the TOML; nothing runs and no token is read until a
profile is actually used (``read_token``), so a broken profile you are not using does
not get in the way, yet every key of every profile is checked for typos.

Errors are ``ConfigError`` with the file, the section and the key in the message.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import selectors
import shlex
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

import platformdirs

from tui.client import Secret
from tui.format import safe_text
from tui.thresholds import DEFAULT_THRESHOLDS, Thresholds

ENV_CONFIG = "VECTROS_USAGE_CONFIG"
ENV_PROFILE = "VECTROS_USAGE_PROFILE"
APP_NAME = "vectros-usage"
DEFAULT_TOKEN_TIMEOUT = 30.0  # long enough to type a passphrase into pinentry
MAX_TOKEN_TIMEOUT = 600.0
OFF = "off"  # a threshold level turned off (TOML has no null)
# A token is a line of text: anything much longer is the wrong file or a runaway
# command, and reading it all could eat memory without end (/dev/zero, `yes`).
MAX_TOKEN_BYTES = 64 * 1024

TOP_KEYS = ("default_profile", "thresholds", "profiles")
PROFILE_KEYS = (
    "base_url",
    "token_env",
    "token_file",
    "token_command",
    "token_timeout",
    "interval",
    "path",
    "ca_bundle",
    "thresholds",
)
TOKEN_KEYS = ("token_env", "token_file", "token_command")
THRESHOLD_KEYS = tuple(f.name for f in fields(Thresholds))
# Levels that "off" may turn off; bell, notify and the cooldown are always set.
_LEVEL_KEYS = frozenset(
    k for k in THRESHOLD_KEYS if k not in ("bell", "notify", "cooldown_seconds")
)


# The default of a record's tables: read-only, so one empty mapping can be shared.
NO_ENTRIES: Mapping[str, Any] = MappingProxyType({})


class ConfigError(Exception):
    """A message for a person; the CLI prints it and exits 2. (Re-exported by
    tui.config, which builds on this module.)"""


class Profile(NamedTuple):
    name: str
    base_url: str | None = None
    token_env: str | None = None
    token_file: Path | None = None  # ~ expanded, relative to the config file's folder
    token_command: tuple[str, ...] | None = None  # already split: no shell
    token_timeout: float = DEFAULT_TOKEN_TIMEOUT
    interval: float | None = None
    path: str | None = None
    ca_bundle: str | None = None
    thresholds: Mapping[str, int | bool | None] = NO_ENTRIES

    @property
    def section(self) -> str:
        return f"[profiles.{self.name}]"

    def token_source(self) -> str | None:
        """Where this profile's token comes from, in words (never the token)."""
        if self.token_env is not None:
            return f"token_env: {self.token_env}"
        if self.token_file is not None:
            return f"token_file: {self.token_file}"
        if self.token_command is not None:
            return f"token_command: {shlex.join(self.token_command)}"
        return None


class ConfigFile(NamedTuple):
    path: Path
    exists: bool
    default_profile: str | None = None
    thresholds: Mapping[str, int | bool | None] = NO_ENTRIES
    profiles: Mapping[str, Profile] = NO_ENTRIES


def config_path(environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """The config file's path, and whether $VECTROS_USAGE_CONFIG named it (then it must
    exist; the default one may well not)."""
    env = os.environ if environ is None else environ
    named = env.get(ENV_CONFIG)
    if named:
        return Path(named).expanduser(), True
    return platformdirs.user_config_path(APP_NAME) / "config.toml", False


def load(environ: Mapping[str, str] | None = None) -> ConfigFile:
    path, named = config_path(environ)
    return load_file(path, must_exist=named)


def load_file(path: Path, *, must_exist: bool = True) -> ConfigFile:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(f"{ENV_CONFIG} names {str(path)!r}, which does not exist") from None
        return ConfigFile(path=path, exists=False)
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {str(path)!r}: {exc.strerror}") from None
    import tomllib  # here: most runs have no config file, and start-up is what a monitor waits on

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        # tomllib says where: "... (at line 3, column 7)"; for a key given twice it
        # does not say which key, so the line's key is named (never its value).
        raise ConfigError(f"{path}: not valid TOML: {exc}{_twice(raw, str(exc))}") from None
    return _parse(path, data)


_AT_LINE = re.compile(r"at line (\d+), column \d+")
_KEY = re.compile(r"\s*([A-Za-z0-9_.\-]+)\s*=")


def _twice(raw: bytes, message: str) -> str:
    """', which sets KEY again', when tomllib refused to overwrite a value."""
    found = _AT_LINE.search(message)
    if not message.startswith("Cannot overwrite") or found is None:
        return ""
    lines = raw.decode("utf-8").splitlines()
    number = int(found.group(1))
    key = _KEY.match(lines[number - 1]) if 0 < number <= len(lines) else None
    return f": line {number} sets {key.group(1)!r} again" if key else ": a key is set twice"


def _parse(path: Path, data: dict[str, Any]) -> ConfigFile:
    _no_unknown(path, "the top level", data, TOP_KEYS)
    default = data.get("default_profile")
    if default is not None and (not isinstance(default, str) or not default):
        raise ConfigError(f"{path}: default_profile must be a profile's name (a string)")
    thresholds = _thresholds(path, "[thresholds]", data.get("thresholds", {}))
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: profiles must be a table of [profiles.NAME] tables")
    profiles = {name: _profile(path, name, table) for name, table in tables.items()}
    if default is not None and default not in profiles:
        raise ConfigError(f"{path}: default_profile is {default!r}, {_known(profiles)}")
    return ConfigFile(
        path=path,
        exists=True,
        default_profile=default,
        thresholds=thresholds,
        profiles=profiles,
    )


def _known(profiles: Mapping[str, Profile]) -> str:
    if not profiles:
        return "but the file defines no profiles"
    return "which is not a profile here; known profiles: " + ", ".join(sorted(profiles))


def _no_unknown(path: Path, where: str, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{path}: {where}: unknown key {key!r}{hint}; known keys: {', '.join(known)}"
            )


def _kind(value: object) -> str:
    return {bool: "true/false", int: "a whole number", float: "a number", str: "a string"}.get(
        type(value), "a " + type(value).__name__
    )


def _string(path: Path, where: str, table: Mapping[str, Any], key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {where} {key}: must be a non-empty string (got {_kind(value)})")
    if not value.strip():
        raise ConfigError(f"{path}: {where} {key}: is empty (give a value, or leave the key out)")
    return value


def _number(
    path: Path, where: str, table: Mapping[str, Any], key: str, low: float, high: float
) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"{path}: {where} {key}: must be a number of seconds (got {_kind(value)})"
        )
    if not low <= value <= high:  # `not` also refuses nan
        raise ConfigError(f"{path}: {where} {key}: must be {low:g} to {high:g} s (got {value:g})")
    return float(value)


def _profile(path: Path, name: str, table: object) -> Profile:
    where = f"[profiles.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: profiles.{name} must be a table ({where})")
    _no_unknown(path, where, table, PROFILE_KEYS)
    given = [k for k in TOKEN_KEYS if k in table]
    if len(given) > 1:
        raise ConfigError(f"{path}: {where}: give one token source, not {' and '.join(given)}")
    token_file = _string(path, where, table, "token_file")
    file_path: Path | None = None
    if token_file is not None:
        file_path = Path(token_file).expanduser()
        if not file_path.is_absolute():
            file_path = path.parent / file_path
    command: tuple[str, ...] | None = None
    raw_command = table.get("token_command")
    if isinstance(raw_command, list):
        if not raw_command or not all(isinstance(a, str) for a in raw_command):
            raise ConfigError(
                f"{path}: {where} token_command: a list must hold the program and its "
                "arguments as strings"
            )
        command = tuple(raw_command)
    elif raw_command is not None:
        text = _string(path, where, table, "token_command")
        assert text is not None
        try:
            command = tuple(shlex.split(text))
        except ValueError as exc:  # an unclosed quote
            raise ConfigError(f"{path}: {where} token_command: {exc}") from None
    ca_bundle = _string(path, where, table, "ca_bundle")
    return Profile(
        name=name,
        base_url=_string(path, where, table, "base_url"),
        token_env=_string(path, where, table, "token_env"),
        token_file=file_path,
        token_command=command,
        token_timeout=_number(path, where, table, "token_timeout", 1, MAX_TOKEN_TIMEOUT)
        or DEFAULT_TOKEN_TIMEOUT,
        # Its range is checked where the flag's is (tui.config.check_interval).
        interval=_number(path, where, table, "interval", 0, float("inf")),
        path=_string(path, where, table, "path"),
        ca_bundle=str(Path(ca_bundle).expanduser()) if ca_bundle else None,
        thresholds=_thresholds(path, f"[profiles.{name}.thresholds]", table.get("thresholds", {})),
    )


def _thresholds(path: Path, where: str, table: object) -> dict[str, int | bool | None]:
    """One [thresholds] table, each value checked for its type here (so the error names
    the section); how the values go together is checked once they are merged."""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table")
    _no_unknown(path, where, table, THRESHOLD_KEYS)
    out: dict[str, int | bool | None] = {}
    for key, value in table.items():
        if key in ("bell", "notify"):
            if not isinstance(value, bool):
                raise ConfigError(f"{path}: {where} {key}: must be true or false")
            out[key] = value
        elif key in _LEVEL_KEYS and isinstance(value, str) and value.strip().lower() == OFF:
            out[key] = None  # "off", "Off", "OFF": a person typed it
        elif isinstance(value, bool) or not isinstance(value, int):
            off = f' or "{OFF}"' if key in _LEVEL_KEYS else ""
            raise ConfigError(
                f"{path}: {where} {key}: must be a whole number{off} (got {_kind(value)})"
            )
        else:
            out[key] = value
    return out


def select(
    config: ConfigFile, name: str | None, environ: Mapping[str, str] | None = None
) -> tuple[Profile | None, str]:
    """The profile to use and why: --profile NAME, else $VECTROS_USAGE_PROFILE, else the
    file's default_profile, else none (flags and environment only)."""
    env = os.environ if environ is None else environ
    for chosen, why in (
        (name, "--profile"),
        (env.get(ENV_PROFILE) or None, ENV_PROFILE),
        (config.default_profile, "default_profile"),
    ):
        if chosen is None:
            continue
        profile = config.profiles.get(chosen)
        if profile is None:
            where = str(config.path) if config.exists else f"{config.path} (no such file)"
            raise ConfigError(
                f"{why} names profile {chosen!r}, {_known(config.profiles)} ({where})"
            )
        return profile, why
    return None, "none"


def thresholds(config: ConfigFile, profile: Profile | None) -> tuple[Thresholds, dict[str, str]]:
    """The profile's [profiles.X.thresholds] over the file's [thresholds] over the
    defaults, and where each value came from."""
    values: dict[str, Any] = {k: getattr(DEFAULT_THRESHOLDS, k) for k in THRESHOLD_KEYS}
    sources = dict.fromkeys(THRESHOLD_KEYS, "default")
    layers: list[tuple[str, Mapping[str, int | bool | None]]] = [
        ("[thresholds]", config.thresholds)
    ]
    if profile is not None:
        layers.append((f"[profiles.{profile.name}.thresholds]", profile.thresholds))
    for section, layer in layers:
        for key, value in layer.items():
            values[key] = value
            sources[key] = f"file {section}"
    try:
        return Thresholds(**values), sources
    except ValueError as exc:
        used = sorted({s.removeprefix("file ") for s in sources.values() if s != "default"})
        where = " and ".join(used) if used else "the defaults"
        raise ConfigError(f"{config.path}: thresholds ({where}): {exc}") from None


Warn = Callable[[str], None]


def _stderr_warning(text: str) -> None:
    print(f"{APP_NAME}: warning: {text}", file=sys.stderr)


def read_token(
    config: ConfigFile,
    profile: Profile,
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float | None = None,
    warn: Warn = _stderr_warning,
) -> Secret | None:
    """The profile's token from its one source, or None if it names none. Never puts
    the token (or anything a command printed on stdout) in an error message."""
    env = os.environ if environ is None else environ
    where = f"{config.path}: {profile.section}"
    if profile.token_env is not None:
        value = env.get(profile.token_env, "").strip()
        if not value:
            raise ConfigError(f"{where} token_env: ${profile.token_env} is not set (or empty)")
        return Secret(value)
    if profile.token_file is not None:
        return Secret(_token_from_file(where, profile.token_file, warn))
    if profile.token_command is not None:
        wait = profile.token_timeout if timeout is None else timeout
        return Secret(_token_from_command(where, profile.token_command, wait))
    return None


def _token_from_file(where: str, path: Path, warn: Warn) -> str:
    shown = repr(str(path))
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{where} token_file: {shown} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{where} token_file: cannot read {shown}: {exc.strerror}") from None
    # Checked before opening: opening a FIFO waits for a writer, a device may never end.
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{where} token_file: {shown} is {_file_kind(mode)}, not a regular file")
    try:
        # O_NONBLOCK: should the path become a FIFO after the check, open does not hang.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise ConfigError(
                    f"{where} token_file: {shown} is {_file_kind(mode)}, not a regular file"
                )
            raw = _read_capped(fd) or b""  # no `ready`: never None
        finally:
            os.close(fd)
    except OSError as exc:
        raise ConfigError(f"{where} token_file: cannot read {shown}: {exc.strerror}") from None
    if len(raw) > MAX_TOKEN_BYTES:
        raise ConfigError(
            f"{where} token_file: {shown} is larger than {MAX_TOKEN_BYTES // 1024} KiB: "
            "not a token file"
        )
    open_to = _open_to(mode)
    if open_to:
        # Not an error: the token still works, but someone else on the box can read it.
        warn(
            f"the token file {shown} {open_to} "
            f"(mode {stat.S_IMODE(mode):04o}): chmod 600 {shlex.quote(str(path))}"
        )
    text = raw.decode("utf-8", errors="replace")
    first = text.splitlines()[0].strip() if text.strip() else ""
    if not first:
        raise ConfigError(f"{where} token_file: {shown} is empty")
    return first


def _read_capped(fd: int, ready: Callable[[], bool] | None = None) -> bytes | None:
    """Up to EOF, or one byte more than MAX_TOKEN_BYTES (so "too long" can be told).

    ``ready`` is asked before each read; once it says no, the read gives up (None).
    """
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_TOKEN_BYTES:
        if ready is not None and not ready():
            return None
        chunk = os.read(fd, MAX_TOKEN_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _file_kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def _open_to(mode: int) -> str:
    """Who besides the owner can read or write it, in words; '' for nobody (execute
    alone reveals nothing)."""
    said = []
    for who, shift in (("its group", 3), ("others", 0)):
        bits = (mode >> shift) & 0o7
        verbs = " and ".join(v for bit, v in ((4, "read"), (2, "written")) if bits & bit)
        if verbs:
            said.append((verbs, who))
    if not said:
        return ""
    if len(said) == 2 and said[0][0] == said[1][0]:
        return f"can be {said[0][0]} by its group and by others"
    return "can be " + ", and ".join(f"{verbs} by {who}" for verbs, who in said)


def _token_from_command(where: str, command: tuple[str, ...], timeout: float) -> str:
    shown = safe_text(shlex.join(command), limit=200)
    if not command:
        raise ConfigError(f"{where} token_command: empty command")
    try:
        # No shell: the command is split like a shell would, but nothing is expanded.
        # stdin closed so a command waiting for input fails instead of hanging. stderr
        # is dropped: it may hold secrets, and is never repeated. A session of its own,
        # so a timeout stops its children too (a script's `sleep`, a pipeline).
        proc = subprocess.Popen(  # noqa: S603 - the user's own command, from their config
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise ConfigError(f"{where} token_command: {command[0]!r} not found ({shown})") from None
    except OSError as exc:
        raise ConfigError(
            f"{where} token_command: cannot run {command[0]!r}: {exc.strerror} ({shown})"
        ) from None
    deadline = time.monotonic() + timeout
    too_slow = ConfigError(
        f"{where} token_command: no answer within {timeout:g} s, so it was stopped "
        f"({shown}); token_timeout sets how long to wait"
    )
    assert proc.stdout is not None
    try:
        out = _read_until(proc.stdout.fileno(), deadline)
        if out is None:
            raise too_slow
        if len(out) > MAX_TOKEN_BYTES:
            raise ConfigError(
                f"{where} token_command: printed more than {MAX_TOKEN_BYTES // 1024} KiB, "
                f"so it was stopped ({shown}): a token is one short line"
            )
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise too_slow from None
    except ConfigError:
        _kill_group(proc)
        raise
    finally:
        proc.stdout.close()
    lines = out.decode("utf-8", errors="replace").splitlines()
    token = lines[0].strip() if lines else ""
    if proc.returncode < 0:
        raise ConfigError(f"{where} token_command: killed by signal {-proc.returncode} ({shown})")
    if proc.returncode != 0:
        # Neither its stdout nor its stderr is quoted: either may hold the secret.
        raise ConfigError(
            f"{where} token_command: exited with status {proc.returncode} ({shown}); "
            "run it by hand to see why"
        )
    if not token:
        raise ConfigError(f"{where} token_command: printed no token on its first line ({shown})")
    return token


def _read_until(fd: int, deadline: float) -> bytes | None:
    """The pipe's bytes up to EOF, or one more than MAX_TOKEN_BYTES; None once the
    deadline passes (checked between reads, so a command that writes without end is
    stopped on time too)."""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)

        def readable_in_time() -> bool:
            left = deadline - time.monotonic()
            return left > 0 and bool(sel.select(left))

        return _read_capped(fd, readable_in_time)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Its whole session (start_new_session: the group's id is its pid), then reap it.
    Before the wait, so the id cannot have been reused yet."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
