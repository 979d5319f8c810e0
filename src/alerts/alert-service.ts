import { RiskgateError } from '../lib/errors.js';
import type { Clock } from '../lib/clock.js';
import type { EventBus } from '../lib/event-bus.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../lib/metrics.js';
import type { GatewayEvents } from '../pipeline/events.js';
import type { Reading } from '../pipeline/reading.js';
import type { Device } from '../registry/device-registry.js';
import type { AlertLevel, EvalResult, RuleBase } from '../rules/types.js';
import type { Alert, AlertEvent, AlertEventType, Disposition } from './alert.js';
import type { AlertStore, Silence } from './alert-store.js';

/** How alerts are handled beyond what a rule says. */
export interface AlertPolicy {
  /** An alert left unacknowledged this long after it was raised is escalated (and again after each further period), ms per level. Default 3 / 10 / 30 / 120 min (domain.md §7.3 ❓). */
  escalateAfterMs: Record<AlertLevel, number>;
  /** Levels whose alerts close by themselves when their condition clears (never 1 or 2). Default [4]. */
  autoCloseLevels: AlertLevel[];
  /** More than this many condition flips within `flapWindowMs` make an alert flapping. Default 6. */
  flapFlips: number;
  /** Window of the flip count, and how long without a flip ends flapping, ms. Default 600 000 (10 min). */
  flapWindowMs: number;
}

export const DEFAULT_ALERT_POLICY: AlertPolicy = {
  escalateAfterMs: { 1: 3 * 60_000, 2: 10 * 60_000, 3: 30 * 60_000, 4: 120 * 60_000 },
  autoCloseLevels: [4],
  flapFlips: 6,
  flapWindowMs: 10 * 60_000,
};

export interface AlertServiceContext {
  store: AlertStore;
  bus: EventBus<GatewayEvents>;
  clock: Clock;
  metrics: Metrics;
  logger?: Logger;
  policy?: Partial<AlertPolicy>;
}

interface FlapState {
  flips: number[];
  /** Condition the device is really in while the alert is held as flapping. */
  latest: 'active' | 'cleared';
  lastValue: number | null;
  lastTs: number;
}

/** Pseudo device of gateway-level alerts. */
const GATEWAY = { tenant: '_gateway', deviceId: 'ingest' };

/**
 * Turns rule outcomes into alerts and runs their lifecycle (domain.md §7.3): one open alert per (device, rule) — and
 * one historical one beside it —; repeats update count, last value and peak; every transition is a stored event with
 * a `seq`, then published on the bus (in that order, so a stream client that replays and then listens misses nothing).
 * Noise control: flapping, inhibition by the device's own offline alert, silences. Escalation of unacknowledged alerts.
 */
export class AlertService {
  private readonly ctx: AlertServiceContext;
  readonly policy: AlertPolicy;
  private readonly open = new Map<string, Alert>();
  private readonly flaps = new Map<string, FlapState>();
  /** (device, rule) whose alert an operator closed while its condition was still active: no new alert until it clears. */
  private readonly closedWhileActive = new Set<string>();
  private silenceList: Silence[] = [];

  constructor(ctx: AlertServiceContext) {
    this.ctx = ctx;
    this.policy = { ...DEFAULT_ALERT_POLICY, ...ctx.policy };
    if (this.policy.autoCloseLevels.some((l) => l <= 2)) throw new Error('autoCloseLevels may not contain level 1 or 2 (domain.md §7.3)');
  }

  start(): void {
    this.open.clear();
    for (const a of this.ctx.store.openAlerts()) this.open.set(key(a.tenant, a.device_id, a.rule_id, a.historical), a);
    this.closedWhileActive.clear();
    for (const a of this.ctx.store.latestClosedActive()) this.closedWhileActive.add(key(a.tenant, a.device_id, a.rule_id, false));
    this.silenceList = this.ctx.store.silences({ activeAt: this.ctx.clock.now() });
    this.ctx.metrics.alertsOpen.set(this.open.size);
  }

