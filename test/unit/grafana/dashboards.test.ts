// The Grafana provisioning and dashboards (grafana/): every InfluxQL query — panels, template variables, annotations —
// names only measurements, fields and tags the gateway writes, derived from src/kinds/*, readingToPoint and
// alertEventToPoint (stored-schema.ts). Renaming a field in a kind, or a tag in the writer, fails this test.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ENV_SCHEMA } from '../../../src/config/env.js';
import { KIND_NAMES, type KindName } from '../../../src/kinds/kind.js';
import { ALERT_EVENTS_MEASUREMENT } from '../../../src/storage/alert-event-export.js';
import { checkQuery, parseQuery } from './influxql.js';
import { REPO_ROOT, storedMeasurements } from './stored-schema.js';

const GRAFANA = join(REPO_ROOT, 'grafana');
const CJK = /[\u4e00-\u9fff]/;

type Json = Record<string, unknown>;
interface DsRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId: string;
  datasource?: DsRef;
  rawQuery?: boolean;
  query?: string;
  alias?: string;
  resultFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: DsRef;
  gridPos?: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Annotation {
  name: string;
  builtIn?: number;
  enable: boolean;
  datasource: DsRef;
  query?: string;
  textColumn?: string;
  tagsColumn?: string;
  target?: Target & { fromAnnotations?: boolean; textColumn?: string; tagsColumn?: string };
}
interface Variable {
  name: string;
  label?: string;
  type: string;
  datasource?: DsRef;
  query: string | { query: string };
  definition?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  panels: Panel[];
  templating: { list: Variable[] };
  annotations: { list: Annotation[] };
}

const stored = storedMeasurements();
const datasources = parseYaml(readFileSync(join(GRAFANA, 'provisioning/datasources/influxdb.yaml'), 'utf8')) as {
  apiVersion: number;
  datasources: { name: string; uid: string; type: string; access: string; url: string; isDefault?: boolean; jsonData?: Json; secureJsonData?: Json; user?: string }[];
};
const ds = datasources.datasources[0];
const dashboards = new Map<string, Dashboard>(
  readdirSync(join(GRAFANA, 'dashboards'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(GRAFANA, 'dashboards', f), 'utf8')) as Dashboard]),
);

function flatPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...flatPanels(p.panels ?? [])]);
}

/** Every string under a key that holds a query in some Grafana data source, anywhere in the JSON. */
function queryStrings(node: unknown, out: { key: string; value: string }[] = []): { key: string; value: string }[] {
  if (Array.isArray(node)) for (const n of node) queryStrings(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (['query', 'definition', 'rawSql', 'expr', 'rawQueryText'].includes(k) && typeof v === 'string') out.push({ key: k, value: v });
      else queryStrings(v, out);
    }
  }
  return out;
}

/** Every `datasource` reference anywhere in the JSON. */
function datasourceRefs(node: unknown, out: DsRef[] = []): DsRef[] {
  if (Array.isArray(node)) for (const n of node) datasourceRefs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'datasource') out.push((typeof v === 'string' ? { uid: v } : v) as DsRef);
      else datasourceRefs(v, out);
    }
  }
  return out;
}

const variableQuery = (v: Variable): string => (typeof v.query === 'string' ? v.query : v.query.query);

