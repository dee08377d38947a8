"""The whole chain on the embedded broker: verify, protect, aggregate, route."""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from schemas.disclosure import Published
from schemas.keys import new_key_pair
from schemas.payloads import PAYLOADS_BY_KIND
from schemas.signing import sign_wire
from schemas.topics import (
    AUDIT,
    INGEST,
    QUARANTINE,
    SHARED,
    STATS,
    STATS_FINE,
    alerts_topic,
)
from tests.factories import (
    CANARY,
    CANARY_BIRTH,
    CANARY_LAT,
    CANARY_LON,
    EVERY_TYPE,
    PTABLE,
)
from tests.factories import canary_person as _person
from tests.integration.kafka_io import produce, read_topic, wait_until
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory):
    tmp: Path = tmp_path_factory.mktemp("pipeline")
    revoked_private, revoked = new_key_pair(
        "AL-MIG", valid_from=datetime.now(UTC) - timedelta(days=9)
    )
    revoked = revoked.model_copy(update={"revoked": True, "revoked_at": datetime.now(UTC)})
    retired_private, retired = new_key_pair(
        "XK-MIG", valid_from=datetime.now(UTC) - timedelta(days=9)
    )
    retired = retired.model_copy(update={"valid_until": datetime.now(UTC) - timedelta(days=2)})
    stack = start_stack(tmp, {"revoked": revoked, "retired": retired})
    stack.keys["AL-MIG"] = (revoked_private, revoked)
    stack.keys["XK-MIG"] = (retired_private, retired)
    stack.start_worker()
    yield stack
    stop_stack(stack)


async def _values(stack: Stack, topic: str) -> list[bytes]:
    return [r.value for r in await read_topic(stack.bootstrap, topic)]


async def _shared_ids(stack: Stack) -> set[str]:
    return {json.loads(v)["provenance"]["event_id"] for v in await _values(stack, SHARED)}


def test_every_kind_is_covered_by_the_fixture_data():
    assert set(EVERY_TYPE) == set(PAYLOADS_BY_KIND)


async def test_valid_event_of_every_type_reaches_verified_shared_and_audit(stack: Stack):
    ids = {kind: str(uuid.uuid4()) for kind in EVERY_TYPE}
    records = [
        (b"MK-RS", stack.signed(kind, data, "MK-BP", event_id=ids[kind]))
        for kind, data in EVERY_TYPE.items()
    ]
    await produce(stack.bootstrap, INGEST, records)

    async def all_shared() -> bool:
        return set(ids.values()) <= await _shared_ids(stack)

    await wait_until(all_shared, 60, "every type on wbx.shared.v1")
    verified = {json.loads(v)["id"]: json.loads(v) for v in await stack.read_verified()}
    for kind, event_id in ids.items():
        assert verified[event_id]["type"].endswith("." + kind)
    audited = {json.loads(v)["event_id"] for v in await _values(stack, AUDIT)}
    assert ids["apprehension"] in audited  # pseudonymised ids were released to the PCC view
    assert ids["reception_status"] not in audited  # nothing personal in it, nothing to log


