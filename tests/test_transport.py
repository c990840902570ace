"""tui/transport.py over real loopback sockets: keep-alive, stale connections, framing."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from tests.conftest import EXAMPLES
from tests.servers import Reply, ScriptedServer, json_reply
from tui.client import Secret, UsageClient, UsageError
from tui.transport import LeanTransport, _Connection

GOOD = (EXAMPLES / "current-period.json").read_bytes()


def good(handler: BaseHTTPRequestHandler) -> Reply:
    return json_reply(200, GOOD)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer(good) as s:
        yield s


async def test_polls_share_one_kept_alive_connection(server: ScriptedServer) -> None:
    async with UsageClient(server.base_url, Secret("t")) as client:
        for _ in range(5):
            fetched = await client.fetch()
            assert fetched.report.account.id
    assert len(server.requests) == 5
    assert len(server._server.connections) == 1


async def test_a_connection_the_server_closed_while_idle_is_replaced(
    server: ScriptedServer,
) -> None:
    async with UsageClient(server.base_url, Secret("t")) as client:
        await client.fetch()
        server._server.drop_connections()  # the server ends the kept-alive connection
        await asyncio.sleep(0.05)
        fetched = await client.fetch()  # no error: a new connection, the same answer
        assert fetched.report.account.id
    assert len(server.requests) == 2


async def test_a_stale_connection_not_yet_noticed_is_retried_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The close races the next request: the request is written to a dead connection
    # and read back as nothing at all. That one, and only that one, is sent again.
    with ScriptedServer(good) as server:
        transport = LeanTransport()
        async with httpx.AsyncClient(transport=transport) as http:
            first = await http.get(server.base_url + "/v1/auth/usage")
            assert first.status_code == 200
            assert len(transport._idle) == 1
            server._server.drop_connections()
            await asyncio.sleep(0.05)
            # As if the close had not been seen yet when the next request went out.
            monkeypatch.setattr(_Connection, "reusable", property(lambda self: True))
            second = await http.get(server.base_url + "/v1/auth/usage")
            assert second.status_code == 200
    assert len(server.requests) == 2


async def test_connection_close_from_the_server_is_honoured() -> None:
    def closing(handler: BaseHTTPRequestHandler) -> Reply:
        handler.close_connection = True
        return json_reply(200, GOOD, Connection="close")

    with ScriptedServer(closing) as server:
        async with UsageClient(server.base_url, Secret("t")) as client:
            for _ in range(3):
                await client.fetch()
        assert len(server.requests) == 3


def _raw_server(answer: bytes) -> tuple[socket.socket, threading.Thread]:
    """A one-connection server that sends ``answer`` and closes: for framing tests."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(4096)
            conn.sendall(answer)
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


async def test_a_chunked_answer_is_read_whole() -> None:
    chunks = [GOOD[i : i + 500] for i in range(0, len(GOOD), 500)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    listener, thread = _raw_server(head + body)
    port = listener.getsockname()[1]
    async with UsageClient(f"http://127.0.0.1:{port}", Secret("t")) as client:
        fetched = await client.fetch()
    thread.join(5)
    assert fetched.report.account.id


async def _failure_from(answer: bytes) -> UsageError:
    """What a poll says when the server sends ``answer`` and hangs up."""
    listener, thread = _raw_server(answer)
    port = listener.getsockname()[1]
    async with UsageClient(f"http://127.0.0.1:{port}", Secret("t")) as client:
        with pytest.raises(UsageError) as caught:
            await client.fetch()
    thread.join(5)
    return caught.value


async def test_an_answer_cut_short_is_an_error_not_a_report() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999\r\n\r\n"
    error = await _failure_from(head + GOOD[:100])
    assert error.kind == "unreachable"
    assert "connection" in error.message


async def test_garbage_instead_of_http_is_an_error_in_words() -> None:
    error = await _failure_from(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    assert error.kind == "unreachable"
    assert "the answer is not HTTP (illegal status line: 'SSH-2.0-OpenSSH_9.6')" in error.message
    assert "bytearray" not in error.message


async def test_a_server_hanging_up_without_answering_is_said_so() -> None:
    error = await _failure_from(b"")
    assert error.kind == "unreachable"
    assert error.message.endswith("the server closed the connection without answering")
    assert "role=" not in error.message and "state=" not in error.message


async def test_the_poll_and_a_past_month_can_be_fetched_at_once(server: ScriptedServer) -> None:
    async with UsageClient(server.base_url, Secret("t")) as client:
        results = await asyncio.gather(*(client.fetch((2026, m)) for m in (8, 9, 10)))
    assert len(results) == 3
    assert len(server.requests) == 3


async def test_a_failed_exchange_gives_its_slot_back() -> None:
    # More failures than there are connection slots: none may leak a slot.
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    port = refused.getsockname()[1]
    refused.close()
    async with UsageClient(f"http://127.0.0.1:{port}", Secret("t"), connect_timeout=1) as client:
        for _ in range(8):
            with pytest.raises(UsageError):
                await client.fetch()


def test_no_anyio_is_loaded_by_a_poll(server: ScriptedServer) -> None:
    # The point of the transport: httpcore and anyio stay out of the monitor's process.
    code = (
        "import asyncio, sys\n"
        "from tui.client import UsageClient, Secret\n"
        "async def main():\n"
        f"    async with UsageClient({server.base_url!r}, Secret('t')) as c:\n"
        "        await c.fetch()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in ('anyio', 'httpcore') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"
