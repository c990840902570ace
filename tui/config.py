"""Settings: what the monitor talks to and how often. Resolved from flags, then the
environment, then the config file's profile (`tui.profiles`), then defaults.

No Textual here. ``ConfigError`` carries a message meant for a person, and the CLI
turns it into exit status 2.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping
from typing import Any, NamedTuple

import httpx

from tui import profiles
from tui.client import DEFAULT_PATH, Secret, tls_context
from tui.profiles import ConfigError as ConfigError  # one class, raised by both
from tui.thresholds import DEFAULT_THRESHOLDS, Thresholds

ENV_BASE_URL = "VECTROS_BASE_URL"
ENV_TOKEN = "VECTROS_TOKEN"  # noqa: S105 - the variable's name, not a token
MIN_INTERVAL = 1.0
MAX_INTERVAL = 3600.0
DEFAULT_INTERVAL = 5.0


class Settings(NamedTuple):
    base_url: str
    token: Secret
    path: str = DEFAULT_PATH
    interval: float = DEFAULT_INTERVAL
    demo: bool = False
    demo_label: str = ""  # e.g. "DEMO · load-test ×60", shown in the header
    ca_bundle: str | None = None  # CA file or directory for https (else certifi's)
    debug_log: str | None = None  # --debug FILE
    history: bool = True  # record polls in the state dir (False: --no-history)
    thresholds: Thresholds = DEFAULT_THRESHOLDS
    profile: str | None = None  # the config file's profile these came from, if any
    hide_money: bool = False  # start with balances and cents hidden (pairing)
    theme: str | None = None  # a Textual theme name; None: the app's default
    mouse: bool = True  # False: --no-mouse, the terminal keeps its own selection


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, *, allow_insecure: bool = False) -> str:
    try:
        url = httpx.URL(base_url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise ConfigError(f"the base URL {base_url!r} is not a URL: {exc}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigError(f"the base URL must look like https://api.example.com (got {base_url!r})")
    try:
        port = url.port
    except (ValueError, httpx.InvalidURL):
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"the base URL's port must be 1 to 65535 (got {base_url!r})")
    if url.userinfo:
        raise ConfigError("put the token in VECTROS_TOKEN, not in the base URL")
    if url.query or url.fragment or "?" in base_url or "#" in base_url:
        # The report's path is appended to it: a query would swallow the path (and a
        # secret in it would land in logs and the history), a fragment would drop it.
        raise ConfigError(
            f"the base URL must not have a query or a fragment (? or #): {_no_query(base_url)}"
        )
    if url.scheme == "http" and not is_loopback(url.host) and not allow_insecure:
        raise ConfigError(
            f"refusing to send the token over plain http:// to {url.host}; "
            "use https://, or pass --allow-insecure if you really mean it"
        )
    return base_url.rstrip("/")


def _no_query(base_url: str) -> str:
    """The URL up to any ? or #, safe to say back: what follows may be a secret."""
    return repr(base_url.split("?", 1)[0].split("#", 1)[0] + "…")


def check_interval(interval: float, *, name: str = "--interval") -> float:
    # `not >=` also rejects NaN; an infinite interval would never poll again.
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise ConfigError(
            f"{name} must be at least {MIN_INTERVAL:g} s and at most {MAX_INTERVAL:g} s "
            f"(got {interval:g})"
        )
    return interval


MISSING_MESSAGE = (
    "vectros-usage needs to know where the usage report is and a token to read it.\n"
    f"  set {ENV_BASE_URL} (or pass --base-url), e.g. https://api.vectros.example\n"
    f"  set {ENV_TOKEN} to a token with the billing:r permission\n"
    "  or put both in a profile of the config file (see `vectros-usage config path`)\n"
    "or try it on the built-in simulator: vectros-usage --demo"
)


NO_SOURCE = "none"


class Resolved(NamedTuple):
    """Settings and where each came from, for `config check` (never the token)."""

    settings: Settings
    config: profiles.ConfigFile
    profile_source: str  # "--profile", VECTROS_USAGE_PROFILE, "default_profile", "none"
    sources: Mapping[str, str]  # base_url, path, interval, token, ca_bundle -> source
    threshold_sources: Mapping[str, str]