  /** The open live (or, with `historical`, the open historical) alert of a (device, rule), if any. */
  openAlert(tenant: string, deviceId: string, ruleId: string, historical = false): Alert | undefined {
    return this.open.get(key(tenant, deviceId, ruleId, historical));
  }

  get(id: number): Alert | undefined {
    return this.ctx.store.get(id);
  }

  // ── rule outcomes ─────────────────────────────────────────────────────────────────────────────────────────────

  /** The rule fired (on a reading, or on a tick when `reading` is undefined). */
  firing(rule: RuleBase, device: Device, result: EvalResult, reading?: Reading): void {
    const historical = reading?.historical === true;
    const k = key(device.tenant, device.deviceId, rule.id, historical);
    const now = this.ctx.clock.now();
    const ts = reading?.ts ?? now;
    const value = result.value ?? null;
    const level = result.level ?? 4;
    const existing = this.open.get(k);
    if (!existing) {
      if (this.closedWhileActive.has(k)) return; // closed by an operator while active: wait for a clear
      if (!historical && rule.type !== 'offline' && this.isOffline(device)) {
        this.ctx.metrics.alertsInhibited.inc({ reason: 'device_offline' });
        return; // inhibited: a silent device's value alerts say nothing new
      }
      this.raise(k, {
        tenant: device.tenant,
        device_id: device.deviceId,
        kind: device.kind,
        rule_id: rule.id,
        rule_type: rule.type,
        title: result.title ?? rule.title,
        level,
        standard: rule.standard,
        value,
        ts,
        region: device.region ?? null,
        site: device.site ?? null,
        historical,
      });
      return;
    }
    const a = existing;
    let type: AlertEventType | undefined;
    if (a.flapping) {
      this.flip(k, 'active', value, ts);
    } else if (a.condition === 'cleared') {
      type = 'reactivated';
      a.condition = 'active';
      a.cleared_at = null;
      // Flapping guards operators against paging noise, counted in gateway time: a back-dated upload arrives all at
      // once, so its flips would look like flapping although the device changed at its own pace. Historical alerts are
      // never paged: no flap counting for them.
      if (!historical && this.flip(k, 'active', value, ts)) type = 'flapping_started';
    } else if (a.level !== level) {
      type = 'level_changed';
    }
    a.level = level;
    a.title = result.title ?? rule.title;
    a.count += 1;
    a.last_value = value;
    if (value !== null && (a.peak_value === null || (rule.worse === 'higher' ? value > a.peak_value : value < a.peak_value))) a.peak_value = value;
    if (ts > a.last_at) a.last_at = ts;
    a.updated_at = now;
    if (type === 'flapping_started') a.flapping = true;
    const ev = this.ctx.store.update(a, type ? { type, actor: 'system', note: null } : undefined);
    if (ev) this.publish(ev);
  }

  /** The rule's condition no longer holds. */
  cleared(rule: RuleBase, device: Device, result: EvalResult, reading?: Reading): void {
    const historical = reading?.historical === true;
    const k = key(device.tenant, device.deviceId, rule.id, historical);
    this.closedWhileActive.delete(k);
    const a = this.open.get(k);
    if (!a || a.condition === 'cleared') return;
    const ts = reading?.ts ?? this.ctx.clock.now();
    if (result.value !== undefined) a.last_value = result.value;
    a.updated_at = this.ctx.clock.now();
    if (a.flapping) {
      this.flip(k, 'cleared', result.value ?? null, ts);
      this.ctx.store.update(a);
      return;
    }
    a.condition = 'cleared';
    a.cleared_at = ts;
    if (!historical && this.flip(k, 'cleared', result.value ?? null, ts)) {
      a.condition = 'active'; // held as it was until the flapping ends
      a.cleared_at = null;
      a.flapping = true;
      this.publish(this.ctx.store.update(a, { type: 'flapping_started', actor: 'system', note: null }) as AlertEvent);
      return;
    }
    this.publish(this.ctx.store.update(a, { type: 'cleared', actor: 'system', note: null }) as AlertEvent);
    this.maybeAutoClose(k, a);
  }

