import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import { SITE_INPUT_SCHEMA, SiteStore } from '../../../src/registry/site-store.js';
import { TENANT_INPUT_SCHEMA, TenantStore } from '../../../src/registry/tenant-store.js';

describe('registry/tenant-store and site-store', () => {
  let db: SqliteDb;
  let tenants: TenantStore;
  let sites: SiteStore;
  beforeEach(() => {
    db = openSqlite(':memory:');
    tenants = new TenantStore(db);
    tenants.start();
    sites = new SiteStore(db);
    sites.start();
  });
  afterEach(() => db.close());

  test('a tenant input is normalised (upper-case USCC, canonical region) and its USCC check character verified', () => {
    const t = TENANT_INPUT_SCHEMA.parse({ tenant: 'tencent-sz', name: '腾讯科技（深圳）有限公司', uscc: ' 9144030071526726xg ', region: '510100' });
    expect(t).toMatchObject({ uscc: '9144030071526726XG', region: '5101' });
    const bad = TENANT_INPUT_SCHEMA.safeParse({ tenant: 'x', name: 'x', uscc: '9144030071526726XH', region: '51' });
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['uscc', "check character is 'H', GB 32100-2015 gives 'G' for the first 17 characters"]]);
  });

  test('tenant ids and USCCs are unique; update applies a patch; null clears', () => {
    const t = tenants.create(TENANT_INPUT_SCHEMA.parse({ tenant: 'hw', name: '华为技术有限公司', uscc: '914403001922038216', region: '510104', contact_phone: '028-8888 8888' }));
    expect(t).toMatchObject({ tenant: 'hw', contact_phone: '028-8888 8888', contact_name: null });
    expect(() => tenants.create({ ...t, tenant: 'hw' })).toThrow(/tenant hw already exists/);
    expect(() => tenants.create({ ...t, tenant: 'hw2' })).toThrow(/914403001922038216 is already registered as tenant hw/);
    expect(tenants.update('hw', { contact_phone: null, name: '华为' })).toMatchObject({ name: '华为', contact_phone: null, uscc: '914403001922038216' });
    expect(tenants.update('nope', { name: 'x' })).toBeUndefined();
    expect(tenants.list({ region: '5101' }).map((x) => x.tenant)).toEqual(['hw']);
    expect(tenants.list({ region: '510116' })).toEqual([]);
    expect(tenants.countInRegion('510104')).toBe(1);
  });

  test('sites are keyed by (tenant, site); lat and lon come together', () => {
    const input = SITE_INPUT_SCHEMA.parse({ tenant: 't1', site: 'chunxi', name: '春熙路店', region: '510104', lat: 30.657, lon: 104.08 });
    const s = sites.create({ ...input, region: input.region as string });
    expect(sites.get('t1', 'chunxi')).toEqual(s);
    expect(() => sites.create({ ...input, region: '510104' })).toThrow(/site t1\/chunxi already exists/);
    expect(SITE_INPUT_SCHEMA.safeParse({ tenant: 't1', site: 's', name: 'n', lat: 30 }).error?.issues[0]).toMatchObject({ path: ['lon'], message: 'give lat and lon together' });
    expect(sites.update('t1', 'chunxi', { address: '锦江区春熙路1号' })).toMatchObject({ address: '锦江区春熙路1号', lat: 30.657 });
    expect(sites.countOfTenant('t1')).toBe(1);
    expect(sites.delete('t1', 'chunxi')).toBe(true);
    expect(sites.list()).toEqual([]);
  });
});