def _where(config: profiles.ConfigFile, profile: profiles.Profile, key: str) -> str:
    return f"file {config.path} [profiles.{profile.name}] {key}"


def resolve_explained(
    *,
    base_url: str | None,
    interval: float | None = None,
    path: str | None = None,
    allow_insecure: bool = False,
    ca_bundle: str | None = None,
    debug_log: str | None = None,
    history: bool = True,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    token_timeout: float | None = None,
    warn: profiles.Warn | None = None,
) -> Resolved:
    """The one place Settings for a real API are built. Each setting: the flag, else the
    environment, else the selected profile of the config file, else the default.
    `token_timeout` overrides the profile's (tests); `warn` receives warnings."""
    env = os.environ if environ is None else environ
    if interval is not None:
        check_interval(interval)  # a bad flag is said before any token command runs
    config = profiles.load(env)
    chosen, profile_source = profiles.select(config, profile, env)
    thresholds, threshold_sources = profiles.thresholds(config, chosen)
    sources: dict[str, str] = {}

    def pick(name: str, flag: object, flag_name: str, env_name: str | None) -> Any:
        file_value = getattr(chosen, name, None) if chosen is not None else None
        for value, source in (
            (flag, f"flag {flag_name}"),
            (env.get(env_name) if env_name else None, f"env {env_name}"),
            (file_value, _where(config, chosen, name) if chosen else ""),
        ):
            if value is not None and value != "":
                sources[name] = source
                return value
        sources[name] = "default"
        return None

    url = pick("base_url", base_url, "--base-url", ENV_BASE_URL)
    # Said before any token command runs: no passphrase prompt for a doomed start.
    has_token = bool(env.get(ENV_TOKEN, "").strip()) or bool(chosen and chosen.token_source())
    if not url or not has_token:
        missing = [n for n, v in ((ENV_BASE_URL, url), (ENV_TOKEN, has_token)) if not v]
        hint = ""
        if chosen is not None:
            hint = (
                f"\nprofile {chosen.name!r} ({config.path}) has "
                + ("no base_url" if not url else "")
                + (" and " if not url and not has_token else "")
                + ("no token_env, token_file or token_command" if not has_token else "")
            )
        raise ConfigError(f"missing {' and '.join(missing)}.{hint}\n{MISSING_MESSAGE}")
    token = _token(config, chosen, env, sources, token_timeout, warn)
    assert token is not None  # has_token said there is a source
    try:
        checked_url = check_base_url(str(url), allow_insecure=allow_insecure)
    except ConfigError as exc:
        if sources["base_url"].startswith("file "):
            raise ConfigError(f"{sources['base_url'].removeprefix('file ')}: {exc}") from None
        raise
    given_path = pick("path", path, "--path", None)
    given_interval = pick("interval", interval, "--interval", None)
    bundle, sources["ca_bundle"] = _ca_bundle(
        ca_bundle,
        env,
        chosen.ca_bundle if chosen else None,
        _where(config, chosen, "ca_bundle").removeprefix("file ") if chosen else "",
    )
    settings = Settings(
        base_url=checked_url,
        token=token,
        path=check_path(given_path, name=_name(sources["path"], "--path")),
        interval=check_interval(
            DEFAULT_INTERVAL if given_interval is None else float(given_interval),
            name=_name(sources["interval"], "--interval"),
        ),
        ca_bundle=bundle,
        debug_log=debug_log,
        history=history,
        thresholds=thresholds,
        profile=chosen.name if chosen else None,
    )
    return Resolved(settings, config, profile_source, sources, threshold_sources)


def _name(source: str, flag: str) -> str:
    """What to call a setting in an error: the flag, or the file's section and key."""
    return source.removeprefix("file ") if source.startswith("file ") else flag