async def test_every_reason_code_ends_in_quarantine(stack: Stack):
    now = datetime.now(UTC)
    death = {"border_section": "MK-RS", "count": 1}
    ids: dict[str, str] = {
        k: str(uuid.uuid4())
        for k in (
            "schema_invalid",
            "unknown_key",
            "revoked_key",
            "key_not_valid_at_time",
            "source_mismatch",
            "bad_signature",
            "too_old_or_future",
            "retention_expired",
        )
    }
    valid = json.loads(
        stack.signed("death_or_missing_person", death, event_id=ids["schema_invalid"])
    )
    valid["data"]["count"] = 0
    private, entry = stack.keys["BA-BP"]
    schema_invalid = json.dumps(sign_wire(valid, private, entry.kid)).encode()
    stranger, _ = new_key_pair("BA-BP")
    unknown = json.loads(
        stack.signed("death_or_missing_person", death, event_id=ids["unknown_key"])
    )
    unknown_key = json.dumps(sign_wire(unknown, stranger, "BA-BP.000000000000")).encode()
    tampered = stack.signed("death_or_missing_person", death, event_id=ids["bad_signature"])
    tampered, untouched = tampered.replace(b'"count":1', b'"count":2'), tampered
    assert tampered != untouched
    records = [
        b"{not json",
        schema_invalid,
        unknown_key,
        stack.signed("death_or_missing_person", death, "AL-MIG", event_id=ids["revoked_key"]),
        stack.signed(
            "death_or_missing_person", death, "XK-MIG", event_id=ids["key_not_valid_at_time"]
        ),
        stack.signed(
            "death_or_missing_person",
            death,
            "BA-BP",
            key_of="ME-BP",
            event_id=ids["source_mismatch"],
        ),
        tampered,
        stack.signed(
            "death_or_missing_person",
            death,
            time=now + timedelta(days=1),
            event_id=ids["too_old_or_future"],
        ),
        stack.signed(
            "death_or_missing_person",
            death,
            time=now - timedelta(days=2),
            event_id=ids["retention_expired"],
            overrides={"wbxretainuntil": now - timedelta(days=1)},
        ),
    ]
    await produce(stack.bootstrap, INGEST, [(b"MK-RS", r) for r in records])

    async def quarantined() -> dict[str, str] | None:
        found = {}
        for value in await _values(stack, QUARANTINE):
            record = json.loads(value)
            found[
                record.get("event_id")
                or base64.b64decode(record["original_b64"]).decode(errors="replace")
            ] = record["reason"]
        return found if set(ids.values()) <= set(found) and "{not json" in found else None

    found = await wait_until(quarantined, 60, "every reason code in quarantine")
    for reason, event_id in ids.items():
        assert found[event_id] == reason, (reason, found[event_id])
    assert found["{not json"] == "malformed"
    shared = await _shared_ids(stack)
    assert not shared & set(ids.values())


async def _alerts(stack: Stack, pcc: str) -> list[dict[str, object]]:
    return [json.loads(v) for v in await _values(stack, alerts_topic(pcc))]


async def test_uam_at_a_trebinje_section_alerts_trebinje_once_and_never_plav(stack: Stack):
    event_id = str(uuid.uuid4())
    child = _person("20", birth_date="2012-03-01", vulnerabilities=["uam"])
    data = {"border_section": "BA-ME", "person": child}
    await produce(
        stack.bootstrap,
        INGEST,
        [(b"BA-ME", stack.signed("vulnerability_identified", data, "BA-BP", event_id=event_id))],
    )

    def about(alerts: list[dict[str, object]]) -> list[dict[str, object]]:
        return [a for a in alerts if any(e["event_id"] == event_id for e in a["events"])]  # type: ignore[attr-defined]

    async def trebinje() -> list[dict[str, object]]:
        return about(await _alerts(stack, "pcc-trebinje"))

    found = await wait_until(trebinje, 60, "the UAM alert at PCC Trebinje")
    assert len(found) == 1
    alert = found[0]
    assert (alert["rule"], alert["severity"], alert["status"]) == (
        "protection_child_or_vot",
        "high",
        "open",
    )
    assert alert["pcc"] == "pcc-trebinje" and alert["border_section"] == "BA-ME"
    assert about(await _alerts(stack, "pcc-plav")) == []


