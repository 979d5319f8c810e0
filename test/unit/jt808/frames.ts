import type { Jt808Body } from '../../../src/ingest/jt808/index.js';
import type { Jt808Header } from '../../../src/ingest/jt808/index.js';

/** `7E 00 02 …` → bytes (spaces allowed). */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** Beijing wall-clock time → epoch ms. */
export function bj(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  return Date.UTC(y, mo - 1, d, h, mi, s) - 8 * 3_600_000;
}

export interface WorkedFrame {
  name: string;
  frame: Buffer;
  header: Partial<Jt808Header>;
  body: Jt808Body;
}

const PHONE_2019 = '00000000013912345678';

/** Every frame of domain.md §5.7, with what it decodes to. */
export const WORKED_FRAMES: WorkedFrame[] = [
  {
    name: 'A1 2019 0x0100 register',
    frame: hex(
      '7E01004054010000000001391234567800010033006437303131310000000000004A543830382D58310000000000000000000000000000000000000000000041314232433344000000000000000000000000000000000000000000000002B4A8413132333435747E',
    ),
    header: { msgId: 0x0100, version: 2019, protocolVersion: 1, phone: PHONE_2019, seq: 1, bodyLength: 84 },
    body: { type: 'register', layout: 2019, provinceId: 51, cityId: 100, makerId: '70111', model: 'JT808-X1', terminalId: 'A1B2C3D', plateColor: 2, plate: '川A12345' },
  },
  {
    name: 'A2 2019 0x8100 register reply',
    frame: hex('7E8100400B010000000001391234567800010001004155544832303139F97E'),
    header: { msgId: 0x8100, version: 2019, phone: PHONE_2019, seq: 1, bodyLength: 11 },
    body: { type: 'register_reply', replySeq: 1, result: 0, authCode: 'AUTH2019' },
  },
  {
    name: 'A3 2019 0x0102 authenticate',
    frame: hex(
      '7E0102402C0100000000013912345678000208415554483230313938363132333435363738393031323356312E302E3000000000000000000000000000000E7E',
    ),
    header: { msgId: 0x0102, version: 2019, phone: PHONE_2019, seq: 2, bodyLength: 44 },
    body: { type: 'authenticate', authCode: 'AUTH2019', imei: '861234567890123', softwareVersion: 'V1.0.0' },
  },
  {
    name: 'A4 2019 0x8001 answering 0x0102',
    frame: hex('7E80014005010000000001391234567800020002010200F67E'),
    header: { msgId: 0x8001, version: 2019, phone: PHONE_2019, seq: 2, bodyLength: 5 },
    body: { type: 'platform_general_reply', replySeq: 2, replyMsgId: 0x0102, result: 0 },
  },
  {
    name: 'B1 2013 0x0002 heartbeat with an escaped seq',
    frame: hex('7E 00 02 00 00 01 39 12 34 56 78 00 7D 01 4F 7E'),
    header: { msgId: 0x0002, version: 2013, phone: '013912345678', seq: 0x7d, bodyLength: 0 },
    body: { type: 'heartbeat' },
  },
  {
    name: 'B2 2013 0x8001 answering it',
    frame: hex('7E 80 01 00 05 01 39 12 34 56 78 01 00 00 7D 01 00 02 00 CA 7E'),
    header: { msgId: 0x8001, version: 2013, phone: '013912345678', seq: 0x100, bodyLength: 5 },
    body: { type: 'platform_general_reply', replySeq: 0x7d, replyMsgId: 0x0002, result: 0 },
  },
  {
    name: 'C 2019 0x0200 hazmat truck overspeeding',
    frame: hex(
      '7E0200402B0100000000013912345678000300000002004C000301D3CB8C0633EB3001F40358005A24031502351001040012D68730011931010C110100CE7E',
    ),
    header: { msgId: 0x0200, version: 2019, phone: PHONE_2019, seq: 3, bodyLength: 43 },
    body: {
      type: 'location',
      alarmBits: 0b10,
      statusBits: (1 << 0) | (1 << 1) | (1 << 18) | (1 << 19) | (1 << 22),
      latE6: 30_657_420,
      lonE6: 104_065_840,
      altitudeM: 500,
      speedDeciKmh: 856,
      direction: 90,
      time: bj(2024, 3, 15, 2, 35, 10),
      extras: [
        { id: 0x01, value: 1_234_567 },
        { id: 0x30, value: 25 },
        { id: 0x31, value: 12 },
        { id: 0x11, raw: Buffer.from([0]) },
      ],
    },
  },
  {
    name: 'D 2013 0x0704 blind-area backfill with two points',
    frame: hex(
      '7E0704003F0139123456780004000201001C000000000000000301D3CB8C0633EB3001F40258002D240315101000001C000000000000000301D3CDD00633EDC401F5026C002E240315101030A57E',
    ),
    header: { msgId: 0x0704, version: 2013, phone: '013912345678', seq: 4, bodyLength: 63 },
    body: {
      type: 'location_batch',
      dataType: 1,
      locations: [
        { alarmBits: 0, statusBits: 3, latE6: 30_657_420, lonE6: 104_065_840, altitudeM: 500, speedDeciKmh: 600, direction: 45, time: bj(2024, 3, 15, 10, 10, 0), extras: [] },
        { alarmBits: 0, statusBits: 3, latE6: 30_658_000, lonE6: 104_066_500, altitudeM: 501, speedDeciKmh: 620, direction: 46, time: bj(2024, 3, 15, 10, 10, 30), extras: [] },
      ],
    },
  },
  {
    name: 'SmallChi test vector: 2013 0x0200 with mileage and fuel',
    frame: hex('7E020000260112233445500000000000010000000200BA7F0E07E4F11C0028003C000018071510101001040000006402020037AB7E'),
    header: { msgId: 0x0200, version: 2013, phone: '011223344550', seq: 0, bodyLength: 38 },
    body: {
      type: 'location',
      alarmBits: 1,
      statusBits: 2,
      latE6: 12_222_222,
      lonE6: 132_444_444,
      altitudeM: 40,
      speedDeciKmh: 60,
      direction: 0,
      time: bj(2018, 7, 15, 10, 10, 10),
      extras: [
        { id: 0x01, value: 100 },
        { id: 0x02, value: 55 },
      ],
    },
  },
];
