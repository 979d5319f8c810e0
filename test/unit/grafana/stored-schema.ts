// What the gateway writes to the time-series store, derived from the code that writes it (not from a copy): the kinds'
// zod schemas and toFields (src/kinds/*.ts), readingToPoint, the pipeline's registry tags and alertEventToPoint.
// Renaming a field or a tag there changes what these functions return, and the dashboard test fails.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { KINDS } from '../../../src/kinds/index.js';
import { KIND_NAMES, type KindName } from '../../../src/kinds/kind.js';
import { ALERT_EVENTS_MEASUREMENT, alertEventToPoint } from '../../../src/storage/alert-event-export.js';
import { readingToPoint } from '../../../src/storage/to-point.js';
import { sampleAlert } from '../../fixtures/alerts.js';

export const REPO_ROOT = join(import.meta.dirname, '../../..');

/** One measurement as stored: tag keys, and field keys with their stored type. */
export interface StoredMeasurement {
  name: string;
  tags: Set<string>;
  fields: Map<string, 'number' | 'boolean'>;
}

type Def = { type: string; innerType?: ZT; options?: ZT[]; values?: unknown[]; element?: ZT; shape?: Record<string, ZT>; entries?: Record<string, string> };
type ZT = { def: Def; shape?: Record<string, ZT> };

/** Sample values of every wire type a schema accepts (one per union member), to run `toFields` on. */
function samples(t: ZT): unknown[] {
  const d = t.def;
  switch (d.type) {
    case 'optional':
    case 'nullable':
    case 'default':
      return samples(d.innerType as ZT);
    case 'number':
    case 'int':
      return [1];
    case 'boolean':
      return [true, false];
    case 'string':
      return ['x'];
    case 'enum':
      return [Object.values(d.entries ?? {})[0]];
    case 'literal':
      return [(d.values ?? [])[0]];
    case 'union':
      return (d.options ?? []).flatMap(samples);
    case 'array':
      // Four items: the most any kind accepts (electrical_fire temp_c channels 1–4).
      return [[1, 2, 3, 4].map(() => samples(d.element as ZT)[0])];
    case 'object': {
      const shape = (t.shape ?? d.shape ?? {}) as Record<string, ZT>;
      return [Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, samples(v)[0]]))];
    }
    default:
      throw new Error(`stored-schema: no sample for zod type ${d.type}`);
  }
}

/** Tags every reading point carries besides the payload's strings: identity from readingToPoint, registry tags from the pipeline. */
function readingIdentityTags(): string[] {
  const p = readingToPoint({ tenant: 't', deviceId: 'd', kind: 'gas', channel: 'telemetry', ts: 0, receivedAt: 0, fields: {}, tags: {} });
  // The pipeline copies the registry's region and site onto the reading's tags (`tags.region = device.region`).
  const pipeline = readFileSync(join(REPO_ROOT, 'src/pipeline/pipeline.ts'), 'utf8');
  const registry = [...pipeline.matchAll(/\btags\.(\w+) = device\.\w+/g)].map((m) => m[1] as string);
  if (registry.length === 0) throw new Error('stored-schema: no `tags.x = device.y` in src/pipeline/pipeline.ts: update readingIdentityTags');
  return [...Object.keys(p.tags), ...registry];
}

/** The stored shape of a kind's measurement: every field and tag its `toFields` can produce, plus the identity tags. */
export function kindMeasurement(kind: KindName): StoredMeasurement {
  const def = KINDS[kind];
  const shape = (def.dataSchema as unknown as z.ZodObject).shape as unknown as Record<string, ZT>;
  const m: StoredMeasurement = { name: kind, tags: new Set(readingIdentityTags()), fields: new Map() };
  for (const [key, schema] of Object.entries(shape)) {
    for (const value of samples(schema)) {
      const out = def.toFields({ [key]: value });
      for (const tag of Object.keys(out.tags)) m.tags.add(tag);
      for (const [field, v] of Object.entries(out.fields)) {
        const type = typeof v === 'boolean' ? 'boolean' : 'number';
        const seen = m.fields.get(field);
        if (seen !== undefined && seen !== type) throw new Error(`stored-schema: ${kind}.${field} is stored as ${seen} and ${type}`);
        m.fields.set(field, type);
      }
    }
  }
  return m;
}

/** The stored shape of alert events (alertEventToPoint), with region, site and a value present. */
export function alertEventsMeasurement(): StoredMeasurement {
  const p = alertEventToPoint({ seq: 1, type: 'raised', alert_id: 1, at: 0, actor: 'system', note: null, alert: sampleAlert({ region: '510104', site: 's1', last_value: 1 }) });
  const m: StoredMeasurement = { name: p.measurement, tags: new Set(Object.keys(p.tags)), fields: new Map() };
  for (const [field, v] of Object.entries(p.fields)) m.fields.set(field, typeof v === 'boolean' ? 'boolean' : 'number');
  if (m.name !== ALERT_EVENTS_MEASUREMENT) throw new Error('stored-schema: alertEventToPoint writes another measurement');
  return m;
}

/** Every measurement the gateway writes, by name. */
export function storedMeasurements(): Map<string, StoredMeasurement> {
  const all = new Map<string, StoredMeasurement>();
  for (const kind of KIND_NAMES) all.set(kind, kindMeasurement(kind));
  const alerts = alertEventsMeasurement();
  all.set(alerts.name, alerts);
  return all;
}
