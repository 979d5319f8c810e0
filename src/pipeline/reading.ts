import type { KindName } from '../kinds/kind.js';

/** MQTT channel of the wire contract (ARCHITECTURE.md). */
export type Channel = 'telemetry' | 'event' | 'status';

/** Values a reading's field may hold once validated: numbers (SI-ish units in the name) and booleans. */
export type FieldValue = number | boolean;

/**
 * The one internal currency: every ingest adapter produces Readings and nothing downstream knows the wire format.
 */
export interface Reading {
  /** Tenant (enterprise) id, from the topic. */
  tenant: string;
  /** Device id, unique within the tenant. */
  deviceId: string;
  kind: KindName;
  channel: Channel;
  /** Device time, epoch ms (a zone-less device time is Asia/Shanghai). The point time in the store. */
  ts: number;
  /** Gateway receive time, epoch ms. */
  receivedAt: number;
  /** Device's own sequence number, when it sent one. */
  seq?: number;
  /** Numeric and boolean fields, English snake_case with units in the name (`concentration_lel`). */
  fields: Record<string, FieldValue>;
  /** String-valued attributes: enums from the payload (`gas_type`, `valve_state`) and registry tags (`region`, `site`). */
  tags: Record<string, string>;
  /**
   * True when the reading is known to be back-dated — evaluated as history, never paged live. Set by the pipeline for
   * an adapter's re-uploads (`IngestOptions.historical`: JT/T 808 0x0704 type 1); the rule engine also treats a
   * reading older than `RULE_HISTORY_CUTOFF_MS`, or than the device's latest, as history without it.
   */
  historical?: boolean;
}
