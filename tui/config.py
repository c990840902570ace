"""Settings: what the monitor talks to and how often. Resolved from flags, then env.

No Textual here. ``ConfigError`` carries a message meant for a person, and the CLI
turns it into exit status 2.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from tui.client import DEFAULT_PATH, Secret, tls_context
from tui.thresholds import DEFAULT_THRESHOLDS, Thresholds

ENV_BASE_URL = "VECTROS_BASE_URL"
ENV_TOKEN = "VECTROS_TOKEN"  # noqa: S105 - the variable's name, not a token
MIN_INTERVAL = 1.0
MAX_INTERVAL = 3600.0
DEFAULT_INTERVAL = 5.0


class ConfigError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Settings:
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
    if url.scheme == "http" and not is_loopback(url.host) and not allow_insecure:
        raise ConfigError(
            f"refusing to send the token over plain http:// to {url.host}; "
            "use https://, or pass --allow-insecure if you really mean it"
        )
    return base_url.rstrip("/")


def check_interval(interval: float) -> float:
    # `not >=` also rejects NaN; an infinite interval would never poll again.
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise ConfigError(
            f"--interval must be at least {MIN_INTERVAL:g} s and at most {MAX_INTERVAL:g} s "
            f"(got {interval:g})"
        )
    return interval


MISSING_MESSAGE = (
    "vectros-usage needs to know where the usage report is and a token to read it.\n"
    f"  set {ENV_BASE_URL} (or pass --base-url), e.g. https://api.vectros.example\n"
    f"  set {ENV_TOKEN} to a token with the billing:r permission\n"
    "or try it on the built-in simulator: vectros-usage --demo"
)


def resolve(
    *,
    base_url: str | None,
    interval: float,
    path: str | None = None,
    allow_insecure: bool = False,
    ca_bundle: str | None = None,
    debug_log: str | None = None,
    history: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    url = base_url or env.get(ENV_BASE_URL) or None
    token = env.get(ENV_TOKEN, "").strip()
    if not url or not token:
        missing = [n for n, v in ((ENV_BASE_URL, url), (ENV_TOKEN, token)) if not v]
        raise ConfigError(f"missing {' and '.join(missing)}.\n{MISSING_MESSAGE}")
    if token.lower().startswith("bearer "):
        raise ConfigError(f"{ENV_TOKEN} should hold the token alone, without 'Bearer '")
    if not (token.isascii() and token.isprintable()) or any(c.isspace() for c in token):
        # Never echo it: say what is wrong with it, not what it is.
        raise ConfigError(
            f"{ENV_TOKEN} holds characters a token cannot have (spaces, controls or non-ASCII)"
        )
    return Settings(
        base_url=check_base_url(url, allow_insecure=allow_insecure),
        token=Secret(token),
        path=check_path(path),
        interval=check_interval(interval),
        ca_bundle=check_ca_bundle(ca_bundle, env),
        debug_log=debug_log,
        history=history,
    )


def check_ca_bundle(flag: str | None, env: Mapping[str, str]) -> str | None:
    """--ca-bundle, else $SSL_CERT_FILE, else $SSL_CERT_DIR: what https trusts."""
    for name, value in (
        ("--ca-bundle", flag),
        ("SSL_CERT_FILE", env.get("SSL_CERT_FILE")),
        ("SSL_CERT_DIR", env.get("SSL_CERT_DIR")),
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
            return value
    return None


def check_path(path: str | None) -> str:
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
            f"--path must be a plain path such as {DEFAULT_PATH} (no spaces, controls, ? or #)"
        )
    return path