  /** Gateway-level alert (ingest stalled): raised when `active`, cleared (and, at level ≥ 3, closed) when not. */
  gatewayAlert(ruleId: string, active: boolean, info: { title: string; level: AlertLevel; standard: string; value: number }): void {
    const k = key(GATEWAY.tenant, GATEWAY.deviceId, ruleId, false);
    const existing = this.open.get(k);
    const now = this.ctx.clock.now();
    if (active && !existing) {
      this.raise(k, { tenant: GATEWAY.tenant, device_id: GATEWAY.deviceId, kind: 'gateway', rule_id: ruleId, rule_type: 'ingest_stall', title: info.title, level: info.level, standard: info.standard, value: info.value, ts: now, region: null, site: null, historical: false });
    } else if (!active && existing && existing.condition === 'active') {
      existing.condition = 'cleared';
      existing.cleared_at = now;
      existing.updated_at = now;
      this.publish(this.ctx.store.update(existing, { type: 'cleared', actor: 'system', note: null }) as AlertEvent);
    }
  }

  // ── operator actions (REST) ───────────────────────────────────────────────────────────────────────────────────

  acknowledge(id: number, actor: string, note: string | null): AlertEvent {
    const a = this.mustBeOpen(id, 'acknowledge');
    if (a.handling === 'acknowledged') throw new RiskgateError('RG_ERR_ALERT_INVALID_TRANSITION', `alert ${id} is already acknowledged by ${a.acknowledged_by}`);
    const now = this.ctx.clock.now();
    a.handling = 'acknowledged';
    a.acknowledged_by = actor;
    a.acknowledged_at = now;
    a.updated_at = now;
    const ev = this.record(a, 'acknowledged', actor, note);
    this.maybeAutoClose(key(a.tenant, a.device_id, a.rule_id, a.historical), a);
    return ev;
  }

  assign(id: number, actor: string, assignee: string, note: string | null): AlertEvent {
    const a = this.mustBeOpen(id, 'assign');
    a.assignee = assignee;
    a.updated_at = this.ctx.clock.now();
    return this.record(a, 'assigned', actor, note ?? `assigned to ${assignee}`);
  }

  comment(id: number, actor: string, note: string): AlertEvent {
    const a = this.mustBeOpen(id, 'comment on');
    a.updated_at = this.ctx.clock.now();
    return this.record(a, 'commented', actor, note);
  }

  /** Closes an alert with a disposition and a note. An alert closed while its condition is still active stays closed; the rule raises a new one only after it clears and fires again. */
  close(id: number, actor: string, disposition: Disposition, note: string): AlertEvent {
    const a = this.mustBeOpen(id, 'close');
    return this.closeAlert(a, actor, disposition, note);
  }

  // ── silences ──────────────────────────────────────────────────────────────────────────────────────────────────

  createSilence(s: { tenant?: string; device_id?: string; site?: string; rule_id?: string; starts_at?: number; ends_at: number; reason: string; actor: string }): Silence {
    const now = this.ctx.clock.now();
    const silence = this.ctx.store.insertSilence({
      tenant: s.tenant ?? null,
      device_id: s.device_id ?? null,
      site: s.site ?? null,
      rule_id: s.rule_id ?? null,
      starts_at: s.starts_at ?? now,
      ends_at: s.ends_at,
      reason: s.reason,
      created_by: s.actor,
      created_at: now,
    });
    this.silenceList = this.ctx.store.silences({ activeAt: now });
    this.ctx.logger?.info({ silence }, 'silence created');
    return silence;
  }