describe('what the dashboards check against (derived from the code)', () => {
  it('knows every kind, its fields and tags, and the alert events', () => {
    expect([...stored.keys()].sort()).toEqual([...KIND_NAMES, ALERT_EVENTS_MEASUREMENT].sort());
    const gas = stored.get('gas');
    expect(gas?.fields.get('concentration_lel')).toBe('number');
    expect(gas?.fields.get('sensor_fault')).toBe('boolean');
    expect([...(gas?.tags ?? [])]).toEqual(expect.arrayContaining(['tenant', 'device', 'region', 'site', 'gas_type', 'valve_state']));
    // Derived fields: flattened arrays and phases, counts split from booleans, bits decoded.
    expect(stored.get('electrical_fire')?.fields.get('temp_c_4')).toBe('number');
    expect(stored.get('electrical_fire')?.fields.get('current_a_b')).toBe('number');
    expect(stored.get('dust')?.fields.get('spark_detected')).toBe('boolean');
    expect(stored.get('dust')?.fields.get('spark_count')).toBe('number');
    expect(stored.get('smoke')?.fields.get('fault')).toBe('boolean');
    expect(stored.get('vehicle')?.fields.get('acc_on')).toBe('boolean');
    expect([...(stored.get(ALERT_EVENTS_MEASUREMENT)?.tags ?? [])]).toEqual(expect.arrayContaining(['tenant', 'device', 'kind', 'event', 'level', 'title', 'site']));
  });

  it('every stored name is documented in its kind (kind.fields), so the derivation misses nothing the console names', async () => {
    const { KINDS } = await import('../../../src/kinds/index.js');
    for (const kind of KIND_NAMES) {
      const m = stored.get(kind);
      const documented = Object.keys(KINDS[kind].fields);
      for (const f of m?.fields.keys() ?? []) expect(documented, `${kind}.${f}`).toContain(f);
      for (const f of documented) expect(m?.fields.has(f) || m?.tags.has(f), `${kind}.${f} is stored`).toBe(true);
    }
  });

  it('the query checker catches renamed fields, tags used as fields, booleans averaged and unquoted names', () => {
    const ok = 'SELECT max("concentration_lel") AS "concentration_lel" FROM "gas" WHERE $timeFilter AND "tenant" =~ /^$tenant$/ GROUP BY time($__interval), "site" fill(none)';
    expect(checkQuery(ok, stored)).toEqual([]);
    expect(checkQuery(ok.replace('"concentration_lel")', '"concentration")'), stored)[0]).toMatch(/not a field of gas/);
    expect(checkQuery(ok.replace('FROM "gas"', 'FROM "gas_readings"'), stored)[0]).toMatch(/not written by the gateway/);
    expect(checkQuery(ok.replace('"site" fill', '"concentration_lel" fill'), stored)[0]).toMatch(/GROUP BY "concentration_lel" is not a tag/);
    expect(checkQuery(ok.replace('"tenant" =~', '"tenant_id" =~'), stored)[0]).toMatch(/neither a field nor a tag/);
    expect(checkQuery(ok.replace('max("concentration_lel")', 'max("gas_type")'), stored)[0]).toMatch(/it is a tag/);
    expect(checkQuery(ok.replace('max("concentration_lel")', 'mean("sensor_fault")'), stored)[0]).toMatch(/boolean field/);
    expect(checkQuery(ok.replace('"site" fill', 'site fill'), stored)[0]).toMatch(/double-quoted/);
    expect(checkQuery(ok.replace('AND "tenant"', 'AND tenant'), stored)[0]).toMatch(/bare word/);
    expect(checkQuery('SELECT "gas_type" FROM "gas" WHERE $timeFilter', stored)[0]).toMatch(/at least one field/);
    expect(checkQuery('SELECT "alarm" FROM "smoke" WHERE "alarm" = 1', stored)[0]).toMatch(/needs a numeric field/);
    expect(checkQuery('SHOW TAG VALUES FROM "gas" WITH KEY = "concentration_lel"', stored)[0]).toMatch(/not a tag/);
    expect(parseQuery('SHOW TAG VALUES FROM "gas" WITH KEY = "device" WHERE "tenant" =~ /^$tenant$/').tagKey).toBe('device');
  });
});

