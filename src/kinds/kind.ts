import type { z } from 'zod';
import type { FieldValue } from '../pipeline/reading.js';

/** The five device kinds riskgate accepts (domain.md §0). */
export const KIND_NAMES = ['gas', 'dust', 'electrical_fire', 'smoke', 'vehicle'] as const;
export type KindName = (typeof KIND_NAMES)[number];

export function isKindName(value: string): value is KindName {
  return (KIND_NAMES as readonly string[]).includes(value);
}

/** Describes one stored field: unit and operator-facing label. */
export interface FieldInfo {
  /** Unit symbol as operators read it (`%LEL`, `°C`, `mA`), empty for flags and counts. */
  unit: string;
  /** Simplified Chinese label for the console. */
  labelZh: string;
}

/** What the pipeline needs to know about a device kind: its wire schema and how a payload becomes fields. */
export interface KindDefinition<Data extends Record<string, unknown> = Record<string, unknown>> {
  name: KindName;
  /** Simplified Chinese name of the kind (`燃气泄漏报警`). */
  labelZh: string;
  /** zod schema of the envelope's `data` object (strict: unknown keys are rejected). */
  dataSchema: z.ZodType<Data>;
  /** Splits validated data into numeric/boolean fields and string tags; flattens arrays (`temp_c[0]` → `temp_c_1`). */
  toFields(data: Data): { fields: Record<string, FieldValue>; tags: Record<string, string> };
  /** Every field name `toFields` may produce, with unit and label. */
  fields: Record<string, FieldInfo>;
}
