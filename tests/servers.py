"""A scripted HTTP server on loopback, for answers the simulator never gives."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, dict[str, str], bytes]


class ScriptedServer:
    """Answers every request with ``script(handler)``; records what it was sent."""

    def __init__(
        self,
        script: Callable[[BaseHTTPRequestHandler], Reply | None],
        *,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.script = script
        self.scheme = "https" if tls else "http"
        self.requests: list[dict[str, Any]] = []
        self.release = threading.Event()  # set to let hanging handlers finish
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle(self) -> None:
                # A client that rejects our certificate ends the handshake: not an error.
                with contextlib.suppress(ssl.SSLError, ConnectionError):
                    super().handle()

            def do_GET(self) -> None:
                outer.requests.append({"path": self.path, "headers": dict(self.headers)})
                reply = outer.script(self)
                if reply is None:
                    return
                status, headers, body = reply
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._handler = Handler
        self._tls = tls
        self._port = 0
        self._listen()

    def _listen(self) -> None:
        server = _TrackingServer(("127.0.0.1", self._port), self._handler)
        server.daemon_threads = True
        if self._tls is not None:
            # Handshake in the handler's thread, not in the accepting one.
            server.socket = self._tls.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._port}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop_listening(self) -> None:
        """Close the port: connections are refused until ``listen_again()``."""
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()  # kept-alive ones too: a closed port is closed

    def listen_again(self) -> None:
        self.release.clear()
        self._listen()  # the same port (SO_REUSEADDR is on for http.server)
        self._thread.start()

    def __exit__(self, *exc: object) -> None:
        self.stop_listening()


class _TrackingServer(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        self.connections: set[socket.socket] = set()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)

    def drop_connections(self) -> None:
        for conn in list(self.connections):
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self.connections.clear()


def json_reply(status: int, body: bytes, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, body
