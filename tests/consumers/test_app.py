"""The worker's faust app: security settings as every client's; no offset acknowledged unread."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import faust
import faust.transport.consumer
from faust.types import TP
from intervaltree import IntervalTree

from consumers.app import WBX_HOLES, broker_credentials, create_app
from consumers.settings import WorkerSettings
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


async def test_a_jump_in_offsets_is_never_acknowledged_and_is_noted_for_reading_again():
    # faust would count offsets 660-679 as a log gap, acknowledged: the commit would move
    # past records no stage saw. The worker's faust never does, and notes where to re-read.
    create_app(KafkaSettings(bootstrap="127.0.0.1:1"), WorkerSettings())
    tp = TP("wbx.ingest.v1", 4)
    consumer = SimpleNamespace(_gap=defaultdict(IntervalTree), _committed_offset={tp: 600})
    WBX_HOLES.clear()
    try:
        await faust.transport.consumer.Consumer._add_gap(consumer, tp, 660, 679)
        await faust.transport.consumer.Consumer._add_gap(consumer, tp, 700, 709)
        assert not consumer._gap[tp], "offsets faust never delivered were acknowledged"
        assert {tp: 660} == WBX_HOLES  # the first record skipped: everything after it again
    finally:
        WBX_HOLES.clear()
