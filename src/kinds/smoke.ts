import { z } from 'zod';
import type { FieldInfo, KindDefinition } from './kind.js';
import { splitScalars } from './validate.js';

// Field set: domain.md §4.3 (GB 20517-2025, GB 4715-2024), plus the device identifiers gas detectors send
// (`imei`, `iccid`, `fw_version`) because networked smoke alarms are the same NB-IoT/Cat.1 hardware class.
// Bounds marked "chosen" are ours: domain.md gives typical values only.

const schema = z
  .strictObject({
    // Chosen: 0–10 dB/m. Alarm thresholds sit at 0.05–0.3 dB/m (GB 4715-2024); 10 dB/m is 90 % obscuration per
    // metre, beyond any scattered-light chamber. A raw vendor index (0–1000) belongs in `smoke_index` instead.
    smoke_db_m: z.number().min(0).max(10).optional(),
    // Many NB devices send a raw 0–1000 index instead of dB/m (domain.md §4.3 ⚠️).
    smoke_index: z.int().min(0).max(1000).optional(),
    alarm: z.boolean().optional(),
    alarm_cleared: z.boolean().optional(),
    // domain.md §4.3: "bool / code". A code is stored as `fault_code` and `fault = code ≠ 0`, so the stored `fault`
    // is always boolean (InfluxDB rejects a field that changes type).
    fault: z
      .union([z.boolean(), z.int().min(0).max(65_535)], { error: 'must be a boolean or a fault code (integer 0–65535)' })
      .optional(),
    low_battery: z.boolean().optional(),
    // Chosen: 0–15 V covers 3.0–3.6 V lithium and 9 V cells; rejects millivolts sent as volts (3600).
    battery_v: z.number().min(0).max(15).optional(),
    battery_pct: z.int().min(0).max(100).optional(),
    muted: z.boolean().optional(),
    self_test: z.enum(['ok', 'fail']).optional(),
    tamper: z.boolean().optional(),
    removed: z.boolean().optional(),
    chamber_dirty: z.boolean().optional(),
    // Chosen: −40…+200 °C — NTC heat elements in composite alarms read to about 125 °C; rejects raw tenths of a
    // room temperature (250 for 25.0 °C).
    temperature_c: z.number().min(-40).max(200).optional(),
    interconnect_alarm: z.boolean().optional(),
    rsrp_dbm: z.int().min(-140).max(-44).optional(),
    // Chosen: same as gas — NB-IoT SNR about −20…+40 dB.
    snr_db: z.int().min(-30).max(50).optional(),
    ecl: z.int().min(0).max(2).optional(),
    // E-UTRAN cell identity is 28 bits (3GPP TS 36.331).
    cell_id: z.int().min(0).max(0x0fff_ffff).optional(),
    imei: z.string().regex(/^\d{15,16}$/, { error: 'must be a 15–16 digit IMEI' }).optional(),
    iccid: z.string().regex(/^[0-9A-Fa-f]{18,22}$/, { error: 'must be an 18–22 digit ICCID' }).optional(),
    fw_version: z.string().regex(/^[\x20-\x7E]{1,64}$/, { error: 'must be 1–64 printable ASCII characters' }).optional(),
  })
  .refine((data) => Object.keys(data).length > 0, {
    message: 'must contain at least one field',
    params: { rule: 'empty_object' },
    when: (payload) => payload.issues.length === 0,
  });

/** Validated `data` of a networked standalone smoke alarm (domain.md §4.3). */
export type SmokeData = z.infer<typeof schema>;

const FIELDS: Record<string, FieldInfo> = {
  smoke_db_m: { unit: 'dB/m', labelZh: '烟雾浓度' },
  smoke_index: { unit: '', labelZh: '烟雾浓度(原始值)' },
  alarm: { unit: '', labelZh: '火警' },
  alarm_cleared: { unit: '', labelZh: '火警解除' },
  fault: { unit: '', labelZh: '故障' },
  fault_code: { unit: '', labelZh: '故障代码' },
  low_battery: { unit: '', labelZh: '电池欠压' },
  battery_v: { unit: 'V', labelZh: '电池电压' },
  battery_pct: { unit: '%', labelZh: '电量' },
  muted: { unit: '', labelZh: '消音' },
  self_test: { unit: '', labelZh: '自检' },
  tamper: { unit: '', labelZh: '防拆' },
  removed: { unit: '', labelZh: '拆除' },
  chamber_dirty: { unit: '', labelZh: '传感部件污染' },
  temperature_c: { unit: '°C', labelZh: '温度' },
  interconnect_alarm: { unit: '', labelZh: '联动报警' },
  rsrp_dbm: { unit: 'dBm', labelZh: '信号强度(RSRP)' },
  snr_db: { unit: 'dB', labelZh: '信噪比(SNR)' },
  ecl: { unit: '', labelZh: '覆盖等级(ECL)' },
  cell_id: { unit: '', labelZh: '小区ID' },
  imei: { unit: '', labelZh: 'IMEI' },
  iccid: { unit: '', labelZh: 'ICCID' },
  fw_version: { unit: '', labelZh: '固件版本' },
};

function toFields(data: SmokeData): ReturnType<KindDefinition<SmokeData>['toFields']> {
  const out = splitScalars(data);
  if (typeof data.fault === 'number') {
    out.fields.fault_code = data.fault;
    out.fields.fault = data.fault !== 0;
  }
  return out;
}

/** Networked standalone smoke alarm (智能烟感). `fields` also lists the string tags (`self_test`, ids; unit `''`). */
export const smokeKind: KindDefinition<SmokeData> = {
  name: 'smoke',
  labelZh: '烟感',
  dataSchema: schema,
  toFields,
  fields: FIELDS,
};
