import { baselineDeviationEvaluator } from './evaluators/baseline-deviation.js';
import { continuousDrivingEvaluator } from './evaluators/continuous-driving.js';
import { expressionEvaluator } from './evaluators/expression.js';
import { geofenceEvaluator } from './evaluators/geofence.js';
import { offlineEvaluator } from './evaluators/offline.js';
import { overspeedEvaluator } from './evaluators/overspeed.js';
import { rateOfChangeEvaluator } from './evaluators/rate-of-change.js';
import { repeatingEvaluator } from './evaluators/repeating.js';
import { stateEvaluator } from './evaluators/state.js';
import { thresholdEvaluator } from './evaluators/threshold.js';
import { timeWindowEvaluator } from './evaluators/time-window.js';
import type { RuleBase, RuleEvaluator } from './types.js';

/** Every rule type the engine knows, by its `type` key. Adding a type = adding one evaluator here. */
export const EVALUATORS: Record<string, RuleEvaluator<RuleBase, unknown>> = {
  threshold: thresholdEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  offline: offlineEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  repeating: repeatingEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  state: stateEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  rate_of_change: rateOfChangeEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  baseline_deviation: baselineDeviationEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  expression: expressionEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  time_window: timeWindowEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  continuous_driving: continuousDrivingEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  overspeed: overspeedEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
  geofence: geofenceEvaluator as unknown as RuleEvaluator<RuleBase, unknown>,
};
