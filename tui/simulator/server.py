"""A real HTTP server that serves the usage-report contract from a :class:`UsageModel`.

HTTP/1.1 parsed by h11 (as the client's transport is), answered from the event
loop's own callbacks: a request is parsed and answered in the callback its bytes
arrive in, with no task a connection to wake. It runs in the monitor's own event loop
for ``--demo`` (no thread: the demo's server costs the monitor no second interpreter
thread, and no GIL hand-offs on every poll), in a thread of its own for the other
commands and the tests, or alone as ``vectros-usage simulate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import signal
import socket
import sys
import threading
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import h11

from tui.client import DEFAULT_PATH, SIMULATOR_HEADER
from tui.simulator.model import UsageModel, VirtualClock, default_start

DEMO_TOKEN = "demo-billing"  # noqa: S105 - the simulator's own, published demo token
DEMO_RECORDS_TOKEN = "demo-records"  # noqa: S105 - a token without billing:r, for 403

MAX_HEAD = 64 * 1024  # request line and headers; a usage GET needs a few hundred bytes
IDLE_SECONDS = 300.0  # a kept-alive connection with nothing asked of it is closed
SERVER_NAME = b"vectros-simulator"

Answer = tuple[int, dict[str, str], bytes | None]


def _error(status: int, code: str, message: str, **extra: str) -> Answer:
    body = {"error": {"code": code, "message": message, **extra}}
    return status, {}, json.dumps(body, separators=(",", ":")).encode()


def answer(sim: Simulator, method: str, target: str, headers: dict[str, str]) -> Answer:
    """What the simulated API says to one request (headers keyed in lower case)."""
    if method not in ("GET", "HEAD"):
        status, extra, body = _error(405, "method_not_allowed", f"{method[:20]} is not served.")
        return status, {**extra, "Allow": "GET, HEAD"}, body
    url = urlsplit(target)
    if url.path != sim.path:
        return _error(404, "not_found", f"No such path: {url.path[:80]}")
    scheme, _, presented = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        return _error(401, "unauthenticated", "Missing or invalid token.")
    if hmac.compare_digest(presented.encode(), sim.records_token.encode()):
        return _error(
            403,
            "insufficient_scope",
            "This token cannot read billing figures.",
            required="billing:r",
        )
    if not hmac.compare_digest(presented.encode(), sim.token.encode()):
        return _error(401, "unauthenticated", "Missing or invalid token.")

    query = parse_qs(url.query)
    year, month = query.get("year"), query.get("month")
    period: tuple[int, int] | None = None
    if (year is None) != (month is None):
        return _error(400, "bad_period", "Give both year and month, or neither.")
    if year is not None and month is not None:
        try:
            period = (int(year[0]), int(month[0]))
        except ValueError:
            return _error(400, "bad_period", "year and month must be whole numbers.")
        if not (2000 <= period[0] <= 9999 and 1 <= period[1] <= 12):
            return _error(400, "bad_period", "month must be 1 to 12, year 2000 to 9999.")
    try:
        report = sim.model.report(period)
    except ValueError as exc:
        return _error(400, "bad_period", str(exc))
    body = json.dumps(report, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if headers.get("if-none-match") == etag:
        return 304, {"ETag": etag}, None
    # Says what it is, so a monitor pointed at it by URL still marks the figures
    # as simulated (and does not take its fast clock for a wrong one).
    speed = "frozen" if sim.clock.speed == 0 else f"x{sim.clock.speed:g}"
    return 200, {"ETag": etag, SIMULATOR_HEADER: f"{sim.model.scenario} {speed}"}, body


def _response(
    status: int, headers: dict[str, str], body: bytes | None, head_only: bool
) -> tuple[h11.Response, bytes]:
    data = body or b""
    fields = [("Server", SERVER_NAME.decode()), ("Cache-Control", "no-store")]
    if body is not None:
        fields.append(("Content-Type", "application/json"))
    fields.append(("Content-Length", str(len(data))))
    fields.extend(headers.items())
    return h11.Response(status_code=status, headers=fields), b"" if head_only else data


class Simulator:
    """The simulated Vectros usage API on ``host:port`` (0: an ephemeral port).

    The port is bound when it is made, so ``base_url`` is known at once; it answers
    once served: :meth:`start` (a thread of its own), :meth:`start_serving` (the
    running event loop) or :meth:`serve_forever` (this thread, until interrupted).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        scenario: str = "steady",
        speed: float = 1.0,
        seed: int = 1,
        start: datetime | None = None,
        token: str = DEMO_TOKEN,
        records_token: str = DEMO_RECORDS_TOKEN,
        path: str = DEFAULT_PATH,
        verbose: bool = False,
    ) -> None:
        self.clock = VirtualClock(start or default_start(scenario), speed)
        self.model = UsageModel(scenario=scenario, seed=seed, clock=self.clock)
        self.token = token
        self.records_token = records_token
        self.path = "/" + path.lstrip("/")
        self.verbose = verbose
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        self._socket = socket.create_server(
            (host, port), family=family, dualstack_ipv6=False, reuse_port=False
        )
        self._socket.setblocking(False)
        address = self._socket.getsockname()
        self._address = (str(address[0]), int(address[1]))
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[_Connection] = set()

    @property
    def host(self) -> str:
        return self._address[0]

    @property
    def port(self) -> int:
        return self._address[1]

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    # -------------------------------------------------------------- serving

    async def start_serving(self) -> None:
        """Answer from the running event loop (the monitor's own, for --demo)."""
        self._loop = loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), sock=self._socket)

    async def aclose(self) -> None:
        """Stop answering: the port and every kept-alive connection are closed."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for conn in list(self._connections):
            conn.close()
        self._connections.clear()
        with contextlib.suppress(OSError):
            self._socket.close()

    async def _serve_until_stopped(
        self, ready: threading.Event | None = None, *, on_signals: bool = False
    ) -> None:
        self._stopping = stopping = asyncio.Event()
        if on_signals:  # Ctrl-C, SIGTERM or SIGHUP: stop serving cleanly, not mid-await
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(signum, stopping.set)
        await self.start_serving()
        if ready is not None:
            ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self.aclose()

    def start(self) -> Simulator:
        """Serve from a daemon thread with its own event loop; returns once it answers."""
        ready = threading.Event()
        self._thread = threading.Thread(
            target=asyncio.run,
            args=(self._serve_until_stopped(ready),),
            name="vectros-simulator",
            daemon=True,
        )
        self._thread.start()
        if not ready.wait(timeout=10):
            raise RuntimeError(f"the simulator did not start serving on {self.base_url}")
        return self

    def serve_forever(self) -> None:
        """Serve from this thread until Ctrl-C, SIGTERM or SIGHUP (``vectros-usage simulate``;
        all three stop it cleanly, status 0)."""
        asyncio.run(self._serve_until_stopped(on_signals=True))

    def stop(self) -> None:
        loop, stopping = self._loop, self._stopping
        if self._thread is not None and loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # its loop already gone
                loop.call_soon_threadsafe(stopping.set)
            self._thread.join(timeout=5)
            self._thread = None
        with contextlib.suppress(OSError):
            self._socket.close()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Connection(asyncio.Protocol):
    """One client's connection: h11 fed from ``data_received``, answered at once."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        self._transport: asyncio.Transport | None = None
        self._client = "-"
        self._request: h11.Request | None = None
        self._loop = asyncio.get_running_loop()
        self._active = self._loop.time()  # when it last received anything
        self._idle: asyncio.TimerHandle | None = None

    # ------------------------------------------------------------------ asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self._client = str(peer[0]) if peer else "-"
        self._sim._connections.add(self)
        self._idle = self._loop.call_later(IDLE_SECONDS, self._check_idle)

    def connection_lost(self, exc: Exception | None) -> None:
        self._sim._connections.discard(self)
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def data_received(self, data: bytes) -> None:
        self._active = self._loop.time()
        self._h11.receive_data(data)
        self._advance()

    def eof_received(self) -> bool:
        self._h11.receive_data(b"")
        self._advance()
        return False  # the transport closes itself

    # A client that sends without reading its answers is not read from meanwhile.
    def pause_writing(self) -> None:
        if self._transport is not None:
            self._transport.pause_reading()

    def resume_writing(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.resume_reading()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def _check_idle(self) -> None:
        # One timer a connection, moved on only when it fires (not on every request).
        idle_for = self._loop.time() - self._active
        if idle_for >= IDLE_SECONDS:
            self.close()
        else:
            self._idle = self._loop.call_later(IDLE_SECONDS - idle_for, self._check_idle)

    # ------------------------------------------------------------------ HTTP

    def _advance(self) -> None:
        conn = self._h11
        try:
            while (event := conn.next_event()) is not h11.NEED_DATA:
                if isinstance(event, h11.Request):
                    self._request = event
                elif isinstance(event, h11.EndOfMessage) and self._request is not None:
                    # (A body sent with a GET was read and is ignored.)
                    request, self._request = self._request, None
                    self._respond(request)
                    if h11.MUST_CLOSE in (conn.our_state, conn.their_state):
                        self.close()
                        return
                    if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                        conn.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                    self.close()
                    return
        except h11.RemoteProtocolError as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                _, _, body = _error(exc.error_status_hint, "bad_request", "Malformed HTTP request.")
                self._send(exc.error_status_hint, {"Connection": "close"}, body, head_only=False)
            self.close()

    def _respond(self, request: h11.Request) -> None:
        method = request.method.decode("ascii", "replace")
        target = request.target.decode("ascii", "replace")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        try:
            status, extra, body = answer(self._sim, method, target, headers)
        except Exception as exc:  # a bug in the model: an answer, not a dropped connection
            status, extra, body = _error(500, "internal", f"simulator error: {exc!r:.200}")
        self._send(status, extra, body, head_only=method == "HEAD")
        if self._sim.verbose:
            # The request line only: headers (and so the token) are never logged.
            line = f"{method} {target[:200]} HTTP/{request.http_version.decode()}"
            sys.stderr.write(f'simulator: {self._client} "{line}" {status} -\n')

    def _send(
        self, status: int, extra: dict[str, str], body: bytes | None, *, head_only: bool
    ) -> None:
        conn, transport = self._h11, self._transport
        if transport is None or transport.is_closing():
            return
        response, data = _response(status, extra, body, head_only)
        try:
            # Headers and body leave in one write (TCP_NODELAY is asyncio's default), so
            # the body never waits for the client's delayed ACK of the headers.
            out = conn.send(response) or b""
            if data:
                out += conn.send(h11.Data(data=data)) or b""
            transport.write(out + (conn.send(h11.EndOfMessage()) or b""))
        except h11.LocalProtocolError:
            self.close()
