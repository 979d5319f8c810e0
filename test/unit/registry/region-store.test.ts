import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openSqlite, type SqliteDb } from '../../../src/lib/sqlite.js';
import { REGION_CODE, REGION_SEED, RegionStore, canonicalRegion, regionLevel, regionParent } from '../../../src/registry/region-store.js';

describe('registry/region-store', () => {
  let db: SqliteDb;
  let regions: RegionStore;
  beforeEach(() => {
    db = openSqlite(':memory:');
    regions = new RegionStore(db);
    regions.start();
  });
  afterEach(() => db.close());

  test.each([
    { code: '51', want: '51' },
    { code: '510000', want: '51' },
    { code: '5101', want: '5101' },
    { code: '510100', want: '5101' },
    { code: '510104', want: '510104' },
    { code: '5', want: undefined },
    { code: '51010', want: undefined },
    { code: '5101040', want: undefined },
    { code: '000000', want: undefined },
    { code: '51a1', want: undefined },
  ])('canonical form of $code is $want', ({ code, want }) => {
    expect(canonicalRegion(code)).toBe(want);
  });

  test('level and parent come from the code', () => {
    expect([regionLevel('51'), regionLevel('5101'), regionLevel('510104')]).toEqual(['province', 'city', 'county']);
    expect([regionParent('510104'), regionParent('5101'), regionParent('51')]).toEqual(['5101', '51', null]);
  });

  test('the zod code type canonicalises and explains a bad code', () => {
    expect(REGION_CODE.parse(' 510100 ')).toBe('5101');
    expect(REGION_CODE.safeParse('5101001').error?.issues[0]?.message).toMatch(/2 digits \(province\), 4 \(city\) or 6 \(county\)/);
  });

  test('an empty table is seeded with Sichuan → Chengdu → its districts; the tree is navigable', () => {
    expect(regions.list()).toHaveLength(REGION_SEED.length);
    expect(regions.get('510107')).toEqual({ code: '510107', name: '武侯区', level: 'county', parent: '5101' });
    expect(regions.path('510104').map((r) => r.name)).toEqual(['四川省', '成都市', '锦江区']);
    expect(regions.list({ parent: '5101' }).map((r) => r.code)).toEqual(expect.arrayContaining(['510104', '510105', '510106', '510107', '510108', '510114', '510116']));
    expect(regions.list({ level: 'city' }).map((r) => r.name)).toEqual(['成都市']);
  });

  test('the seed is not loaded again over an edited table', () => {
    regions.rename('510104', '锦江区（改）');
    regions.start();
    expect(regions.get('510104')?.name).toBe('锦江区（改）');
    expect(regions.list()).toHaveLength(REGION_SEED.length);
  });

  test('a region needs its parent; duplicates conflict; a region with children cannot be deleted', () => {
    expect(() => regions.create({ code: '510704', name: '游仙区' })).toThrow(/parent region 5107 does not exist/);
    regions.create({ code: '5107', name: '绵阳市' });
    expect(regions.create({ code: '510704', name: '游仙区' })).toEqual({ code: '510704', name: '游仙区', level: 'county', parent: '5107' });
    expect(() => regions.create({ code: '5107', name: '绵阳市' })).toThrow(expect.objectContaining({ code: 'RG_ERR_CONFLICT' }));
    expect(() => regions.delete('5107')).toThrow(/has sub-regions \(e\.g\. 510704\)/);
    expect(regions.delete('510704')).toBe(true);
    expect(regions.delete('5107')).toBe(true);
  });
});
