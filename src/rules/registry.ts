import { offlineEvaluator } from './evaluators/offline.js';
import { thresholdEvaluator } from './evaluators/threshold.js';
import type { RuleBase, RuleEvaluator } from './types.js';

/** Every rule type the engine knows, by its `type` key. Adding a type = adding one evaluator here. */
export const EVALUATORS: Record<string, RuleEvaluator<RuleBase, unknown>> = {
  threshold: thresholdEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  offline: offlineEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
};
