"""The data-protection officer's subject report: what the trail says about one person."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schemas.audit import AuditRecord

REPORT_COLUMNS = (
    "at",
    "action",
    "event_id",
    "source",
    "type",
    "recipient",
    "purpose",
    "actor",
    "target",
    "audit_id",
)


@dataclass
class SubjectReport:
    """Everything the trail says about one person: the events that named them, who received
    them, when and for what purpose. Ids, times and recipients only: no personal data."""

    identifier_kind: str
    pseudonyms: list[str]
    generated_at: datetime
    releases: list[AuditRecord]
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # An event that named the person was released with its pseudonyms (the Protect
        # stage's record); an alert or an action names several events, of which only those
        # are about the person: it adds its recipient to them alone.
        for release in self.releases:
            if release.event_id is not None:
                entry = self.events.setdefault(
                    release.event_id,
                    {"event_id": release.event_id, "source": release.source,
                     "type": release.type, "recipients": []},
                )  # fmt: skip
                _add(entry["recipients"], release.recipient)
        for release in self.releases:
            if release.event_id is None:
                for event_id in release.events:
                    if event_id in self.events:
                        _add(self.events[event_id]["recipients"], release.recipient)

    def as_json(self) -> dict[str, Any]:
        """The report as one JSON document."""
        return {
            "identifier_kind": self.identifier_kind,
            "pseudonyms": self.pseudonyms,
            "generated_at": self.generated_at.isoformat(),
            "events": sorted(self.events.values(), key=lambda e: e["event_id"]),
            "releases": [_row(r) for r in self.releases],
        }

    def as_csv(self) -> str:
        """One line per release, oldest first."""
        out = io.StringIO()
        writer = csv.DictWriter(out, REPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for release in self.releases:
            writer.writerow(_row(release))
        return out.getvalue()


def _add(recipients: list[str], recipient: str) -> None:
    if recipient not in recipients:
        recipients.append(recipient)


def _row(record: AuditRecord) -> dict[str, Any]:
    values = record.model_dump(mode="json", include=set(REPORT_COLUMNS))
    if record.event_id is None and record.events:
        values["event_id"] = " ".join(record.events)
    return {name: values.get(name) for name in REPORT_COLUMNS}
