import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { installErrorHandler } from '../../src/api/http-errors.js';
import { registryRoutes } from '../../src/api/registry-routes.js';
import { statsRoutes } from '../../src/api/stats-routes.js';
import type { Principal } from '../../src/auth/principal.js';
import { FakeClock } from '../../src/lib/clock.js';
import { openSqlite, type SqliteDb } from '../../src/lib/sqlite.js';
import { DeviceActivity } from '../../src/registry/device-activity.js';
import { DeviceRegistry } from '../../src/registry/device-registry.js';
import { RegionStore } from '../../src/registry/region-store.js';
import { SiteStore } from '../../src/registry/site-store.js';
import { TenantStore } from '../../src/registry/tenant-store.js';

const ADMIN: Principal = { role: 'admin', tokenId: 'tok_admin', name: 'admin.zhang' };
const OP_WUHOU: Principal = { role: 'operator', tokenId: 'tok_op1', name: 'op.wuhou', regions: ['510107'] };
const OP_CHENGDU: Principal = { role: 'operator', tokenId: 'tok_op2', name: 'op.chengdu', regions: ['5101'] };
const ENT_A: Principal = { role: 'enterprise', tokenId: 'tok_ea', name: 'ent-a.it', tenant: 'ent-a' };
const DEVICE: Principal = { role: 'device', tokenId: 'tok_dev', name: 'gas-1', tenant: 'ent-a', deviceId: 'gas-1' };

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2025, 2, 15, 0, 0, 0);

