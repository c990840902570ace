"""An HTTP/1.1 transport for httpx on plain asyncio streams, parsed by h11.

Why not httpx's default (httpcore): the monitor makes one small GET every few
seconds to one origin, for as long as it is left open, and httpcore runs every
request through anyio. Measured here, per poll on the main thread, this transport
costs ~0.6 ms less (1.2 against 1.8 ms, parsing included), the process ~3 MB less
memory (anyio and its asyncio backend are never imported) and start-up ~30 ms less.
h11 (httpcore's own HTTP/1.1 parser) does the protocol; this module only moves
bytes, pools connections and maps failures onto httpx's exceptions, so the client
above it sees exactly what it saw with httpcore.

Not supported, because the monitor never needs them: proxies (the client sets
``trust_env=False``), HTTP/2, request bodies other than bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx

READ_SIZE = 64 * 1024
MAX_CONNECTIONS = 4  # the poll and a closed month's fetch can overlap; never more


def _timeouts(request: httpx.Request) -> dict[str, float | None]:
    given = request.extensions.get("timeout", {})
    return {k: given.get(k) for k in ("connect", "read", "write", "pool")}


class _Connection:
    """One keep-alive connection: an h11 state machine over an asyncio stream."""

    def __init__(
        self,
        origin: tuple[str, str, int],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.origin = origin
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.CLIENT)
        self.received = 0  # bytes of the current exchange's answer

    @property
    def reusable(self) -> bool:
        return (
            self.h11.our_state is h11.IDLE
            and self.h11.their_state is h11.IDLE
            and not self.writer.is_closing()
            and not self.reader.at_eof()
        )

    async def send(self, data: bytes, timeout: float | None) -> None:
        self.received = 0
        try:
            self.writer.write(data)
            async with asyncio.timeout(timeout):
                await self.writer.drain()
        except TimeoutError:
            raise httpx.WriteTimeout("timed out sending the request") from None
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from exc

    async def next_event(self, timeout: float | None) -> Any:
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(_protocol_problem(exc, self.received)) from exc
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(timeout):
                    data = await self.reader.read(READ_SIZE)
            except TimeoutError:
                raise httpx.ReadTimeout("timed out waiting for data") from None
            except OSError as exc:
                raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
            self.received += len(data)
            self.h11.receive_data(data)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class _ResponseBody(httpx.AsyncByteStream):
    def __init__(self, pool: LeanTransport, conn: _Connection, read_timeout: float | None) -> None:
        self._pool = pool
        self._conn = conn
        self._timeout = read_timeout
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while not self._finished:
            event = await self._conn.next_event(self._timeout)
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._finished = True
                self._pool._release(self._conn)

    async def aclose(self) -> None:
        if not self._finished:  # left early (a body too large, an error): never reused
            self._finished = True
            self._pool._discard(self._conn)


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive, and TLS through ``ssl_context`` for https URLs.

    A slot is held from the request until its answer's body has been read or
    closed; an exchange that fails gives its slot back at once.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._idle: list[_Connection] = []
        self._busy: set[_Connection] = set()
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("the client is closed")
        timeouts = _timeouts(request)
        try:
            async with asyncio.timeout(timeouts["pool"]):
                await self._slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection") from None
        try:
            return await self._exchange(request, timeouts)
        except BaseException:
            self._slots.release()
            raise

    async def _exchange(
        self, request: httpx.Request, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}")
        origin = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        body = b"".join([part async for part in request.stream])  # type: ignore[union-attr]
        headers = list(request.headers.raw)
        if body and "content-length" not in request.headers:
            headers.append((b"Content-Length", b"%d" % len(body)))
        head = h11.Request(method=request.method, target=url.raw_path, headers=headers)
        while True:
            conn = self._take_idle(origin)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(origin, timeouts["connect"])
            self._busy.add(conn)
            try:
                data = conn.h11.send(head) or b""
                if body:
                    data += conn.h11.send(h11.Data(data=body)) or b""
                data += conn.h11.send(h11.EndOfMessage()) or b""
                await conn.send(data, timeouts["write"])
                event = await conn.next_event(timeouts["read"])
                while isinstance(event, h11.InformationalResponse):
                    event = await conn.next_event(timeouts["read"])
                if not isinstance(event, h11.Response):
                    raise httpx.RemoteProtocolError(
                        "the server closed the connection without answering"
                    )
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                self._discard(conn, release=False)
                if reused and conn.received == 0:
                    # A kept-alive connection the server had closed: nothing was
                    # answered, so the request goes once more on a fresh connection.
                    continue
                raise
            except BaseException:
                self._discard(conn, release=False)
                raise
            return httpx.Response(
                status_code=event.status_code,
                headers=event.headers.raw_items(),
                stream=_ResponseBody(self, conn, timeouts["read"]),
                extensions={"http_version": b"HTTP/1.1", "reason_phrase": bytes(event.reason)},
            )

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if conn.origin == origin and conn.reusable:
                return conn
            conn.close()
        return None

    async def _connect(self, origin: tuple[str, str, int], timeout: float | None) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            tls = self._ssl if self._ssl is not None else ssl.create_default_context()
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=READ_SIZE
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:  # SSLError is an OSError; named for the reader
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Connection(origin, reader, writer)

    def _release(self, conn: _Connection) -> None:
        """The answer has been read: keep the connection for the next exchange if it can be."""
        if conn not in self._busy:
            return
        self._busy.discard(conn)
        self._slots.release()
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
            conn.h11.start_next_cycle()
        if conn.reusable and not self._closed:
            self._idle.append(conn)
        else:
            conn.close()

    def _discard(self, conn: _Connection, *, release: bool = True) -> None:
        if conn in self._busy:
            self._busy.discard(conn)
            if release:
                self._slots.release()
        conn.close()

    async def aclose(self) -> None:
        self._closed = True
        for conn in [*self._idle, *self._busy]:
            conn.close()
        self._idle.clear()


def _protocol_problem(exc: h11.RemoteProtocolError, received: int) -> str:
    """h11's complaint in words a person can act on (it names its own states)."""
    text = str(exc)
    if "ConnectionClosed" in text:
        if received:
            return "the server closed the connection before its answer was complete"
        return "the server closed the connection without answering"
    # h11 shows what it read as a bytearray repr: show the text itself.
    shown = re.sub(r"bytearray\(b(['\"])(.*?)\1\)", r"'\2'", text)[:120]
    return f"the answer is not HTTP ({shown}): is this the API's address?"
