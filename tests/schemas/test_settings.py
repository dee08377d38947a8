"""Kafka security settings: complete or refused, TLS contexts built from them, secrets never
shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from schemas.settings import KafkaSettings
from tests.factories import scram_over_tls, self_signed


def test_sasl_without_its_credentials_is_refused_naming_the_settings():
    with pytest.raises(ValidationError, match="needs WBX_KAFKA_SASL_MECHANISM"):
        KafkaSettings(bootstrap="kafka:9093", security_protocol="SASL_SSL")


def test_a_client_certificate_without_its_key_is_refused(tmp_path: Path):
    cert, _ = self_signed(tmp_path, "wbx-worker")
    with pytest.raises(ValidationError, match="go together"):
        KafkaSettings(bootstrap="kafka:9093", security_protocol="SSL", ssl_certfile=cert)


def test_an_unknown_protocol_is_refused():
    with pytest.raises(ValidationError, match="security_protocol"):
        KafkaSettings(bootstrap="kafka:9093", security_protocol="TLS")


def test_tls_clients_trust_the_configured_ca_and_present_their_certificate(tmp_path: Path):
    ca, _ = self_signed(tmp_path, "wbx-test-ca")
    cert, key = self_signed(tmp_path, "wbx-worker")
    settings = KafkaSettings(
        bootstrap="kafka:9093",
        security_protocol="SSL",
        ssl_cafile=ca,
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    context = settings.client_options()["ssl_context"]
    trusted = [dict(item[0] for item in c["subject"]) for c in context.get_ca_certs()]
    assert {"commonName": "wbx-test-ca"} in trusted
    assert settings.client_options()["security_protocol"] == "SSL"


def test_plaintext_needs_no_context():
    assert "ssl_context" not in KafkaSettings(bootstrap="kafka:9092").client_options()


def test_scram_over_tls_is_passed_to_every_client_and_the_password_never_shown(tmp_path):
    settings = scram_over_tls(tmp_path)
    options = settings.client_options()
    # pragma: allowlist nextline secret
    assert options["sasl_plain_password"] == "s3cret-pass" and "ssl_context" in options
    assert "s3cret-pass" not in repr(settings) and "s3cret-pass" not in str(settings)
