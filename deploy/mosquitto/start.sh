#!/bin/sh
# Command of the mosquitto service (docker-compose.yml): install the exported password file and ACL, then run
# Mosquitto as PID 1 (the image's entrypoint has exec'd this script as root; Mosquitto drops to its own user).
set -eu
sh /mosquitto/config/install-auth.sh
exec /usr/sbin/mosquitto -c /mosquitto/config/mosquitto.conf
