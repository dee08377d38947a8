"""The gateway keeps an idle connection open longer than the clients and proxies in front.

A connection a client or proxy still holds as reusable must not be closed under it: found
by the long soak, where uvicorn's 5 s keep-alive met httpx's 5 s pool expiry and a request
now and then went out on a connection the gateway was just closing ("Server disconnected
without sending a response").
"""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

import pytest

from tests.integration.pipeline_stack import Stack, start_stack, stop_stack
from wbx.bench import gateway_process

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    stack = start_stack(tmp_path_factory.mktemp("connections"))
    yield stack
    stop_stack(stack)


def test_a_connection_idle_longer_than_a_clients_pool_expiry_still_serves(stack: Stack):
    with gateway_process(stack.env(), stack.tmp / "gateway") as gateway:
        url = urlsplit(gateway.base)
        conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        try:
            conn.request("GET", "/healthz")
            first = conn.getresponse()
            first.read()
            sock = conn.sock
            assert first.status == 200 and sock is not None
            time.sleep(6)  # past httpx's 5 s pool expiry and uvicorn's 5 s default
            conn.request("GET", "/healthz")
            second = conn.getresponse()
            second.read()
            assert conn.sock is sock, "the request went out on a new connection"
            assert second.status == 200
        finally:
            conn.close()
