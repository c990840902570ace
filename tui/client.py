"""HTTP client for the usage report. No Textual here: usable from scripts and tests.

One long-lived ``httpx.AsyncClient`` per monitor; every failure becomes a
:class:`UsageError` whose ``message`` is a sentence a person can act on.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import os
import socket
import ssl
import time
from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime
from typing import Literal, NamedTuple

import httpx

from tui import __version__
from tui.report import ReportError, UsageReport, parse_report
from tui.transport import LeanTransport

DEFAULT_PATH = "/v1/auth/usage"
SIMULATOR_HEADER = "X-Vectros-Simulator"  # sent by `vectros-usage simulate` only
MAX_BODY_BYTES = 4 * 1024 * 1024  # a report is a few KB; anything near this is wrong
# A server that trickles a byte now and then never trips the read timeout (it counts
# per read): the whole answer gets this long, however it arrives.
TOTAL_TIMEOUT = 30.0

log = logging.getLogger("vectros_usage.client")

ErrorKind = Literal[
    "auth",  # 401: the token is missing, invalid, expired or revoked
    "scope",  # 403: the token lacks billing:r
    "throttled",  # 429
    "server",  # 5xx
    "bad_request",  # 400 and other 4xx
    "redirect",  # 3xx: never followed
    "unreachable",  # connect, DNS, TLS
    "timeout",
    "too_large",
    "bad_report",  # the body is not a report we can trust
]


class Secret:
    """A token that will not print itself: safe in reprs, logs and crash reports."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def redact(self, text: str) -> str:
        """Remove the token from text a server sent back (an echoing error message)."""
        if len(self._value) >= 4 and self._value in text:
            return text.replace(self._value, "‹redacted›")
        return text

    def redact_body(self, body: bytes) -> bytes:
        """The token out of a whole answer, before any of it is parsed or shown: it may
        come back in any field (an account name, a currency), raw or JSON-escaped."""
        if len(self._value) < 4:
            return body
        for form in {self._value, json.dumps(self._value)[1:-1]}:
            raw = form.encode("utf-8", "replace")
            if raw in body:
                body = body.replace(raw, "‹redacted›".encode())
        return body

    def __repr__(self) -> str:
        return "Secret('‹redacted›')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


class UsageError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after  # seconds, when the server asked for a pause

    @property
    def is_auth(self) -> bool:
        return self.kind in ("auth", "scope")


class Fetched(NamedTuple):
    report: UsageReport
    received_at: datetime  # wall clock, UTC
    received_monotonic: float
    not_modified: bool = False
    simulated: str | None = None  # the simulator says so in a header: its scenario


class _BearerAuth(httpx.Auth):
    """Adds the token per request, so it never sits in the client's default headers."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = "Bearer " + self._token.reveal()
        log.debug("Authorization: Bearer ‹redacted›")
        yield request


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (RFC 9110: delay-seconds or an HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), 86_400))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, min(delta, 86_400.0))


def _server_message(body: bytes) -> tuple[str | None, str | None]:
    """(code, message) from the contract's error body, if it is one."""
    try:
        data = json.loads(body[:65_536])
    except ValueError:
        return None, None
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        return None, None
    err = data["error"]
    code = err.get("code") if isinstance(err.get("code"), str) else None
    message = err.get("message") if isinstance(err.get("message"), str) else None
    return code, message


