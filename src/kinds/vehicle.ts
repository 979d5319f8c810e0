import { z } from 'zod';
import type { FieldInfo, KindDefinition } from './kind.js';
import { splitScalars } from './validate.js';

// The JSON form of a JT/T 808-2019 0x0200 location report (domain.md §5.3–§5.5), as the jt808 adapter produces it
// and as MQTT terminals send it. Coordinates are signed decimal degrees (hemisphere bits already applied).
// Bounds marked "chosen" are ours where the standard only fixes the wire type.

const uint32 = z.int().min(0).max(0xffff_ffff);
// Chosen: 0–300 km/h (brief/domain); the WORD field allows 6553.5 km/h, which only garbage reaches.
const speedKmh = z.number().min(0).max(300);

const schema = z
  .strictObject({
    lat: z.number().min(-90).max(90).optional(),
    lon: z.number().min(-180).max(180).optional(),
    // Chosen: −500…9000 m — the Turpan depression is −154 m, Everest 8849 m.
    altitude_m: z.number().min(-500).max(9000).optional(),
    speed_kmh: speedKmh.optional(),
    // JT/T 808 §5.3: 0–359, north = 0, clockwise (integer on the wire; decimals from JSON terminals are fine).
    heading_deg: z.number().min(0).max(359).optional(),
    alarm_bits: uint32.optional(),
    status_bits: uint32.optional(),
    acc_on: z.boolean().optional(),
    located: z.boolean().optional(),
    // Extra 0x01 is DWORD 1/10 km. Chosen: ≤ 10 000 000 km — no odometer gets there; rejects 0xFFFFFFFF sentinels.
    mileage_km: z.number().min(0).max(10_000_000).optional(),
    // Extra 0x02 is WORD 1/10 L. Chosen: ≤ 5000 L — rejects the 0xFFFF sentinel (6553.5 L).
    fuel_l: z.number().min(0).max(5000).optional(),
    recorder_speed_kmh: speedKmh.optional(),
    // Extra 0x30 is a BYTE whose scale varies by vendor (CSQ 0–31, or percent).
    signal_strength: z.int().min(0).max(255).optional(),
    // Extra 0x31 is a BYTE. Chosen: ≤ 100 — a multi-constellation receiver tracks at most about 60; rejects 0xFF.
    satellites: z.int().min(0).max(100).optional(),
    ext_vehicle_bits: uint32.optional(), // extra 0x25
    io_status: z.int().min(0).max(0xffff).optional(), // extra 0x2A
    // 0x0704 data_type 1 (盲区补报): stored with its own device time, never paged live (domain.md §5.3).
    backfill: z.boolean().optional(),
  })
  .refine((data) => Object.keys(data).length > 0, {
    message: 'must contain at least one field',
    params: { rule: 'empty_object' },
    when: (payload) => payload.issues.length === 0,
  });

/** Validated `data` of a JT/T 808 vehicle terminal location report. */
export type VehicleData = z.infer<typeof schema>;

const FIELDS: Record<string, FieldInfo> = {
  lat: { unit: '°', labelZh: '纬度' },
  lon: { unit: '°', labelZh: '经度' },
  altitude_m: { unit: 'm', labelZh: '高程' },
  speed_kmh: { unit: 'km/h', labelZh: '速度' },
  heading_deg: { unit: '°', labelZh: '方向' },
  alarm_bits: { unit: '', labelZh: '报警标志' },
  status_bits: { unit: '', labelZh: '状态' },
  acc_on: { unit: '', labelZh: 'ACC开' },
  located: { unit: '', labelZh: '已定位' },
  mileage_km: { unit: 'km', labelZh: '里程' },
  fuel_l: { unit: 'L', labelZh: '油量' },
  recorder_speed_kmh: { unit: 'km/h', labelZh: '行驶记录仪速度' },
  signal_strength: { unit: '', labelZh: '网络信号强度' },
  satellites: { unit: '', labelZh: 'GNSS定位卫星数' },
  ext_vehicle_bits: { unit: '', labelZh: '扩展车辆信号状态位' },
  io_status: { unit: '', labelZh: 'IO状态位' },
  backfill: { unit: '', labelZh: '盲区补报' },
};

function toFields(data: VehicleData): ReturnType<KindDefinition<VehicleData>['toFields']> {
  const out = splitScalars(data);
  const status = data.status_bits;
  if (status !== undefined) {
    // JT/T 808 table "状态位" (domain.md §5.5): bit0 ACC 开, bit1 已定位. Explicit fields win over the bits.
    // `&` converts through int32, which keeps the low 32 bits, so it is exact for every uint32.
    if (data.acc_on === undefined) out.fields.acc_on = (status & 0b01) !== 0;
    if (data.located === undefined) out.fields.located = (status & 0b10) !== 0;
  }
  return out;
}

/** Road-transport dynamic monitoring terminal (两客一危, JT/T 808 0x0200 location). */
export const vehicleKind: KindDefinition<VehicleData> = {
  name: 'vehicle',
  labelZh: '车辆动态监控',
  dataSchema: schema,
  toFields,
  fields: FIELDS,
};
