#!/usr/bin/env bash
# The test command (`npm test`): provisions a fresh Debian machine, then runs typecheck, lint and
# vitest, each regardless of the others' outcome. The last line printed is `N passed, N failed`
# (see scripts/summary.mjs); the exit code is 0 only when nothing failed and something passed.
set -uo pipefail
cd "$(dirname "$0")/.."

# mosquitto lives in /usr/sbin, which non-root PATHs often lack.
for dir in /usr/local/sbin /usr/sbin /sbin; do
  case ":$PATH:" in *":$dir:"*) ;; *) PATH="$PATH:$dir" ;; esac
done
export PATH

# Stops before any test ran, keeping the summary-line contract.
fail_early() {
  echo "scripts/test.sh: $*" >&2
  echo "0 passed, 1 failed"
  exit 1
}

# binary:Debian package
required=(mosquitto:mosquitto mosquitto_pub:mosquitto-clients influxd:influxdb victoria-metrics:victoria-metrics chromium:chromium)
missing=()
for entry in "${required[@]}"; do
  command -v "${entry%%:*}" >/dev/null 2>&1 || missing+=("${entry#*:}")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    fail_early "missing Debian packages: ${missing[*]} — run as root: apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  echo "scripts/test.sh: installing missing Debian packages: ${missing[*]}"
  apt-get update -q || fail_early "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || fail_early "apt-get install ${missing[*]} failed"
fi

# npm writes node_modules/.package-lock.json on every install; older than the lockfile means stale.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci || fail_early "npm ci failed"
fi

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit
typecheck_exit=$?

echo "== lint"
npx eslint .
lint_exit=$?

echo "== vitest"
results=.test-results/vitest.json
mkdir -p .test-results
rm -f "$results" # a crash must not be read as the previous run's results
npx vitest run --reporter=default --reporter=json --outputFile="$results" </dev/null
vitest_exit=$?

exec node scripts/summary.mjs "$results" "$vitest_exit" "$typecheck_exit" "$lint_exit"
