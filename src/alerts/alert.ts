import type { KindName } from '../kinds/kind.js';
import type { AlertLevel } from '../rules/types.js';

/** Condition dimension: is the device still in the alarming state? */
export type AlertCondition = 'active' | 'cleared';
/** Handling dimension (闭环处置, domain.md §7.3). */
export type AlertHandling = 'new' | 'acknowledged' | 'closed';

/** Why an alert was closed (required to close; domain.md §7.3). `auto_resolved`: closed by the system on clear. */
export const DISPOSITIONS = ['real_incident', 'false_alarm', 'test', 'device_fault', 'maintenance', 'auto_resolved'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** Operator-facing names of the dispositions. */
export const DISPOSITION_LABELS_ZH: Record<Disposition, string> = {
  real_incident: '真实警情',
  false_alarm: '误报',
  test: '测试',
  device_fault: '设备故障',
  maintenance: '维护保养',
  auto_resolved: '自动恢复',
};

/** One alert: at most one open (not closed) per (tenant, device, rule). Stored and sent snake_case. */
export interface Alert {
  id: number;
  tenant: string;
  device_id: string;
  /** Device kind; `gateway` for gateway-level alerts (ingest stalled). */
  kind: KindName | 'gateway';
  rule_id: string;
  rule_type: string;
  /** Operator-facing title (Simplified Chinese). */
  title: string;
  level: AlertLevel;
  standard: string;
  condition: AlertCondition;
  handling: AlertHandling;
  /** Firing evaluations seen while open. */
  count: number;
  first_value: number | null;
  last_value: number | null;
  /** Worst value seen while open (max, or min for `lower is worse` rules). */
  peak_value: number | null;
  /** Device time it was raised, epoch ms. */
  raised_at: number;
  /** Device time of the latest firing evaluation. */
  last_at: number;
  cleared_at: number | null;
  /** Gateway time of the latest change. */
  updated_at: number;
  region: string | null;
  site: string | null;
  /** Raised from back-dated data: recorded, never paged as live. */
  historical: boolean;
  /** Gateway time it was raised, epoch ms (escalation deadlines count from here). */
  created_at: number;
  /** Raised inside a silence / maintenance window: recorded and streamed, never notified or escalated. */
  silenced: boolean;
  /** Flipping more than the rule allows: transitions are held until it is stable. */
  flapping: boolean;
  /** Times it was escalated for being left unacknowledged. */
  escalations: number;
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  assignee: string | null;
  closed_by: string | null;
  closed_at: number | null;
  disposition: Disposition | null;
}

/** Kinds of alert events; each is a transition recorded with a `seq`. */
export const ALERT_EVENT_TYPES = [
  'raised',
  'level_changed',
  'cleared',
  'reactivated',
  'acknowledged',
  'assigned',
  'commented',
  'closed',
  'escalated',
  'flapping_started',
  'flapping_ended',
] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

/** A transition of an alert: monotonically increasing `seq`, with the alert as it stood after the transition. */
export interface AlertEvent {
  seq: number;
  type: AlertEventType;
  alert_id: number;
  /** Gateway time, epoch ms. */
  at: number;
  /** `system` for rule-driven transitions, the user for manual ones. */
  actor: string;
  note: string | null;
  alert: Alert;
}
