import type { ByteReader, ByteWriter } from '../bytes.js';

/** 0x8203 人工确认报警消息 (domain.md §5.3). */
export interface ManualAlarmConfirmationBody {
  /** msg_seq of the alarm's 0x0200 to confirm; 0 = every alarm of the types in `alarmType`. */
  alarmSerial: number;
  /**
   * Alarm bits to confirm (DWORD, same bit numbers as 0x0200 alarm flags): bit0 紧急, bit3 危险预警, bit20 进出区域,
   * bit21 进出路线, bit22 路段行驶时间, bit27 非法点火, bit28 非法位移.
   */
  alarmType: number;
}

/** Alarm bits 0x8203 may confirm (domain.md §5.3). */
export const MANUAL_CONFIRMABLE_ALARM_BITS = (1 << 0) | (1 << 3) | (1 << 20) | (1 << 21) | (1 << 22) | (1 << 27) | (1 << 28);

export function readManualAlarmConfirmation(r: ByteReader): ManualAlarmConfirmationBody {
  const body = { alarmSerial: r.u16('alarm_seq'), alarmType: r.u32('alarm_type') };
  r.end();
  return body;
}

export function writeManualAlarmConfirmation(w: ByteWriter, b: ManualAlarmConfirmationBody): void {
  w.u16(b.alarmSerial, 'alarm_seq').u32(b.alarmType, 'alarm_type');
}
