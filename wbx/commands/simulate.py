"""`wbx simulate`: realistic synthetic traffic to the broker or a file."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import click
from aiokafka import AIOKafkaProducer

from producers.simulate import SimKeys, SimRecord, Simulator
from schemas.keys import KeyRegistry
from schemas.settings import KafkaSettings
from schemas.topics import INGEST
from wbx.commands.tokens import parse_duration


async def _to_broker(
    records: list[SimRecord] | None,
    sim: Simulator,
    until: datetime | None,
    count: int | None,
    paced: bool,
) -> Counter[str]:
    kafka = KafkaSettings()
    producer = AIOKafkaProducer(
        acks="all", enable_idempotence=kafka.use_idempotence, **kafka.client_options()
    )
    await producer.start()
    tally: Counter[str] = Counter()
    try:
        for record in sim.records(count, until):
            if paced:
                # Real time follows simulated time, so events are never from the future.
                wait = (sim.clock - datetime.now(UTC)).total_seconds()
                if wait > 0:
                    await asyncio.sleep(wait)
            await producer.send(INGEST, value=record.value, key=record.key)
            tally[record.expected] += 1
        await producer.flush()
    finally:
        await producer.stop()
    return tally


@click.command("simulate")
@click.option("--count", type=int, default=None, help="How many records.")
@click.option("--duration", default=None, help="Simulated span, e.g. 10m, 6h, 30d.")
@click.option(
    "--rate", type=float, default=0.0, help="Events/s, paced in real time (0 = no pacing)."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--start", default=None, help="Simulated start (ISO 8601); default: recent.")
@click.option("--bad-share", type=float, default=0.02, show_default=True)
@click.option(
    "--keys-dir", type=click.Path(path_type=Path), default=Path("var/sim-keys"), show_default=True
)
@click.option(
    "--output",
    type=click.File("w"),
    default=None,
    help="JSONL file ('-' = stdout) instead of Kafka.",
)
@click.option(
    "--register-into",
    type=click.Path(path_type=Path),
    default=None,
    help="Also add the simulator's public keys to this registry file.",
)
def command(
    count: int | None,
    duration: str | None,
    rate: float,
    seed: int,
    start: str | None,
    bad_share: float,
    keys_dir: Path,
    output: IO[str] | None,
    register_into: Path | None,
) -> None:
    """Generate realistic traffic from all six participants, with a share of bad records."""
    if count is None and duration is None:
        raise click.UsageError("give --count or --duration")
    keys = SimKeys.load_or_create(keys_dir)
    if register_into is not None:
        target = KeyRegistry.load(register_into)
        for entry in KeyRegistry.load(keys.registry_path).entries():
            if target.get(entry.kid) is None:
                target.add(entry)
        target.save(register_into)
    span = parse_duration(duration) if duration else None
    paced = rate > 0 and output is None
    per_hour = rate * 3600 if rate > 0 else 120.0
    if start:
        begin = datetime.fromisoformat(start)
    elif paced:
        begin = datetime.now(UTC)
    else:
        begin = datetime.now(UTC) - (span or timedelta(hours=(count or 0) / per_hour))
    sim = Simulator(seed, begin, keys, bad_share=bad_share, per_hour=per_hour)
    until = begin + span if span else None
    click.echo(f"registry of the simulator's keys: {keys.registry_path}", err=True)
    if output is not None:
        tally: Counter[str] = Counter()
        for record in sim.records(count, until):
            output.write(record.value.decode() + "\n")
            tally[record.expected] += 1
    else:
        started = time.monotonic()
        tally = asyncio.run(_to_broker(None, sim, until, count, paced))
        click.echo(f"sent in {time.monotonic() - started:.1f}s", err=True)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
    click.echo(f"{sum(tally.values())} records: {summary}", err=True)