interface Res {
  status: number;
  json: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('registry API', () => {
  let dir: string;
  let db: SqliteDb;
  let app: FastifyInstance;
  let registry: DeviceRegistry;
  let activity: DeviceActivity;
  const clock = new FakeClock(T0);

  const call = async (p: Principal | undefined, method: string, url: string, body?: unknown, contentType?: string): Promise<Res> => {
    const headers: Record<string, string> = {};
    if (p) headers['x-test-principal'] = JSON.stringify(p);
    if (contentType) headers['content-type'] = contentType;
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (payload !== undefined && !contentType) headers['content-type'] = 'application/json';
    const res = await app.inject({ method: method as 'GET', url, headers, payload });
    return { status: res.statusCode, json: res.json() };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rg-registry-'));
    db = openSqlite(join(dir, 'riskgate.db'));
    registry = new DeviceRegistry(db);
    registry.start();
    const tenants = new TenantStore(db);
    tenants.start();
    const regions = new RegionStore(db);
    regions.start();
    const sites = new SiteStore(db);
    sites.start();
    activity = new DeviceActivity({ clock, db });
    activity.start({ timers: false });
    app = Fastify();
    installErrorHandler(app);
    // Test-only stand-in for the token hook: the principal comes from a header.
    app.addHook('onRequest', async (req) => {
      const h = req.headers['x-test-principal'];
      if (typeof h === 'string') req.principal = JSON.parse(h) as Principal;
    });
    await app.register(registryRoutes, { registry, tenants, regions, sites, activity });
    await app.register(statsRoutes, { registry, activity, tenants, regions, clock });
    await app.ready();

    // Two enterprises: ent-a in 锦江区, ent-b in 武侯区.
    expect((await call(ADMIN, 'POST', '/api/v1/tenants', { tenant: 'ent-a', name: '成都甲燃气餐饮有限公司', uscc: '9144030071526726XG', region: '510104' })).status).toBe(201);
    expect((await call(ADMIN, 'POST', '/api/v1/tenants', { tenant: 'ent-b', name: '成都乙粉尘制造有限公司', uscc: '914403001922038216', region: '510107', contact_name: '李工', contact_phone: '028-8765 4321' })).status).toBe(201);
  });

  afterAll(async () => {
    await app?.close();
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('tenants: validation names the field (USCC check character), duplicates conflict, scope filters reads', async () => {
    const bad = await call(ADMIN, 'POST', '/api/v1/tenants', { tenant: 'ent-c', name: '丙', uscc: '91350100M000100Y44', region: '440305' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'RG_ERR_API_BAD_REQUEST', details: [{ field: 'body.uscc', message: expect.stringMatching(/check character/) }] });
    const noRegion = await call(ADMIN, 'POST', '/api/v1/tenants', { tenant: 'ent-c', name: '丙', uscc: '91350100M000100Y43', region: '440305' });
    expect(noRegion.json.error).toMatchObject({ code: 'RG_ERR_API_BAD_REQUEST', details: [{ field: 'body.region' }] });
    const dupUscc = await call(ADMIN, 'POST', '/api/v1/tenants', { tenant: 'ent-c', name: '丙', uscc: '9144030071526726xg', region: '510104' });
    expect(dupUscc.status).toBe(409);
    expect(dupUscc.json.error.code).toBe('RG_ERR_CONFLICT');

    expect((await call(ADMIN, 'GET', '/api/v1/tenants')).json).toMatchObject({ total: 2, tenants: [{ tenant: 'ent-a' }, { tenant: 'ent-b' }] });
    expect((await call(OP_WUHOU, 'GET', '/api/v1/tenants')).json.tenants.map((t: { tenant: string }) => t.tenant)).toEqual(['ent-b']);
    expect((await call(ENT_A, 'GET', '/api/v1/tenants')).json.tenants.map((t: { tenant: string }) => t.tenant)).toEqual(['ent-a']);
    expect((await call(ENT_A, 'GET', '/api/v1/tenants/ent-b')).status).toBe(404); // not 403: existence is not leaked
    expect((await call(ENT_A, 'GET', '/api/v1/tenants/ent-b')).json.error).toEqual({ code: 'RG_ERR_API_NOT_FOUND', message: 'no tenant ent-b' }); // as for a missing one
    expect((await call(ENT_A, 'PATCH', '/api/v1/tenants/ent-a', { name: 'x' })).status).toBe(403);
    expect((await call(undefined, 'GET', '/api/v1/tenants')).status).toBe(401);
    expect((await call(DEVICE, 'GET', '/api/v1/tenants')).status).toBe(403);

    const patched = await call(ADMIN, 'PATCH', '/api/v1/tenants/ent-b', { contact_phone: null, address: '武侯区一环路南四段' });
    expect(patched.json.tenant).toMatchObject({ contact_phone: null, contact_name: '李工', address: '武侯区一环路南四段' });
    const put = await call(ADMIN, 'PUT', '/api/v1/tenants/ent-b', { name: '成都乙粉尘制造有限公司', uscc: '914403001922038216', region: '510107' });
    expect(put.json.tenant).toMatchObject({ contact_name: null, address: null }); // PUT replaces
  });

  test('regions: a tree readable by every role, written by admins, canonical codes, in-use regions kept', async () => {
    const children = await call(ENT_A, 'GET', '/api/v1/regions?parent=5101');
    expect(children.json.regions.map((r: { code: string }) => r.code)).toEqual(expect.arrayContaining(['510104', '510105', '510106', '510107', '510108', '510114', '510116']));
    const chengdu = await call(OP_WUHOU, 'GET', '/api/v1/regions/510100');
    expect(chengdu.json.region).toEqual({ code: '5101', name: '成都市', level: 'city', parent: '51' });
    expect(chengdu.json.path.map((r: { name: string }) => r.name)).toEqual(['四川省', '成都市']);
    expect((await call(ENT_A, 'POST', '/api/v1/regions', { code: '5107', name: '绵阳市' })).status).toBe(403);
    expect((await call(ADMIN, 'POST', '/api/v1/regions', { code: '510700', name: '绵阳市' })).json.region).toEqual({ code: '5107', name: '绵阳市', level: 'city', parent: '51' });
    expect((await call(ADMIN, 'POST', '/api/v1/regions', { code: '440305', name: '南山区' })).json.error.details[0]).toMatchObject({ field: 'body.code', message: 'parent region 4403 does not exist' });
    expect((await call(ADMIN, 'DELETE', '/api/v1/regions/510104')).json.error).toMatchObject({ code: 'RG_ERR_CONFLICT', details: { tenants: 1 } });
    expect((await call(ADMIN, 'DELETE', '/api/v1/regions/5107')).status).toBe(200);
    expect((await call(ADMIN, 'GET', '/api/v1/regions/5107')).status).toBe(404);
  });

  test('sites and devices: CRUD; an enterprise writes only its own tenant, operators only read their subtree', async () => {
    // A site's region defaults to its tenant's; a device's to its site's.
    const site = await call(ENT_A, 'POST', '/api/v1/sites', { tenant: 'ent-a', site: 'chunxi', name: '春熙路店', lat: 30.657, lon: 104.08 });
    expect(site.status).toBe(201);
    expect(site.json.site).toMatchObject({ region: '510104', name: '春熙路店' });
    expect((await call(ENT_A, 'POST', '/api/v1/sites', { tenant: 'ent-b', site: 'x', name: 'x' })).status).toBe(403);
    expect((await call(ADMIN, 'POST', '/api/v1/sites', { tenant: 'ent-b', site: 'ws-1', name: '一车间', region: '510107' })).status).toBe(201);

    const created = await call(ENT_A, 'POST', '/api/v1/devices', { tenant: 'ent-a', device_id: 'gas-1', kind: 'gas', model: 'GT-100', site: 'chunxi', location: '3层厨房', heartbeat_s: 60, installed_at: '2024-05-01', installer: '成都安消', lat: 30.657, lon: 104.08 });
    expect(created.status).toBe(201);
    expect(created.json.device).toMatchObject({ tenant: 'ent-a', device_id: 'gas-1', region: '510104', site: 'chunxi', installed_at: '2024-05-01', installer: '成都安消', lat: 30.657 });
    expect(registry.get('ent-a', 'gas-1')).toMatchObject({ region: '510104', heartbeatS: 60 }); // the ingest lookup sees it at once
    expect((await call(ENT_A, 'POST', '/api/v1/devices', { tenant: 'ent-a', device_id: 'gas-1', kind: 'gas' })).status).toBe(409);
    expect((await call(ENT_A, 'POST', '/api/v1/devices', { tenant: 'ent-a', device_id: 'gas-9', kind: 'gas', site: 'ws-1' })).json.error.details[0]).toMatchObject({ field: 'body.site' });
    expect((await call(ENT_A, 'POST', '/api/v1/devices', { tenant: 'ent-b', device_id: 'dust-x', kind: 'dust' })).status).toBe(403); // cross-tenant write refused
    expect((await call(OP_CHENGDU, 'POST', '/api/v1/devices', { tenant: 'ent-a', device_id: 'gas-8', kind: 'gas' })).status).toBe(403);
    expect((await call(ADMIN, 'POST', '/api/v1/devices', { tenant: 'ent-b', device_id: 'dust-1', kind: 'dust', site: 'ws-1', heartbeat_s: 300 })).json.device).toMatchObject({ region: '510107' });

    // Reads: each sees its own part.
    const ids = async (p: Principal, q = '') => (await call(p, 'GET', `/api/v1/devices${q}`)).json.devices.map((d: { device_id: string }) => d.device_id);
    expect(await ids(ADMIN)).toEqual(['gas-1', 'dust-1']);
    expect(await ids(OP_WUHOU)).toEqual(['dust-1']);
    expect(await ids(OP_CHENGDU)).toEqual(['gas-1', 'dust-1']);
    expect(await ids(ENT_A)).toEqual(['gas-1']);
    expect(await ids(ENT_A, '?tenant=ent-b')).toEqual([]);
    expect(await ids(ADMIN, '?region=510107&kind=dust')).toEqual(['dust-1']);
    expect((await call(OP_WUHOU, 'GET', '/api/v1/devices/ent-a/gas-1')).status).toBe(404);
    expect((await call(ENT_A, 'GET', '/api/v1/devices/ent-b/dust-1')).status).toBe(404);
    expect((await call(ENT_A, 'PATCH', '/api/v1/devices/ent-b/dust-1', { heartbeat_s: 1 })).status).toBe(404); // cross-tenant write: as if absent
    expect((await call(ENT_A, 'DELETE', '/api/v1/devices/ent-b/dust-1')).status).toBe(404);
    expect((await call(OP_WUHOU, 'GET', '/api/v1/sites')).json.sites.map((s: { site: string }) => s.site)).toEqual(['ws-1']);

    // Update: PATCH merges, PUT replaces; both reach the ingest lookup.
    const patched = await call(ENT_A, 'PATCH', '/api/v1/devices/ent-a/gas-1', { heartbeat_s: 120, installer: null });
    expect(patched.json.device).toMatchObject({ heartbeat_s: 120, installer: null, model: 'GT-100' });
    expect(registry.get('ent-a', 'gas-1')?.heartbeatS).toBe(120);
    const put = await call(ENT_A, 'PUT', '/api/v1/devices/ent-a/gas-1', { kind: 'gas', site: 'chunxi', heartbeat_s: 30 });
    expect(put.json.device).toMatchObject({ heartbeat_s: 30, model: null, location: null, region: '510104', created_at: created.json.device.created_at });
    expect((await call(ENT_A, 'PATCH', '/api/v1/devices/ent-a/gas-1', { heartbeat_s: 0 })).json.error.details[0]).toMatchObject({ field: 'body.heartbeat_s' });

    // A site with devices cannot go; a device can, and then is unknown to ingest.
    expect((await call(ENT_A, 'DELETE', '/api/v1/sites/ent-a/chunxi')).status).toBe(409);
    expect((await call(ENT_A, 'DELETE', '/api/v1/devices/ent-a/gas-1')).json.device).toMatchObject({ device_id: 'gas-1' });
    expect(registry.get('ent-a', 'gas-1')).toBeUndefined();
    expect((await call(ADMIN, 'GET', '/api/v1/devices/ent-a/gas-1')).status).toBe(404);
    expect((await call(ADMIN, 'DELETE', '/api/v1/tenants/ent-b')).json.error.code).toBe('RG_ERR_CONFLICT');
  });

  test('bulk import of 300 CSV rows: 5 bad rows reported by row and field, 295 imported in one go', async () => {
    const lines = ['tenant,device_id,kind,model,region,site,location,heartbeat_s,installed_at,installer,lat,lon,attr.plate'];
    const bad = new Map<number, string>([
      [8, 'ent-a,imp-bad-kind,toaster,,,,,60,,,,,'], // row 8: kind
      [50, 'ent-a,imp-bad-hb,gas,,,,,abc,,,,,'], // row 50: heartbeat_s
      [120, 'ent-a,imp-bad-region,gas,,440305,,,60,,,,,'], // row 120: region not in the tree
      [200, 'ent-a,imp-0005,gas,,,,,60,,,,,'], // row 200: duplicate of row 7 (imp-0005)
      [301, 'ent-a,imp-bad-date,gas,,,,,60,2024-13-01,,,,'], // row 301: installed_at
    ]);
    for (let row = 2, i = 0; row <= 301; row++) {
      lines.push(bad.get(row) ?? `ent-a,imp-${String(i++).padStart(4, '0')},gas,GT-100,,chunxi,"${row}号, 厨房",60,2024-05-01,"成都""安消""公司",30.6,104.0,`);
    }
    const t0 = performance.now();
    const res = await call(ADMIN, 'POST', '/api/v1/devices/import', lines.join('\r\n'), 'text/csv');
    const ms = performance.now() - t0;
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ imported: 295, rows: 300, rejected_rows: 5, dry_run: false });
    expect(res.json.rejected.map((r: { row: number; field: string }) => [r.row, r.field])).toEqual([
      [8, 'kind'],
      [50, 'heartbeat_s'],
      [120, 'region'],
      [200, 'device_id'],
      [301, 'installed_at'],
    ]);
    expect(res.json.rejected[3].message).toBe('duplicate of row 7 (ent-a/imp-0005)');
    expect(registry.list({ tenant: 'ent-a' })).toHaveLength(295);
    expect(registry.get('ent-a', 'imp-0000')).toMatchObject({ location: '2号, 厨房', installer: '成都"安消"公司', region: '510104' });
    expect(ms).toBeLessThan(2000);

    // Again: every row now exists; with on_conflict=update they are replaced instead.
    const again = await call(ADMIN, 'POST', '/api/v1/devices/import', lines.join('\n'), 'text/csv');
    expect(again.json).toMatchObject({ imported: 0, rejected_rows: 300 });
    const update = await call(ADMIN, 'POST', '/api/v1/devices/import?on_conflict=update&dry_run=true', lines.join('\n'), 'text/csv');
    expect(update.json).toMatchObject({ imported: 0, valid: 295, updated: 0, dry_run: true, rejected_rows: 5 });
  });

  test('import: an enterprise imports only its own tenant (row by row); GBK CSV from Excel is decoded; operators may not import', async () => {
    const json = await call(ENT_A, 'POST', '/api/v1/devices/import', { devices: [{ device_id: 'j-1', kind: 'smoke' }, { tenant: 'ent-b', device_id: 'j-2', kind: 'smoke' }, { tenant: 'ent-a', device_id: 'j-3', kind: 'smoke', heartbeat_s: 3600 }] });
    expect(json.json).toMatchObject({ imported: 2, rejected: [{ row: 2, device_id: 'j-2', field: 'tenant', message: expect.stringMatching(/outside the scope of this token/) }] });
    expect(registry.get('ent-a', 'j-1')?.region).toBe('510104');
    expect(registry.get('ent-b', 'j-2')).toBeUndefined();

    // "tenant,device_id,kind,location\nent-a,gbk-1,gas,厨房" as Excel writes it on a Chinese Windows (GBK: 厨 B3F8, 房 B7BF).
    const gbk = Buffer.concat([Buffer.from('tenant,device_id,kind,location\r\nent-a,gbk-1,gas,'), Buffer.from([0xb3, 0xf8, 0xb7, 0xbf]), Buffer.from('\r\n')]);
    expect((await call(ENT_A, 'POST', '/api/v1/devices/import', gbk, 'text/csv')).json).toMatchObject({ imported: 1, rejected: [] });
    expect(registry.get('ent-a', 'gbk-1')?.location).toBe('厨房');

    expect((await call(OP_CHENGDU, 'POST', '/api/v1/devices/import', { devices: [] })).status).toBe(403);
    const broken = await call(ADMIN, 'POST', '/api/v1/devices/import', 'tenant,device_id,kind\nent-a,"x"y,gas\n', 'text/csv');
    expect(broken.status).toBe(400);
    expect(broken.json.error.message).toMatch(/^CSV line 2:/);
  });

  test('online stats: 上线率 and completeness by tenant, region and kind, within the caller scope', async () => {
    // A fresh pair of tenants' devices registered at T0, and a day of crafted activity.
    await call(ADMIN, 'POST', '/api/v1/tenants', { tenant: 'st-a', name: '统计甲', uscc: '91350100M000100Y43', region: '510105' });
    await call(ADMIN, 'POST', '/api/v1/tenants', { tenant: 'st-b', name: '统计乙', uscc: '91330100716105852F', region: '510108' });
    clock.set(T0);
    for (const [tenant, id, kind, hb] of [['st-a', 'g1', 'gas', 60], ['st-a', 'g2', 'gas', 60], ['st-b', 's1', 'smoke', 3600], ['st-b', 's2', 'smoke', 3600]] as const) {
      expect((await call(ADMIN, 'POST', '/api/v1/devices', { tenant, device_id: id, kind, heartbeat_s: hb })).status).toBe(201);
    }
    // Registered "at T0" (the API stamps wall-clock time; the stats run on the fake clock).
    db.prepare("UPDATE devices SET created_at = ? WHERE tenant IN ('st-a', 'st-b')").run(T0);
    registry.start();
    const send = (tenant: string, deviceId: string, kind: 'gas' | 'smoke') => activity.accept({ tenant, deviceId, kind, channel: 'telemetry', ts: clock.now(), receivedAt: clock.now(), fields: {}, tags: {} });
    for (let m = 0; m < 24 * 60; m++) {
      send('st-a', 'g1', 'gas'); // every minute: 1440 / 1440, online
      if (m < 12 * 60) send('st-a', 'g2', 'gas'); // first half only: 720 / 1440, offline
      if (m % 60 === 0) send('st-b', 's1', 'smoke'); // hourly: 24 / 24, online (last seen 60 min ago ≤ 2 × 1 h)
      clock.advance(MIN); // s2 never reports
    }
    const q = '/api/v1/stats/online?window=24h';
    const byTenant = await call(ADMIN, 'GET', `${q}&group_by=tenant`);
    expect(byTenant.status).toBe(200);
    expect(byTenant.json).toMatchObject({ group_by: 'tenant', window: '24h', window_ms: 24 * HOUR, window_start: T0, now: T0 + 24 * HOUR, k: 2 });
    const rows = Object.fromEntries(byTenant.json.rows.map((r: { key: string }) => [r.key, r]));
    expect(rows['st-a']).toEqual({ key: 'st-a', name: '统计甲', registered: 2, online: 1, online_rate: 0.5, expected_readings: 2880, received_readings: 2160, completeness: 0.75 });
    expect(rows['st-b']).toEqual({ key: 'st-b', name: '统计乙', registered: 2, online: 1, online_rate: 0.5, expected_readings: 48, received_readings: 24, completeness: 0.5 });

    const byKind = await call(ADMIN, 'GET', `${q}&group_by=kind&tenant=st-b`);
    expect(byKind.json.rows).toEqual([{ key: 'smoke', name: expect.any(String), registered: 2, online: 1, online_rate: 0.5, expected_readings: 48, received_readings: 24, completeness: 0.5 }]);
    const byDistrict = await call(ADMIN, 'GET', `${q}&group_by=region&region=510105`);
    expect(byDistrict.json.rows).toEqual([{ key: '510105', name: '青羊区', registered: 2, online: 1, online_rate: 0.5, expected_readings: 2880, received_readings: 2160, completeness: 0.75 }]);
    // k = 1: the hourly smoke alarm, last seen exactly one heartbeat ago, is still online; g2 (12 h silent) is not.
    expect((await call(ADMIN, 'GET', `${q}&group_by=tenant&k=1`)).json.rows.filter((r: { key: string }) => r.key.startsWith('st-')).map((r: { online: number }) => r.online)).toEqual([1, 1]);

    // Scope: an operator of 成华区 sees st-b only; an enterprise only its own tenant; a device nothing.
    const op = await call({ role: 'operator', tokenId: 't', name: 'op.chenghua', regions: ['510108'] }, 'GET', `${q}&group_by=tenant`);
    expect(op.json.rows.map((r: { key: string }) => r.key)).toEqual(['st-b']);
    expect(op.json.total).toMatchObject({ registered: 2, online: 1 });
    const ent = await call({ role: 'enterprise', tokenId: 't', name: 'st-a', tenant: 'st-a' }, 'GET', `${q}&group_by=kind`);
    expect(ent.json.rows).toEqual([expect.objectContaining({ key: 'gas', registered: 2, completeness: 0.75 })]);
    expect((await call(DEVICE, 'GET', q)).status).toBe(403);
    expect((await call(ADMIN, 'GET', '/api/v1/stats/online?window=30d')).json.error.details[0]).toMatchObject({ field: 'query.window' });
  });
});