  cancelSilence(id: number, actor: string): Silence {
    const s = this.ctx.store.cancelSilence(id, actor, this.ctx.clock.now());
    if (!s) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no silence ${id}`);
    this.silenceList = this.ctx.store.silences({ activeAt: this.ctx.clock.now() });
    this.ctx.logger?.info({ silence: s }, 'silence cancelled');
    return s;
  }

  // ── time-driven: escalation and the end of flapping ──────────────────────────────────────────────────────────

  tick(): void {
    const now = this.ctx.clock.now();
    // Devices with an active offline alert, computed once per tick (not once per open alert).
    const offline = new Set<string>();
    for (const a of this.open.values()) {
      if (a.rule_type === 'offline' && a.condition === 'active' && !a.historical) offline.add(`${a.tenant}\u0000${a.device_id}`);
    }
    for (const [k, a] of this.open) {
      if (a.flapping) {
        const f = this.flaps.get(k);
        const last = f?.flips.at(-1) ?? 0;
        if (now - last >= this.policy.flapWindowMs) this.endFlapping(k, a, f);
      }
      if (a.handling !== 'new' || a.historical || a.silenced || a.condition !== 'active') continue;
      if (a.kind !== 'gateway' && a.rule_type !== 'offline' && offline.has(`${a.tenant}\u0000${a.device_id}`)) continue;
      const deadline = this.policy.escalateAfterMs[a.level];
      if (now - a.created_at >= deadline * (a.escalations + 1)) {
        a.escalations += 1;
        a.updated_at = now;
        this.record(a, 'escalated', 'system', `unacknowledged for ${Math.round((now - a.created_at) / 60_000)} min (level ${a.level} deadline ${deadline / 60_000} min)`);
      }
    }
    if (this.silenceList.some((s) => s.ends_at <= now)) this.silenceList = this.silenceList.filter((s) => s.ends_at > now);
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────────────────────────────

  private raise(
    k: string,
    x: { tenant: string; device_id: string; kind: Alert['kind']; rule_id: string; rule_type: string; title: string; level: AlertLevel; standard: string; value: number | null; ts: number; region: string | null; site: string | null; historical: boolean },
  ): void {
    const now = this.ctx.clock.now();
    const alert: Omit<Alert, 'id'> = {
      tenant: x.tenant,
      device_id: x.device_id,
      kind: x.kind,
      rule_id: x.rule_id,
      rule_type: x.rule_type,
      title: x.title,
      level: x.level,
      standard: x.standard,
      condition: 'active',
      handling: 'new',
      count: 1,
      first_value: x.value,
      last_value: x.value,
      peak_value: x.value,
      raised_at: x.ts,
      last_at: x.ts,
      cleared_at: null,
      updated_at: now,
      region: x.region,
      site: x.site,
      historical: x.historical,
      created_at: now,
      silenced: this.isSilenced(x, now),
      flapping: false,
      escalations: 0,
      acknowledged_by: null,
      acknowledged_at: null,
      assignee: null,
      closed_by: null,
      closed_at: null,
      disposition: null,
    };
    const ev = this.ctx.store.insertWithEvent(alert, 'raised', 'system', alert.silenced ? 'silenced' : null);
    // Keep our own copy: the published event must not change when the open alert does.
    this.open.set(k, { ...ev.alert });
    this.flip(k, 'active', x.value, x.ts);
    this.ctx.metrics.alertsOpen.set(this.open.size);
    this.publish(ev);
  }

  /** Counts a condition flip; true when it makes the alert start flapping. */
  private flip(k: string, condition: 'active' | 'cleared', value: number | null, ts: number): boolean {
    const now = this.ctx.clock.now();
    let f = this.flaps.get(k);
    if (!f) {
      f = { flips: [], latest: condition, lastValue: value, lastTs: ts };
      this.flaps.set(k, f);
    }
    if (f.latest !== condition || f.flips.length === 0) f.flips.push(now);
    f.latest = condition;
    f.lastValue = value;
    f.lastTs = ts;
    while (f.flips.length > 0 && now - (f.flips[0] as number) > this.policy.flapWindowMs) f.flips.shift();
    const a = this.open.get(k);
    return !!a && !a.flapping && f.flips.length > this.policy.flapFlips;
  }

  private endFlapping(k: string, a: Alert, f: FlapState | undefined): void {
    a.flapping = false;
    a.updated_at = this.ctx.clock.now();
    if (f?.latest === 'cleared') {
      a.condition = 'cleared';
      a.cleared_at = f.lastTs;
    }
    if (f) f.flips = [];
    this.record(a, 'flapping_ended', 'system', `stable for ${this.policy.flapWindowMs / 60_000} min; condition ${a.condition}`);
    if (a.condition === 'cleared') this.maybeAutoClose(k, a);
  }

  private maybeAutoClose(k: string, a: Alert): void {
    if (a.condition !== 'cleared' || a.flapping || !this.policy.autoCloseLevels.includes(a.level)) return;
    // domain.md §7.3: a device clear alone never closes a level 1–2 alert — also one whose level has since dropped
    // (gas 二级 falling back through 一级 to clear, with ALERT_AUTO_CLOSE_LEVELS=3,4). Its events hold every level it had.
    if (this.ctx.store.eventsOf(a.id).some((e) => e.alert.level <= 2)) return;
    this.closeAlert(a, 'system', 'auto_resolved', 'condition cleared');
    this.flaps.delete(k);
  }

  private closeAlert(a: Alert, actor: string, disposition: Disposition, note: string): AlertEvent {
    const now = this.ctx.clock.now();
    a.handling = 'closed';
    a.closed_by = actor;
    a.closed_at = now;
    a.disposition = disposition;
    a.flapping = false;
    a.updated_at = now;
    const k = key(a.tenant, a.device_id, a.rule_id, a.historical);
    if (a.condition === 'active' && !a.historical) this.closedWhileActive.add(k);
    const ev = this.record(a, 'closed', actor, note);
    this.open.delete(k);
    this.ctx.metrics.alertsOpen.set(this.open.size);
    return ev;
  }

  private record(a: Alert, type: AlertEventType, actor: string, note: string | null): AlertEvent {
    const ev = this.ctx.store.update(a, { type, actor, note }) as AlertEvent;
    this.publish(ev);
    return ev;
  }

  private mustBeOpen(id: number, verb: string): Alert {
    const stored = this.ctx.store.get(id);
    if (!stored) throw new RiskgateError('RG_ERR_API_NOT_FOUND', `no alert ${id}`);
    const a = this.open.get(key(stored.tenant, stored.device_id, stored.rule_id, stored.historical));
    if (!a || a.id !== id) throw new RiskgateError('RG_ERR_ALERT_INVALID_TRANSITION', `cannot ${verb} alert ${id}: it is closed`);
    return a;
  }

  private isOffline(d: { tenant: string; deviceId: string }): boolean {
    for (const a of this.open.values()) {
      if (a.rule_type === 'offline' && a.condition === 'active' && !a.historical && a.tenant === d.tenant && a.device_id === d.deviceId) return true;
    }
    return false;
  }

  private isSilenced(x: { tenant: string; device_id: string; site: string | null; rule_id: string }, now: number): boolean {
    return this.silenceList.some(
      (s) =>
        s.starts_at <= now &&
        now < s.ends_at &&
        (s.tenant === null || s.tenant === x.tenant) &&
        (s.device_id === null || s.device_id === x.device_id) &&
        (s.site === null || s.site === x.site) &&
        (s.rule_id === null || s.rule_id === x.rule_id),
    );
  }

  private publish(ev: AlertEvent): void {
    this.ctx.metrics.alertEvents.inc({ type: ev.type });
    this.ctx.bus.emit('alertEvent', ev);
  }
}

function key(tenant: string, deviceId: string, ruleId: string, historical: boolean): string {
  return `${tenant}\u0000${deviceId}\u0000${ruleId}${historical ? '\u0000h' : ''}`;
}
