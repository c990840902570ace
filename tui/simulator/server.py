"""A real HTTP server that serves the usage-report contract from a :class:`UsageModel`.

Stdlib only (``http.server``), so it runs in its own thread beside the monitor for
``--demo`` and in tests, or on its own as ``vectros-usage simulate``.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import sys
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tui.client import DEFAULT_PATH, SIMULATOR_HEADER
from tui.simulator.model import UsageModel, VirtualClock, default_start

DEMO_TOKEN = "demo-billing"  # noqa: S105 - the simulator's own, published demo token
DEMO_RECORDS_TOKEN = "demo-records"  # noqa: S105 - a token without billing:r, for 403


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "vectros-simulator"
    sys_version = ""
    # Headers and body leave in one write, with Nagle off: otherwise the body waits
    # for the client's delayed ACK of the headers, ~40 ms on every keep-alive poll.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # flushed by BaseHTTPRequestHandler after each request

    def log_message(self, format: str, *args: Any) -> None:
        # The request line only: headers (and so the token) are never logged.
        if self.server.simulator.verbose:
            sys.stderr.write(f"simulator: {self.address_string()} {format % args}\n")

    def _send(
        self, status: int, body: dict[str, Any] | bytes | None, headers: dict[str, str]
    ) -> None:
        if isinstance(body, bytes):
            data = body
        else:
            data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str, **extra: str) -> None:
        self._send(status, {"error": {"code": code, "message": message, **extra}}, {})

    def do_GET(self) -> None:
        sim = self.server.simulator
        url = urlsplit(self.path)
        if url.path != sim.path:
            self._error(404, "not_found", f"No such path: {url.path[:80]}")
            return
        scheme, _, presented = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            self._error(401, "unauthenticated", "Missing or invalid token.")
            return
        if hmac.compare_digest(presented.encode(), sim.records_token.encode()):
            self._error(
                403,
                "insufficient_scope",
                "This token cannot read billing figures.",
                required="billing:r",
            )
            return
        if not hmac.compare_digest(presented.encode(), sim.token.encode()):
            self._error(401, "unauthenticated", "Missing or invalid token.")
            return

        query = parse_qs(url.query)
        year, month = query.get("year"), query.get("month")
        period: tuple[int, int] | None = None
        if (year is None) != (month is None):
            self._error(400, "bad_period", "Give both year and month, or neither.")
            return
        if year is not None and month is not None:
            try:
                period = (int(year[0]), int(month[0]))
            except ValueError:
                self._error(400, "bad_period", "year and month must be whole numbers.")
                return
            if not (2000 <= period[0] <= 9999 and 1 <= period[1] <= 12):
                self._error(400, "bad_period", "month must be 1 to 12, year 2000 to 9999.")
                return
        try:
            report = sim.model.report(period)
        except ValueError as exc:
            self._error(400, "bad_period", str(exc))
            return
        body = json.dumps(report, separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if self.headers.get("If-None-Match") == etag:
            self._send(304, None, {"ETag": etag})
            return
        # Says what it is, so a monitor pointed at it by URL still marks the figures
        # as simulated (and does not take its fast clock for a wrong one).
        speed = "frozen" if sim.clock.speed == 0 else f"x{sim.clock.speed:g}"
        self._send(200, body, {"ETag": etag, SIMULATOR_HEADER: f"{sim.model.scenario} {speed}"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Close kept-alive connections too: a stopped server must look stopped."""
        with self._connections_lock:
            connections, self._connections = self._connections, set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class Simulator:
    """The simulated Vectros usage API on ``host:port`` (0: an ephemeral port)."""

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
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Simulator:
        """Serve from a daemon thread; returns at once."""
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.5},
            name="vectros-simulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.5)

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._server.drop_connections()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