def _token(
    config: profiles.ConfigFile,
    chosen: profiles.Profile | None,
    env: Mapping[str, str],
    sources: dict[str, str],
    timeout: float | None,
    warn: profiles.Warn | None,
) -> Secret | None:
    """$VECTROS_TOKEN, else the profile's token source (only run when needed: a
    `pass show` may ask for a passphrase). Checked, and never echoed."""
    sources["token"] = NO_SOURCE
    value = env.get(ENV_TOKEN, "").strip()
    if value:
        sources["token"] = f"env {ENV_TOKEN}"
        name = ENV_TOKEN
    elif chosen is not None:
        kwargs = {} if warn is None else {"warn": warn}
        found = profiles.read_token(config, chosen, environ=env, timeout=timeout, **kwargs)
        if found is None:
            return None
        sources["token"] = chosen.token_source() or NO_SOURCE
        name = f"the token from {sources['token']}"
        value = found.reveal()
    else:
        return None
    if value.lower().startswith("bearer "):
        raise ConfigError(f"{name} should hold the token alone, without 'Bearer '")
    if not (value.isascii() and value.isprintable()) or any(c.isspace() for c in value):
        # Never echo it: say what is wrong with it, not what it is.
        raise ConfigError(
            f"{name} holds characters a token cannot have (spaces, controls or non-ASCII)"
        )
    return Secret(value)


def resolve(
    *,
    base_url: str | None,
    interval: float | None = None,
    path: str | None = None,
    allow_insecure: bool = False,
    ca_bundle: str | None = None,
    debug_log: str | None = None,
    history: bool = True,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    token_timeout: float | None = None,
) -> Settings:
    """Settings for a real API (see `resolve_explained` for the order)."""
    return resolve_explained(
        base_url=base_url,
        interval=interval,
        path=path,
        allow_insecure=allow_insecure,
        ca_bundle=ca_bundle,
        debug_log=debug_log,
        history=history,
        profile=profile,
        environ=environ,
        token_timeout=token_timeout,
    ).settings


def profile_thresholds(
    profile: str | None, environ: Mapping[str, str] | None = None
) -> tuple[Thresholds, str | None]:
    """The thresholds of the selected profile, and its name, without touching its URL
    or token: for --demo, which brings its own."""
    config = profiles.load(environ)
    chosen, _ = profiles.select(config, profile, environ)
    return profiles.thresholds(config, chosen)[0], chosen.name if chosen else None


def check_ca_bundle(flag: str | None, env: Mapping[str, str]) -> str | None:
    """--ca-bundle, else $SSL_CERT_FILE, else $SSL_CERT_DIR: what https trusts."""
    return _ca_bundle(flag, env, None, "")[0]


def _ca_bundle(
    flag: str | None, env: Mapping[str, str], file_value: str | None, file_key: str
) -> tuple[str | None, str]:
    """--ca-bundle, else $SSL_CERT_FILE, else $SSL_CERT_DIR, else the profile's
    ca_bundle: what https trusts, and where that came from."""
    for name, source, value in (
        ("--ca-bundle", "flag --ca-bundle", flag),
        ("SSL_CERT_FILE", "env SSL_CERT_FILE", env.get("SSL_CERT_FILE")),
        ("SSL_CERT_DIR", "env SSL_CERT_DIR", env.get("SSL_CERT_DIR")),
        (file_key, f"file {file_key}", file_value),
    ):
        if value:
            if not os.path.exists(value):
                raise ConfigError(f"{name} names {value!r}, which does not exist")
            if not os.access(value, os.R_OK):
                raise ConfigError(f"{name} names {value!r}, which cannot be read")
            try:
                tls_context(value)
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError(
                    f"{name} names {value!r}, which holds no usable CA certificates "
                    f"({exc.__class__.__name__})"
                ) from None
            return value, source
    return None, "default"


def check_path(path: str | None, *, name: str = "--path") -> str:
    """The report's path: one path on the configured host, nothing that could split a
    request line or a header."""
    if path is None:
        return DEFAULT_PATH
    if (
        not path.startswith("/")
        or path.startswith("//")
        or not (path.isascii() and path.isprintable())
        or any(c.isspace() or c in "?#" for c in path)
    ):
        raise ConfigError(
            f"{name} must be a plain path such as {DEFAULT_PATH} (no spaces, controls, ? or #)"
        )
    return path