async def test_statistics_are_published_protected_and_consistent_with_hand_counts(stack: Stack):
    # A day no other test uses, so the window holds exactly these three events.
    day = (datetime.now(UTC) - timedelta(days=3)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    afg = [{"nationality": "AFG", "sex": "male"}] * 10
    syr = [{"nationality": "SYR", "sex": "female"}] * 3
    irq = [{"nationality": "IRQ", "sex": "male"}] * 6
    records = [
        stack.signed(
            "apprehension",
            {"border_section": "BA-ME", "direction": "entry", "group_size": 10, "persons": afg},
            "BA-BP",
            time=day,
        ),
        stack.signed(
            "apprehension",
            {"border_section": "BA-ME", "direction": "entry", "group_size": 3, "persons": syr},
            "BA-BP",
            time=day,
        ),
        stack.signed(
            "apprehension",
            {"border_section": "ME-RS", "direction": "exit", "group_size": 6, "persons": irq},
            "ME-BP",
            time=day,
        ),
    ]
    await produce(stack.bootstrap, INGEST, [(b"BA-ME", r) for r in records])
    prefix = f"day|{day.date().isoformat()}|"
    # SYR (3) may be left out: a count of 1-4 is published as 0 or 5.
    wanted = [prefix + f"persons|nationality|{n}" for n in ("AFG", "IRQ", "__total__")]

    async def cells() -> dict[str, dict[str, object]] | None:
        latest: dict[str, dict[str, object]] = {}
        for value in await _values(stack, STATS):
            cell = json.loads(value)
            if cell["key"].startswith(prefix):
                latest[cell["key"]] = cell
        return latest if all(key in latest for key in wanted) else None

    latest = await wait_until(cells, 60, "statistics for the test day")

    def possible(rest: str) -> range:
        cell = latest.get(prefix + rest, {"count": 0, "display": "0"})
        shown = Published(cell["count"], str(cell["display"]))  # type: ignore[arg-type]
        return PTABLE.possible_counts(shown, 1_000)

    # Each published value is consistent with the hand-computed count, never equal by fiat.
    hand = {
        "persons|nationality|AFG": 10, "persons|nationality|SYR": 3, "persons|nationality|IRQ": 6,
        "persons|nationality|__total__": 19, "persons|sex|female": 3, "persons|sex|male": 16,
        "persons|border_section|BA-ME": 13, "persons|border_section|ME-RS": 6,
        "events|total|all": 3, "persons|vulnerability|__total__": 19,
    }  # fmt: skip
    for rest, count in hand.items():
        assert count in possible(rest), (rest, latest.get(prefix + rest))
    for small in ("persons|nationality|SYR", "events|total|all", "persons|sex|female"):
        assert latest.get(prefix + small, {}).get("display", "5") == "5"  # left out, or 5
    for cell in latest.values():
        assert not any("suppress" in name for name in cell)  # nothing says how it was protected
        assert cell["count"] >= 5  # never 1-4, and a 0 is left out
        assert cell["status"] == "final"  # three days ago, and no late report since


async def test_no_personal_data_reaches_shared_stats_or_alert_topics(stack: Stack):
    ids = [str(uuid.uuid4()) for _ in EVERY_TYPE]
    records = [
        (b"MK-RS", stack.signed(kind, data, "MK-BP", event_id=event_id))
        for (kind, data), event_id in zip(EVERY_TYPE.items(), ids, strict=True)
    ]
    await produce(stack.bootstrap, INGEST, records)

    async def processed() -> bool:
        return set(ids) <= await _shared_ids(stack)

    await wait_until(processed, 60, "shared records of every type")

    async def plav_alerted() -> bool:
        return bool(await _values(stack, alerts_topic("pcc-plav")))

    # The fixture's death at AL-ME alerts PCC Plav: the alert topics are really checked too.
    await wait_until(plav_alerted, 30, "an alert at PCC Plav")
    verified = b"".join(await stack.read_verified())
    assert CANARY.encode() in verified  # the canaries did go in
    for topic in (
        SHARED,
        STATS,
        STATS_FINE,
        alerts_topic("pcc-trebinje"),
        alerts_topic("pcc-plav"),
    ):
        blob = b"".join(await _values(stack, topic))
        for needle in (CANARY, CANARY_BIRTH, str(CANARY_LAT), str(CANARY_LON)):
            assert needle.encode() not in blob, f"{needle} leaked into {topic}"


async def test_garbage_and_huge_records_are_quarantined_and_the_worker_goes_on(stack: Stack):
    huge = b'{"pad": "' + b"x" * 2_000_000 + b'"}'
    marker = str(uuid.uuid4())
    after = stack.signed(
        "death_or_missing_person", {"border_section": "MK-RS", "count": 1}, event_id=marker
    )
    await produce(
        stack.bootstrap,
        INGEST,
        [(None, b"\x00\xff garbage"), (None, b"[]"), (None, huge), (b"MK-RS", after)],
    )

    async def done() -> bool:
        return marker in await _shared_ids(stack)

    await wait_until(done, 60, "the event behind the garbage")
    reasons = Counter(json.loads(v)["reason"] for v in await _values(stack, QUARANTINE))
    assert reasons["oversize"] >= 1
    assert reasons["malformed"] >= 3  # two garbage records here, one in the reason-code test
