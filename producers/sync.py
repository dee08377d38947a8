"""A blocking wrapper around Publisher for callers that are not async (scripts, Django, ...)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from producers.publisher import Publisher, Queued
from producers.settings import PublisherSettings
from schemas.settings import KafkaSettings

T = TypeVar("T")


class SyncPublisher:
    """Runs a Publisher on its own event loop thread; every method blocks until done."""

    def __init__(
        self,
        agency: str,
        key_file: Path,
        kafka: KafkaSettings | None = None,
        settings: PublisherSettings | None = None,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._publisher = self._run(self._open(agency, key_file, kafka, settings))

    async def _open(
        self,
        agency: str,
        key_file: Path,
        kafka: KafkaSettings | None,
        settings: PublisherSettings | None,
    ) -> Publisher:
        publisher = Publisher.open(agency, key_file, kafka, settings)
        await publisher.start()
        return publisher

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def publish(self, item: Mapping[str, Any]) -> Queued:
        """Validate, sign and durably queue one event."""
        return self._run(self._publisher.publish(item))

    def flush(self, timeout: float | None = None) -> bool:
        """Block until every queued event is acknowledged (False on timeout)."""
        return self._run(self._publisher.flush(timeout))

    def close(self) -> None:
        """Stop the background sender and its loop; queued events stay in the outbox."""
        self._run(self._publisher.stop())
        self._publisher.outbox.close()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
