import { z } from 'zod';
import type { FieldInfo, KindDefinition } from './kind.js';
import { splitScalars } from './validate.js';

// Field set: domain.md §3.2 (GB 14287.1–.4, GB 50116-2013 ch.9). Bounds marked "chosen" are ours: domain.md gives
// typical values only; each bound is wide enough for real meters and tight enough to catch a current/voltage swap
// or a raw register sent unscaled.

/** Chosen: −40…+400 °C. Typical −20…150 °C, but a cable or terminal on fire reads far higher. */
const temperatureC = z.number().min(-40).max(400);
/** At least one phase; `{}` carries nothing. */
const phases = <T extends z.ZodType>(value: T) =>
  z
    .strictObject({ a: value.optional(), b: value.optional(), c: value.optional() })
    .refine((p) => p.a !== undefined || p.b !== undefined || p.c !== undefined, {
      message: 'must contain at least one phase (a, b, c)',
      params: { rule: 'empty_object' },
      when: (payload) => payload.issues.length === 0,
    });

const schema = z
  .strictObject({
    // domain.md §3.2: 0–1000 mA typical, meters often measure to 2000.
    residual_current_ma: z.int().min(0).max(2000).optional(),
    // Chosen: 1–2000 mA — settable 20–1000 per vendor datasheets (⚠️), never above what the meter measures.
    residual_set_ma: z.int().min(1).max(2000).optional(),
    // Channels 1..4 in order (`temp_c[0]` is channel 1 → stored as `temp_c_1`).
    temp_c: z.array(temperatureC).min(1).max(4).optional(),
    // Chosen: 0–400 °C, same scale as the measurement; settable 55–140 °C is unverified (❓).
    temp_set_c: z.number().min(0).max(400).optional(),
    // Chosen: 0–6300 A per phase — the largest LV air circuit breaker frame (6300 A) bounds a phase current.
    current_a: phases(z.number().min(0).max(6300)).optional(),
    // Chosen: 0–500 V per phase — 220 V phase / 380 V line nominal plus surge margin.
    voltage_v: phases(z.number().min(0).max(500)).optional(),
    // Chosen: 0–120 — a 1 s window holds 100 half-cycles at 50 Hz (120 at 60 Hz). GB 50166-2019 §4.8.6: alarm ≥ 14.
    arc_halfcycles_1s: z.int().min(0).max(120).optional(),
    arc_alarm: z.boolean().optional(),
    sensor_fault: z.boolean().optional(),
    trip_output: z.boolean().optional(),
    // Chosen: ±5000 kW — √3 × 400 V × 6300 A ≈ 4365 kW; negative = reverse flow (on-site PV).
    power_kw: z.number().min(-5000).max(5000).optional(),
    // Signed power factor (some meters sign it by flow direction).
    pf: z.number().min(-1).max(1).optional(),
    // Chosen: 0–1e9 kWh, a cumulative register; rejects negatives.
    energy_kwh: z.number().min(0).max(1e9).optional(),
  })
  .refine((data) => Object.keys(data).length > 0, {
    message: 'must contain at least one field',
    params: { rule: 'empty_object' },
    when: (payload) => payload.issues.length === 0,
  });

/** Validated `data` of an electrical-fire monitoring detector (domain.md §3.2). */
export type ElectricalFireData = z.infer<typeof schema>;

const PHASE_ZH = { a: 'A相', b: 'B相', c: 'C相' } as const;

const FIELDS: Record<string, FieldInfo> = {
  residual_current_ma: { unit: 'mA', labelZh: '剩余电流' },
  residual_set_ma: { unit: 'mA', labelZh: '剩余电流报警设定值' },
  ...Object.fromEntries(
    [1, 2, 3, 4].map((n) => [`temp_c_${n}`, { unit: '°C', labelZh: `线缆/接点温度(通道${n})` }]),
  ),
  temp_set_c: { unit: '°C', labelZh: '温度报警设定值' },
  ...Object.fromEntries(
    (['a', 'b', 'c'] as const).flatMap((p) => [
      [`current_a_${p}`, { unit: 'A', labelZh: `相电流(${PHASE_ZH[p]})` }],
      [`voltage_v_${p}`, { unit: 'V', labelZh: `相电压(${PHASE_ZH[p]})` }],
    ]),
  ),
  arc_halfcycles_1s: { unit: '', labelZh: '故障电弧半周期数/秒' },
  arc_alarm: { unit: '', labelZh: '故障电弧报警' },
  sensor_fault: { unit: '', labelZh: '互感器/探头故障' },
  trip_output: { unit: '', labelZh: '脱扣/控制输出' },
  power_kw: { unit: 'kW', labelZh: '有功功率' },
  pf: { unit: '', labelZh: '功率因数' },
  energy_kwh: { unit: 'kWh', labelZh: '电能' },
};

function toFields(data: ElectricalFireData): ReturnType<KindDefinition<ElectricalFireData>['toFields']> {
  // splitScalars skips the array and the phase objects; they are flattened below.
  const out = splitScalars(data);
  const { temp_c: temps, current_a: current, voltage_v: voltage } = data;
  if (temps) for (let i = 0; i < temps.length; i++) out.fields[`temp_c_${i + 1}`] = temps[i] as number;
  if (current) {
    if (current.a !== undefined) out.fields.current_a_a = current.a;
    if (current.b !== undefined) out.fields.current_a_b = current.b;
    if (current.c !== undefined) out.fields.current_a_c = current.c;
  }
  if (voltage) {
    if (voltage.a !== undefined) out.fields.voltage_v_a = voltage.a;
    if (voltage.b !== undefined) out.fields.voltage_v_b = voltage.b;
    if (voltage.c !== undefined) out.fields.voltage_v_c = voltage.c;
  }
  return out;
}

/** Electrical fire monitoring (电气火灾监控): residual current, cable temperatures, phases, fault arcs. */
export const electricalFireKind: KindDefinition<ElectricalFireData> = {
  name: 'electrical_fire',
  labelZh: '电气火灾监控',
  dataSchema: schema,
  toFields,
  fields: FIELDS,
};
