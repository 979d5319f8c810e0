import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import swagger, { type SwaggerTransform } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** Options of {@link registerOpenApi}. */
export interface OpenApiOptions {
  /** Where the UI is served; the document is at `{routePrefix}/json` and `{routePrefix}/yaml`. Default `/docs`. */
  routePrefix?: string;
  /** `info.version` of the document. Default: the version in riskgate's package.json. */
  version?: string;
}

/**
 * Content-Security-Policy of every route under the prefix (the UI, its assets, the document). Swagger UI loads its
 * scripts and styles from the prefix only (no CDN, works offline) and needs no inline script and no eval, so
 * `script-src 'self'` holds. It differs from helmet's default in two ways: no `upgrade-insecure-requests` (which makes
 * a browser fetch the UI's own assets over https when the gateway is reached over plain http on a LAN, so the page
 * stays blank), and an explicit `connect-src 'self'` for the document and "Try it out".
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'self'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
].join('; ');

/** Operation tags, by path prefix (first match wins). */
const TAGS: readonly { prefix: string; tag: string; description: string }[] = [
  { prefix: '/api/v1/alerts', tag: 'alerts', description: '告警与处置 — alerts and their handling (ack, assign, comment, close)' },
  { prefix: '/api/v1/silences', tag: 'alerts', description: '' },
  { prefix: '/api/v1/notifications/', tag: 'alerts', description: '' },
  { prefix: '/api/v1/rules', tag: 'rules', description: '告警规则 — the loaded rule packs and reload state' },
  { prefix: '/api/v1/stream', tag: 'stream', description: '告警事件推送 — WebSocket stream of alert events, resumable with since=<seq>' },
  { prefix: '/api/v1/ingest', tag: 'ingest', description: 'HTTP 数据接入 — readings pushed over HTTP (NB-IoT platforms), same validation as MQTT' },
  { prefix: '/api/v1/devices', tag: 'registry', description: '设备、企业、区域、场所 — the device registry and device credentials' },
  { prefix: '/api/v1/tenants', tag: 'registry', description: '' },
  { prefix: '/api/v1/regions', tag: 'registry', description: '' },
  { prefix: '/api/v1/sites', tag: 'registry', description: '' },
  { prefix: '/api/v1/stats', tag: 'stats', description: '上线率与数据完整率 — online rate and data completeness' },
  { prefix: '/api/v1/tokens', tag: 'tokens', description: 'API 令牌 — bearer tokens and roles' },
  { prefix: '/api/v1/broker/', tag: 'broker-auth', description: 'EMQX HTTP authn/authz endpoints (shared secret, no bearer token)' },
  { prefix: '/api/v1/dead-letters', tag: 'ops', description: '运维 — probes, Prometheus metrics, rejected messages' },
  { prefix: '/healthz', tag: 'ops', description: '' },
  { prefix: '/readyz', tag: 'ops', description: '' },
  { prefix: '/metrics', tag: 'ops', description: '' },
];

/** Paths that take no bearer token (the same list as src/auth/auth-hook.ts). */
const PUBLIC_PREFIXES = ['/healthz', '/readyz', '/metrics', '/api/v1/broker/'];

/** The wire payload (README "Wire contract"); the fields of `data` per kind are in src/kinds/*.ts. */
const PAYLOAD_DOC = {
  type: 'object',
  description: 'One reading `{"ts","seq"?,"data":{…}}` or buffered readings `{"readings":[{"ts","data"}, …]}` (1–1000). `ts`: ISO-8601 (zone-less = Beijing time) or epoch ms.',
  properties: {
    ts: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
    seq: { type: 'integer', minimum: 0 },
    data: { type: 'object', additionalProperties: true, example: { concentration_lel: 27.5, gas_type: 'CH4' } },
    readings: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object', additionalProperties: true } },
  },
} as const;

/**
 * Documentation of routes whose handlers parse their input by hand (no route schema to generate it from). Only
 * documentation: the route's validation is not changed. Keyed by `METHOD url` as fastify registered it.
 */
