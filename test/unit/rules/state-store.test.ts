import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { loadRules, type RuleSet } from '../../../src/rules/loader.js';
import { RuleStateStore, snapshot, unchanged, type DeviceSlots } from '../../../src/rules/state-store.js';
import { device, startEngineHarness, type EngineHarness } from '../../helpers/engine-harness.js';
import type { Device } from '../../../src/registry/device-registry.js';

const GAS = device('t1', 'gas-1', 'gas');

describe('rules/state-store', () => {
  test.each([
    { name: 'an empty flat state', a: { firingLevel: undefined, pendingSince: undefined }, b: {}, same: true },
    { name: 'a flat state with the same values', a: { firingLevel: 2, pendingSince: 5 }, b: { pendingSince: 5, firingLevel: 2 }, same: true },
    { name: 'a flat state with another value', a: { firingLevel: 2 }, b: { firingLevel: 3 }, same: false },
    { name: 'a flat state with a key more', a: { firingLevel: 2, pendingSince: 1 }, b: { firingLevel: 2 }, same: false },
    { name: 'a flat state with a key less', a: { firingLevel: 2 }, b: { firingLevel: 2, pendingSince: 1 }, same: false },
    { name: 'a boolean', a: true, b: true, same: true },
    { name: 'another boolean', a: true, b: false, same: false },
    { name: 'a nested state', a: { samples: { t: [[1, 2]] } }, b: { samples: { t: [[1, 2]] } }, same: true },
    { name: 'a nested state changed', a: { samples: { t: [[1, 2], [3, 4]] } }, b: { samples: { t: [[1, 2]] } }, same: false },
    { name: 'a flat state turned nested', a: { zones: {} }, b: { level: 1 }, same: false },
    { name: 'NaN (counted as changed: written again, never lost)', a: { v: Number.NaN }, b: { v: Number.NaN }, same: false },
  ])('compares $name with its snapshot: the same JSON meaning, key order aside', ({ a, b, same }) => {
    expect(unchanged(a, snapshot(b))).toBe(same);
  });

  test('a snapshot does not change when the state it was taken of does', () => {
    const state: { firingLevel?: number; samples: number[][] } = { firingLevel: 2, samples: [[1, 2]] };
    const flat = { firingLevel: 2 };
    const s1 = snapshot(flat);
    const s2 = snapshot(state);
    flat.firingLevel = 3;
    state.samples.push([3, 4]);
    expect(unchanged(flat, s1)).toBe(false);
    expect(unchanged(state, s2)).toBe(false);
  });
});

describe('rules/engine persistence (issue 9)', () => {
  let h: EngineHarness;
  afterEach(() => h.close());

  const rows = () => h.db.prepare("SELECT rule_id, updated_at FROM rule_state WHERE key LIKE 't1' || char(0) || 'gas-1%' ORDER BY rule_id").all() as { rule_id: string; updated_at: number }[];
  const deviceTs = () => (h.db.prepare("SELECT last_ts FROM rule_device_ts WHERE tenant = 't1' AND device_id = 'gas-1'").get() as { last_ts: number } | undefined)?.last_ts;

  test('writes a rule state when it changes, not because the device sent another reading', () => {
    h = startEngineHarness({ devices: [GAS] });
    h.feed(GAS, { concentration_lel: 3 });
    h.engine.persist();
    const first = rows();
    // Every rule of the kind evaluated, each still in its initial state: no row restores exactly that, none written.
    expect(first).toEqual([]);
    const t1 = h.clock.now();
    expect(deviceTs()).toBe(t1);
    h.clock.advance(60_000);
    h.feed(GAS, { concentration_lel: 4 }); // nothing changes but the times
    h.engine.persist();
    expect(rows()).toEqual(first);
    expect(deviceTs()).toBe(t1 + 60_000);
    h.clock.advance(60_000);
    h.feed(GAS, { concentration_lel: 30 }); // gas.lel fires
    h.engine.persist();
    expect(rows().map((r) => r.rule_id)).toEqual(['gas.lel']);
  });

  test('after a restart a reading older than the device\'s newest is history, as before it', () => {
    h = startEngineHarness({ devices: [GAS] });
    const t0 = h.clock.now();
    h.feed(GAS, { concentration_lel: 3 }, { ts: t0 });
    h.clock.advance(60_000);
    h.feed(GAS, { concentration_lel: 3 }, { ts: t0 + 60_000 });
    h.restart();
    // 30 %LEL between the two: back-dated, so a historical alert, never a live one.
    h.feed(GAS, { concentration_lel: 30 }, { ts: t0 + 30_000 });
    expect(h.events.map((e) => [e.type, e.alert.rule_id, e.alert.historical])).toEqual([['raised', 'gas.lel', true]]);
  });

  test('rule rows written before the device time had its own table still restore it', () => {
    h = startEngineHarness({
      devices: [GAS],
      ruleFiles: {
        'gas.yaml':
          'kind: gas\nrules:\n' +
          '  - { id: g.co, type: threshold, title: CO, standard: test, field: concentration_ppm, for: 60s, levels: [{ level: 3, value: 24 }] }\n' +
          '  - { id: g.lel, type: threshold, title: LEL, standard: test, field: concentration_lel, levels: [{ level: 3, value: 25 }] }\n',
      },
    });
    const t0 = h.clock.now();
    // g.co pending (a row of its own), g.lel clear (none).
    h.feed(GAS, { concentration_ppm: 30, concentration_lel: 3 }, { ts: t0 + 60_000 });
    h.engine.persist();
    expect(rows().map((r) => r.rule_id)).toEqual(['g.co']);
    h.db.prepare('DELETE FROM rule_device_ts').run();
    h.db.prepare('UPDATE rule_state SET last_ts = ?').run(t0 + 60_000);
    h.restart();
    h.feed(GAS, { concentration_lel: 30 }, { ts: t0 + 30_000 });
    expect(h.events.map((e) => e.alert.historical)).toEqual([true]);
  });

  test('a half-elapsed pending state survives a restart when only it changed', () => {
    h = startEngineHarness({
      devices: [GAS],
      ruleFiles: { 'gas.yaml': 'kind: gas\nrules:\n  - { id: g.co, type: threshold, title: CO, standard: test, field: concentration_ppm, for: 60s, levels: [{ level: 3, value: 24 }] }\n' },
    });
    const t0 = h.clock.now();
    h.feed(GAS, { concentration_ppm: 30 });
    h.clock.advance(40_000);
    h.feed(GAS, { concentration_ppm: 31 });
    h.restart();
    h.clock.set(t0 + 61_000);
    h.feed(GAS, { concentration_ppm: 32 });
    expect(h.events.map((e) => `${e.type}:${e.alert.rule_id}`)).toEqual(['raised:g.co']);
  });
});

