"""A scripted HTTP server on loopback, for answers the simulator never gives."""

from __future__ import annotations

import contextlib
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

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if tls is not None:
            # Handshake in the handler's thread, not in the accepting one.
            self._server.socket = tls.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


def json_reply(status: int, body: bytes, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, body
