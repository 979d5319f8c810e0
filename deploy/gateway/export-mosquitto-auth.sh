#!/bin/sh
# Writes Mosquitto's password file and ACL from the gateway's credential store (`riskgate export mosquitto`, see
# docs/broker-auth.md) into /var/lib/riskgate/mosquitto. Runs in the gateway image as the one-shot service
# `mosquitto-auth` of docker-compose.yml: at every `docker compose up` before Mosquitto starts, and again after each
# device credential is issued, rotated or revoked (docs/deploy.md). The ingest user is MQTT_USERNAME / MQTT_PASSWORD,
# the same values the gateway connects with.
set -eu
: "${DATA_DIR:?DATA_DIR is not set}"
: "${MQTT_USERNAME:?MQTT_USERNAME is not set}"
: "${MQTT_PASSWORD:?MQTT_PASSWORD is not set}"
OUT=/var/lib/riskgate/mosquitto
CLI="node /app/dist/src/cli/main.js"

# The export reads DATA_DIR/riskgate.db; before the gateway's first start it does not exist: any CLI command that opens
# it creates it (empty, with its schema), so Mosquitto starts with the ingest user alone.
$CLI token list --data-dir "$DATA_DIR" > /dev/null

umask 077
pwfile=$(mktemp)
trap 'rm -f "$pwfile"' EXIT
printf '%s\n' "$MQTT_PASSWORD" > "$pwfile"
$CLI export mosquitto --data-dir "$DATA_DIR" --out "$OUT" --ingest-user "$MQTT_USERNAME" --ingest-password-file "$pwfile"
