# syntax=docker/dockerfile:1
# riskgate gateway image (docker-compose.yml, docs/deploy.md).
#   build      npm ci (no install scripts: tsc needs none) + tsc -p tsconfig.build.json → dist/src/…
#   prod-deps  npm ci --omit=dev; only better-sqlite3's install script runs (the one native production dependency)
#   runtime    slim Node, production node_modules, dist, the default rule packs; runs as the unprivileged `node` user
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:${NODE_VERSION}-bookworm AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# better-sqlite3 downloads a prebuilt binary, or compiles with the python3/make/g++ of this (full) image.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY alert-rules ./alert-rules
COPY console ./console
COPY deploy/gateway/export-mosquitto-auth.sh ./deploy/gateway/export-mosquitto-auth.sh
# State (SQLite, spool) and the Mosquitto auth export live in volumes; created here so that a new named volume
# mounted on them starts owned by `node`.
RUN mkdir -p /var/lib/riskgate/data /var/lib/riskgate/mosquitto && chown -R node:node /var/lib/riskgate
USER node
ENV DATA_DIR=/var/lib/riskgate/data \
    RULES_DIR=/app/alert-rules
# HTTP API + WebSocket stream, embedded MQTT broker (when MQTT_URL is not set), JT/T 808 terminals.
EXPOSE 8080 1883 7611
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
