#!/bin/sh
# generated from infra/topics.toml by `wbx topics render`; do not edit
# BOOTSTRAP: host:port of a broker; CLIENT_CONFIG: the admin client's properties
# (security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location).
set -eu
: "${BOOTSTRAP:?set BOOTSTRAP to host:port}"
: "${CLIENT_CONFIG:?set CLIENT_CONFIG to the admin client properties file}"

kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.ingest.v1 --partitions 6 --replication-factor 3 --config retention.ms=604800000 --config cleanup.policy=delete --config message.timestamp.type=LogAppendTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.quarantine.v1 --partitions 1 --replication-factor 3 --config retention.ms=2592000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.verified.v1 --partitions 6 --replication-factor 3 --config retention.ms=2592000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.shared.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.stats.v1 --partitions 1 --replication-factor 3 --config retention.ms=-1 --config cleanup.policy=compact --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.stats.fine.v1 --partitions 1 --replication-factor 3 --config retention.ms=-1 --config cleanup.policy=compact --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.al-asy.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.al-bp.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.ba-bp.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.ba-sfa.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.me-bp.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.me-mig.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.mk-bp.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.mk-mig.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.rs-bp.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.rs-mig.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.xk-bp.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.receipts.xk-mig.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.alerts.pcc-plav.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.alerts.pcc-trebinje.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.alert-acks.v1 --partitions 1 --replication-factor 3 --config retention.ms=3456000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.audit.v1 --partitions 3 --replication-factor 3 --config retention.ms=34560000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.audit.checkpoints.v1 --partitions 1 --replication-factor 3 --config retention.ms=34560000000 --config cleanup.policy=delete --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx.keys.v1 --partitions 1 --replication-factor 3 --config retention.ms=-1 --config cleanup.policy=compact --config message.timestamp.type=CreateTime
kafka-topics.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --create --if-not-exists --topic wbx-seen-changelog --partitions 6 --replication-factor 3 --config retention.ms=-1 --config cleanup.policy=compact --config message.timestamp.type=CreateTime

kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Read --group wbx-admin- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Describe --topic wbx.alert-acks.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Read --topic wbx.alert-acks.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Describe --topic wbx.audit.checkpoints.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Read --topic wbx.audit.checkpoints.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Write --topic wbx.audit.checkpoints.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Describe --topic wbx.audit.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Read --topic wbx.audit.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Write --topic wbx.audit.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Describe --topic wbx.keys.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Read --topic wbx.keys.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Write --topic wbx.keys.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Describe --topic wbx.quarantine.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Read --topic wbx.quarantine.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Describe --topic wbx.verified.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-admin --operation Read --topic wbx.verified.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-analyst --operation Read --group wbx-analyst- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-analyst --operation Describe --topic wbx.stats.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-analyst --operation Read --topic wbx.stats.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --group wbx-gateway- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.alert-acks.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.alert-acks.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Write --topic wbx.alert-acks.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.alerts.pcc-plav.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.alerts.pcc-plav.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.alerts.pcc-trebinje.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.alerts.pcc-trebinje.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.audit.checkpoints.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.audit.checkpoints.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Write --topic wbx.audit.checkpoints.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.audit.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.audit.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Write --topic wbx.audit.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.keys.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.keys.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.al-asy.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.al-asy.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.al-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.al-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.ba-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.ba-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.ba-sfa.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.ba-sfa.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.me-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.me-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.me-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.me-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.mk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.mk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.mk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.mk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.rs-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.rs-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.rs-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.rs-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.xk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.xk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.receipts.xk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.receipts.xk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.stats.fine.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.stats.fine.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.stats.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.stats.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Describe --topic wbx.verified.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-gateway --operation Read --topic wbx.verified.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-pcc-plav --operation Read --group wbx-pcc-plav- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-pcc-plav --operation Describe --topic wbx.alerts.pcc-plav.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-pcc-plav --operation Read --topic wbx.alerts.pcc-plav.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-pcc-trebinje --operation Read --group wbx-pcc-trebinje- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-pcc-trebinje --operation Describe --topic wbx.alerts.pcc-trebinje.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-pcc-trebinje --operation Read --topic wbx.alerts.pcc-trebinje.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-asy --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-asy --operation Read --group wbx-publisher-al-asy- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-asy --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-asy --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-asy --operation Describe --topic wbx.receipts.al-asy.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-asy --operation Read --topic wbx.receipts.al-asy.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-bp --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-bp --operation Read --group wbx-publisher-al-bp- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-bp --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-bp --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-bp --operation Describe --topic wbx.receipts.al-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-al-bp --operation Read --topic wbx.receipts.al-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-bp --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-bp --operation Read --group wbx-publisher-ba-bp- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-bp --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-bp --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-bp --operation Describe --topic wbx.receipts.ba-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-bp --operation Read --topic wbx.receipts.ba-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-sfa --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-sfa --operation Read --group wbx-publisher-ba-sfa- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-sfa --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-sfa --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-sfa --operation Describe --topic wbx.receipts.ba-sfa.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-ba-sfa --operation Read --topic wbx.receipts.ba-sfa.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-bp --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-bp --operation Read --group wbx-publisher-me-bp- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-bp --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-bp --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-bp --operation Describe --topic wbx.receipts.me-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-bp --operation Read --topic wbx.receipts.me-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-mig --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-mig --operation Read --group wbx-publisher-me-mig- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-mig --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-mig --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-mig --operation Describe --topic wbx.receipts.me-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-me-mig --operation Read --topic wbx.receipts.me-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-bp --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-bp --operation Read --group wbx-publisher-mk-bp- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-bp --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-bp --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-bp --operation Describe --topic wbx.receipts.mk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-bp --operation Read --topic wbx.receipts.mk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-mig --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-mig --operation Read --group wbx-publisher-mk-mig- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-mig --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-mig --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-mig --operation Describe --topic wbx.receipts.mk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-mk-mig --operation Read --topic wbx.receipts.mk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-bp --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-bp --operation Read --group wbx-publisher-rs-bp- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-bp --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-bp --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-bp --operation Describe --topic wbx.receipts.rs-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-bp --operation Read --topic wbx.receipts.rs-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-mig --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-mig --operation Read --group wbx-publisher-rs-mig- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-mig --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-mig --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-mig --operation Describe --topic wbx.receipts.rs-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-rs-mig --operation Read --topic wbx.receipts.rs-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-bp --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-bp --operation Read --group wbx-publisher-xk-bp- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-bp --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-bp --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-bp --operation Describe --topic wbx.receipts.xk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-bp --operation Read --topic wbx.receipts.xk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-mig --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-mig --operation Read --group wbx-publisher-xk-mig- --resource-pattern-type prefixed
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-mig --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-mig --operation Write --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-mig --operation Describe --topic wbx.receipts.xk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-publisher-xk-mig --operation Read --topic wbx.receipts.xk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation IdempotentWrite --cluster
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Read --group wbx
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Read --group wbx-aggregate
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Create --topic wbx-seen-changelog
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx-seen-changelog
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Read --topic wbx-seen-changelog
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx-seen-changelog
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.alerts.pcc-plav.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.alerts.pcc-plav.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.alerts.pcc-trebinje.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.alerts.pcc-trebinje.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.audit.checkpoints.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.audit.checkpoints.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.audit.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.audit.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Read --topic wbx.ingest.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.keys.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Read --topic wbx.keys.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.quarantine.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.quarantine.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.al-asy.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.al-asy.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.al-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.al-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.ba-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.ba-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.ba-sfa.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.ba-sfa.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.me-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.me-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.me-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.me-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.mk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.mk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.mk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.mk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.rs-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.rs-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.rs-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.rs-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.xk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.xk-bp.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.receipts.xk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.receipts.xk-mig.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.shared.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Read --topic wbx.shared.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.shared.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.stats.fine.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.stats.fine.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.stats.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.stats.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Describe --topic wbx.verified.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Read --topic wbx.verified.v1
kafka-acls.sh --bootstrap-server "$BOOTSTRAP" --command-config "$CLIENT_CONFIG" --add --allow-principal User:wbx-worker --operation Write --topic wbx.verified.v1
