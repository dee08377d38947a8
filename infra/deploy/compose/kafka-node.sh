#!/bin/sh
# One node of the compose cluster: broker and KRaft controller in one process.
# Writes server.properties for NODE_ID, formats its storage once (loading every principal's
# SCRAM password from /run/wbx/scram into the metadata log), then runs Kafka.
# Listeners: 9092 between brokers, 9093 for clients (both SASL_SSL, SCRAM-SHA-512),
# 9094 for the controller quorum (mutual TLS with the nodes' certificates).
set -eu
: "${NODE_ID:?set NODE_ID to 1, 2 or 3}"
SECRETS=/run/wbx
CONF=/tmp/server.properties
KAFKA=/opt/kafka/bin
broker_password=$(cat "$SECRETS/scram/wbx-broker")

cat > "$CONF" <<PROPERTIES
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=1@kafka-1:9094,2@kafka-2:9094,3@kafka-3:9094
controller.listener.names=CONTROLLER
listeners=INTERNAL://:9092,CLIENT://:9093,CONTROLLER://:9094
advertised.listeners=INTERNAL://kafka-$NODE_ID:9092,CLIENT://kafka-$NODE_ID:9093
listener.security.protocol.map=INTERNAL:SASL_SSL,CLIENT:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.internal.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="wbx-broker" password="$broker_password";
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.controller.ssl.client.auth=required
ssl.keystore.type=PEM
ssl.keystore.location=$SECRETS/kafka-$NODE_ID.pem
ssl.truststore.type=PEM
ssl.truststore.location=$SECRETS/ca.crt
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:wbx-broker;User:CN=kafka-1;User:CN=kafka-2;User:CN=kafka-3
log.dirs=/var/lib/kafka/data
auto.create.topics.enable=false
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
PROPERTIES

# SCRAM users live in the metadata log; on a fresh volume they are loaded at format time.
# Users added later: kafka-configs.sh --alter --add-config 'SCRAM-SHA-512=[password=...]'.
set --
for file in "$SECRETS"/scram/*; do
  set -- "$@" --add-scram "SCRAM-SHA-512=[name=$(basename "$file"),password=$(cat "$file")]"
done
"$KAFKA/kafka-storage.sh" format --ignore-formatted --cluster-id "$(cat "$SECRETS/cluster-id")" \
  --config "$CONF" "$@"
exec "$KAFKA/kafka-server-start.sh" "$CONF"