describe('rules/engine persistence of initial states (issue 9)', () => {
  let h: EngineHarness;
  afterEach(() => h.close());

  const CO = '  - { id: g.co, type: threshold, title: CO, standard: test, field: concentration_ppm, for: 60s, levels: [{ level: 3, value: 24 }] }\n';
  const LEL = '  - { id: g.lel, type: threshold, title: LEL, standard: test, field: concentration_lel, levels: [{ level: 3, value: 25 }] }\n';
  const ruleSet = (text: string): RuleSet => {
    const dir = join(h.dir, `rules-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'gas.yaml'), `kind: gas\nrules:\n${text}`);
    const res = loadRules(dir, dir);
    if (!res.ok) throw new Error(JSON.stringify(res.problems));
    return res.rules;
  };
  const coRows = () => h.db.prepare("SELECT state FROM rule_state WHERE rule_id = 'g.co'").all();

  test('a rule removed and added again starts from its initial state: its old row goes with it, on reload and on start', () => {
    h = startEngineHarness({ devices: [GAS], ruleFiles: { 'gas.yaml': `kind: gas\nrules:\n${CO}${LEL}` } });
    const t0 = h.clock.now();
    h.feed(GAS, { concentration_ppm: 30 }); // g.co pending since t0: a row
    h.engine.persist();
    expect(coRows()).toHaveLength(1);

    // Hot reload without g.co, then with it again: its state is dropped, and so is its row.
    h.engine.setRules(ruleSet(LEL));
    expect(coRows()).toHaveLength(0);
    h.engine.setRules(ruleSet(CO + LEL));
    h.clock.advance(10_000);
    h.feed(GAS, { concentration_ppm: 10 }); // g.co clear: its initial state, not written
    h.engine.persist();
    expect(coRows()).toHaveLength(0);
    h.restart();
    h.clock.set(t0 + 61_000);
    h.feed(GAS, { concentration_ppm: 32 }); // pending anew, not since t0: nothing raised yet
    expect(h.events).toEqual([]);

    // A row of a rule the rule set no longer has is deleted when the engine starts.
    h.engine.persist();
    expect(coRows()).toHaveLength(1);
    h.engine.setRules(ruleSet(LEL));
    h.db.prepare("INSERT INTO rule_state (key, rule_id, state, firing, last_ts, updated_at) VALUES ('t1' || char(0) || 'gas-9' || char(0) || 'g.old', 'g.old', '{}', 0, 1, 1)").run();
    h.restart();
    expect(h.db.prepare("SELECT rule_id FROM rule_state WHERE rule_id = 'g.old'").all()).toEqual([]);
  });
});

describe('rules/state-store sliced writes (issue 9)', () => {
  const harnesses: EngineHarness[] = [];
  afterEach(() => {
    for (const h of harnesses.splice(0)) h.close();
  });

  test('writeSome with a deadline already past writes 64 devices a slice; the slices write what write() writes at once', () => {
    const devices = Array.from({ length: 200 }, (_, i) => device('t1', `gas-${i}`, 'gas'));
    const run = (sliced: boolean): { rows: unknown[]; slices: number } => {
      const h = startEngineHarness({ devices });
      harnesses.push(h);
      for (const [i, d] of devices.entries()) h.feed(d, { concentration_lel: i % 3 === 0 ? 30 : 3 });
      const store = new RuleStateStore(h.db);
      const all = (h.engine as unknown as { devices: { values(): IterableIterator<DeviceSlots> } }).devices;
      const evaluatorOf = (): undefined => undefined;
      let slices = 0;
      if (sliced) {
        const it = all.values();
        const count = () => (h.db.prepare('SELECT COUNT(*) AS n FROM rule_device_ts').get() as { n: number }).n;
        for (;;) {
          slices++;
          const before = count();
          const done = store.writeSome(it, evaluatorOf, 1000, 0);
          expect(count() - before).toBe(done ? 200 - 64 * (slices - 1) : 64);
          if (done) break;
        }
      } else store.write(all.values(), evaluatorOf, 1000);
      return { rows: h.db.prepare('SELECT key, rule_id, state, firing, last_ts, updated_at FROM rule_state ORDER BY key').all(), slices };
    };
    const once = run(false);
    const sliced = run(true);
    expect(sliced.slices).toBe(4);
    // A row per device that fired (every third): the others hold their rules' initial states, which are not written.
    expect(once.rows.length).toBe(67);
    expect(sliced.rows).toEqual(once.rows);
  });
});

describe('rules/engine persistence passes (issue 9)', () => {
  let h: EngineHarness | undefined;
  afterEach(() => {
    h?.close();
    h = undefined;
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  const devices = [device('t1', 'gas-1', 'gas'), device('t1', 'gas-2', 'gas'), device('t1', 'gas-3', 'gas')];
  const deviceTs = (id: string): number | undefined =>
    (h?.db.prepare("SELECT last_ts FROM rule_device_ts WHERE tenant = 't1' AND device_id = ?").get(id) as { last_ts: number } | undefined)?.last_ts;
  /** The engine's own persistence timer (every 2 s), on fake timers; returns the devices each pass visited. */
  const start = (): string[][] => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setImmediate', 'clearImmediate'] });
    const passes: string[][] = [];
    const writeSome = RuleStateStore.prototype.writeSome;
    vi.spyOn(RuleStateStore.prototype, 'writeSome').mockImplementation(function (this: RuleStateStore, it, evaluatorOf, now, deadline) {
      const seen: string[] = [];
      passes.push(seen);
      const counted: Iterator<DeviceSlots> = { next: () => { const n = it.next(); if (n.done !== true) seen.push(n.value.deviceId); return n; } };
      return writeSome.call(this, counted, evaluatorOf, now, deadline);
    });
    h = startEngineHarness({ devices, timers: true });
    return passes;
  };

  test('a pass visits the devices that changed since their last visit, and only them', () => {
    const passes = start();
    const t0 = (h as EngineHarness).clock.now();
    for (const d of devices) h?.feed(d, { concentration_lel: 3 });
    vi.advanceTimersByTime(2000);
    expect(passes).toEqual([['gas-1', 'gas-2', 'gas-3']]);
    expect(devices.map((d) => deviceTs(d.deviceId))).toEqual([t0, t0, t0]);
    h?.clock.advance(60_000);
    h?.feed(devices[1] as Device, { concentration_lel: 4 });
    vi.advanceTimersByTime(2000);
    expect(passes[1]).toEqual(['gas-2']);
    expect(devices.map((d) => deviceTs(d.deviceId))).toEqual([t0, t0 + 60_000, t0]);
    // Nothing changed: no pass at all.
    vi.advanceTimersByTime(10_000);
    expect(passes.length).toBe(2);
  });

  test('a device changed after its visit is written by the next pass, and after engine.persist() too', () => {
    start();
    const gas = devices[0] as Device;
    const t0 = (h as EngineHarness).clock.now();
    h?.feed(gas, { concentration_lel: 3 });
    vi.advanceTimersByTime(2000);
    expect(deviceTs('gas-1')).toBe(t0);
    h?.clock.advance(60_000);
    h?.feed(gas, { concentration_lel: 3 });
    vi.advanceTimersByTime(2000);
    expect(deviceTs('gas-1')).toBe(t0 + 60_000);
    // Fed and written at once by persist() (as on stop), then fed again: the timer's pass still takes it.
    h?.clock.advance(60_000);
    h?.feed(gas, { concentration_lel: 3 });
    h?.engine.persist();
    expect(deviceTs('gas-1')).toBe(t0 + 120_000);
    h?.clock.advance(60_000);
    h?.feed(gas, { concentration_lel: 30 });
    vi.advanceTimersByTime(2000);
    expect(deviceTs('gas-1')).toBe(t0 + 180_000);
    // The reading over 25 %LEL fired a rule: its state row is written by the same pass.
    expect((h?.db.prepare("SELECT COUNT(*) AS n FROM rule_state WHERE firing = 1").get() as { n: number }).n).toBeGreaterThan(0);
  });
});
