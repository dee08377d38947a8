"""The embedded broker's life cycle: clear start failures, no process left behind."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator

import pytest

from tests.integration.conftest import process_gone
from wbx.broker import (
    BrokerStartError,
    BrokerUnreachableError,
    EmbeddedBroker,
    free_port,
    wait_for_broker,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    """A socket that holds and listens on a free local port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def test_start_on_a_taken_port_fails_clearly(listening_socket: socket.socket) -> None:
    port = listening_socket.getsockname()[1]
    broker = EmbeddedBroker(port=port)
    with pytest.raises(BrokerStartError, match=rf"port {port} .* already taken"):
        broker.start()
    assert broker.process is None


def test_broker_that_dies_at_start_fails_clearly() -> None:
    # Bound but not listening: invisible to a connect probe, yet Tansu cannot bind it, so this
    # takes the "process died" path rather than the port check.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        broker = EmbeddedBroker(port=sock.getsockname()[1])
        started = time.monotonic()
        with pytest.raises(BrokerStartError, match=r"exited at start.*already taken"):
            broker.start(timeout=10)
    assert time.monotonic() - started < 5, "a dead broker must fail fast, not at the timeout"
    assert not broker.running


async def test_stop_leaves_no_process() -> None:
    # Started from inside a running event loop on purpose: start() must cope with that.
    broker = EmbeddedBroker(port=free_port())
    broker.start()
    pid = broker.pid
    assert pid is not None and broker.running
    assert os.getpgid(pid) == pid, "the broker should lead its own process group"
    await wait_for_broker(broker.bootstrap, timeout=5)
    broker.stop()
    assert process_gone(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert not broker.running
    broker.stop()  # a second stop is harmless


async def test_context_manager_starts_and_stops() -> None:
    with EmbeddedBroker() as broker:
        pid = broker.pid
        await wait_for_broker(broker.bootstrap, timeout=5)
    assert pid is not None and process_gone(pid)
    with pytest.raises(BrokerUnreachableError, match=broker.bootstrap):
        await wait_for_broker(broker.bootstrap, timeout=0.5)


def test_broker_that_dies_later_is_not_running() -> None:
    with EmbeddedBroker() as broker:
        pid = broker.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while broker.running and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not broker.running
    assert process_gone(pid)


async def test_wait_for_broker_times_out_on_a_closed_port() -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(BrokerUnreachableError, match=f"127.0.0.1:{port}"):
        await wait_for_broker(f"127.0.0.1:{port}", timeout=0.5)
    assert time.monotonic() - started < 3