class UsageClient:
    def __init__(
        self,
        base_url: str,
        token: Secret,
        *,
        path: str = DEFAULT_PATH,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        ca_bundle: str | None = None,
        total_timeout: float = TOTAL_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.path = "/" + path.lstrip("/")
        self._token = token
        self._max_body = max_body_bytes
        self._total_timeout = total_timeout
        self._etags: dict[tuple[int, int] | None, tuple[str, UsageReport]] = {}
        self._url: httpx.URL | str = self.url
        with contextlib.suppress(httpx.InvalidURL):  # else each poll says what is wrong
            self._url = httpx.URL(self.url)  # parsed once, not on every poll
        self._http = httpx.AsyncClient(
            auth=_BearerAuth(token),
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=5.0, pool=5.0),
            # A redirect could carry the token to another origin: never follow one.
            follow_redirects=False,
            headers={"User-Agent": f"vectros-usage/{__version__}", "Accept": "application/json"},
            # Our own HTTP/1.1 transport (tui/transport.py: why). Plain http:// (the
            # loopback simulator) never uses TLS, so no certificate store is built for it.
            transport=transport
            or LeanTransport(
                tls_context(ca_bundle) if self.base_url.startswith("https:") else None
            ),
            trust_env=False,  # no proxy from the environment sees the token uninvited
        )

    @property
    def url(self) -> str:
        return self.base_url + self.path

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> UsageClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def fetch(self, period: tuple[int, int] | None = None) -> Fetched:
        """The report for the current period, or for ``(year, month)``."""
        params = {"year": str(period[0]), "month": str(period[1])} if period else None
        headers = {}
        cached = self._etags.get(period)
        if cached is not None:
            headers["If-None-Match"] = cached[0]
        started = time.monotonic()
        debug = log.isEnabledFor(logging.DEBUG)  # (the headers shown are built only then)
        if debug:
            log.debug("GET %s params=%s headers=%s", self.url, params, _shown_headers(headers))
        try:
            async with asyncio.timeout(self._total_timeout):
                async with self._http.stream(
                    "GET", self._url, params=params, headers=headers
                ) as resp:
                    body = self._token.redact_body(await self._read_capped(resp.aiter_bytes()))
                    received = datetime.now(UTC)
                    mono = time.monotonic()
        except httpx.TimeoutException as exc:
            phase = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
            error = UsageError("timeout", f"timed out {phase} ({self._origin()})")
            raise self._logged(error) from None
        except TimeoutError:
            raise self._logged(
                UsageError(
                    "timeout",
                    f"no complete answer from {self._origin()} within "
                    f"{self._total_timeout:g} s: the server is sending too slowly",
                )
            ) from None
        except httpx.ConnectError as exc:
            raise self._logged(
                UsageError("unreachable", _connect_problem(exc, self._origin()))
            ) from None
        except httpx.TransportError as exc:
            raise self._logged(
                UsageError("unreachable", f"connection to {self._origin()} failed: {_reason(exc)}")
            ) from None
        except UsageError as exc:
            raise self._logged(exc) from None
        except (OSError, ValueError, ExceptionGroup) as exc:
            # Below httpx (a socket refusing an address, a port out of range): still a
            # failed poll with a reason, never a traceback.
            raise self._logged(
                UsageError("unreachable", f"cannot reach {self._origin()}: {_reason(exc)}")
            ) from None
        if debug:
            log.debug(
                "%s in %.1f ms, %d bytes, headers=%s",
                resp.status_code,
                (time.monotonic() - started) * 1000,
                len(body),
                _shown_headers(resp.headers),
            )

        status = resp.status_code
        if status == 304 and cached is not None:
            return Fetched(cached[1], received, mono, not_modified=True)
        if status == 304:
            raise self._logged(
                UsageError(
                    "bad_request",
                    "the server answered 304 Not Modified to a request that did not ask "
                    "whether anything changed",
                    status=304,
                )
            )
        if status == 200:
            try:
                report = parse_report(body)
            except ReportError as exc:
                error = UsageError("bad_report", f"the server sent a bad report: {exc}")
                raise self._logged(error) from None
            etag = resp.headers.get("ETag")
            if etag and len(etag) < 200:
                self._etags[period] = (etag, report)
            simulated = resp.headers.get(SIMULATOR_HEADER)
            return Fetched(report, received, mono, simulated=simulated[:40] if simulated else None)
        raise self._logged(self._status_error(resp, body))

    async def _read_capped(self, chunks: AsyncIterator[bytes]) -> bytes:
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > self._max_body:
                # Leaving the stream early closes the connection: the rest is never read.
                raise UsageError(
                    "too_large",
                    f"the response is larger than {self._max_body // (1024 * 1024)} MB; "
                    "a usage report is a few KB, so it was not read",
                )
            parts.append(chunk)
        return b"".join(parts)

    def _logged(self, error: UsageError) -> UsageError:
        log.debug("failed: %s: %s", error.kind, error.message)
        return error

    def _origin(self) -> str:
        url = httpx.URL(self.base_url)
        host = f"[{url.host}]" if ":" in url.host else url.host
        return f"{host}:{url.port}" if url.port else host

    def _status_error(self, resp: httpx.Response, body: bytes) -> UsageError:
        status = resp.status_code
        code, said = _server_message(body)
        said = self._token.redact(said) if said else None
        suffix = f" — the server said: {said}" if said else ""
        if 300 <= status < 400 and status != 304:
            target = httpx.URL(resp.headers.get("Location", ""))
            where = target.host or "another path"
            return UsageError(
                "redirect",
                f"the server redirected ({status}) to {where}; not followed, "
                "so the token is only ever sent to the configured base URL",
                status=status,
            )
        if status == 401:
            return UsageError(
                "auth",
                f"the token was refused (401): it is missing, invalid, expired or revoked{suffix}",
                status=status,
            )
        if status == 403:
            return UsageError(
                "scope",
                "the token lacks the billing:r permission (403"
                + (f" {code}" if code else "")
                + "): this is a permission of the token, not an outage; "
                "use a token that has billing:r" + suffix,
                status=status,
            )
        if status == 429:
            retry = parse_retry_after(resp.headers.get("Retry-After"))
            wait = f" (the server asked for {int(retry)} s)" if retry is not None else ""
            return UsageError(
                "throttled",
                f"throttled by the gateway (429){wait}{suffix}",
                status=status,
                retry_after=retry,
            )
        if status >= 500:
            return UsageError("server", f"server trouble ({status}){suffix}", status=status)
        return UsageError(
            "bad_request", f"the server refused the request ({status}){suffix}", status=status
        )


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Whom to trust for https: a CA file or directory when given, else certifi's CAs
    (what httpx trusts by default).

    (The client does not read the environment itself: ``trust_env`` is off so no proxy
    variable can route the token; the settings pass ``SSL_CERT_FILE`` on instead.)
    """
    if not ca_bundle:
        import certifi  # an httpx dependency: its CA bundle, imported only for https

        return ssl.create_default_context(cafile=certifi.where())
    if os.path.isdir(ca_bundle):
        return ssl.create_default_context(capath=ca_bundle)
    return ssl.create_default_context(cafile=ca_bundle)


def _shown_headers(headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
    """Headers for the debug log: credentials never appear, only that they were sent."""
    hidden = {"authorization", "cookie", "set-cookie", "proxy-authorization"}
    return {k: "‹redacted›" if k.lower() in hidden else v for k, v in headers.items()}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    return text[:120]


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _connect_problem(exc: httpx.ConnectError, origin: str) -> str:
    """Name the root cause: httpx often only says 'All connection attempts failed'."""
    chain = _causes(exc)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, ssl.SSLError) for e in chain) or "certificate" in text:
        root = next((e for e in chain if isinstance(e, ssl.SSLError)), exc)
        hint = " (the server may speak plain http://)" if "wrong version number" in text else ""
        return f"TLS failed with {origin}: {str(root)[:200]}{hint}"
    if (
        any(isinstance(e, socket.gaierror) for e in chain)
        or "name or service" in text
        or ("name resolution" in text)
    ):
        return f"cannot resolve the host of {origin} (DNS)"
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return f"connection refused by {origin}: is the server running?"
    return f"cannot connect to {origin}: {str(exc)[:200] or 'connection failed'}"