describe('Grafana provisioning', () => {
  it('provisions one InfluxDB 1.x InfluxQL data source for the gateway database', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toHaveLength(1);
    expect(ds).toMatchObject({ type: 'influxdb', access: 'proxy', url: 'http://influxdb:8086', isDefault: true });
    expect(ds?.uid).toMatch(/^[a-zA-Z0-9-_]{1,40}$/);
    // The database the gateway writes by default (INFLUX_DATABASE).
    expect(ds?.jsonData?.dbName).toBe(ENV_SCHEMA.shape.INFLUX_DATABASE.parse(undefined));
    expect(ds?.jsonData?.version ?? 'InfluxQL').toBe('InfluxQL');
    // The password comes from the environment, never from the file.
    expect(String(ds?.secureJsonData?.password ?? '')).toMatch(/^\$\{?[A-Z_]+\}?$/);
  });

  it('provisions the dashboards directory from a file provider', () => {
    const providers = parseYaml(readFileSync(join(GRAFANA, 'provisioning/dashboards/riskgate.yaml'), 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    expect(providers.apiVersion).toBe(1);
    expect(providers.providers[0]).toMatchObject({ type: 'file', options: { path: '/etc/grafana/dashboards/riskgate' } });
  });
});

describe('Grafana dashboards', () => {
  it('has one dashboard per kind, with unique uids', () => {
    expect([...dashboards.keys()].sort()).toEqual([...KIND_NAMES].sort());
    const uids = [...dashboards.values()].map((d) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
  });

  describe.each([...KIND_NAMES])('%s', (kind: KindName) => {
    const d = dashboards.get(kind) as Dashboard;
    const panels = flatPanels(d?.panels ?? []);

    it('has Chinese titles, and every query names only what the gateway writes', () => {
      expect(d.title).toMatch(CJK);
      expect(d.tags).toEqual(expect.arrayContaining(['riskgate', kind]));
      const problems: string[] = [];
      for (const { key, value } of queryStrings(d)) for (const p of checkQuery(value, stored)) problems.push(`${key}: ${p}`);
      expect(problems).toEqual([]);
    });

    it('uses the provisioned data source everywhere', () => {
      for (const ref of datasourceRefs(d)) {
        if (ref.type === 'grafana' || ref.type === 'dashboard') continue; // Grafana's built-in annotations
        expect(ref).toEqual({ type: 'influxdb', uid: ds?.uid });
      }
    });

    it('panels: Chinese titles, raw InfluxQL on this kind, legends naming tags they group by', () => {
      expect(panels.length).toBeGreaterThan(4);
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      for (const p of panels) {
        if (p.type === 'row') continue;
        expect(p.title, `panel ${p.id}`).toMatch(CJK);
        expect(p.gridPos, p.title).toBeDefined();
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          // The query builder's JSON form (select/groupBy arrays) would escape the checks: raw queries only.
          expect(t.rawQuery, `${p.title} ${t.refId}`).toBe(true);
          const use = parseQuery(t.query ?? '');
          expect(use.measurement, p.title).toBe(kind);
          for (const m of (t.alias ?? '').matchAll(/\$tag_(\w+)/g)) expect(use.grouped, `${p.title}: alias ${t.alias}`).toContain(m[1]);
        }
      }
    });

    it('template variables: tenant → site → device, from the tags of this kind', () => {
      const vars = d.templating.list;
      expect(vars.map((v) => v.name)).toEqual(['tenant', 'site', 'device']);
      for (const v of vars) {
        expect(v.label, v.name).toMatch(CJK);
        const use = parseQuery(variableQuery(v));
        expect(use).toMatchObject({ measurement: kind, tagKey: v.name });
        if (v.definition !== undefined) expect(v.definition).toBe(variableQuery(v));
      }
    });

    it('annotates alert events from alert_events, and offers the device-reported alarm from the readings', () => {
      const annos = d.annotations.list.filter((a) => !a.builtIn);
      for (const a of annos) {
        expect(a.name).toMatch(CJK);
        // Grafana ≥ 10 reads target; older versions the top-level fields: both hold the same query.
        expect(a.target?.query).toBe(a.query);
        expect(a.target).toMatchObject({ rawQuery: true, fromAnnotations: true, textColumn: a.textColumn, tagsColumn: a.tagsColumn });
        const use = parseQuery(a.query ?? '');
        for (const col of [a.textColumn, ...(a.tagsColumn ?? '').split(',')].filter(Boolean)) expect(use.columns, `${a.name}: column ${col}`).toContain(col);
        expect(a.query).toContain('$timeFilter');
      }
      const alertEvents = annos.filter((a) => parseQuery(a.query ?? '').measurement === ALERT_EVENTS_MEASUREMENT);
      const ownKind = alertEvents.find((a) => a.enable && a.query?.includes(`"kind" = '${kind}'`));
      expect(ownKind, 'an enabled annotation of this kind\'s alert events').toBeDefined();
      expect(ownKind?.textColumn).toBe('title');
      expect(annos.some((a) => parseQuery(a.query ?? '').measurement === kind)).toBe(true);
    });
  });

  it('shows what the issue asks for, per kind', () => {
    const reads = (kind: string): { fields: Set<string>; grouped: Set<string> } => {
      const fields = new Set<string>();
      const grouped = new Set<string>();
      for (const p of flatPanels(dashboards.get(kind)?.panels ?? [])) {
        for (const t of p.targets ?? []) {
          const use = parseQuery(t.query ?? '');
          for (const a of use.aggregated) fields.add(a.name);
          for (const s of use.selected) fields.add(s);
          for (const g of use.grouped) grouped.add(g);
        }
      }
      return { fields, grouped };
    };
    const gas = reads('gas');
    expect([...gas.fields]).toEqual(expect.arrayContaining(['concentration_lel', 'concentration_ppm', 'alarm_level']));
    expect([...gas.grouped]).toContain('site'); // gas concentration per site
    expect([...reads('dust').fields]).toEqual(expect.arrayContaining(['diff_pressure_pa', 'hopper_temp_c', 'inlet_temp_c', 'outlet_temp_c']));
    expect([...reads('electrical_fire').fields]).toEqual(expect.arrayContaining(['residual_current_ma', 'temp_c_1', 'temp_c_2', 'temp_c_3', 'temp_c_4']));
    expect([...reads('smoke').fields]).toEqual(expect.arrayContaining(['alarm', 'fault', 'low_battery', 'battery_v', 'battery_pct']));
    expect([...reads('vehicle').fields]).toEqual(expect.arrayContaining(['speed_kmh', 'alarm_bits']));
  });
});
