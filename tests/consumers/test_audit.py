"""The Audit stage: what the worker records when an alert leaves for a PCC."""

from __future__ import annotations

from consumers.audit import alert_release
from schemas.audit import AuditAction
from schemas.derived import derived_id
from tests.factories import NOW, make_alert


def test_an_alert_release_names_its_pcc_its_events_and_their_pseudonyms() -> None:
    alert = make_alert("pcc-trebinje", revision=3, now=NOW)
    fact = alert_release(alert, NOW)
    assert fact.action is AuditAction.RELEASE
    assert fact.recipient == "pcc:pcc-trebinje"
    assert fact.target == alert.id
    assert fact.events == [e.event_id for e in alert.events]
    assert fact.pseudonyms == ["psn:k1:3f9a0c"]  # found inside the summary, once
    assert fact.audit_id == derived_id("alert", alert.id, "3")  # each revision once


def test_a_revision_sent_again_is_the_same_fact() -> None:
    alert = make_alert("pcc-trebinje", now=NOW)
    assert alert_release(alert, NOW).audit_id == alert_release(alert, NOW).audit_id
