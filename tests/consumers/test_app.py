"""The worker's faust app reaches the cluster with the same security settings as every client."""

from __future__ import annotations

from pathlib import Path

import faust

from consumers.app import broker_credentials
from schemas.settings import KafkaSettings
from tests.factories import scram_over_tls, self_signed


def test_plaintext_gives_faust_no_credentials():
    assert broker_credentials(KafkaSettings(bootstrap="kafka:9092")) is None


def test_tls_alone_gives_faust_the_tls_context(tmp_path: Path):
    ca, _ = self_signed(tmp_path, "wbx-test-ca")
    settings = KafkaSettings(bootstrap="kafka:9093", security_protocol="SSL", ssl_cafile=ca)
    credentials = broker_credentials(settings)
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.protocol.value == "SSL"


def test_scram_over_tls_gives_faust_the_same_mechanism_user_and_tls(tmp_path: Path):
    settings = scram_over_tls(tmp_path)
    credentials = broker_credentials(settings)
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert (credentials.username, credentials.password) == ("wbx-worker", "s3cret-pass")
