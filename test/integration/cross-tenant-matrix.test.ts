// The cross-tenant matrix: every role × every route, the alert stream and the device MQTT actions, each aimed at
// another tenant's or region's resources, is refused (and counted); the same calls on the caller's own resources work.
// One file on purpose (≈ 800 lines): the route table is the point of it, and it is only complete when read whole —
// a route the app registers without a row here fails the first test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { AlertEvent } from '../../src/alerts/alert.js';
import { Gateway } from '../../src/app.js';
import { parseConfig } from '../../src/config/env.js';
import type { KindName } from '../../src/kinds/kind.js';
import type { Device } from '../../src/registry/device-registry.js';
import { usccCheckChar } from '../../src/registry/uscc.js';
import type { SqlitePointWriter } from '../../src/storage/sqlite.js';
import { FIXTURE_DEVICES, REPO_ROOT } from '../helpers/gateway.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/services.js';

// ── the gateway, with its log captured ("and logged": MQTT refusals are only logged) ──────────────────────────────────

type Json = Record<string, unknown>;
interface LogLine { level: number; msg: string }
const logs: LogLine[] = [];
let g: Gateway;
let httpUrl: string;
let dataDir: string;
const SECRET = 'matrix-broker-secret-0123456789';

async function startGateway(): Promise<void> {
  dataDir = mkdtempSync(join(tmpdir(), 'rg-xtenant-'));
  // Nothing listens on this port: every notification fails at once and is dead-lettered (max_attempts 1).
  const notifiers = join(dataDir, 'notifiers.yaml');
  writeFileSync(notifiers, `notifiers:\n  - { name: ops-hook, type: webhook, url: "http://127.0.0.1:${await freePort()}/hook", retry: { max_attempts: 1 } }\n`);
  const cfg = parseConfig({
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    MQTT_BROKER_HOST: '127.0.0.1',
    MQTT_BROKER_PORT: '0',
    MQTT_BROKER_ALLOW_ANONYMOUS: 'false',
    MQTT_CLIENT_ID: `rg-xtenant-${process.pid}`,
    DATA_DIR: dataDir,
    RULES_DIR: join(REPO_ROOT, 'alert-rules'),
    REGISTRY_SEED: FIXTURE_DEVICES,
    NOTIFIERS_FILE: notifiers,
    BROKER_AUTH_SECRET: SECRET,
    STORE_FLUSH_INTERVAL_MS: '50',
    HTTP_RATE_LIMIT_PER_MIN: '1000000',
    INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: '100000',
    ALERT_FLAP_FLIPS: '100000',
    LOG_LEVEL: 'info',
  });
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems));
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  g = new Gateway({ config: cfg.config, logger, defaultMetrics: false });
  await g.start();
  httpUrl = `http://127.0.0.1:${g.httpPort}`;
}
const logged = (msg: string): number => logs.filter((l) => l.msg === msg).length;

/** riskgate_http_rejects_total by code. */
async function rejectCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await (await fetch(`${httpUrl}/metrics`)).text()).matchAll(/^riskgate_http_rejects_total\{code="([A-Z_]+)"\} (\d+)$/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}
function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out[k] = v - (before[k] ?? 0);
  return out;
}
const tally = (t: Record<string, number>, code: string, n = 1): void => void (t[code] = (t[code] ?? 0) + n);
const CODE_OF_STATUS: Record<number, string> = { 400: 'RG_ERR_API_BAD_REQUEST', 401: 'RG_ERR_AUTH_REQUIRED', 403: 'RG_ERR_AUTH_FORBIDDEN', 404: 'RG_ERR_API_NOT_FOUND' };

// ── roles and the two sides ───────────────────────────────────────────────────────────────────────────────────────────

type RoleKind = 'admin' | 'operator' | 'enterprise' | 'device' | 'unauth';
type Side = 'T1' | 'T2';
interface Role { name: string; kind: RoleKind; own: Side; foreign: Side; token?: string; tenant?: string; regions?: string[] }
/** What each side owns. t2 is moved to 510114 in setup, so tenants, sites, devices and alerts of the two sides lie in disjoint regions. */
interface Target { tenant: string; device: string; kind: KindName; region: string; site: string; alertId: number; deviceTokenId: string; password: string }
const T: Record<Side, Target> = {
  T1: { tenant: 't1', device: 'gas-1', kind: 'gas', region: '510104', site: 'site-a', alertId: 0, deviceTokenId: '', password: '' },
  T2: { tenant: 't2', device: 'efm-2', kind: 'electrical_fire', region: '510114', site: 'site-b', alertId: 0, deviceTokenId: '', password: '' },
};
const R: Record<'admin' | 'opA' | 'opB' | 'ent1' | 'ent2' | 'dev1' | 'none' | 'revoked' | 'expired', Role> = {
  admin: { name: 'admin', kind: 'admin', own: 'T1', foreign: 'T2' },
  opA: { name: 'operator 510104', kind: 'operator', own: 'T1', foreign: 'T2', regions: ['510104'] },
  opB: { name: 'operator 510114', kind: 'operator', own: 'T2', foreign: 'T1', regions: ['510114'] },
  ent1: { name: 'enterprise t1', kind: 'enterprise', own: 'T1', foreign: 'T2', tenant: 't1' },
  ent2: { name: 'enterprise t2', kind: 'enterprise', own: 'T2', foreign: 'T1', tenant: 't2' },
  dev1: { name: 'device t1/gas-1', kind: 'device', own: 'T1', foreign: 'T2', tenant: 't1' },
  none: { name: 'no token', kind: 'unauth', own: 'T1', foreign: 'T2' },
  revoked: { name: 'revoked token', kind: 'unauth', own: 'T1', foreign: 'T2' },
  expired: { name: 'expired token', kind: 'unauth', own: 'T1', foreign: 'T2' },
};
const ROLES = Object.values(R);

/** The scope oracle, written from the README's role table (not from src/auth). */
function sees(r: Role, s: { tenant?: string | null; region?: string | null; kind?: string }): boolean {
  if (s.kind === 'gateway') return r.kind === 'admin' || r.kind === 'operator';
  if (r.kind === 'admin') return true;
  if (r.kind === 'operator') return !!s.region && (r.regions ?? []).some((p) => (s.region as string).startsWith(p));
  if (r.kind === 'enterprise') return s.tenant === r.tenant;
  return false;
}
const regionOf = (tenant: unknown, deviceId: unknown): string | undefined => g.registry.get(String(tenant), String(deviceId))?.region;
function silenceSeen(r: Role, s: Json): boolean {
  if (r.kind === 'admin') return true;
  if (r.kind === 'enterprise') return s.tenant === r.tenant;
  if (r.kind !== 'operator' || (!s.tenant && !s.device_id)) return false;
  const covered = g.registry.list(s.tenant ? { tenant: String(s.tenant) } : {}).filter((d) => !s.device_id || d.deviceId === s.device_id);
  return covered.length > 0 && covered.every((d) => sees(r, { tenant: d.tenant, region: d.region }));
}

