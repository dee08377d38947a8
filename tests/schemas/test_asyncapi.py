"""The AsyncAPI document: valid AsyncAPI 3.0, every topic a channel with its model's schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

from schemas.asyncapi import asyncapi_document
from schemas.derived import Alert, SharedRecord
from schemas.envelope import CONTENT_TYPE, Envelope
from schemas.receipts import Receipt
from schemas.topics import (
    INGEST,
    SEEN_CHANGELOG,
    SHARED,
    alerts_topic,
    load_topic_plan,
    receipts_topic,
)

REPO = Path(__file__).resolve().parents[2]
SPECS = load_topic_plan(REPO / "infra" / "topics.toml", ["pcc-plav", "pcc-trebinje"], ["RS-BP"])
SCHEMA = json.loads((REPO / "tests/fixtures/asyncapi/asyncapi-3.0.0.schema.json").read_text())


def _errors(doc: dict[str, Any]) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in Draft7Validator(SCHEMA).iter_errors(doc)
    ]


def _resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node  # type: ignore[no-any-return]


def test_the_document_is_valid_asyncapi_3():
    assert _errors(asyncapi_document(SPECS)) == []


def test_the_validator_catches_a_broken_document():
    # The check can fail: an operation with an action AsyncAPI 3 does not have is refused.
    doc = asyncapi_document(SPECS)
    next(iter(doc["operations"].values()))["action"] = "publish"
    assert _errors(doc)


def test_every_topic_is_a_channel_with_its_binding_and_nothing_more():
    doc = asyncapi_document(SPECS)
    by_address = {c["address"]: c for c in doc["channels"].values()}
    assert sorted(by_address) == sorted(s.name for s in SPECS)
    for spec in SPECS:
        kafka = by_address[spec.name]["bindings"]["kafka"]
        assert (kafka["partitions"], kafka["replicas"]) == (
            spec.partitions,
            spec.replication_factor,
        )
        assert kafka["topicConfiguration"]["cleanup.policy"] == [spec.cleanup_policy]


def test_messages_carry_their_models_json_schema_and_every_reference_resolves():
    doc = asyncapi_document(SPECS)
    by_address = {c["address"]: c for c in doc["channels"].values()}

    def message(topic: str) -> dict[str, Any]:
        return _resolve(doc, by_address[topic]["messages"]["record"]["$ref"])

    assert message(INGEST)["contentType"] == CONTENT_TYPE
    assert message(INGEST)["headers"]["properties"]["content-type"]["const"] == CONTENT_TYPE
    for topic, model in ((INGEST, Envelope), (SHARED, SharedRecord),
                         (alerts_topic("pcc-plav"), Alert),
                         (receipts_topic("RS-BP"), Receipt)):  # fmt: skip
        payload = _resolve(doc, message(topic)["payload"]["$ref"])
        assert set(payload["properties"]) == set(model.model_json_schema()["properties"])
    assert message(SEEN_CHANGELOG)["payload"] == {"type": "string"}
    text = json.dumps(doc)
    refs = {part.split('"')[0] for part in text.split('"$ref": "')[1:]}
    for ref in refs:  # no dangling reference anywhere (pydantic's $defs were hoisted)
        _resolve(doc, ref)


def test_operations_name_the_plans_writers_and_readers():
    doc = asyncapi_document(SPECS)
    ingest = next(cid for cid, c in doc["channels"].items() if c["address"] == INGEST)
    assert (
        doc["operations"][f"send_{ingest}"]["summary"] == "publisher, gateway sends wbx.ingest.v1"
    )
    assert doc["operations"][f"receive_{ingest}"]["action"] == "receive"
