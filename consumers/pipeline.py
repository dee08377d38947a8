"""Thin faust agents composing the pure stages with as few topic hops as the contract allows.

Hop 1 (`verify-protect`, on `wbx.ingest.v1`, scales with ingest partitions): verify, drop
replays, protect; writes verified, shared, audit or quarantine records.
Hop 2 (`aggregate-route`, on the single-partition `wbx.shared.v1`, one owner at a time in
the consumer group): statistics and alert rules, which need the whole region's state. Its
state is rebuilt from `wbx.shared.v1` and the alert topics when it starts, so a crash never
double-counts a statistic nor re-sends an alert (see docs/processing.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
from pydantic import ValidationError

from consumers import metrics
from consumers.app import WBX_HOLES, Topics
from consumers.audit import alert_release
from consumers.lag import LagWatch
from consumers.probes import Check
from consumers.protect import Policy, Protected, protect
from consumers.pseudonyms import Pseudonymiser
from consumers.quarantine import Position, quarantine_key, quarantine_record
from consumers.receipts import ReceiptSigner, receipt_for
from consumers.route import seal_alert
from consumers.settings import Hops
from consumers.state import Applied, Rebuild, RegionalState
from consumers.verify import (
    UNPROCESSABLE,
    Accepted,
    Outcome,
    Rejected,
    ReplayGuard,
    receipt_time,
    verify_record,
)
from schemas.audit import AuditChain, AuditFact
from schemas.derived import Alert, QuarantineRecord, SharedRecord, utc_day
from schemas.reading import read_batches, read_to_end
from schemas.registry_log import RegistryLog, follow
from schemas.settings import KafkaSettings
from schemas.shredding import ShreddedError, Shredder
from schemas.topics import VERIFIED
from schemas.verification import Verifier

logger = logging.getLogger(__name__)

JSON_HEADERS = [("content-type", b"application/json")]
EXPIRE_EVERY = 10_000
SHRED_EVERY = 600.0
"""Seconds between passes that destroy the keys of retention days that have passed."""
QUIET_REBUILD_AFTER = 5.0
"""Seconds the hop-2 owner holds `wbx.shared.v1` with no record before it rebuilds anyway."""


def _json(model: Any) -> bytes:
    return str(model.model_dump_json()).encode("utf-8")


def _count_crashes(agent: Any) -> None:
    """Count every crash (faust restarts the agent) in `wbx_agent_crashes_total`.

    Every stage is total, so this counts bugs and infrastructure failures only. faust has no
    public hook: the app passes its own `on_error` to each agent, which we wrap.
    """
    original = agent._on_error

    async def on_error(crashed: Any, exc: BaseException) -> None:
        metrics.AGENT_CRASHES.labels(crashed.name).inc()
        if original is not None:
            await original(crashed, exc)

    agent._on_error = on_error


def install_agents(
    app: faust.App,
    topics: Topics,
    kafka: KafkaSettings,
    *,
    verifier: Verifier,
    keys: RegistryLog,
    key_fresh_wait: float,
    seen: Any,
    replay_horizon: Any,
    policy: Policy,
    pseudonymiser: Pseudonymiser,
    regional: RegionalState,
    max_record_bytes: int,
    max_receipt_delay: timedelta,
    flush_interval: float,
    clock: Callable[[], datetime],
    receipts: ReceiptSigner,
    audit_run: Callable[[str], str],
    audit_checkpoint_interval: float,
    shredder: Shredder,
    stall_after: float = 60.0,
    hops: Hops = Hops.BOTH,
) -> dict[str, Check]:
    """Register the agents and timers of the hops this worker runs on `app`; returns the
    readiness checks of those hops (for `/readyz`). `audit_run(stage)` names the audit
    chain of a stage for this run; the platform key (`receipts`) signs its records."""
    guard = ReplayGuard(seen, replay_horizon)
    # One chain per agent: each appends from its own sequential loop, so its records reach
    # the producer in the order they were linked.
    releases = AuditChain(audit_run("verify-protect"), receipts.private, receipts.kid)
    deliveries = AuditChain(audit_run("aggregate-route"), receipts.private, receipts.kid)

    async def emit(
        topic: Any, key: bytes | None, value: bytes, headers: Any = JSON_HEADERS
    ) -> None:
        # Straight to the producer, not through faust's per-message attachment machinery:
        # faust flushes the producer before it commits an offset, so a record is never
        # committed before its outputs reached the broker (at-least-once holds), at a third
        # of the per-message cost.
        await app.producer.send(topic.get_topic_name(), key, value, None, None, headers)

    async def quarantine(key: bytes | None, record: QuarantineRecord, stage: str) -> None:
        metrics.REJECTED.labels(record.reason).inc()
        # Rare by nature: one line each, with the event's id and source when they were read.
        logger.info(
            "quarantined (%s) at %s:%d@%d: %s",
            record.reason,
            record.topic,
            record.partition,
            record.offset,
            record.detail,
            extra={"event_id": record.event_id, "source": record.source, "stage": stage},
        )
        await emit(topics.quarantine, quarantine_key(key), _json(record), JSON_HEADERS)
        metrics.EVENTS_OUT.labels(stage, "quarantine").inc()

    async def follow_keys() -> None:
        # Every worker reads the whole registry topic (no consumer group).
        await follow(kafka, keys)

    async def verify_protect(stream: Any) -> AsyncIterator[None]:
        processed = 0
        await keys.loaded.wait()
        async for event in stream.events():
            started = time.perf_counter()
            message = event.message
            position = Position(message.topic, message.partition, message.offset)
            metrics.EVENTS_IN.labels("verify").inc()
            now = clock()
            received_at = receipt_time(message.timestamp, now, max_receipt_delay)
            # Judge the key with every change made before the receipt time, as a replay
            # would: a revocation published a moment earlier must already count.
            if not await keys.wait_fresh(received_at, key_fresh_wait):
                metrics.KEY_REGISTRY_STALE.inc()
            now = clock()
            outcome = verify_record(
                event.value,
                position,
                verifier,
                guard,
                max_bytes=max_record_bytes,
                received_at=received_at,
                key=message.key,
            )
            if isinstance(outcome, Accepted):
                try:
                    protected = protect(
                        outcome.envelope,
                        outcome.digest,
                        policy,
                        pseudonymiser,
                        now=now,
                        shredder=shredder,
                    )
                except Exception as exc:  # a bug must cost one record, not the stream
                    logger.exception(
                        "protecting %s failed",
                        position,
                        extra={
                            "event_id": outcome.envelope.id,
                            "source": outcome.envelope.source,
                            "stage": "protect",
                        },
                    )
                    detail = f"{type(exc).__name__} in the Protect stage: {exc}"
                    record = quarantine_record(
                        outcome.raw, position, UNPROCESSABLE, detail, received_at, key=message.key
                    )
                    outcome = Rejected(record)
                else:
                    await _forward(outcome, protected)
                    metrics.OUTCOMES.labels("verified").inc()
            if isinstance(outcome, Rejected):
                await quarantine(message.key, outcome.record, "verify")
                metrics.OUTCOMES.labels("quarantined").inc()
            elif not isinstance(outcome, Accepted):
                metrics.REPLAYS.inc()
                metrics.OUTCOMES.labels("replay").inc()
            await _receipt(outcome, event.value, position, received_at)
            processed += 1
            if processed % EXPIRE_EVERY == 0:
                guard.expire(now, message.partition)
            metrics.LATENCY.labels("verify-protect").observe(time.perf_counter() - started)
            yield None

    async def _receipt(
        outcome: Outcome, raw: bytes | None, position: Position, received_at: datetime
    ) -> None:
        # After the outputs: a receipt never says "ok" for an event not yet on its topics.
        try:
            addressed = receipt_for(
                outcome, raw, position, received_at, clock(), receipts, topics.receipts
            )
        except Exception:  # a bug must cost one receipt, not the stream
            logger.exception("no receipt for %s: issuing it failed", position)
            metrics.EVENTS_OUT.labels("verify", "receipt-failed").inc()
            return
        if addressed is None:
            metrics.EVENTS_OUT.labels("verify", "unaddressed").inc()
            return
        receipt = addressed[1]
        key = receipt.event_id.encode("utf-8") if receipt.event_id else None
        await emit(topics.receipts[receipt.agency], key, _json(receipt), JSON_HEADERS)
        metrics.EVENTS_OUT.labels("verify", "receipt").inc()

    async def _forward(accepted: Accepted, protected: Protected | None) -> None:
        envelope = accepted.envelope
        key = envelope.subject.encode("utf-8")
        # Sealed whole under the deadline day's key: unreadable on Kafka once it passed.
        kept = True
        try:
            sealed = shredder.seal_record(
                accepted.raw, envelope.wbxretainuntil, utc_day(clock()), VERIFIED
            )
        except ShreddedError:
            kept = False  # its deadline day ended while it waited: nothing may be kept
        else:
            await emit(topics.verified, key, sealed, JSON_HEADERS)
            metrics.EVENTS_OUT.labels("verify", "verified").inc()
        if protected is None or not kept:
            logger.info(
                "event %s past its retention deadline: not shared",
                envelope.id,
                extra={"event_id": envelope.id, "source": envelope.source, "stage": "protect"},
            )
            return
        await emit(topics.shared, key, _json(protected.shared), JSON_HEADERS)
        metrics.EVENTS_OUT.labels("protect", "shared").inc()
        if protected.audit is not None:
            await audit(releases, protected.audit, "protect")
        metrics.END_TO_END.observe(max(0.0, (clock() - envelope.time).total_seconds()))

    async def audit(chain: AuditChain, fact: AuditFact, stage: str) -> None:
        record = chain.link(fact)
        head = chain.head
        await emit(topics.audit, chain.chain.encode("utf-8"), _json(record), JSON_HEADERS)
        chain.mark_sent(record.seq, head)
        metrics.EVENTS_OUT.labels(stage, "audit").inc()

    async def checkpoint_audit() -> None:
        # The heads, so that deleting a chain's last records shows too (schemas/audit.py).
        # Each names only records handed to the producer before this flush: on the topic.
        heads = [(chain.chain, chain.checkpoint(clock())) for chain in (releases, deliveries)]
        if not any(head for _, head in heads):
            return
        await app.producer.flush()
        for chain_name, head in heads:
            if head is not None:
                key = chain_name.encode("utf-8")
                await emit(topics.audit_checkpoints, key, _json(head), JSON_HEADERS)
                metrics.EVENTS_OUT.labels("audit", "checkpoint").inc()

    rebuilt = asyncio.Event()
    rebuild_lock = asyncio.Lock()

    async def ensure_rebuilt(now: datetime) -> None:
        # Once, before the first shared record: the state is a replay of the topics.
        async with rebuild_lock:
            if rebuilt.is_set():
                return
            started = time.perf_counter()
            alert_names = [t.get_topic_name() for t in topics.alerts.values()]
            sent = [r.value for r in await read_to_end(kafka, alert_names) if r.value]
            shown = [
                r.value
                for r in await read_to_end(kafka, [topics.stats.get_topic_name()])
                if r.value
            ]
            rebuild = Rebuild(regional, sent, shown, now)
            # One fetch at a time: the worker never holds the whole shared topic.
            async for batch in read_batches(kafka, [topics.shared.get_topic_name()]):
                rebuild.replay(
                    (r.value, datetime.fromtimestamp(r.timestamp / 1000, UTC))
                    for r in batch
                    if r.value
                )
            result = rebuild.finish()
            metrics.REBUILD_SECONDS.set(time.perf_counter() - started)
            for alert in result.unsent:
                await send_alert(alert)
            rebuilt.set()
            logger.info(
                "regional state rebuilt: %d shared records, %d alert revisions known, %d resent",
                result.replayed,
                result.known_sent,
                len(result.unsent),
            )

    async def send_alert(alert: Alert) -> None:
        now = clock()
        sealed = seal_alert(alert, shredder, utc_day(now))
        await emit(topics.alerts[alert.pcc], alert.id.encode("ascii"), _json(sealed), JSON_HEADERS)
        regional.mark_sent(alert)
        await audit(deliveries, alert_release(alert, now), "route")
        metrics.EVENTS_OUT.labels("route", "alerts").inc()
        metrics.ALERTS.labels(alert.pcc, alert.rule, alert.severity.value).inc()

    async def aggregate_route(stream: Any) -> AsyncIterator[None]:
        async for event in stream.events():
            started = time.perf_counter()
            metrics.EVENTS_IN.labels("aggregate-route").inc()
            now = clock()
            await ensure_rebuilt(now)
            message = event.message
            try:
                record = SharedRecord.model_validate_json(event.value or b"")
                result = regional.apply(record, now)
            except Exception as exc:  # unreadable or unexpected: quarantined, never a crash
                if not isinstance(exc, ValidationError):
                    logger.exception(
                        "aggregating the shared record at offset %d failed", message.offset
                    )
                position = Position(message.topic, message.partition, message.offset)
                reason = "malformed" if isinstance(exc, ValidationError) else UNPROCESSABLE
                detail = f"{type(exc).__name__}: {exc}"
                record_q = quarantine_record(
                    event.value or b"", position, reason, detail, now, key=message.key
                )
                await quarantine(message.key, record_q, "aggregate-route")
                yield None
                continue
            if result.outcome is Applied.DUPLICATE:
                metrics.DUPLICATES.labels("aggregate-route").inc()
            elif result.outcome is Applied.LATE:
                metrics.LATE.inc()
            for rule, count in regional.router.take_unrouted().items():
                metrics.UNROUTED.labels(rule).inc(count)
            for alert in result.alerts:
                await send_alert(alert)
            metrics.LATENCY.labels("aggregate-route").observe(time.perf_counter() - started)
            yield None

    held_since: list[float] = []  # when this worker last came to own the shared partition

    def owns_shared() -> bool:
        # The active hop-2 owner holds the one partition of wbx.shared.v1; a standby does not.
        name = topics.shared.get_topic_name()
        try:
            return any(tp.topic == name for tp in app.consumer.assignment())
        except Exception:  # the consumer is not up yet
            return False

    async def flush_stats() -> None:
        if not rebuilt.is_set():
            # After a crash in a quiet period no shared record comes to trigger the rebuild,
            # and cells counted before the crash but not yet published would wait for new
            # traffic. A few quiet seconds after taking the partition, the owner rebuilds
            # (and so republishes) anyway; with traffic, the first record does it sooner.
            if not owns_shared():
                held_since.clear()
                return
            if not held_since:
                held_since.append(time.monotonic())
            if time.monotonic() - held_since[0] < QUIET_REBUILD_AFTER:
                return
            await ensure_rebuilt(clock())
        # Fine cells first: a table the gateway builds is never behind the topic's cells.
        for fine in regional.fine_to_publish():
            await emit(topics.stats_fine, fine.key.encode("utf-8"), _json(fine), JSON_HEADERS)
            metrics.EVENTS_OUT.labels("aggregate", "stats_fine").inc()
        for cell in regional.stats_to_publish(clock()):
            await emit(topics.stats, cell.key.encode("utf-8"), _json(cell), JSON_HEADERS)
            metrics.EVENTS_OUT.labels("aggregate", "stats").inc()

    if hops in (Hops.BOTH, Hops.VERIFY):
        app.task(follow_keys)
        app.agent(topics.ingest, concurrency=1, name="verify-protect")(verify_protect)
    if hops in (Hops.BOTH, Hops.AGGREGATE):
        app.agent(topics.shared, concurrency=1, name="aggregate-route")(aggregate_route)
        app.timer(flush_interval)(flush_stats)

    app.timer(audit_checkpoint_interval)(checkpoint_audit)

    async def shred_past_days() -> None:
        # Every reader already refuses a past day's key; this makes it unrecoverable.
        gone = shredder.store.destroy_before(utc_day(clock()))
        if gone:
            logger.info("retention keys destroyed: %s", ", ".join(d.isoformat() for d in gone))

    if hops in (Hops.BOTH, Hops.VERIFY):
        app.timer(SHRED_EVERY)(shred_past_days)

    @app.timer(5.0)
    async def report_state() -> None:
        # What each bounded structure holds, so an operator sees the bounds hold.
        if hops is not Hops.AGGREGATE:
            metrics.STATE_ENTRIES.labels("seen").set(len(seen))
        if hops is not Hops.VERIFY and rebuilt.is_set():
            for structure, entries in regional.sizes().items():
                metrics.STATE_ENTRIES.labels(structure).set(entries)

    @app.timer(1.0)
    async def reread_holes() -> None:
        # Records faust skipped (consumers/app.py, _no_gap_acks) are read again now rather
        # than at the next restart. Seeking one partition while faust still delivers
        # records it fetched before would make a new hole at once, so this is faust's own
        # way to move a fetcher: stop the flow (records in flight are dropped, never
        # acknowledged), wait for the fetcher, seek every partition back to its committed
        # offset (never past a hole), resume. What was read since the last commit comes
        # again, which every stage absorbs.
        if not WBX_HOLES:
            return
        holes = dict(WBX_HOLES)
        WBX_HOLES.clear()
        consumer: Any = app.consumer  # faust's Consumer; its type protocol lacks the waits
        consumer.stop_flow()
        try:
            await consumer.wait_for_stopped_flow()
            await consumer.perform_seek()
        finally:
            consumer.resume_flow()
        for tp in holes:
            metrics.REREAD.labels(tp.topic).inc()

    lag_watch: LagWatch[Any] = LagWatch(stall_after)
    stalled: list[str] = []

    @app.timer(5.0)
    async def report_lag() -> None:
        consumer = app.consumer
        sources = {topics.ingest.get_topic_name(), topics.shared.get_topic_name()}
        # Only the streams we consume: table changelogs are assigned too but read at recovery.
        assigned = [tp for tp in consumer.assignment() if tp.topic in sources]
        # The end is the larger of the high watermark the last fetch brought and the end
        # the broker lists: a partition never fetched, or no longer fetched, has no or an
        # old high watermark. (The embedded broker lists a lower bound, so a lag it shows
        # is real.) Every fetch brings the high watermark of each partition it asks for,
        # even an empty one: a partition still without one is not being fetched at all,
        # and counts as at least one record behind, so it too shows as stalled.
        listed: dict[Any, int] = {}
        if assigned:
            try:
                listed = dict(await consumer.highwaters(*assigned))
            except Exception as exc:  # the broker away: measure again at the next tick
                logger.debug("no end offsets for %s: %s", assigned, exc)
        positions = {}
        never_fetched: list[Any] = []
        for tp in assigned:
            position = _position(consumer, tp)
            highwater = consumer.highwater(tp)
            end = max(highwater or 0, listed.get(tp, 0))
            if highwater is None:
                never_fetched.append(tp)
                end = max(end, position + 1)
            positions[tp] = (end, position)
        found = lag_watch.observe(positions, time.monotonic())
        now_stalled = []
        for tp, lag in found.items():
            metrics.LAG.labels(tp.topic, str(tp.partition)).set(lag.lag)
            metrics.STALLED.labels(tp.topic, str(tp.partition)).set(int(lag.stalled))
            if lag.stalled:
                now_stalled.append(f"{tp.topic}[{tp.partition}]")
                logger.warning(
                    "%s[%d] is %d records behind and unread for %.0fs%s; fetching: %s",
                    tp.topic,
                    tp.partition,
                    lag.lag,
                    lag.unmoved_for,
                    " (never fetched since it was assigned)" if tp in never_fetched else "",
                    _fetch_state(consumer, tp),
                )
        for gauge in (metrics.LAG, metrics.STALLED):
            _forget_unassigned(gauge, sources, {(tp.topic, str(tp.partition)) for tp in found})
        stalled[:] = sorted(now_stalled)

    checks: dict[str, Check] = {}
    if hops is not Hops.AGGREGATE:
        checks["key_registry"] = lambda: "ok" if keys.loaded.is_set() else "loading"
    if hops is not Hops.VERIFY:
        # A standby hop 2 is ready; the one that took over is not while it rebuilds.
        checks["regional_state"] = lambda: "rebuilding" if rebuild_lock.locked() else "ok"
    checks["partitions"] = lambda: "stalled: " + ", ".join(stalled) if stalled else "ok"
    return checks


def _position(consumer: Any, tp: Any) -> int:
    """The next offset the worker will read from `tp`: after the last one read, else the
    committed one (faust keeps both, with no public API)."""
    read = getattr(consumer, "_read_offset", {}).get(tp)
    if read is not None:
        return int(read) + 1
    committed = getattr(consumer, "_committed_offset", {}).get(tp)
    return int(committed) if committed is not None else 0


def _fetch_state(consumer: Any, tp: Any) -> str:
    """Why faust may not be reading `tp`: its own bookkeeping of the partitions it fetches
    (active), holds back while a stream's buffer is full (buffered) or paused (for recovery),
    read from its private sets, for the stall warning."""
    state = {
        name: tp in (getattr(consumer, attribute, None) or ())
        for name, attribute in (
            ("active", "_active_partitions"),
            ("buffered", "_buffered_partitions"),
            ("paused", "_paused_partitions"),
        )
    }
    return ", ".join(f"{name}={value}" for name, value in state.items())


def _forget_unassigned(gauge: Any, topics: set[str], kept: set[tuple[str, str]]) -> None:
    """Drop a per-partition gauge's series of partitions this worker no longer holds, so a
    revoked partition does not go on reporting its last lag."""
    for labels in list(gauge._metrics):  # prometheus-client has no public listing
        if labels[0] in topics and labels not in kept:
            gauge.remove(*labels)
