import { describe, expect, test } from 'vitest';
import type { Device } from '../../../src/registry/device-registry.js';
import { planImport, readCsvRows, readJsonRows, type ImportChecks } from '../../../src/registry/device-import.js';

const ok: ImportChecks = { check: (device) => ({ device, problems: [] }) };

describe('registry/device-import', () => {
  test('CSV: quoted Chinese cells with commas, quotes and line breaks; row = file line the record starts on', () => {
    const csv = [
      'tenant,device_id,kind,model,region,site,location,heartbeat_s,installed_at,installer,lat,lon,attr.plate',
      't1,gas-1,gas,GT-100,510104,kitchen,"3层厨房, 灶台上方",60,2024-05-01,"成都""安消""公司",30.657,104.066,',
      '',
      't1,gas-2,gas,,,,"1#布袋除尘器',
      '灰斗",300,,,,,',
      't3,veh-1,vehicle,,,,,30,,,,,川A12345',
    ].join('\r\n');
    const rows = readCsvRows(csv);
    expect(rows.map((r) => r.row)).toEqual([2, 4, 6]);
    expect(rows[0]?.fields).toEqual({
      tenant: 't1', device_id: 'gas-1', kind: 'gas', model: 'GT-100', region: '510104', site: 'kitchen', location: '3层厨房, 灶台上方',
      heartbeat_s: 60, installed_at: '2024-05-01', installer: '成都"安消"公司', lat: 30.657, lon: 104.066,
    });
    expect(rows[1]?.fields).toEqual({ tenant: 't1', device_id: 'gas-2', kind: 'gas', location: '1#布袋除尘器\r\n灰斗', heartbeat_s: 300 });
    expect(rows[2]?.fields).toEqual({ tenant: 't3', device_id: 'veh-1', kind: 'vehicle', heartbeat_s: 30, attrs: { plate: '川A12345' } });
    const plan = planImport(rows, ok);
    expect(plan.rejected).toEqual([]);
    expect(plan.valid.map((d) => d.deviceId)).toEqual(['gas-1', 'gas-2', 'veh-1']);
    expect(plan.valid[0]).toMatchObject({ location: '3层厨房, 灶台上方', installer: '成都"安消"公司', installedAt: '2024-05-01', lat: 30.657, lon: 104.066 });
  });

  test('CSV: a UTF-8 BOM (Excel "CSV UTF-8") and upper-case headers are accepted', () => {
    const rows = readCsvRows('\uFEFFTenant,Device_ID,Kind\nt1,d1,smoke\n');
    expect(rows[0]?.fields).toEqual({ tenant: 't1', device_id: 'd1', kind: 'smoke' });
  });

  test('CSV: each bad row is reported by row and field, the good rows pass', () => {
    const csv = [
      'tenant,device_id,kind,heartbeat_s,lat,lon',
      't1,ok-1,gas,60,,',
      't1,bad kind,toaster,60,,', // row 3: two problems
      't1,bad-hb,gas,sixty,,', // row 4
      't1,ok-2,dust,0.5,,', // row 5: not an integer
      't1,ok-1,gas,60,,', // row 6: duplicate of row 2
      't1,half-pos,gas,60,30.6,', // row 7: lat without lon
      't1,extra,gas,60,,,surplus', // row 8: more cells than columns
      't1,ok-3,smoke,,,', // row 9: default heartbeat
    ].join('\n');
    const plan = planImport(readCsvRows(csv), ok);
    expect(plan.valid.map((d) => [d.deviceId, d.heartbeatS])).toEqual([['ok-1', 60], ['ok-3', 60]]);
    expect(plan.rejected.map((r) => [r.row, r.field])).toEqual([
      [3, 'device_id'],
      [3, 'kind'],
      [4, 'heartbeat_s'],
      [5, 'heartbeat_s'],
      [6, 'device_id'],
      [7, 'lon'],
      [8, 'row'],
    ]);
    expect(plan.rejected.find((r) => r.row === 4)).toEqual({ row: 4, device_id: 'bad-hb', field: 'heartbeat_s', message: "must be a number, got 'sixty'" });
    expect(plan.rejected.find((r) => r.row === 6)?.message).toBe('duplicate of row 2 (t1/ok-1)');
  });

  test.each([
    { csv: 'tenant,device_id,kind,colour\nt1,d1,gas,red\n', want: /unknown column 'colour'/ },
    { csv: 'tenant,device_id,device_id,kind\n', want: /column 'device_id' appears twice/ },
    { csv: 'tenant,kind\nt1,gas\n', want: /missing column 'device_id'/ },
    { csv: '', want: /CSV is empty/ },
    { csv: 'tenant,device_id,kind\nt1,"d1"x,gas\nt1,d2,gas\n', want: /CSV line 2: Invalid Closing Quote/ },
  ])('CSV: a file that cannot be read row by row is refused whole: $want', ({ csv, want }) => {
    expect(() => readCsvRows(csv)).toThrow(want);
    expect(() => readCsvRows(csv)).toThrow(expect.objectContaining({ code: 'RG_ERR_API_BAD_REQUEST' }));
  });

  test('JSON: row n is devices[n-1]; types are kept; unknown fields are named', () => {
    const rows = readJsonRows({ devices: [{ tenant: 't1', device_id: 'a', kind: 'gas', attrs: { set_low: 20, indoor: true } }, 'nope', { tenant: 't1', device_id: 'b', kind: 'gas', colour: 'red' }] });
    const plan = planImport(rows, ok);
    expect(plan.valid[0]?.attrs).toEqual({ set_low: 20, indoor: true });
    expect(plan.rejected).toEqual([
      { row: 2, field: 'row', message: 'must be an object (one device)' },
      { row: 3, device_id: 'b', field: 'colour', message: expect.stringMatching(/Unrecognized key/) },
    ]);
    expect(() => readJsonRows({ device: [] })).toThrow(/body.devices: must be an array/);
  });

  test('checks run on schema-valid rows: a default tenant fills a missing one, problems reject the row', () => {
    const checks: ImportChecks = {
      defaultTenant: 'mine',
      check: (d: Device) => ({ device: { ...d, region: d.region ?? '510104' }, problems: d.tenant === 'mine' ? [] : [{ field: 'tenant', message: `tenant ${d.tenant} is outside the scope` }] }),
    };
    const plan = planImport(readCsvRows('tenant,device_id,kind\n,a,gas\nother,b,gas\n'), checks);
    expect(plan.valid).toEqual([expect.objectContaining({ tenant: 'mine', deviceId: 'a', region: '510104' })]);
    expect(plan.rejected).toEqual([{ row: 3, device_id: 'b', field: 'tenant', message: 'tenant other is outside the scope' }]);
  });

  test('a few hundred rows validate in well under a second', () => {
    const lines = ['tenant,device_id,kind,location,heartbeat_s'];
    for (let i = 0; i < 2000; i++) lines.push(`t1,dev-${i},gas,"${i}号楼, 厨房",60`);
    const t0 = performance.now();
    const plan = planImport(readCsvRows(lines.join('\n')), ok);
    expect(plan.valid).toHaveLength(2000);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