// ── HTTP ──────────────────────────────────────────────────────────────────────────────────────────────────────────────

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface Res { status: number; json: Json }
async function call(role: Role, method: Method, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const res = await fetch(`${httpUrl}${url}`, {
    method,
    headers: { ...(role.token ? { authorization: `Bearer ${role.token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, json: (text && type.startsWith('application/json') ? JSON.parse(text) : { text }) as Json };
}
async function asAdmin(method: Method, url: string, body?: unknown, role: Role = R.admin): Promise<Json> {
  const r = await call(role, method, url, body);
  if (r.status >= 300) throw new Error(`setup ${method} ${url} as ${role.name}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

// ── scratch resources: every mutating probe gets a fresh one, so a refusal can be checked to have changed nothing ──────

let uidSeq = 0;
const uid = (prefix: string): string => `${prefix}-${++uidSeq}`;
const scratchDevice = (t: Target, region = t.region): Device => g.registry.create({ tenant: t.tenant, deviceId: uid('x'), kind: 'gas', region, site: t.site, heartbeatS: 60, attrs: {} });
const scratchSite = (t: Target): string => g.sites.create({ tenant: t.tenant, site: uid('s'), name: '临时站点', region: t.region }).site;
function newUscc(region: string): string {
  const first17 = `91${region.padEnd(6, '0')}${String(++uidSeq).padStart(9, '0')}`;
  return first17 + (usccCheckChar(first17) as string);
}
const scratchTenant = (t: Target): string => g.tenants.create({ tenant: uid('tn'), name: '临时企业', uscc: newUscc(t.region), region: t.region }).tenant;
let regionSeq = 0;
/** County codes under the test city 5199 (created in setup). */
const newRegionCode = (): string => `5199${String(++regionSeq).padStart(2, '0')}`;
const scratchRegion = (): string => g.regions.create({ code: newRegionCode(), name: '临时区' }).code;
/** An alert raised on a fresh gas device of the side (gas.lel level 3 at 30 %LEL). */
function scratchAlert(t: Target, region = t.region): number {
  const d = scratchDevice(t, region);
  g.pipeline.ingestMqtt(`rg/v1/${d.tenant}/gas/${d.deviceId}/telemetry`, Buffer.from(JSON.stringify({ ts: Date.now(), data: { concentration_lel: 30 } })));
  const a = g.alertStore.query({ tenant: d.tenant, deviceId: d.deviceId, limit: 1 })[0];
  if (!a) throw new Error(`no alert raised for ${d.tenant}/${d.deviceId}`);
  return a.id;
}
const same = (a: unknown, b: unknown): string[] => (JSON.stringify(a) === JSON.stringify(b) ? [] : [`changed: ${JSON.stringify(b)} → ${JSON.stringify(a)}`]);
const benign = (kind: KindName): Json => (kind === 'gas' ? { concentration_lel: 1 } : { residual_current_ma: 10 });
/** HTTP-ingest probes: each reading's device time, and whether it must end up stored. */
const ingested: { t: Target; ts: number; stored: boolean }[] = [];
let tsSeq = 0;

// ── the route table ───────────────────────────────────────────────────────────────────────────────────────────────────

type Expect = Record<'admin' | 'operator' | 'enterprise' | 'device', number>;
interface Ctx { role: Role; side: 'foreign' | 'own'; t: Target }
interface Probe {
  method: Method;
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Problems with a 2xx answer (list scope, counts). */
  check?: (json: Json) => string[];
  /** Problems after a refusal: the resource aimed at must be as it was. */
  unchanged?: () => string[];
}
interface RouteSpec {
  probe?: (c: Ctx) => Probe;
  foreign?: Expect;
  own?: Expect;
  /** Open to everyone (probes, metrics). */
  open?: true;
  /** EMQX endpoints: always 200; `deny` for another device, `allow` for the caller's side. */
  broker?: true;
  /** The WebSocket stream: its cells are the stream test. */
  stream?: true;
}
const E = (admin: number, operator: number, enterprise: number, device: number): Expect => ({ admin, operator, enterprise, device });
const READ_ONE = { foreign: E(200, 404, 404, 403), own: E(200, 200, 200, 403) };
const READ_ALL = { foreign: E(200, 200, 200, 403), own: E(200, 200, 200, 403) };
const ADMIN_ONLY = (ok: number) => ({ foreign: E(ok, 403, 403, 403), own: E(ok, 403, 403, 403) });
const TENANT_CREATE = { foreign: E(201, 403, 403, 403), own: E(201, 403, 201, 403) };
const TENANT_WRITE = { foreign: E(200, 403, 404, 403), own: E(200, 403, 200, 403) };
const HANDLE = { foreign: E(200, 404, 404, 403), own: E(200, 200, 200, 403) };
const seesOrAdmin = (c: Ctx): boolean => c.side === 'own' || c.role.kind === 'admin';

/** Every item visible to the role; the side's own item present where the role may see it. */
function listCheck(c: Ctx, items: unknown, scoped: (x: Json) => boolean, isTarget: (x: Json) => boolean): string[] {
  if (!Array.isArray(items)) return ['not a list'];
  const out = (items as Json[]).filter((x) => !scoped(x)).map((x) => `out of scope: ${JSON.stringify(x).slice(0, 160)}`);
  if (seesOrAdmin(c) && !(items as Json[]).some(isTarget)) out.push(`missing the ${c.side} target`);
  return out;
}

function alertAction(action: string, body: Json): RouteSpec {
  return {
    ...HANDLE,
    probe: ({ t }) => {
      const id = scratchAlert(t);
      const events = g.alertStore.eventsOf(id).length;
      return { method: 'POST', url: `/api/v1/alerts/${id}/${action}`, body, unchanged: () => same(g.alertStore.eventsOf(id).length, events) };
    },
  };
}
function deviceWrite(method: 'PUT' | 'PATCH' | 'DELETE', body?: Json): RouteSpec {
  return {
    ...TENANT_WRITE,
    probe: ({ t }) => {
      const d = scratchDevice(t);
      const before = g.registry.get(d.tenant, d.deviceId);
      return { method, url: `/api/v1/devices/${d.tenant}/${d.deviceId}`, body, unchanged: () => same(g.registry.get(d.tenant, d.deviceId), before) };
    },
  };
}
function siteWrite(method: 'PUT' | 'PATCH' | 'DELETE', body?: (t: Target) => Json): RouteSpec {
  return {
    ...TENANT_WRITE,
    probe: ({ t }) => {
      const s = scratchSite(t);
      const before = g.sites.get(t.tenant, s);
      return { method, url: `/api/v1/sites/${t.tenant}/${s}`, body: body?.(t), unchanged: () => same(g.sites.get(t.tenant, s), before) };
    },
  };
}
function tenantWrite(method: 'PUT' | 'PATCH' | 'DELETE', body?: (uscc: string, t: Target) => Json): RouteSpec {
  return {
    ...ADMIN_ONLY(200),
    probe: ({ t }) => {
      const id = scratchTenant(t);
      const before = g.tenants.get(id);
      return { method, url: `/api/v1/tenants/${id}`, body: body?.(before?.uscc as string, t), unchanged: () => same(g.tenants.get(id), before) };
    },
  };
}
function regionWrite(method: 'PUT' | 'PATCH' | 'DELETE'): RouteSpec {
  return {
    ...ADMIN_ONLY(200),
    probe: () => {
      const code = scratchRegion();
      const before = g.regions.get(code);
      return { method, url: `/api/v1/regions/${code}`, body: method === 'DELETE' ? undefined : { name: '改名区' }, unchanged: () => same(g.regions.get(code), before) };
    },
  };
}
function credentialWrite(method: 'POST' | 'DELETE', ok: number): RouteSpec {
  return {
    foreign: E(ok, 403, 404, 403),
    own: E(ok, 403, ok, 403),
    probe: ({ t }) => {
      const d = scratchDevice(t);
      if (method === 'DELETE') g.credentials.issue(d.tenant, d.deviceId);
      const before = g.credentials.get(d.tenant, d.deviceId);
      return { method, url: `/api/v1/devices/${d.tenant}/${d.deviceId}/credentials`, unchanged: () => same(g.credentials.get(d.tenant, d.deviceId), before) };
    },
  };
}
function ingestProbe(batch: boolean): (c: Ctx) => Probe {
  return ({ role, side, t }) => {
    const ts = Date.now() - 60_000 + ++tsSeq;
    const allowed = role.kind === 'admin' || (side === 'own' && (role.kind === 'enterprise' || role.kind === 'device'));
    ingested.push({ t, ts, stored: allowed });
    const payload = { ts, data: benign(t.kind) };
    const check = (j: Json): string[] => {
      if (allowed) return j.accepted === 1 ? [] : [`not accepted: ${JSON.stringify(j)}`];
      const reason = (j.items as { errors: { reason: string }[] }[] | undefined)?.[0]?.errors[0]?.reason;
      return j.accepted === 0 && reason === 'forbidden' ? [] : [`batch item not refused: ${JSON.stringify(j)}`];
    };
    return batch
      ? { method: 'POST', url: '/api/v1/ingest', body: { items: [{ tenant: t.tenant, kind: t.kind, device_id: t.device, payload }] }, check }
      : { method: 'POST', url: `/api/v1/ingest/${t.tenant}/${t.kind}/${t.device}`, body: payload, check };
  };
}

const ROUTES: Record<string, RouteSpec> = {
  'GET /healthz': { open: true, probe: () => ({ method: 'GET', url: '/healthz' }) },
  'GET /readyz': { open: true, probe: () => ({ method: 'GET', url: '/readyz' }) },
  'GET /metrics': { open: true, probe: () => ({ method: 'GET', url: '/metrics' }) },
  // OpenAPI document and Swagger UI (src/api/openapi.ts): open, like the probes.
  // The operator console (src/api/console-routes.ts): its page is open, the data behind it needs a token.
  'GET /': { open: true, probe: () => ({ method: 'GET', url: '/' }) },
  'GET /docs': { open: true, probe: () => ({ method: 'GET', url: '/docs' }) },
  'GET /docs/': { open: true, probe: () => ({ method: 'GET', url: '/docs/' }) },
  'GET /docs/*': { open: true, probe: () => ({ method: 'GET', url: '/docs/static/swagger-ui.css' }) },
  'GET /docs/json': { open: true, probe: () => ({ method: 'GET', url: '/docs/json' }) },
  'GET /docs/yaml': { open: true, probe: () => ({ method: 'GET', url: '/docs/yaml' }) },
  'GET /docs/static/index.html': { open: true, probe: () => ({ method: 'GET', url: '/docs/static/index.html' }) },
  'GET /docs/static/swagger-initializer.js': { open: true, probe: () => ({ method: 'GET', url: '/docs/static/swagger-initializer.js' }) },
  'POST /api/v1/broker/emqx/authn': {
    broker: true,
    probe: ({ side, role, t }) => {
      const own = T[role.own];
      // Foreign: another side's username with the caller side's password.
      const username = `${t.tenant}/${t.device}`;
      return { method: 'POST', url: '/api/v1/broker/emqx/authn', headers: { 'x-riskgate-broker-secret': SECRET }, body: { username, password: own.password, clientid: username }, check: (j) => same(j.result, side === 'own' ? 'allow' : 'deny') };
    },
  },
  'POST /api/v1/broker/emqx/authz': {
    broker: true,
    probe: ({ side, role, t }) => {
      const own = T[role.own];
      return { method: 'POST', url: '/api/v1/broker/emqx/authz', headers: { 'x-riskgate-broker-secret': SECRET }, body: { username: `${own.tenant}/${own.device}`, topic: `rg/v1/${t.tenant}/${t.kind}/${t.device}/telemetry`, action: 'publish' }, check: (j) => same(j.result, side === 'own' ? 'allow' : 'deny') };
    },
  },
  'GET /api/v1/dead-letters': {
    ...READ_ALL,
    probe: (c) => ({
      method: 'GET',
      url: `/api/v1/dead-letters?tenant=${c.t.tenant}&limit=1000`,
      check: (j) => listCheck(c, j.dead_letters, (e) => c.role.kind === 'admin' || sees(c.role, { tenant: e.tenant as string, region: regionOf(e.tenant, e.deviceId) }), (e) => e.tenant === c.t.tenant && e.deviceId === c.t.device),
    }),
  },
  'GET /api/v1/devices': {
    ...READ_ALL,
    probe: (c) => ({ method: 'GET', url: `/api/v1/devices?tenant=${c.t.tenant}&limit=1000`, check: (j) => listCheck(c, j.devices, (d) => sees(c.role, d), (d) => d.tenant === c.t.tenant && d.device_id === c.t.device) }),
  },
  'POST /api/v1/devices': {
    ...TENANT_CREATE,
    probe: ({ t }) => {
      const id = uid('new');
      return { method: 'POST', url: '/api/v1/devices', body: { tenant: t.tenant, device_id: id, kind: 'gas', region: t.region }, unchanged: () => same(g.registry.get(t.tenant, id), undefined) };
    },
  },
  'POST /api/v1/devices/import': {
    foreign: E(200, 403, 200, 403),
    own: E(200, 403, 200, 403),
    probe: ({ role, side, t }) => {
      const id = uid('imp');
      const allowed = role.kind === 'admin' || side === 'own';
      return {
        method: 'POST',
        url: '/api/v1/devices/import',
        body: { devices: [{ tenant: t.tenant, device_id: id, kind: 'gas', region: t.region }] },
        unchanged: () => same(g.registry.get(t.tenant, id), undefined),
        // An enterprise's row for another tenant is refused row by row (the file answers 200).
        check: (j) => (allowed ? same(j.imported, 1) : [...same(j.imported, 0), ...same((j.rejected as Json[])[0]?.field, 'tenant'), ...same(g.registry.get(t.tenant, id), undefined)]),
      };
    },
  },
  'GET /api/v1/devices/:tenant/:deviceId': { ...READ_ONE, probe: ({ t }) => ({ method: 'GET', url: `/api/v1/devices/${t.tenant}/${t.device}`, check: (j) => same((j.device as Json).device_id, t.device) }) },
  'PUT /api/v1/devices/:tenant/:deviceId': deviceWrite('PUT', { kind: 'gas', heartbeat_s: 30 }),
  'PATCH /api/v1/devices/:tenant/:deviceId': deviceWrite('PATCH', { heartbeat_s: 30 }),
  'DELETE /api/v1/devices/:tenant/:deviceId': deviceWrite('DELETE'),
  // Recent telemetry of one device (the console's chart) and the latest reading per device (its map): scoped reads.
  'GET /api/v1/devices/:tenant/:deviceId/telemetry': { ...READ_ONE, probe: ({ t }) => ({ method: 'GET', url: `/api/v1/devices/${t.tenant}/${t.device}/telemetry` }) },
  'GET /api/v1/telemetry/latest': { ...READ_ALL, probe: () => ({ method: 'GET', url: '/api/v1/telemetry/latest?kind=gas' }) },
  'GET /api/v1/devices/:tenant/:deviceId/credentials': {
    foreign: E(200, 403, 404, 403),
    own: E(200, 403, 200, 403),
    probe: ({ t }) => ({ method: 'GET', url: `/api/v1/devices/${t.tenant}/${t.device}/credentials`, check: (j) => same(j.active, true) }),
  },
  'POST /api/v1/devices/:tenant/:deviceId/credentials': credentialWrite('POST', 201),
  'DELETE /api/v1/devices/:tenant/:deviceId/credentials': credentialWrite('DELETE', 200),
  'GET /api/v1/tokens': {
    foreign: E(200, 403, 200, 403),
    own: E(200, 403, 200, 403),
    probe: (c) => ({
      method: 'GET',
      url: '/api/v1/tokens',
      check: (j) => listCheck(c, j.tokens, (k) => c.role.kind === 'admin' || (k.role === 'device' && k.tenant === c.role.tenant), (k) => k.id === c.t.deviceTokenId),
    }),
  },
  'POST /api/v1/tokens': {
    ...TENANT_CREATE,
    probe: ({ t }) => {
      const name = uid('tok');
      return { method: 'POST', url: '/api/v1/tokens', body: { name, role: 'device', tenant: t.tenant, device_id: t.device }, unchanged: () => same(g.tokens.list().some((k) => k.name === name), false) };
    },
  },
  'DELETE /api/v1/tokens/:id': {
    ...TENANT_WRITE,
    probe: ({ t }) => {
      const id = g.tokens.create({ name: uid('dtok'), role: 'device', tenant: t.tenant, deviceId: t.device, createdBy: 'matrix' }).record.id;
      return { method: 'DELETE', url: `/api/v1/tokens/${id}`, unchanged: () => same(g.tokens.get(id)?.revoked_at, null) };
    },
  },
  'GET /api/v1/tenants': {
    ...READ_ALL,
    probe: (c) => ({ method: 'GET', url: `/api/v1/tenants?region=${c.t.region}&limit=1000`, check: (j) => listCheck(c, j.tenants, (x) => sees(c.role, x), (x) => x.tenant === c.t.tenant) }),
  },
  'POST /api/v1/tenants': {
    ...ADMIN_ONLY(201),
    probe: ({ t }) => {
      const id = uid('tn');
      return { method: 'POST', url: '/api/v1/tenants', body: { tenant: id, name: '新企业', uscc: newUscc(t.region), region: t.region }, unchanged: () => same(g.tenants.get(id), undefined) };
    },
  },
  'GET /api/v1/tenants/:tenant': { ...READ_ONE, probe: ({ t }) => ({ method: 'GET', url: `/api/v1/tenants/${t.tenant}`, check: (j) => same((j.tenant as Json).tenant, t.tenant) }) },
  'PUT /api/v1/tenants/:tenant': tenantWrite('PUT', (uscc, t) => ({ name: '改名企业', uscc, region: t.region })),
  'PATCH /api/v1/tenants/:tenant': tenantWrite('PATCH', () => ({ name: '改名企业' })),
  'DELETE /api/v1/tenants/:tenant': tenantWrite('DELETE'),
  'GET /api/v1/regions': { ...READ_ALL, probe: () => ({ method: 'GET', url: '/api/v1/regions', check: (j) => ((j.regions as unknown[]).length > 0 ? [] : ['no regions']) }) },
  'POST /api/v1/regions': {
    ...ADMIN_ONLY(201),
    probe: () => {
      const code = newRegionCode();
      return { method: 'POST', url: '/api/v1/regions', body: { code, name: '新区' }, unchanged: () => same(g.regions.has(code), false) };
    },
  },
  // Regions are reference data (names of places), readable by every user role whatever its scope.
  'GET /api/v1/regions/:code': { ...READ_ALL, probe: ({ t }) => ({ method: 'GET', url: `/api/v1/regions/${t.region}` }) },
  'PUT /api/v1/regions/:code': regionWrite('PUT'),
  'PATCH /api/v1/regions/:code': regionWrite('PATCH'),
  'DELETE /api/v1/regions/:code': regionWrite('DELETE'),
  'GET /api/v1/rules': { ...READ_ALL, probe: () => ({ method: 'GET', url: '/api/v1/rules' }) },
  'GET /api/v1/sites': {
    ...READ_ALL,
    probe: (c) => ({ method: 'GET', url: `/api/v1/sites?tenant=${c.t.tenant}&limit=1000`, check: (j) => listCheck(c, j.sites, (s) => sees(c.role, s), (s) => s.tenant === c.t.tenant && s.site === c.t.site) }),
  },
  'POST /api/v1/sites': {
    ...TENANT_CREATE,
    probe: ({ t }) => {
      const site = uid('s');
      return { method: 'POST', url: '/api/v1/sites', body: { tenant: t.tenant, site, name: '新站点', region: t.region }, unchanged: () => same(g.sites.get(t.tenant, site), undefined) };
    },
  },
  'GET /api/v1/sites/:tenant/:site': { ...READ_ONE, probe: ({ t }) => ({ method: 'GET', url: `/api/v1/sites/${t.tenant}/${t.site}` }) },
  'PUT /api/v1/sites/:tenant/:site': siteWrite('PUT', (t) => ({ name: '改名站点', region: t.region })),
  'PATCH /api/v1/sites/:tenant/:site': siteWrite('PATCH', () => ({ name: '改名站点' })),
  'DELETE /api/v1/sites/:tenant/:site': siteWrite('DELETE'),
  'GET /api/v1/silences': {
    ...READ_ALL,
    probe: (c) => ({ method: 'GET', url: '/api/v1/silences?all=true', check: (j) => listCheck(c, j.silences, (s) => silenceSeen(c.role, s), (s) => s.tenant === c.t.tenant && s.device_id === c.t.device) }),
  },
  'POST /api/v1/silences': {
    foreign: E(201, 403, 403, 403),
    own: E(201, 201, 201, 403),
    probe: ({ t }) => {
      const d = scratchDevice(t);
      return { method: 'POST', url: '/api/v1/silences', body: { reason: '维护保养', tenant: t.tenant, device_id: d.deviceId, duration: '1h' }, unchanged: () => same(g.alertStore.silences({ all: true, limit: 100_000 }).some((s) => s.device_id === d.deviceId), false) };
    },
  },
  'DELETE /api/v1/silences/:id': {
    ...HANDLE,
    probe: ({ t }) => {
      const d = scratchDevice(t);
      const s = g.alerts.createSilence({ tenant: t.tenant, device_id: d.deviceId, ends_at: Date.now() + 3_600_000, reason: '维护保养', actor: 'matrix' });
      const active = (): boolean => g.alertStore.silences({ activeAt: Date.now() }).some((x) => x.id === s.id);
      return { method: 'DELETE', url: `/api/v1/silences/${s.id}`, unchanged: () => same(active(), true) };
    },
  },
  'GET /api/v1/stats/online': {
    ...READ_ALL,
    probe: (c) => ({
      method: 'GET',
      url: `/api/v1/stats/online?tenant=${c.t.tenant}`,
      check: (j) => {
        const want = g.registry.list({ tenant: c.t.tenant }).filter((d) => sees(c.role, { tenant: d.tenant, region: d.region })).length;
        const got = (j.total as Json).registered;
        return got === want && (!seesOrAdmin(c) || want > 0) ? [] : [`registered ${String(got)}, visible ${want}`];
      },
    }),
  },
  'GET /api/v1/stream': { stream: true },
  'POST /api/v1/ingest': { foreign: E(202, 403, 202, 202), own: E(202, 403, 202, 202), probe: ingestProbe(true) },
  'POST /api/v1/ingest/:tenant/:kind/:deviceId': { foreign: E(202, 403, 403, 403), own: E(202, 403, 202, 202), probe: ingestProbe(false) },
  'GET /api/v1/alerts': {
    ...READ_ALL,
    probe: (c) => ({ method: 'GET', url: `/api/v1/alerts?tenant=${c.t.tenant}&limit=1000`, check: (j) => listCheck(c, j.alerts, (a) => sees(c.role, a), (a) => a.id === c.t.alertId) }),
  },
  'GET /api/v1/alerts/:id': { ...READ_ONE, probe: ({ t }) => ({ method: 'GET', url: `/api/v1/alerts/${t.alertId}`, check: (j) => same((j.alert as Json).id, t.alertId) }) },
  'POST /api/v1/alerts/:id/ack': alertAction('ack', { note: '已收到' }),
  'POST /api/v1/alerts/:id/assign': alertAction('assign', { assignee: '张工' }),
  'POST /api/v1/alerts/:id/comment': alertAction('comment', { note: '现场核实中' }),
  'POST /api/v1/alerts/:id/close': alertAction('close', { disposition: 'test', note: '测试' }),
  // Every tenant's alert payloads: the monitoring centre's admins only.
  'GET /api/v1/notifications/dead-letters': { ...ADMIN_ONLY(200), probe: () => ({ method: 'GET', url: '/api/v1/notifications/dead-letters', check: (j) => ((j.dead_letters as unknown[]).length >= 2 ? [] : ['expected the setup alerts dead-lettered']) }) },
};

/** `METHOD /path` of every route, read from the app's own router (`:a|:b` when two routes name a parameter differently → `:a`). */
function registeredRoutes(): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of g.http.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!m) continue;
    const depth = (m[1] as string).length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + (m[2] as string);
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) out.push(`${method} ${path.replace(/:(\w+)(\|:\w+)+/g, ':$1')}`);
  }
  return out;
}

// ── MQTT helpers ──────────────────────────────────────────────────────────────────────────────────────────────────────

const clients: MqttClient[] = [];
async function connect(opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(g.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(c);
  return c;
}
async function connackCode(opts: IClientOptions): Promise<number> {
  try {
    await connect(opts);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}
const asDevice = (t: Target, password = t.password): IClientOptions => ({ clientId: `${t.tenant}/${t.device}`, username: `${t.tenant}/${t.device}`, password });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
function subackCodes(client: MqttClient, filters: string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos: 1 }, (err, _granted, packet) => {
      if (packet) resolve((packet.granted as (number | { qos: number })[]).map((x) => (typeof x === 'number' ? x : x.qos)));
      else reject(err ?? new Error('no SUBACK'));
    });
  });
}
async function metric(name: string): Promise<number> {
  let total = 0;
  for (const m of (await (await fetch(`${httpUrl}/metrics`)).text()).matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))) total += Number(m[1]);
  return total;
}
const pointsAt = (t: Target, ts: number): number => (g.writer as SqlitePointWriter).query({ measurement: t.kind, tenant: t.tenant, device: t.device, fromMs: ts, toMs: ts }).length;

