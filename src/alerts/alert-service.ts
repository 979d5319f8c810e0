import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Metrics } from '../lib/metrics.js';
import type { Reading } from '../pipeline/reading.js';
import type { GatewayEvents } from '../pipeline/events.js';
import type { EvalResult, RuleBase } from '../rules/types.js';
import type { Alert, AlertEvent, AlertEventType } from './alert.js';
import type { AlertStore } from './alert-store.js';

export interface AlertServiceContext {
  store: AlertStore;
  bus: EventBus<GatewayEvents>;
  clock: Clock;
  metrics: Metrics;
}

/**
 * Turns rule outcomes into alerts: one open alert per (device, rule); repeats update count, last value and peak;
 * every transition is a stored event with a `seq`, then published on the bus (in that order, so a stream client
 * that replays from the store and then listens misses nothing).
 */
export class AlertService {
  private readonly ctx: AlertServiceContext;
  private readonly open = new Map<string, Alert>();

  constructor(ctx: AlertServiceContext) {
    this.ctx = ctx;
  }

  start(): void {
    this.open.clear();
    for (const a of this.ctx.store.openAlerts()) this.open.set(key(a.tenant, a.device_id, a.rule_id), a);
    this.ctx.metrics.alertsOpen.set(this.open.size);
  }

  /** The open alert of a (device, rule), if any. */
  openAlert(tenant: string, deviceId: string, ruleId: string): Alert | undefined {
    return this.open.get(key(tenant, deviceId, ruleId));
  }

  /** The rule fired on this reading. */
  firing(rule: RuleBase, reading: Reading, result: EvalResult): void {
    const k = key(reading.tenant, reading.deviceId, rule.id);
    const now = this.ctx.clock.now();
    const value = result.value ?? null;
    const level = result.level ?? 4;
    const existing = this.open.get(k);
    if (!existing) {
      const alert: Omit<Alert, 'id'> = {
        tenant: reading.tenant,
        device_id: reading.deviceId,
        kind: reading.kind,
        rule_id: rule.id,
        rule_type: rule.type,
        title: result.title ?? rule.title,
        level,
        standard: rule.standard,
        condition: 'active',
        handling: 'new',
        count: 1,
        first_value: value,
        last_value: value,
        peak_value: value,
        raised_at: reading.ts,
        last_at: reading.ts,
        cleared_at: null,
        updated_at: now,
        region: reading.tags.region ?? null,
        site: reading.tags.site ?? null,
        historical: reading.historical === true,
      };
      const ev = this.ctx.store.insertWithEvent(alert, 'raised', 'system', null);
      // A copy: later firings mutate the open alert, and the published event must keep its snapshot.
      this.open.set(k, { ...ev.alert });
      this.ctx.metrics.alertsOpen.set(this.open.size);
      this.publish(ev);
      return;
    }
    const a = existing;
    let type: AlertEventType | undefined;
    if (a.condition === 'cleared') {
      type = 'reactivated';
      a.condition = 'active';
      a.cleared_at = null;
    } else if (a.level !== level) {
      type = 'level_changed';
    }
    a.level = level;
    a.title = result.title ?? rule.title;
    a.count += 1;
    a.last_value = value;
    if (value !== null && (a.peak_value === null || (rule.worse === 'higher' ? value > a.peak_value : value < a.peak_value))) a.peak_value = value;
    if (reading.ts > a.last_at) a.last_at = reading.ts;
    a.updated_at = now;
    const ev = this.ctx.store.update(a, type ? { type, actor: 'system', note: null } : undefined);
    if (ev) this.publish(ev);
  }

  /** The rule's condition no longer holds on this reading. */
  cleared(rule: RuleBase, reading: Reading, result: EvalResult): void {
    const a = this.open.get(key(reading.tenant, reading.deviceId, rule.id));
    if (!a || a.condition === 'cleared') return;
    a.condition = 'cleared';
    a.cleared_at = reading.ts;
    if (result.value !== undefined) a.last_value = result.value;
    a.updated_at = this.ctx.clock.now();
    const ev = this.ctx.store.update(a, { type: 'cleared', actor: 'system', note: null });
    if (ev) this.publish(ev);
  }

  private publish(ev: AlertEvent): void {
    this.ctx.metrics.alertEvents.inc({ type: ev.type });
    this.ctx.bus.emit('alertEvent', ev);
  }
}

function key(tenant: string, deviceId: string, ruleId: string): string {
  return `${tenant}\u0000${deviceId}\u0000${ruleId}`;
}