const HAND_DOCUMENTED: Record<string, FastifySchema> = {
  'GET /api/v1/stream': {
    summary: 'WebSocket stream of alert events',
    description:
      'Upgrade to a WebSocket (`ws://host:8080/api/v1/stream`). The server sends `{"type":"hello","last_seq":N,"replay_from":S}`; ' +
      'with `since`, every stored event after that seq and then `{"type":"replay_done","last_seq":N}`; then live ' +
      '`{"type":"alert_event","event":{…}}` messages. Reconnect with the last seq seen: no event is missing or repeated. ' +
      'A client more than 8 MiB behind is closed with code 1013. Filters narrow the token\'s scope, never widen it.',
    querystring: {
      type: 'object',
      properties: {
        since: { type: 'string', pattern: '^\\d+$', description: 'replay every stored event with a greater seq first' },
        tenant: { type: 'string', description: 'only this tenant\'s alerts' },
        region: { type: 'string', description: 'only alerts of this GB/T 2260 region (a prefix: 5101 = Chengdu)' },
        kind: { type: 'string', enum: ['gas', 'dust', 'electrical_fire', 'smoke', 'vehicle', 'gateway'], description: 'only this device kind' },
        max_level: { type: 'string', enum: ['1', '2', '3', '4'], description: 'only alerts of this level or more severe (1 = red)' },
        access_token: { type: 'string', description: 'the bearer token, for browsers that cannot set the Authorization header' },
      },
    },
    response: { 101: { description: 'Switching Protocols: the WebSocket is open', type: 'null' } },
  },
  'POST /api/v1/ingest/:tenant/:kind/:deviceId': {
    summary: 'Ingest one device\'s message (the MQTT payload as body)',
    description: 'Device or enterprise token. Answers 202 `{"accepted","rejected","errors"}` (400 when nothing was accepted); 503 with Retry-After while the spool is full.',
    body: PAYLOAD_DOC,
    response: { 202: { description: 'Taken: `{"accepted","rejected","errors":[…]}` (each rejected reading with its reason and field path)', type: 'object' } },
  },
  'POST /api/v1/ingest': {
    summary: 'Ingest a batch of messages for several devices',
    description:
      'Device or enterprise token; 1–1000 items, each validated like an MQTT message. Answers 202 ' +
      '`{"accepted","rejected","items":[{"index","accepted","rejected","errors"}]}`; 503 with Retry-After while the spool is full.',
    body: {
      type: 'object',
      required: ['items'],
      properties: {
        items: {
          type: 'array',
          minItems: 1,
          maxItems: 1000,
          items: {
            type: 'object',
            required: ['tenant', 'kind', 'device_id', 'payload'],
            properties: {
              tenant: { type: 'string' },
              kind: { type: 'string', enum: ['gas', 'dust', 'electrical_fire', 'smoke', 'vehicle'] },
              device_id: { type: 'string' },
              channel: { type: 'string', enum: ['telemetry', 'event', 'status'], default: 'telemetry' },
              payload: PAYLOAD_DOC,
            },
          },
        },
      },
    },
    response: { 202: { description: 'Taken: `{"accepted","rejected","items":[{"index","accepted","rejected","errors"}]}`', type: 'object' } },
  },
  'GET /api/v1/notifications/dead-letters': { summary: 'Notifications that could not be delivered (admin)' },
  'GET /api/v1/rules': { summary: 'Loaded rules, their files and the last reload problems' },
  'GET /api/v1/tokens': { summary: 'API tokens (never their secrets)' },
  'GET /healthz': { summary: 'Liveness: the process answers' },
  'GET /readyz': { summary: 'Readiness: MQTT subscribed, store answering, not shutting down (else 503)' },
  'GET /metrics': { summary: 'Prometheus metrics (text exposition format)' },
};

/**
 * Serves an OpenAPI 3.0 document generated from the routes' zod schemas at `{prefix}/json` (and `/yaml`) and Swagger
 * UI at `{prefix}` (default `/docs`). Call it **before** any route is registered: @fastify/swagger collects routes
 * with an onRoute hook, so routes registered earlier are missing from the document. The UI's assets are served by the
 * gateway itself (no CDN) under {@link DOCS_CSP}, which replaces helmet's policy on these routes only.
 */
export async function registerOpenApi(app: FastifyInstance, opts: OpenApiOptions = {}): Promise<void> {
  const prefix = (opts.routePrefix ?? '/docs').replace(/\/+$/, '') || '/docs';
  const uiRoutes = ['', '/', '/initOAuth', '/json', '/uiConfig', '/yaml', '/*', '/static/*', '/static/index.html', '/static/swagger-initializer.js'].map((p) => `${prefix}${p}`);
  const zodTransform = createJsonSchemaTransform({ skipList: uiRoutes });

  const transform: SwaggerTransform = (doc) => {
    const methods = ([] as string[]).concat(doc.route.method);
    const extra = methods.map((m) => HAND_DOCUMENTED[`${m} ${doc.url}`]).find((s) => s !== undefined);
    // @fastify/websocket hides its routes from the document (schema.hide); the stream is documented by hand instead.
    let input = doc;
    if (extra && (doc.route as { websocket?: boolean }).websocket && doc.schema?.hide) {
      const { hide: _hide, ...rest } = doc.schema;
      input = { ...doc, schema: rest };
    }
    const out = zodTransform(input as Parameters<typeof zodTransform>[0]);
    if (out.schema?.hide) return out;
    const schema: FastifySchema = { ...extra, ...out.schema };
    const tag = TAGS.find((t) => doc.url.startsWith(t.prefix))?.tag;
    if (tag && !schema.tags) schema.tags = [tag];
    if (!schema.security && PUBLIC_PREFIXES.some((p) => doc.url.startsWith(p))) schema.security = [];
    return { schema, url: out.url };
  };

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'riskgate API',
        version: opts.version ?? packageVersion(),
        description:
          'Ingestion and alerting gateway for safety-risk monitoring centres (燃气, 粉尘涉爆, 电气火灾, 烟感, 两客一危车辆). ' +
          'Every /api route except /api/v1/broker/ needs `Authorization: Bearer <token>`; errors answer `{"error":{"code":"RG_ERR_…","message":…}}` (docs/errors.md).',
      },
      tags: uniqueTags(),
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (`rgt_…`): `riskgate token create` or POST /api/v1/tokens' },
        },
      },
      security: [{ bearerAuth: [] }],
    },
    transform,
    transformObject: jsonSchemaTransformObject,
  });

  await app.register(swaggerUi, {
    routePrefix: prefix,
    staticCSP: DOCS_CSP,
    theme: { title: 'riskgate API' },
    uiConfig: { deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0, displayRequestDuration: true },
  });
}

function uniqueTags(): { name: string; description: string }[] {
  const seen = new Map<string, string>();
  for (const t of TAGS) if (!seen.has(t.tag)) seen.set(t.tag, t.description);
  return [...seen].map(([name, description]) => ({ name, description }));
}

/** The version in riskgate's package.json: two levels up from src/api, three from dist/src/api. */
function packageVersion(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 4; i++) {
    dir = dirname(dir);
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'riskgate' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // unreadable: keep looking up
    }
  }
  return '0.0.0';
}
