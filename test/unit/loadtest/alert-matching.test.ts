import { describe, expect, test } from 'vitest';
import { matchAlert, PublishLog, triggeringTs, type StreamAlertEvent } from '../../../src/loadtest/alert-matching.js';

function event(type: StreamAlertEvent['type'], alert: Partial<StreamAlertEvent['alert']> = {}, actor = 'system'): StreamAlertEvent {
  return {
    seq: 1,
    type,
    at: 5_000,
    actor,
    alert: { tenant: 't1', device_id: 'gas-1', rule_id: 'gas.lel', rule_type: 'threshold', level: 3, historical: false, title: 'x', raised_at: 1_000, last_at: 2_000, cleared_at: null, ...alert },
  };
}

describe('alert-matching', () => {
  test.each([
    ['raised', {}, 'system', 1_000],
    ['level_changed', {}, 'system', 2_000],
    ['reactivated', {}, 'system', 2_000],
    ['cleared', { cleared_at: 3_000 }, 'system', 3_000],
    ['closed', { cleared_at: 3_000 }, 'system', 3_000],
    ['closed', { cleared_at: 3_000 }, 'alice', undefined],
    ['escalated', {}, 'system', undefined],
    ['flapping_started', {}, 'system', undefined],
    ['acknowledged', {}, 'alice', undefined],
  ] as const)('a %s event (%o, by %s) was caused by the reading at %s', (type, alert, actor, want) => {
    expect(triggeringTs(event(type, alert, actor))).toBe(want);
  });

  test('an event is matched to the publication of its triggering reading by tenant, device and device time', () => {
    const log = new PublishLog();
    log.record('t1', 'gas-1', [1_000], 10_000.25);
    log.record('t2', 'gas-1', [1_000], 10_500); // same device id and time, other tenant
    log.record('t1', 'gas-2', [1_000], 10_600);
    const m = matchAlert(log, { receivedAtMs: 10_012.75, event: event('raised') });
    expect(m).toEqual({ publishedAtMs: 10_000.25, receivedAtMs: 10_012.75, latencyMs: 12.5 });
  });

  test('every reading of a batch message maps to that message', () => {
    const log = new PublishLog();
    log.record('t1', 'gas-1', [1_000, 2_000, 3_000], 50_000);
    expect(matchAlert(log, { receivedAtMs: 50_030, event: event('level_changed') })?.latencyMs).toBe(30);
    expect(log.size).toBe(3);
  });

  test('a reading published twice keeps the later publication', () => {
    const log = new PublishLog();
    log.record('t1', 'gas-1', [1_000], 100);
    log.record('t1', 'gas-1', [1_000], 200);
    expect(log.publishedAt('t1', 'gas-1', 1_000)).toBe(200);
  });

  test('time-driven events and readings nobody published are not matched', () => {
    const log = new PublishLog();
    log.record('t1', 'gas-1', [1_000], 100);
    expect(matchAlert(log, { receivedAtMs: 300, event: event('escalated') })).toBeUndefined();
    expect(matchAlert(log, { receivedAtMs: 300, event: event('raised', { raised_at: 999 }) })).toBeUndefined();
  });
});
