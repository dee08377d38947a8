"""`wbx up`: start the whole platform as child processes and watch it.

The embedded broker (unless a cluster is configured), the topic plan, the stream workers
(one process per hop), the gateway, and with `--demo` the simulator at a gentle rate plus
ready-to-paste tokens. Every child runs in its own process group so Ctrl-C can stop all of
them, grandchildren included, and leave no port taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from schemas.errors import WbxError
from schemas.settings import KafkaSettings
from wbx.broker import EmbeddedBroker, port_in_use

logger = logging.getLogger(__name__)


class StartupError(WbxError):
    """The platform could not start; the message says what to do."""


@dataclass
class Child:
    """One child process of `wbx up`."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path


@dataclass
class Platform:
    """Everything `wbx up` started, so that `stop` can undo all of it."""

    var: Path
    broker: EmbeddedBroker | None = None
    children: list[Child] = field(default_factory=list)

    def spawn(self, name: str, args: list[str], env: dict[str, str]) -> Child:
        """Start `python -m wbx ARGS` in its own process group, logging to var/logs/NAME.log."""
        log = self.var / "logs" / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "wbx", *args],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def check_children(self) -> None:
        """Fail with the tail of its log when a child exited."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                tail = child.log.read_text(errors="replace").strip().splitlines()[-3:]
                raise StartupError(
                    f"the {child.name} exited (code {code}): {' | '.join(tail)} "
                    f"(full log: {child.log})"
                )

    def stop(self) -> None:
        """Stop every child (SIGTERM to its group, SIGKILL after 10 s) and the broker."""
        for child in reversed(self.children):
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait(timeout=5)
            _signal_group(child.process, signal.SIGKILL)  # stragglers in the group
        self.children.clear()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def require_free(host: str, port: int, what: str, setting: str) -> None:
    """Fail with one clear sentence when a port the platform needs is taken."""
    if port and port_in_use(host, port):
        raise StartupError(
            f"port {port} for the {what} is already in use: stop what uses it or set {setting}"
        )


def wait_http(url: str, timeout: float, alive: Callable[[], None], logs: Path) -> None:
    """Wait until `url` answers 200; `alive` raises as soon as the process behind it died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive()
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise StartupError(f"{url} was not ready within {timeout:.0f}s; see the logs in {logs}")


@dataclass
class Status:
    """Figures for the live status line, from the worker's metrics."""

    events_in: float = 0.0
    quarantined: float = 0.0
    alerts: float = 0.0
    lag: float = 0.0


def metric_samples(metrics_url: str, timeout: float = 1) -> list[Sample] | None:
    """Every sample a Prometheus endpoint exposes now; None if it does not answer."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=timeout) as response:  # noqa: S310
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    return [sample for f in text_string_to_metric_families(text) for sample in f.samples]


def read_status(metrics_url: str) -> Status | None:
    """Scrape the worker's Prometheus endpoint; None if it does not answer."""
    samples = metric_samples(metrics_url)
    if samples is None:
        return None
    status = Status()
    for sample in samples:
        if sample.name == "wbx_stage_events_in_total" and sample.labels.get("stage") == "verify":
            status.events_in += sample.value
        elif sample.name == "wbx_verify_rejected_total":
            status.quarantined += sample.value
        elif sample.name == "wbx_stage_events_out_total" and sample.labels.get("stage") == "route":
            status.alerts += sample.value
        elif sample.name == "wbx_consumer_lag":
            status.lag += sample.value
    return status


def apply_plan(kafka: KafkaSettings) -> None:
    """Create the planned topics on the broker the platform uses."""
    from wbx.commands.topics import planned_topics
    from wbx.topics import apply_topics

    asyncio.run(apply_topics(kafka, planned_topics(kafka)))