// ── WebSocket helpers ─────────────────────────────────────────────────────────────────────────────────────────────────

interface Stream { events: AlertEvent[]; done: boolean; ws: WebSocket }
const sockets: WebSocket[] = [];
function openStream(role: Role, query: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${g.httpPort}/api/v1/stream${query}`, { headers: role.token ? { authorization: `Bearer ${role.token}` } : {} });
    sockets.push(ws);
    const s: Stream = { events: [], done: false, ws };
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as { type: string; event?: AlertEvent };
      if (msg.type === 'alert_event' && msg.event) s.events.push(msg.event);
      if (msg.type === 'replay_done') s.done = true;
    });
    ws.once('open', () => resolve(s));
    ws.once('error', reject);
  });
}
/** How a refused stream ends: the HTTP status of a refused upgrade, or the close code of a refused socket. */
function streamRefusal(role: Role, query = ''): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${g.httpPort}/api/v1/stream${query}`, { headers: role.token ? { authorization: `Bearer ${role.token}` } : {} });
    sockets.push(ws);
    ws.on('unexpected-response', (req, res) => {
      req.destroy();
      resolve(`http ${res.statusCode}`);
    });
    ws.on('message', () => resolve('received data'));
    ws.on('close', (code) => resolve(`close ${code}`));
    ws.on('error', () => undefined);
  });
}

