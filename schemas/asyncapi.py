"""The AsyncAPI 3.0 description of WBX's topics, generated from the contract and the plan.

Every topic of the plan is a channel (its Kafka binding gives partitions, replicas and
configuration); every message carries the JSON Schema of its model (one shared set of
schemas under `components/schemas`); who may send and receive comes from the plan's writers
and readers. `wbx schemas asyncapi` writes it; the gateway serves it at `/asyncapi.json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas.audit import AuditCheckpoint, AuditRecord
from schemas.derived import (
    Alert,
    AlertAction,
    QuarantineRecord,
    SharedRecord,
    StatCell,
)
from schemas.envelope import CONTENT_TYPE, Envelope
from schemas.receipts import Receipt
from schemas.registry_log import KeyChange
from schemas.shredding import SealedRecord
from schemas.tables import FineCell
from schemas.topics import (
    ALERT_ACKS,
    AUDIT,
    AUDIT_CHECKPOINTS,
    INGEST,
    KEYS,
    QUARANTINE,
    SEEN_CHANGELOG,
    SHARED,
    STATS,
    STATS_FINE,
    VERIFIED,
    TopicSpec,
)

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
_REF = "#/components/schemas/{model}"

_MODEL_OF: dict[str, type[BaseModel]] = {
    INGEST: Envelope,
    VERIFIED: SealedRecord,
    QUARANTINE: QuarantineRecord,
    SHARED: SharedRecord,
    STATS: StatCell,
    STATS_FINE: FineCell,
    AUDIT: AuditRecord,
    AUDIT_CHECKPOINTS: AuditCheckpoint,
    ALERT_ACKS: AlertAction,
    KEYS: KeyChange,
}
"""The model of every topic's records; alerts topics carry `Alert`, receipts topics
`Receipt`; the replay table's
changelog is faust's own (JSON strings)."""

_CLOUDEVENTS = {INGEST}
_SECURITY = [
    {"$ref": "#/components/securitySchemes/scram"},
    {"$ref": "#/components/securitySchemes/mtls"},
]


def _model_of(topic: str) -> type[BaseModel] | None:
    if topic.startswith("wbx.alerts.") and topic != ALERT_ACKS:
        return Alert
    if topic.startswith("wbx.receipts."):
        return Receipt
    return _MODEL_OF.get(topic)


def _channel_id(topic: str) -> str:
    """An AsyncAPI id for a topic: its name with dots and dashes as underscores."""
    return topic.replace(".", "_").replace("-", "_")


def asyncapi_document(specs: Sequence[TopicSpec], version: str = "1") -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the topics in `specs` (the expanded topic plan)."""
    models = sorted({m for s in specs if (m := _model_of(s.name)) is not None},
                    key=lambda m: m.__name__)  # fmt: skip
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in specs:
        cid = _channel_id(spec.name)
        model = _model_of(spec.name)
        message = _message(spec.name, model)
        messages[cid] = message
        channels[cid] = {
            "address": spec.name,
            "description": spec.description,
            "messages": {"record": {"$ref": f"#/components/messages/{cid}"}},
            "bindings": {
                "kafka": {
                    "topic": spec.name,
                    "partitions": spec.partitions,
                    "replicas": spec.replication_factor,
                    "topicConfiguration": {
                        "cleanup.policy": [spec.cleanup_policy],
                        "retention.ms": spec.retention_ms,
                    },
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
        for action, roles in (("send", spec.writers), ("receive", spec.readers)):
            operations[f"{action}_{cid}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{cid}"},
                "summary": f"{', '.join(roles)} {action}s {spec.name}",
                "messages": [{"$ref": f"#/channels/{cid}/messages/record"}],
                "security": _SECURITY,
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:wbx:asyncapi",
        "info": {
            "title": "WBX, the Western Balkans eXchange",
            "version": version,
            "description": "Signed, schema-validated mixed-movement and border-incident "
            "events exchanged over Kafka; verified, protected, aggregated and routed to "
            "Police Cooperation Centres. Generated from the contract and infra/topics.toml.",
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "production": {
                "host": "kafka.example.org:9093",
                "protocol": "kafka-secure",
                "description": "An agency's Apache Kafka cluster (TLS; SASL/SCRAM or mTLS)",
                "security": _SECURITY,
            },
            "embedded": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "The embedded broker of `make run` (no security)",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "scram": {"type": "scramSha512", "description": "SASL/SCRAM-SHA-512 over TLS"},
                "mtls": {"type": "X509", "description": "TLS client certificate"},
            },
        },
    }


def _message(topic: str, model: type[BaseModel] | None) -> dict[str, Any]:
    content_type = CONTENT_TYPE if topic in _CLOUDEVENTS else "application/json"
    payload: dict[str, Any] = (
        {"$ref": _REF.format(model=model.__name__)} if model is not None else {"type": "string"}
    )
    message: dict[str, Any] = {
        "name": model.__name__ if model is not None else "ChangelogEntry",
        "title": topic,
        "contentType": content_type,
        "payload": payload,
        "headers": {
            "type": "object",
            "properties": {"content-type": {"type": "string", "const": content_type}},
        },
        "bindings": {"kafka": {"key": {"type": "string"}, "bindingVersion": KAFKA_BINDING}},
    }
    if topic in _CLOUDEVENTS:
        message["description"] = (
            "A CloudEvents 1.0 envelope in structured mode, signed (wbxsig over RFC 8785)"
        )
    if topic == SEEN_CHANGELOG:
        message["description"] = "faust's changelog of the replay table: source|id -> marker"
    return message


__all__ = ["ASYNCAPI_VERSION", "asyncapi_document"]
