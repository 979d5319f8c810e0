#!/usr/bin/env bash
# The run command (`npm start`): installs what is missing, builds, and runs the gateway with its embedded defaults —
# aedes MQTT broker on 1883, HTTP on 8080, SQLite under data/, rules from alert-rules/, the demo fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "riskgate: installing npm dependencies (npm ci; better-sqlite3 builds from source, ~1 min)…" >&2
  npm ci --no-audit --no-fund
fi
echo "riskgate: building (tsc)…" >&2
npx tsc -p tsconfig.build.json
export SIM_FLEET="${SIM_FLEET-devices/fleets/demo.yaml}"
if [ -t 1 ] && [ -z "${LOG_PRETTY:-}" ]; then export LOG_PRETTY=true; fi
exec node dist/src/server.js
