import { z } from 'zod';
import type { FieldInfo, KindDefinition } from './kind.js';
import { splitScalars } from './validate.js';

// Field set: domain.md §1.2 (GB 15322.1/.2-2019, GB/T 50493-2019). Bounds marked "chosen" are ours where the
// domain gives only typical values: wide enough for real detectors, tight enough to reject unit mix-ups.

/** %LEL by definition tops out at 100; detectors with > 100 %LEL ranges report `concentration_vol` (GB 15322.1 §3). */
const lel = z.number().min(0).max(100);

const schema = z
  .strictObject({
    gas_type: z.enum(['CH4', 'C3H8', 'LPG', 'CO', 'H2', 'VOC', 'O2']).optional(),
    concentration_lel: lel.optional(),
    // Chosen: up to 1 000 000 ppm (= 100 %VOL, the physical ceiling); int per domain.md §1.2.
    concentration_ppm: z.int().min(0).max(1_000_000).optional(),
    concentration_vol: z.number().min(0).max(100).optional(),
    alarm_level: z.literal([0, 1, 2]).optional(),
    set_low: lel.optional(),
    set_high: lel.optional(),
    sensor_fault: z.boolean().optional(),
    sensor_eol: z.boolean().optional(),
    preheating: z.boolean().optional(),
    valve_state: z.enum(['open', 'closed', 'fault']).optional(),
    fan_state: z.enum(['off', 'on', 'fault']).optional(),
    power_source: z.enum(['mains', 'battery']).optional(),
    mains_fault: z.boolean().optional(),
    battery_pct: z.int().min(0).max(100).optional(),
    // Chosen: 0–60 V covers 3.6 V Li cells and 12/24 V backup batteries (system detectors ≤ 36 V DC, GB 15322.1
    // §4.3.1) and rejects millivolts sent as volts (3600).
    battery_v: z.number().min(0).max(60).optional(),
    muted: z.boolean().optional(),
    self_test: z.enum(['ok', 'fail', 'running']).optional(),
    tamper: z.boolean().optional(),
    rsrp_dbm: z.int().min(-140).max(-44).optional(),
    // Chosen: NB-IoT/LTE modules report SNR/SINR in about −20…+40 dB; −30…50 leaves margin.
    snr_db: z.int().min(-30).max(50).optional(),
    ecl: z.int().min(0).max(2).optional(),
    // 3GPP TS 27.007 AT+CSQ: 0–31, 99 = not known.
    csq: z
      .int()
      .min(0)
      .max(99)
      .refine((v) => v <= 31 || v === 99, { message: 'must be 0–31, or 99 (not known)', params: { rule: 'invalid_value' } })
      .optional(),
    // Identifiers become tags: IMEI 15 digits (16 = IMEISV), ICCID 18–22 hex digits (some SIMs pad with F).
    imei: z.string().regex(/^\d{15,16}$/, { error: 'must be a 15–16 digit IMEI' }).optional(),
    iccid: z.string().regex(/^[0-9A-Fa-f]{18,22}$/, { error: 'must be an 18–22 digit ICCID' }).optional(),
    fw_version: z.string().regex(/^[\x20-\x7E]{1,64}$/, { error: 'must be 1–64 printable ASCII characters' }).optional(),
  })
  .refine((data) => Object.keys(data).length > 0, {
    message: 'must contain at least one field',
    params: { rule: 'empty_object' },
    // Only when the object itself parsed: `{"foo":1}` is an unknown key, not also an empty object.
    when: (payload) => payload.issues.length === 0,
  });

/** Validated `data` of a gas detector (domain.md §1.2). */
export type GasData = z.infer<typeof schema>;

const FIELDS: Record<string, FieldInfo> = {
  gas_type: { unit: '', labelZh: '检测气体' },
  concentration_lel: { unit: '%LEL', labelZh: '气体浓度' },
  concentration_ppm: { unit: 'ppm', labelZh: '浓度' },
  concentration_vol: { unit: '%VOL', labelZh: '体积浓度' },
  alarm_level: { unit: '', labelZh: '报警级别' },
  set_low: { unit: '%LEL', labelZh: '一级报警设定值' },
  set_high: { unit: '%LEL', labelZh: '二级报警设定值' },
  sensor_fault: { unit: '', labelZh: '传感器故障' },
  sensor_eol: { unit: '', labelZh: '传感器寿命到期' },
  preheating: { unit: '', labelZh: '预热' },
  valve_state: { unit: '', labelZh: '切断阀' },
  fan_state: { unit: '', labelZh: '排风机联动' },
  power_source: { unit: '', labelZh: '供电' },
  mains_fault: { unit: '', labelZh: '主电故障' },
  battery_pct: { unit: '%', labelZh: '电量' },
  battery_v: { unit: 'V', labelZh: '电池电压' },
  muted: { unit: '', labelZh: '消音' },
  self_test: { unit: '', labelZh: '自检' },
  tamper: { unit: '', labelZh: '防拆' },
  rsrp_dbm: { unit: 'dBm', labelZh: '信号强度(RSRP)' },
  snr_db: { unit: 'dB', labelZh: '信噪比(SNR)' },
  ecl: { unit: '', labelZh: '覆盖等级(ECL)' },
  csq: { unit: '', labelZh: '信号质量(CSQ)' },
  imei: { unit: '', labelZh: 'IMEI' },
  iccid: { unit: '', labelZh: 'ICCID' },
  fw_version: { unit: '', labelZh: '固件版本' },
};

/**
 * Combustible / toxic gas detector (可燃气体探测器, 燃气泄漏报警器). `fields` also lists the string tags
 * (`gas_type`, `valve_state`, …, unit `''`) so rules and the console can name them.
 */
export const gasKind: KindDefinition<GasData> = {
  name: 'gas',
  labelZh: '燃气泄漏报警',
  dataSchema: schema,
  toFields: splitScalars,
  fields: FIELDS,
};
