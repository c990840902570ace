"""A real HTTP server that serves the usage-report contract from a :class:`UsageModel`.

HTTP/1.1 on asyncio streams, parsed by h11 (as the client's transport is). It runs
in the monitor's own event loop for ``--demo`` (no thread: the demo's server costs
the monitor no second interpreter thread, and no GIL hand-offs on every poll), in a
thread of its own for the other commands and the tests, or alone as
``vectros-usage simulate``.
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

READ_SIZE = 64 * 1024
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
        self._connections: set[asyncio.StreamWriter] = set()

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
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._connection, sock=self._socket, limit=READ_SIZE
        )

    async def aclose(self) -> None:
        """Stop answering: the port and every kept-alive connection are closed."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._connections):
            with contextlib.suppress(Exception):
                writer.close()
        self._connections.clear()
        with contextlib.suppress(OSError):
            self._socket.close()

    async def _serve_until_stopped(
        self, ready: threading.Event | None = None, *, on_signals: bool = False
    ) -> None:
        self._stopping = stopping = asyncio.Event()
        if on_signals:  # Ctrl-C or SIGTERM: stop serving cleanly, not mid-await
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
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
        """Serve from this thread until Ctrl-C or SIGTERM (``vectros-usage simulate``)."""
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

    # -------------------------------------------------------------- one connection

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        peer = writer.get_extra_info("peername")
        client = str(peer[0]) if peer else "-"
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    try:
                        async with asyncio.timeout(IDLE_SECONDS):
                            data = await reader.read(READ_SIZE)
                    except TimeoutError:
                        return
                    conn.receive_data(data)
                    continue
                if isinstance(event, h11.Request):
                    await self._exchange(conn, reader, writer, event, client)
                elif isinstance(event, h11.ConnectionClosed):
                    return
                if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                    return
                if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                    conn.start_next_cycle()
        except h11.RemoteProtocolError as exc:
            if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                status = exc.error_status_hint
                _, _, body = _error(status, "bad_request", "Malformed HTTP request.")
                with contextlib.suppress(h11.LocalProtocolError, OSError):
                    response, data = _response(status, {"Connection": "close"}, body, False)
                    out = (conn.send(response) or b"") + (conn.send(h11.Data(data=data)) or b"")
                    writer.write(out + (conn.send(h11.EndOfMessage()) or b""))
                    await writer.drain()
        except (ConnectionError, OSError):
            return
        except asyncio.CancelledError:
            # The server is stopping with this connection open. (Python 3.11's streams
            # log a handler task that ends cancelled as an error: end it normally.)
            return
        finally:
            self._connections.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _exchange(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        client: str,
    ) -> None:
        # A GET has no body, but one sent anyway is read (and ignored) to its end.
        while not isinstance(event := conn.next_event(), h11.EndOfMessage):
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(READ_SIZE))
            elif isinstance(event, h11.ConnectionClosed):
                return
        method = request.method.decode("ascii", "replace")
        target = request.target.decode("ascii", "replace")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        status, extra, body = answer(self, method, target, headers)
        response, data = _response(status, extra, body, method == "HEAD")
        # Headers and body leave in one write (TCP_NODELAY is asyncio's default), so
        # the body never waits for the client's delayed ACK of the headers.
        out = conn.send(response) or b""
        if data:
            out += conn.send(h11.Data(data=data)) or b""
        writer.write(out + (conn.send(h11.EndOfMessage()) or b""))
        await writer.drain()
        if self.verbose:
            # The request line only: headers (and so the token) are never logged.
            line = f"{method} {target[:200]} HTTP/{request.http_version.decode()}"
            sys.stderr.write(f'simulator: {client} "{line}" {status} -\n')
