"""`wbx config show`: every component's effective settings, secrets masked, errors named."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from wbx.cli import cli


def test_every_component_is_shown_with_its_secrets_masked(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WBX_KAFKA_SASL_PASSWORD", "kafka-pass-123")
    monkeypatch.setenv("WBX_WORKER_PSEUDONYM_SECRET", "pseudonym-secret-4567890123456")
    monkeypatch.setenv("WBX_WORKER_STATE_HORIZON", "P40D")
    done = CliRunner().invoke(cli, ["config", "show"])
    assert done.exit_code == 0, done.output
    for header in ("[contract]", "[kafka]", "[worker]", "[gateway]", "[publisher]", "[log]"):
        assert header in done.output
    assert "kafka-pass-123" not in done.output and "pseudonym-secret" not in done.output
    assert "WBX_KAFKA_SASL_PASSWORD=******** (set)" in done.output
    assert "WBX_WORKER_PSEUDONYM_SECRET=******** (set)" in done.output
    assert "WBX_WORKER_STATE_HORIZON=P40D" in done.output  # as the variable would spell it
    assert "WBX_KAFKA_BOOTSTRAP=(unset)" in done.output


def test_an_invalid_configuration_is_named_not_shown_half(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WBX_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    done = CliRunner().invoke(cli, ["config", "show", "kafka"])
    assert done.exit_code == 1
    assert "kafka: " in done.output and "needs WBX_KAFKA_SASL_MECHANISM" in done.output
    assert "[kafka]" not in done.output


def test_an_unknown_component_is_refused_with_the_known_ones():
    done = CliRunner().invoke(cli, ["config", "show", "broker"])
    assert done.exit_code == 2
    assert "broker: not a component (one of contract, kafka, worker, gateway, publisher, log)" in (
        done.output
    )