// ── setup ─────────────────────────────────────────────────────────────────────────────────────────────────────────────

describe('cross-tenant matrix', () => {
  beforeAll(async () => {
    await startGateway();
    R.admin.token = g.tokens.create({ name: 'matrix-admin', role: 'admin', createdBy: 'test' }).token;
    // Two tenants in disjoint regions: t1 in 510104 (锦江区), t2 moved to 510114 (新都区); a site each; a test city for scratch regions.
    await asAdmin('PATCH', '/api/v1/tenants/t2', { region: T.T2.region });
    for (const t of Object.values(T)) await asAdmin('POST', '/api/v1/sites', { tenant: t.tenant, site: t.site, name: '站点', region: t.region });
    await asAdmin('POST', '/api/v1/regions', { code: '5199', name: '测试市' });
    const token = async (body: Json, by: Role = R.admin): Promise<{ token: string; id: string }> => {
      const j = await asAdmin('POST', '/api/v1/tokens', body, by);
      return { token: j.token as string, id: (j.record as Json).id as string };
    };
    R.opA.token = (await token({ name: 'op-a', role: 'operator', regions: R.opA.regions })).token;
    R.opB.token = (await token({ name: 'op-b', role: 'operator', regions: R.opB.regions })).token;
    R.ent1.token = (await token({ name: 'ent-1', role: 'enterprise', tenant: 't1' })).token;
    R.ent2.token = (await token({ name: 'ent-2', role: 'enterprise', tenant: 't2' })).token;
    const dev1 = await token({ name: 'gas-1', role: 'device', tenant: 't1', device_id: 'gas-1' }, R.ent1);
    R.dev1.token = dev1.token;
    T.T1.deviceTokenId = dev1.id;
    T.T2.deviceTokenId = (await token({ name: 'efm-2', role: 'device', tenant: 't2', device_id: 'efm-2' }, R.ent2)).id;
    const revoked = await token({ name: 'gone', role: 'admin' });
    await asAdmin('DELETE', `/api/v1/tokens/${revoked.id}`);
    R.revoked.token = revoked.token;
    R.expired.token = g.tokens.create({ name: 'expired', role: 'admin', expiresAt: Date.now() - 1000, createdBy: 'test' }).token;
    // Device credentials issued by each enterprise through the API; alerts and dead letters published over MQTT with them.
    T.T1.password = (await asAdmin('POST', '/api/v1/devices/t1/gas-1/credentials', undefined, R.ent1)).password as string;
    T.T2.password = (await asAdmin('POST', '/api/v1/devices/t2/efm-2/credentials', undefined, R.ent2)).password as string;
    const now = Date.now();
    const raise: Record<Side, Json> = { T1: { concentration_lel: 30 }, T2: { residual_current_ma: 420 } };
    for (const side of ['T1', 'T2'] as const) {
      const t = T[side];
      const c = await connect(asDevice(t));
      const topic = `rg/v1/${t.tenant}/${t.kind}/${t.device}/telemetry`;
      await c.publishAsync(topic, JSON.stringify({ ts: now - 5000, data: raise[side] }), { qos: 1 });
      await c.publishAsync(topic, JSON.stringify({ ts: now - 4000, data: { no_such_field: 1 } }), { qos: 1 });
      await c.endAsync();
    }
    await waitFor(() => Object.values(T).every((t) => g.alertStore.query({ tenant: t.tenant, deviceId: t.device, limit: 1 }).length === 1) && g.deadLetters.size >= 2, { timeoutMs: 10_000, intervalMs: 20, what: 'alerts and dead letters of both tenants' });
    for (const t of Object.values(T)) t.alertId = (g.alertStore.query({ tenant: t.tenant, deviceId: t.device, limit: 1 })[0] as { id: number }).id;
    await asAdmin('POST', '/api/v1/silences', { reason: '维护保养', tenant: 't1', device_id: 'gas-1', duration: '1h' }, R.ent1);
    await asAdmin('POST', '/api/v1/silences', { reason: '维护保养', tenant: 't2', device_id: 'efm-2', duration: '1h' }, R.ent2);
    await waitFor(() => (g.notifications?.deadLetters(10).length ?? 0) >= 2, { timeoutMs: 10_000, intervalMs: 20, what: 'the two alert notifications dead-lettered' });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    for (const ws of sockets.splice(0)) ws.terminate();
  });
  afterAll(async () => {
    await g?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the route table has exactly one row per route the app registers (HEAD rides on its GET)', () => {
    const routes = registeredRoutes();
    expect(routes.length).toBeGreaterThan(50);
    const heads = routes.filter((r) => r.startsWith('HEAD '));
    expect(heads.filter((h) => !routes.includes(h.replace(/^HEAD/, 'GET')))).toEqual([]);
    // The console's static files are one route each (@fastify/static); open, covered by test/browser/console-server.test.ts.
    expect(routes.filter((r) => !r.startsWith('HEAD ') && !r.startsWith('GET /console/')).sort()).toEqual(Object.keys(ROUTES).sort());
  });

  test('every role × route: another side\'s resources are refused, own ones work, lists stay in scope, and each refusal is counted', async () => {
    const before = await rejectCounts();
    const expected: Record<string, number> = {};
    const problems: string[] = [];
    let cells = 0;
    let refusals = 0;
    let importRowsRefused = 0;
    for (const [key, spec] of Object.entries(ROUTES)) {
      if (spec.stream || !spec.probe) continue;
      for (const role of ROLES) {
        const sides = role.kind === 'unauth' || spec.open ? (['foreign'] as const) : (['foreign', 'own'] as const);
        for (const side of sides) {
          const c: Ctx = { role, side, t: T[side === 'own' ? role.own : role.foreign] };
          const p = spec.probe(c);
          const want = spec.open || spec.broker ? 200 : role.kind === 'unauth' ? 401 : (spec[side] as Expect)[role.kind];
          const cell = `${role.name} → ${key} (${side} ${c.t.tenant})`;
          const res = await call(role, p.method, p.url, p.body, p.headers);
          cells++;
          if (res.status !== want) problems.push(`${cell}: ${res.status}, expected ${want} ${JSON.stringify(res.json).slice(0, 200)}`);
          if (res.status < 300) problems.push(...(p.check?.(res.json) ?? []).map((x) => `${cell}: ${x}`));
          else {
            refusals++;
            tally(expected, (res.json.error as Json | undefined)?.code as string);
            problems.push(...(p.unchanged?.() ?? []).map((x) => `${cell}: ${x}`));
          }
          // Scope refusals inside a 200/202 answer: batch items are counted, import rows only audit-logged.
          const forbiddenItems = ((res.json.items as { errors: { reason: string }[] }[] | undefined) ?? []).filter((i) => i.errors[0]?.reason === 'forbidden').length;
          if (forbiddenItems > 0) tally(expected, 'RG_ERR_AUTH_FORBIDDEN', forbiddenItems);
          refusals += forbiddenItems;
          if (key === 'POST /api/v1/devices/import' && res.status === 200) importRowsRefused += res.json.rejected_rows as number;
          if (p.method === 'GET') {
            const head = await call(role, 'HEAD', p.url, undefined, p.headers);
            cells++;
            if (head.status !== res.status) problems.push(`${cell} HEAD: ${head.status}, GET answered ${res.status}`);
            if (head.status >= 400) {
              refusals++;
              tally(expected, CODE_OF_STATUS[head.status] as string);
            }
          }
        }
      }
    }

    // Cells the table cannot express: a device for its tenant's other device, an enterprise granting itself more,
    // operators silencing beyond their regions, a device moved to another tenant's site, percent-encoded paths.
    const extras: [Role, Method, string, unknown, number][] = [
      [R.dev1, 'POST', '/api/v1/ingest/t1/gas/gas-2', { ts: Date.now(), data: benign('gas') }, 403],
      [R.ent1, 'POST', '/api/v1/tokens', { name: 'up', role: 'enterprise', tenant: 't1' }, 403],
      [R.ent1, 'POST', '/api/v1/tokens', { name: 'up', role: 'operator', regions: ['51'] }, 403],
      [R.opA, 'POST', '/api/v1/silences', { reason: 'x', tenant: 't2', duration: '1h' }, 403],
      [R.opA, 'POST', '/api/v1/silences', { reason: 'x', rule_id: 'gas.lel', duration: '1h' }, 403],
      [R.ent1, 'POST', '/api/v1/silences', { reason: 'x', tenant: 't2', device_id: 'efm-2', duration: '1h' }, 403],
      [R.ent1, 'PATCH', `/api/v1/devices/t1/${scratchDevice(T.T1).deviceId}`, { site: T.T2.site }, 400],
      [R.ent1, 'GET', '/%61pi/v1/devices/t2/efm-2', undefined, 404],
      [R.none, 'GET', '/%61pi/v1/tenants', undefined, 401],
      [R.none, 'GET', '/%61pi/v1/notifications/dead-letters', undefined, 401],
      [R.dev1, 'GET', '/%61pi/v1/notifications/dead-letters', undefined, 403],
    ];
    for (const [role, method, url, body, want] of extras) {
      const res = await call(role, method, url, body);
      cells++;
      if (res.status !== want) problems.push(`${role.name} → ${method} ${url}: ${res.status}, expected ${want} ${JSON.stringify(res.json).slice(0, 200)}`);
      if (res.status >= 400) {
        refusals++;
        tally(expected, (res.json.error as Json).code as string);
      }
    }

    // Readings sent by allowed callers are stored; refused ones never reach the store.
    await g.batcher.flush();
    problems.push(...ingested.filter((x) => pointsAt(x.t, x.ts) !== (x.stored ? 1 : 0)).map((x) => `${x.t.tenant}/${x.t.device}@${x.ts}: stored ${pointsAt(x.t, x.ts)}, expected ${x.stored ? 1 : 0}`));

    expect(problems).toEqual([]);
    expect(cells).toBeGreaterThan(1000);
    expect(refusals).toBeGreaterThan(550);
    // "(and logged)": each refusal once in riskgate_http_rejects_total, by its code. Import rows refused for scope are
    // reported in the 200 answer and the audit log line (rejected_rows), not in this counter.
    expect(delta(before, await rejectCounts())).toEqual(expected);
    expect(importRowsRefused).toBe(2);
    expect(logs.filter((l) => l.msg.startsWith('registry devices.imported by ent-') && (l as unknown as { audit: { rejected_rows: number } }).audit.rejected_rows === 1)).toHaveLength(2);
  });

  test('the stream: each user token receives only alerts in its scope (?tenant= narrows, never widens); device and missing, revoked or expired tokens are refused', async () => {
    const before = await rejectCounts();
    const watchers: [Role, string][] = [
      [R.admin, ''], [R.opA, ''], [R.opB, ''], [R.ent1, ''], [R.ent2, ''],
      [R.ent1, '&tenant=t2'], [R.opA, '&tenant=t2'], [R.ent2, '&region=510104'], [R.opB, '&region=510104'],
    ];
    const streams = await Promise.all(watchers.map(([role, q]) => openStream(role, `?since=0${q}`)));
    await waitFor(() => streams.every((s) => s.done), { timeoutMs: 10_000, intervalMs: 20, what: 'every replay' });
    // Live: both sides, plus a t2 device in t1's region and a t1 device in t2's — tenant and region scope disagree there.
    scratchAlert(T.T1);
    scratchAlert(T.T2);
    scratchAlert(T.T2, T.T1.region);
    scratchAlert(T.T1, T.T2.region);
    const all = g.alertStore.eventsSince(0, 1_000_000);
    const filterOf = (q: string): { tenant?: string; region?: string } => Object.fromEntries(new URLSearchParams(q.slice(1)));
    const wanted = watchers.map(([role, q]) => {
      const f = filterOf(q);
      return all.filter((ev) => sees(role, ev.alert) && (!f.tenant || ev.alert.tenant === f.tenant) && (!f.region || (ev.alert.region ?? '').startsWith(f.region))).map((ev) => ev.seq);
    });
    await waitFor(() => streams.every((s, i) => s.events.length >= (wanted[i] as number[]).length), { timeoutMs: 10_000, intervalMs: 20, what: 'every stream caught up' });
    await sleep(200); // anything out of scope would have arrived with the rest
    streams.forEach((s, i) => expect({ who: watchers[i], seqs: s.events.map((e) => e.seq) }).toEqual({ who: watchers[i], seqs: wanted[i] }));
    // Admin sees everything; every other watcher a part; a filter outside the token's scope (t1 asking for t2, the
    // 510114 operator asking for 510104) yields nothing rather than the filter's subject.
    expect(wanted.map((w) => (w.length === all.length ? 'all' : w.length > 0 ? 'some' : 'none'))).toEqual(['all', 'some', 'some', 'some', 'some', 'none', 'some', 'some', 'none']);

    // Refused upgrades leave no socket behind on the server (they used to stay open, one per attempt).
    const connections = (): Promise<number> => new Promise((r) => g.http.server.getConnections((_e, n) => r(n)));
    const open = await connections();
    expect(await streamRefusal(R.dev1, '?since=0')).toBe('close 1008');
    expect(await streamRefusal(R.none, '?since=0')).toBe('http 401');
    expect(await streamRefusal(R.revoked, '?since=0')).toBe('http 401');
    expect(await streamRefusal(R.expired, '?since=0')).toBe('http 401');
    expect(await streamRefusal(R.none, `?since=0&access_token=${R.revoked.token as string}`)).toBe('http 401');
    await waitFor(async () => (await connections()) <= open, { timeoutMs: 2000, intervalMs: 20, what: 'the refused sockets closed' });
    expect(delta(before, await rejectCounts())).toEqual({ RG_ERR_AUTH_REQUIRED: 4, RG_ERR_AUTH_FORBIDDEN: 1 });
  });

  test('MQTT on the deny-by-default broker: a device publishes and subscribes only as itself; refusals never reach the pipeline and are logged, not counted', async () => {
    const counters = async (): Promise<number[]> => [await metric('riskgate_readings_accepted_total'), await metric('riskgate_readings_rejected_total'), await metric('riskgate_mqtt_messages_total'), g.deadLetters.size];
    const before = { counters: await counters(), rejects: await rejectCounts(), pub: logged('mqtt publish refused; closing the connection'), sub: logged('mqtt subscription refused'), conn: logged('mqtt connection refused') };
    const t1 = T.T1;
    const t2 = T.T2;
    const gas2: Target = { ...t1, device: 'gas-2' };

    // Publishes outside the device's own topics: the broker drops the message and closes the connection.
    const ts = Date.now() - 30_000;
    const refusedPublishes: [Target, Target, string][] = [
      [t1, t2, `rg/v1/${t2.tenant}/${t2.kind}/${t2.device}/telemetry`], // another tenant's device
      [t1, gas2, 'rg/v1/t1/gas/gas-2/telemetry'], // the same tenant's other device
      [t1, { ...t2, tenant: 't2', device: 'gas-1', kind: 'gas' }, 'rg/v1/t2/gas/gas-1/telemetry'], // its own id under another tenant
      [t1, t1, 'rg/v1/t1/dust/gas-1/telemetry'], // a kind other than the registered one
      [t1, t1, 'rg/v1/t1/gas/gas-1/commands'], // a channel outside the contract
      [t1, t1, 'rg/v1/t1/gas/gas-1/telemetry/x'], // an extra level
      [t1, gas2, 'rg/down/v1/t1/gas/gas-2/reboot'], // a command to another device
      [t1, t1, '$SYS/riskgate/clients'],
      [t2, t1, `rg/v1/${t1.tenant}/${t1.kind}/${t1.device}/telemetry`], // and the other way round
    ];
    for (const [i, [as, , topic]] of refusedPublishes.entries()) {
      const c = await connect(asDevice(as));
      const closed = new Promise<boolean>((r) => c.once('close', () => r(true)));
      c.publish(topic, JSON.stringify({ ts: ts + i, data: benign(as.kind) }), { qos: 0 });
      expect({ topic, closed: await Promise.race([closed, sleep(5000).then(() => false)]) }).toEqual({ topic, closed: true });
    }
    // A reading on its own topic afterwards is processed: anything forwarded earlier would have been too.
    const own = await connect(asDevice(t1));
    await own.publishAsync('rg/v1/t1/gas/gas-1/telemetry', JSON.stringify({ ts: ts + 100, data: benign('gas') }), { qos: 1 });
    await waitFor(async () => (await metric('riskgate_readings_accepted_total')) > (before.counters[0] as number), { timeoutMs: 5000, intervalMs: 20, what: 'the own reading' });
    const [accepted, rejected, messages, letters] = await counters();
    expect([accepted, rejected, messages, letters]).toEqual([(before.counters[0] as number) + 1, before.counters[1], (before.counters[2] as number) + 1, before.counters[3]]);
    await g.batcher.flush();
    for (const [i, [, target]] of refusedPublishes.entries()) expect(pointsAt(target, ts + i)).toBe(0);
    expect(pointsAt(t1, ts + 100)).toBe(1);

    // Subscriptions beyond its own downlink: SUBACK 0x80 each, the connection stays, and only its own commands arrive.
    const filters = ['rg/v1/#', '#', '$SYS/#', 'rg/v1/t2/#', 'rg/down/v1/t1/gas/gas-2/#', 'rg/down/v1/t2/electrical_fire/efm-2/#', 'rg/down/v1/+/gas/gas-1/#', 'rg/down/v1/t1/gas/+/#', 'rg/down/v1/t1/gas/gas-1/#'];
    expect(await subackCodes(own, filters)).toEqual([128, 128, 128, 128, 128, 128, 128, 128, 1]);
    const got: string[] = [];
    own.on('message', (topic) => got.push(topic));
    const gateway = await connect({ clientId: 'rg-matrix-downlink', ...(g.broker as NonNullable<typeof g.broker>).internalCredentials });
    for (const topic of ['rg/down/v1/t1/gas/gas-2/reboot', 'rg/down/v1/t2/electrical_fire/efm-2/reboot', 'rg/down/v1/t1/gas/gas-1/reboot']) await gateway.publishAsync(topic, '{}', { qos: 1 });
    await waitFor(() => got.length > 0, { timeoutMs: 5000, intervalMs: 20, what: 'its own command' });
    await sleep(200);
    expect(got).toEqual(['rg/down/v1/t1/gas/gas-1/reboot']);
    const efm = await connect(asDevice(t2));
    expect(await subackCodes(efm, ['rg/down/v1/t1/gas/gas-1/#'])).toEqual([128]);

    // CONNACK: wrong password 0x04, another device's password 0x04, a revoked credential 0x04, a foreign client id 0x02, none 0x05.
    const gas2Old = (await asAdmin('POST', '/api/v1/devices/t1/gas-2/credentials', undefined, R.ent1)).password as string;
    await asAdmin('DELETE', '/api/v1/devices/t1/gas-2/credentials', undefined, R.ent1);
    expect(await connackCode(asDevice(t1, 'not-the-password'))).toBe(4);
    expect(await connackCode(asDevice(t2, t1.password))).toBe(4);
    expect(await connackCode(asDevice(gas2, gas2Old))).toBe(4);
    expect(await connackCode({ ...asDevice(t2), clientId: 't1/gas-1' })).toBe(2);
    expect(await connackCode({ ...asDevice(t1), clientId: 'riskgate-ingest' })).toBe(2);
    expect(await connackCode({ clientId: 'anonymous' })).toBe(5);

    // Logged, one line per refusal; counted nowhere: neither the HTTP reject counter nor the ingest rejects move.
    expect(logged('mqtt publish refused; closing the connection') - before.pub).toBe(refusedPublishes.length);
    expect(logged('mqtt subscription refused') - before.sub).toBe(9);
    expect(logged('mqtt connection refused') - before.conn).toBe(6);
    expect(delta(before.rejects, await rejectCounts())).toEqual({});
    expect(await metric('riskgate_readings_rejected_total')).toBe(before.counters[1]);
  });
});
