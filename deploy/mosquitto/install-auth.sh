#!/bin/sh
# Installs the password file and ACL written by the `mosquitto-auth` service (volume mosquitto-auth, mounted read-only
# at /riskgate-auth) as /mosquitto/auth/{passwd,acl}, owned by the mosquitto user and mode 0600: Mosquitto 2 reads
# them again after dropping root (on reload) and warns about files others can read. Runs as root in the mosquitto
# container, at start (start.sh) and before each reload:
#   docker compose exec mosquitto sh -c 'sh /mosquitto/config/install-auth.sh && kill -HUP 1'
set -eu
SRC=/riskgate-auth
DST=/mosquitto/auth
mkdir -p "$DST"
for f in passwd acl; do
  if [ ! -f "$SRC/$f" ]; then
    echo "install-auth: $SRC/$f is missing: run the mosquitto-auth service first (docker compose run --rm mosquitto-auth)" >&2
    exit 1
  fi
  cp "$SRC/$f" "$DST/$f.new"
  chown mosquitto:mosquitto "$DST/$f.new"
  chmod 0600 "$DST/$f.new"
  mv "$DST/$f.new" "$DST/$f"
done
echo "install-auth: $(grep -c '^[^#[:space:]]' "$DST/passwd") users installed"
