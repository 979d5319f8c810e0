import type { KindName } from '../kinds/kind.js';
import type { AlertLevel } from '../rules/types.js';

/** Condition dimension: is the device still in the alarming state? */
export type AlertCondition = 'active' | 'cleared';
/** Handling dimension (闭环处置, domain.md §7.3). */
export type AlertHandling = 'new' | 'acknowledged' | 'closed';

/** One alert: at most one open (not closed) per (tenant, device, rule). Stored and sent snake_case. */
export interface Alert {
  id: number;
  tenant: string;
  device_id: string;
  kind: KindName;
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
}

/** Kinds of alert events; each is a transition recorded with a `seq`. */
export type AlertEventType = 'raised' | 'level_changed' | 'cleared' | 'reactivated';

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
