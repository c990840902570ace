"""Transport faults against real sockets: TLS, DNS, timeouts, trickling, too much."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import trustme

from tests.conftest import EXAMPLES
from tests.servers import Reply, ScriptedServer, json_reply
from tui.client import Secret, UsageClient, UsageError
from tui.config import ConfigError, resolve

GOOD = (EXAMPLES / "current-period.json").read_bytes()


def good(handler: BaseHTTPRequestHandler) -> Reply:
    return json_reply(200, GOOD)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[ScriptedServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    with ScriptedServer(good, tls=context) as server:
        yield server


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def fetch(base_url: str, **kw: object) -> object:
    async with UsageClient(base_url, Secret("demo-billing"), **kw) as client:  # type: ignore[arg-type]
        return await client.fetch()


async def test_a_certificate_nobody_vouches_for_is_a_tls_failure(
    tls_server: ScriptedServer,
) -> None:
    with pytest.raises(UsageError) as caught:
        await fetch(tls_server.base_url)
    assert caught.value.kind == "unreachable"
    assert caught.value.message.startswith("TLS failed with 127.0.0.1:")
    assert "certificate" in caught.value.message
    assert tls_server.requests == []  # no request, so no token, went out


async def test_ca_bundle_makes_the_private_ca_trusted(
    tls_server: ScriptedServer, ca_file: str
) -> None:
    fetched = await fetch(tls_server.base_url, ca_bundle=ca_file)
    assert fetched.report.credits.used_milli == 2_891_587  # type: ignore[attr-defined]
    assert tls_server.requests[0]["headers"]["Authorization"] == "Bearer demo-billing"


def test_ssl_cert_file_is_honoured_and_the_flag_wins(ca_file: str, tmp_path: Path) -> None:
    env = {"VECTROS_BASE_URL": "https://billing.example", "VECTROS_TOKEN": "t0ken"}
    assert resolve(base_url=None, interval=5, environ=env).ca_bundle is None
    with_env = resolve(base_url=None, interval=5, environ={**env, "SSL_CERT_FILE": ca_file})
    assert with_env.ca_bundle == ca_file
    other = tmp_path / "other.pem"
    other.write_text(Path(ca_file).read_text())
    flag = resolve(
        base_url=None, interval=5, ca_bundle=str(other), environ={**env, "SSL_CERT_FILE": ca_file}
    )
    assert flag.ca_bundle == str(other)
    with pytest.raises(ConfigError, match=re.escape("SSL_CERT_FILE names '/nowhere/ca.pem'")):
        resolve(base_url=None, interval=5, environ={**env, "SSL_CERT_FILE": "/nowhere/ca.pem"})


def test_snapshot_over_tls_with_ssl_cert_file(tls_server: ScriptedServer, ca_file: str) -> None:
    env = {
        **os.environ,
        "VECTROS_BASE_URL": tls_server.base_url,
        "VECTROS_TOKEN": "demo-billing",
    }
    env.pop("SSL_CERT_FILE", None)
    refused = subprocess.run(
        [sys.executable, "-m", "tui", "snapshot"], env=env, capture_output=True, text=True
    )
    assert refused.returncode == 4, refused.stderr
    assert "TLS failed" in refused.stderr
    trusted = subprocess.run(
        [sys.executable, "-m", "tui", "snapshot", "--json"],
        env={**env, "SSL_CERT_FILE": ca_file},
        capture_output=True,
        text=True,
    )
    assert trusted.returncode == 0, trusted.stderr
    assert '"usedMilli": 2891587' in trusted.stdout


async def test_a_name_that_does_not_resolve_is_said_to_be_dns() -> None:
    with pytest.raises(UsageError) as caught:
        await fetch("http://vectros-usage-test.invalid")
    assert caught.value.kind == "unreachable"
    assert caught.value.message == "cannot resolve the host of vectros-usage-test.invalid (DNS)"


async def test_a_server_that_never_accepts_is_a_connect_timeout() -> None:
    # A listening socket whose backlog is full: the kernel drops further SYNs, so a
    # connect neither succeeds nor fails until the client gives up.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):  # enough to fill the accept and SYN queues
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            await asyncio.sleep(0.1)
            with pytest.raises(UsageError) as caught:
                await fetch(f"http://127.0.0.1:{port}", connect_timeout=0.5)
        finally:
            for filler in fillers:
                filler.close()
    assert caught.value.kind == "timeout"
    assert caught.value.message == f"timed out connecting (127.0.0.1:{port})"


async def test_a_server_that_trickles_bytes_is_cut_off_by_the_total_deadline() -> None:
    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(GOOD)))
        handler.end_headers()
        for byte in GOOD:  # one byte every 50 ms: each read is quick, the whole is not
            if server.release.is_set():
                return
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.05)

    with ScriptedServer(trickle) as server:
        started = time.monotonic()
        with pytest.raises(UsageError) as caught:
            await fetch(server.base_url, read_timeout=1.0, total_timeout=1.0)
        elapsed = time.monotonic() - started
    assert caught.value.kind == "timeout"
    assert "within 1 s: the server is sending too slowly" in caught.value.message
    assert elapsed < len(GOOD) * 0.05  # it gave up long before the body would have ended
