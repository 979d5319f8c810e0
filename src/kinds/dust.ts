import { z } from 'zod';
import type { FieldInfo, KindDefinition } from './kind.js';
import { splitScalars } from './validate.js';

// Field set: domain.md §2.2 (AQ 4273-2016, 粉尘涉爆 监测预警 感知数据采集指南). Bounds marked "chosen" are ours:
// domain.md gives typical values only.

/** Chosen: −40…+400 °C — outdoor winter to a hopper fire (alarm at 70 °C, AQ 4273 §5.1.4 c); rejects sensor
 * sentinels such as −999 or 6553.5 and raw tenths of a hot reading (700 for 70.0 °C). */
const temperatureC = z.number().min(-40).max(400);
/** Chosen: ±20 kPa — dedusting fans develop 1–8 kPa; suction systems read negative (domain.md §2.2). Int per domain. */
const pressurePa = z.int().min(-20_000).max(20_000);

const schema = z
  .strictObject({
    hopper_temp_c: temperatureC.optional(),
    inlet_temp_c: temperatureC.optional(),
    outlet_temp_c: temperatureC.optional(),
    diff_pressure_pa: pressurePa.optional(),
    inlet_pressure_pa: pressurePa.optional(),
    outlet_pressure_pa: pressurePa.optional(),
    // Chosen: 0–60 m/s; dust conveying ducts run 15–25 m/s.
    air_velocity_ms: z.number().min(0).max(60).optional(),
    fan_running: z.boolean().optional(),
    unloader_running: z.boolean().optional(),
    unloader_fault: z.boolean().optional(),
    // domain.md §2.2: "bool / count". A count is stored as `spark_count` and `spark_detected = count > 0`, so the
    // stored `spark_detected` is always boolean (InfluxDB rejects a field that changes type).
    spark_detected: z
      .union([z.boolean(), z.int().min(0).max(1_000_000)], { error: 'must be a boolean or a spark count (integer ≥ 0)' })
      .optional(),
    spark_extinguish_fired: z.boolean().optional(),
    isolation_valve_state: z.enum(['open', 'closed', 'fault']).optional(),
    vent_state: z.enum(['intact', 'ruptured']).optional(),
    suppression_state: z.enum(['ready', 'discharged', 'fault']).optional(),
    pulse_cleaning: z.boolean().optional(),
    // Chosen: 0–100 000 mg/m³ covers triboelectric in-duct monitors into the explosive range (LEL of most dusts
    // 20–60 g/m³).
    dust_conc_mgm3: z.number().min(0).max(100_000).optional(),
    // Chosen: 0–20 m — a collector's water tank is a few metres deep; rejects millimetres sent as metres.
    water_level_m: z.number().min(0).max(20).optional(),
    // Chosen: 0–10 000 m³/h (wet collectors circulate tens to hundreds of m³/h).
    water_flow: z.number().min(0).max(10_000).optional(),
    // Chosen: −0.2…10 MPa — gauge pressure, full vacuum is −0.101 MPa; rejects kPa sent as MPa (300).
    water_pressure_mpa: z.number().min(-0.2).max(10).optional(),
    h2_conc_lel: z.number().min(0).max(100).optional(),
  })
  .refine((data) => Object.keys(data).length > 0, {
    message: 'must contain at least one field',
    params: { rule: 'empty_object' },
    when: (payload) => payload.issues.length === 0,
  });

/** Validated `data` of a dust-explosion dedusting system, dry or wet (domain.md §2.2). */
export type DustData = z.infer<typeof schema>;

const FIELDS: Record<string, FieldInfo> = {
  hopper_temp_c: { unit: '°C', labelZh: '灰斗温度' },
  inlet_temp_c: { unit: '°C', labelZh: '进风口温度' },
  outlet_temp_c: { unit: '°C', labelZh: '出风口温度' },
  diff_pressure_pa: { unit: 'Pa', labelZh: '进出口压差' },
  inlet_pressure_pa: { unit: 'Pa', labelZh: '进口风压' },
  outlet_pressure_pa: { unit: 'Pa', labelZh: '出口风压' },
  air_velocity_ms: { unit: 'm/s', labelZh: '风速' },
  fan_running: { unit: '', labelZh: '风机运行' },
  unloader_running: { unit: '', labelZh: '锁气卸灰阀运行' },
  unloader_fault: { unit: '', labelZh: '锁气卸灰故障' },
  spark_detected: { unit: '', labelZh: '火花探测' },
  spark_count: { unit: '', labelZh: '火花次数' },
  spark_extinguish_fired: { unit: '', labelZh: '火花熄灭动作' },
  isolation_valve_state: { unit: '', labelZh: '隔爆阀' },
  vent_state: { unit: '', labelZh: '泄爆装置' },
  suppression_state: { unit: '', labelZh: '抑爆装置' },
  pulse_cleaning: { unit: '', labelZh: '清灰' },
  dust_conc_mgm3: { unit: 'mg/m³', labelZh: '粉尘浓度' },
  water_level_m: { unit: 'm', labelZh: '水箱水位' },
  water_flow: { unit: 'm³/h', labelZh: '循环水流量' },
  water_pressure_mpa: { unit: 'MPa', labelZh: '水压' },
  h2_conc_lel: { unit: '%LEL', labelZh: '氢气浓度' },
};

function toFields(data: DustData): ReturnType<KindDefinition<DustData>['toFields']> {
  const out = splitScalars(data);
  if (typeof data.spark_detected === 'number') {
    out.fields.spark_count = data.spark_detected;
    out.fields.spark_detected = data.spark_detected > 0;
  }
  return out;
}

/**
 * Dust-explosion risk monitoring of a dedusting system (粉尘涉爆). `fields` also lists the string tags
 * (`isolation_valve_state`, `vent_state`, `suppression_state`, unit `''`).
 */
export const dustKind: KindDefinition<DustData> = {
  name: 'dust',
  labelZh: '粉尘涉爆监测',
  dataSchema: schema,
  toFields,
  fields: FIELDS,
};
