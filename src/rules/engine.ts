import type { AlertService } from '../alerts/alert-service.js';
import type { ReadingSink } from '../pipeline/pipeline.js';
import type { Reading } from '../pipeline/reading.js';
import type { RuleSet } from './loader.js';
import { EVALUATORS } from './registry.js';
import type { RuleBase } from './types.js';

interface Slot {
  state: unknown;
  firing: boolean;
}

/**
 * Evaluates every rule of a reading's kind over per-(device, rule) state and hands transitions to the alert service.
 * Synchronous; state is bounded by devices × rules.
 */
export class RuleEngine implements ReadingSink {
  private rules: RuleSet;
  private readonly alerts: AlertService;
  private readonly slots = new Map<string, Slot>();

  constructor(ctx: { rules: RuleSet; alerts: AlertService }) {
    this.rules = ctx.rules;
    this.alerts = ctx.alerts;
  }

  /** Swaps the rule set; state of rules that still exist is kept. */
  setRules(rules: RuleSet): void {
    this.rules = rules;
  }

  get ruleSet(): RuleSet {
    return this.rules;
  }

  accept(reading: Reading): void {
    const rules = this.rules.byKind[reading.kind];
    for (let i = 0; i < rules.length; i++) this.evaluate(rules[i] as RuleBase, reading);
  }

  private evaluate(rule: RuleBase, reading: Reading): void {
    const evaluator = EVALUATORS[rule.type];
    if (!evaluator) return;
    const k = `${reading.tenant}\u0000${reading.deviceId}\u0000${rule.id}`;
    let slot = this.slots.get(k);
    if (!slot) {
      const open = this.alerts.openAlert(reading.tenant, reading.deviceId, rule.id);
      const active = open?.condition === 'active';
      slot = { state: evaluator.initialState(rule, active ? { level: open.level } : undefined), firing: active };
      this.slots.set(k, slot);
    }
    const result = evaluator.evaluate(rule, slot.state, reading);
    if (!result) return;
    if (result.status === 'firing') {
      slot.firing = true;
      this.alerts.firing(rule, reading, result);
    } else if (result.status === 'clear' && slot.firing) {
      slot.firing = false;
      this.alerts.cleared(rule, reading, result);
    }
  }
}
