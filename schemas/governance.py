"""Schema governance: export JSON Schemas and refuse changes that would break consumers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.envelope import CROSS_FIELD_RULES, Envelope
from schemas.payloads import PAYLOAD_TYPES, Payload

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_FILE = "envelope.v1.json"


def payload_schema(model: type[Payload]) -> dict[str, Any]:
    """The Draft 2020-12 JSON Schema of one payload type, with its URN as `$id`."""
    schema = model.model_json_schema(mode="validation")
    return {"$schema": DRAFT, "$id": model.dataschema(), **schema}


def envelope_schema() -> dict[str, Any]:
    """The Draft 2020-12 JSON Schema of the signed envelope (data as a generic object)."""
    schema = Envelope.model_json_schema(mode="validation")
    rules = [{"id": rule, "text": text} for rule, text in CROSS_FIELD_RULES.items()]
    return {"$schema": DRAFT, "$id": "urn:wbx:schema:envelope:1", **schema, "x-wbx-rules": rules}


def export_schemas(directory: Path) -> list[Path]:
    """Write one schema file per event type plus the envelope schema; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for event_type, model in sorted(PAYLOAD_TYPES.items()):
        path = directory / f"{event_type}.v{model.major}.json"
        path.write_text(json.dumps(payload_schema(model), indent=2, sort_keys=True) + "\n")
        written.append(path)
    path = directory / ENVELOPE_FILE
    path.write_text(json.dumps(envelope_schema(), indent=2, sort_keys=True) + "\n")
    written.append(path)
    return written


@dataclass(frozen=True)
class Breaking:
    """One change that would break existing consumers."""

    file: str
    path: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.why}"


def check_compatibility(old_dir: Path, new_dir: Path) -> list[Breaking]:
    """Every breaking change from OLD to NEW (BACKWARD_TRANSITIVE in spirit); empty = compatible.

    Breaking: a schema file removed, a field removed, a field's JSON type narrowed or changed,
    a new required field (or an optional one made required), an enum value removed.
    """
    problems: list[Breaking] = []
    for old_file in sorted(old_dir.glob("*.json")):
        new_file = new_dir / old_file.name
        if not new_file.exists():
            problems.append(Breaking(old_file.name, "<schema>", "schema removed"))
            continue
        old = json.loads(old_file.read_text())
        new = json.loads(new_file.read_text())
        _compare(old_file.name, "", old, old, new, new, problems)
    return problems


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in node and seen < 32:
        ref = str(node["$ref"])
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def _branches(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    node = _resolve(node, root)
    for key in ("anyOf", "oneOf"):
        if key in node:
            return [b for sub in node[key] for b in _branches(sub, root)]
    return [node]


def _json_types(node: dict[str, Any]) -> set[str]:
    kind = node.get("type")
    kinds = (
        [str(k) for k in kind]
        if isinstance(kind, list)
        else [kind]
        if isinstance(kind, str)
        else []
    )
    if kinds:
        # A number schema also accepts integers, so integer -> number widens, not retypes.
        return {t for k in kinds for t in (("integer", "number") if k == "number" else (k,))}
    if "const" in node:
        return {type(node["const"]).__name__}
    return {"any"}


def _compare(
    file: str,
    path: str,
    old: dict[str, Any],
    old_root: dict[str, Any],
    new: dict[str, Any],
    new_root: dict[str, Any],
    problems: list[Breaking],
) -> None:
    old_branches = _branches(old, old_root)
    new_branches = _branches(new, new_root)
    old_types = set().union(*(_json_types(b) for b in old_branches))
    new_types = set().union(*(_json_types(b) for b in new_branches))
    if "any" not in new_types and not old_types <= new_types:
        lost = ", ".join(sorted(old_types - new_types))
        problems.append(Breaking(file, path or "<root>", f"type changed: no longer accepts {lost}"))
        return
    old_enum = {json.dumps(v) for b in old_branches for v in b.get("enum", [])}
    new_enum = {json.dumps(v) for b in new_branches for v in b.get("enum", [])}
    if old_enum and new_enum and not old_enum <= new_enum:
        gone = ", ".join(sorted(old_enum - new_enum))
        problems.append(Breaking(file, path or "<root>", f"enum value(s) removed: {gone}"))
    old_obj = next((b for b in old_branches if "properties" in b), None)
    new_obj = next((b for b in new_branches if "properties" in b), None)
    if old_obj is not None and new_obj is not None:
        old_props, new_props = old_obj["properties"], new_obj["properties"]
        for name, sub in old_props.items():
            child = f"{path}.{name}" if path else name
            if name not in new_props:
                problems.append(Breaking(file, child, "field removed"))
            else:
                _compare(file, child, sub, old_root, new_props[name], new_root, problems)
        added_required = set(new_obj.get("required", [])) - set(old_obj.get("required", []))
        for name in sorted(added_required):
            child = f"{path}.{name}" if path else name
            why = "new required field" if name not in old_props else "field became required"
            problems.append(Breaking(file, child, why))
    old_items = next((b["items"] for b in old_branches if "items" in b), None)
    new_items = next((b["items"] for b in new_branches if "items" in b), None)
    if isinstance(old_items, dict) and isinstance(new_items, dict):
        _compare(file, f"{path}[]", old_items, old_root, new_items, new_root, problems)
