import type { Device } from '../../registry/device-registry.js';
import type { Logger } from '../../lib/logger.js';
import type { TerminalRef } from './auth-code-store.js';
import { normalizePhone } from './codec/bcd.js';
import type { TerminalQuery } from './server-context.js';

/** What the index reads of the registry (DeviceRegistry fits). */
export interface VehicleSource {
  list(filter: { kind: 'vehicle' }): Device[];
  get(tenant: string, deviceId: string): Device | undefined;
  readonly size: number;
}

/**
 * Registry attributes a vehicle's terminal is found by at 0x0100 (docs/jt808.md "Registry attributes"):
 * - `jt808_phone`: the terminal's SIM / phone (header BCD digits, leading zeros ignored). Without it a `device_id`
 *   made of 1–20 digits is taken as the phone (the demo fleet's convention: `013912345678`).
 * - `terminal_id`: the 0x0100 终端ID (7 characters in 2013, up to 30 in 2019), compared exactly.
 * - `plate`: the plate (or the VIN for an unplated vehicle), compared without spaces, `·` and `-`, upper-cased.
 */
export const JT808_ATTRS = { phone: 'jt808_phone', terminalId: 'terminal_id', plate: 'plate' } as const;

/** Phone of a vehicle as the index keys it (normalized), or undefined when it has none. */
export function vehiclePhone(d: Device): string | undefined {
  const attr = d.attrs[JT808_ATTRS.phone];
  if (attr !== undefined && attr !== '' && typeof attr !== 'boolean') {
    const digits = String(attr).trim();
    if (/^\d{1,20}$/.test(digits)) return normalizePhone(digits);
    return undefined;
  }
  return /^\d{1,20}$/.test(d.deviceId) ? normalizePhone(d.deviceId) : undefined;
}

/** A plate as compared: no spaces, `·`, `•`, `-` or `.`, upper case (`川A·D1234` and `川AD1234` are one plate). */
export function normalizePlate(plate: string): string {
  return plate.replace(/[\s·•\-.]/g, '').toUpperCase();
}

function attrString(d: Device, name: string): string | undefined {
  const v = d.attrs[name];
  if (v === undefined || typeof v === 'boolean') return undefined;
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

const AMBIGUOUS = 'ambiguous';
type Slot = TerminalRef | typeof AMBIGUOUS;

/** How often the index may be rebuilt because of a miss, ms: a flood of unknown terminals costs one scan per period. */
const MISS_REBUILD_MS = 2_000;

/**
 * `findTerminal` over the registry's vehicles: maps of phone, terminal id and plate → device, rebuilt from the
 * registry when it changed (its size differs, a hit no longer matches its device, or a miss after `MISS_REBUILD_MS`).
 * A key shared by two devices is ambiguous and finds nothing (logged): registration must not pick one at random.
 */
export class TerminalIndex {
  private phones = new Map<string, Slot>();
  private terminalIds = new Map<string, Slot>();
  private plates = new Map<string, Slot>();
  private builtSize = -1;
  private builtAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly registry: VehicleSource,
    private readonly now: () => number,
    private readonly logger?: Logger,
  ) {}

  /** The `findTerminal` of the server context. */
  find(q: TerminalQuery): TerminalRef | undefined {
    if (this.registry.size !== this.builtSize) this.rebuild();
    const hit = this.lookup(q);
    if (hit === AMBIGUOUS) return undefined;
    if (hit && this.stillMatches(hit, q)) return hit;
    // A stale hit (device deleted or changed), or a miss: the registry may have changed since the last build.
    if (hit || this.now() - this.builtAt >= MISS_REBUILD_MS) {
      this.rebuild();
      const again = this.lookup(q);
      return again === AMBIGUOUS ? undefined : again;
    }
    return undefined;
  }

  /** Rebuilds the maps from the registry now. */
  rebuild(): void {
    const phones = new Map<string, Slot>();
    const terminalIds = new Map<string, Slot>();
    const plates = new Map<string, Slot>();
    const put = (map: Map<string, Slot>, key: string | undefined, ref: TerminalRef, what: string): void => {
      if (key === undefined) return;
      const had = map.get(key);
      if (had === undefined) map.set(key, ref);
      else if (had !== AMBIGUOUS && (had.tenant !== ref.tenant || had.deviceId !== ref.deviceId)) {
        map.set(key, AMBIGUOUS);
        this.logger?.warn({ [what]: key, devices: [`${had.tenant}/${had.deviceId}`, `${ref.tenant}/${ref.deviceId}`] }, `jt808: two vehicles share one ${what}; terminals registering with it are refused`);
      }
    };
    for (const d of this.registry.list({ kind: 'vehicle' })) {
      const ref = { tenant: d.tenant, deviceId: d.deviceId };
      put(phones, vehiclePhone(d), ref, 'phone');
      put(terminalIds, attrString(d, JT808_ATTRS.terminalId), ref, 'terminal_id');
      const plate = attrString(d, JT808_ATTRS.plate);
      put(plates, plate === undefined ? undefined : normalizePlate(plate), ref, 'plate');
    }
    this.phones = phones;
    this.terminalIds = terminalIds;
    this.plates = plates;
    this.builtSize = this.registry.size;
    this.builtAt = this.now();
  }

  private lookup(q: TerminalQuery): Slot | undefined {
    switch (q.by) {
      case 'phone':
        return this.phones.get(q.phone);
      case 'terminal_id':
        return this.terminalIds.get(q.terminalId.trim());
      case 'plate':
        return this.plates.get(normalizePlate(q.plate));
    }
  }

  private stillMatches(ref: TerminalRef, q: TerminalQuery): boolean {
    const d = this.registry.get(ref.tenant, ref.deviceId);
    if (!d || d.kind !== 'vehicle') return false;
    switch (q.by) {
      case 'phone':
        return vehiclePhone(d) === q.phone;
      case 'terminal_id':
        return attrString(d, JT808_ATTRS.terminalId) === q.terminalId.trim();
      case 'plate': {
        const plate = attrString(d, JT808_ATTRS.plate);
        return plate !== undefined && normalizePlate(plate) === normalizePlate(q.plate);
      }
    }
  }
}
