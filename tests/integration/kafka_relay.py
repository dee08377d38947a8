"""A TCP relay in front of the embedded broker so that Debian 12's kcat can read from it.

Debian 12's kcat links librdkafka 2.0.2, which skips one byte too few per tagged field
(fixed in librdkafka 2.2, confluentinc/librdkafka#4278). Tansu answers ApiVersions v3 with
four tagged fields (supported and finalized features, all empty), so that librdkafka
misreads the answer and never connects. Apache Kafka leaves fields at their defaults
out, which is why kcat works against a real cluster. The relay forwards every byte
unchanged except the top-level tagged fields of ApiVersions v3+ responses, which it
empties (librdkafka ignores their contents anyway). The broker advertises the relay's
address, so every connection of every client, WBX's too, goes through it.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Callable

API_VERSIONS = 18


def _uvarint(data: bytes, at: int) -> tuple[int, int]:
    """An unsigned varint at `at`: its value and the offset after it."""
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7


def _skip_tags(data: bytes, at: int) -> int:
    count, at = _uvarint(data, at)
    for _ in range(count):
        _, at = _uvarint(data, at)
        size, at = _uvarint(data, at)
        at += size
    return at


def without_tagged_fields(response: bytes) -> bytes:
    """An ApiVersions v3+ response (correlation id first) with its top-level tags emptied."""
    at = 4 + 2  # correlation id, error code
    entries, at = _uvarint(response, at)
    for _ in range(max(entries - 1, 0)):  # compact array: length + 1
        at = _skip_tags(response, at + 6)  # api key, min and max version, then tags
    at += 4  # throttle time
    return response[:at] + b"\x00"


class Relay:
    """Relays 127.0.0.1:`port` to the broker on `upstream`, from a thread of its own."""

    def __init__(self, upstream: tuple[str, int], port: int) -> None:
        self.upstream = upstream
        self.port = port
        self.rewritten = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> None:
        """Listen; returns once connections are accepted."""
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(timeout=10)

    def stop(self) -> None:
        """Close the listener and every relayed connection."""
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            broker_in, broker_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_out.close()
            return
        versions: dict[int, tuple[int, int]] = {}  # correlation id -> (api key, version)

        def note_request(frame: bytes) -> bytes:
            key, version, correlation = struct.unpack(">hhi", frame[:8])
            versions[correlation] = (key, version)
            return frame

        def fix_response(frame: bytes) -> bytes:
            key, version = versions.pop(struct.unpack(">i", frame[:4])[0], (-1, -1))
            if key == API_VERSIONS and version >= 3:
                self.rewritten += 1
                return without_tagged_fields(frame)
            return frame

        await asyncio.gather(
            _pump(client_in, broker_out, note_request),
            _pump(broker_in, client_out, fix_response),
            return_exceptions=True,
        )


async def _pump(
    source: asyncio.StreamReader, sink: asyncio.StreamWriter, change: Callable[[bytes], bytes]
) -> None:
    """Copy size-prefixed Kafka frames from `source` to `sink` until either side closes."""
    try:
        while True:
            (size,) = struct.unpack(">i", await source.readexactly(4))
            frame = change(await source.readexactly(size))
            sink.write(struct.pack(">i", len(frame)) + frame)
            await sink.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        sink.close()
