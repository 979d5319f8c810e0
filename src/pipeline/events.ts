import type { AlertEvent } from '../alerts/alert.js';
import type { RuleSet } from '../rules/loader.js';

/** Every event of the gateway, in one typed map (past tense). */
export interface GatewayEvents {
  alertEvent: AlertEvent;
  rulesLoaded: RuleSet;
  batchWritten: { backend: string; points: number; ms: number };
}
