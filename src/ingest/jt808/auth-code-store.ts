import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Which registry device a terminal is. */
export interface TerminalRef {
  tenant: string;
  deviceId: string;
}

/** One phone's binding to a device, as the store keeps it (the code itself only as a hash). */
export interface AuthCodeRecord extends TerminalRef {
  /** Normalized phone (leading zeros dropped, see `normalizePhone`). */
  phone: string;
  /** Gateway time the code was issued, epoch ms. */
  issuedAt: number;
}

/**
 * Auth codes handed out in 0x8100 and checked at 0x0102 (domain.md §5.6). A phone holds at most one code and is bound
 * to one device; a device is bound to at most one phone. Synchronous: it runs on the connection's data path.
 */
export interface AuthCodeStore {
  /**
   * Issues a fresh code for `phone` bound to `ref` and persists it before returning: any earlier code of the phone and
   * any other phone's binding of the device are replaced (the server decides beforehand whether that is allowed).
   */
  issue(phone: string, ref: TerminalRef, now: number): string;
  /** The binding when `code` is the current code of `phone`; undefined otherwise. Compares in constant time. */
  check(phone: string, code: string): AuthCodeRecord | undefined;
  findByPhone(phone: string): AuthCodeRecord | undefined;
  findByDevice(ref: TerminalRef): AuthCodeRecord | undefined;
  /** Forgets the code of `phone` (0x0003 logout, an operator unbinding a terminal); true when there was one. */
  revoke(phone: string): boolean;
}

/** Random bytes per code. 8 bytes → 16 upper-case hex characters: fits the 2019 code_len BYTE and any terminal's buffer. */
export const AUTH_CODE_BYTES = 8;

/** A fresh random auth code (ASCII, so it is the same in GBK). */
export function generateAuthCode(): string {
  return randomBytes(AUTH_CODE_BYTES).toString('hex').toUpperCase();
}

/** SHA-256 of a code: stores keep only this, so a leaked store does not leak live codes. */
export function hashAuthCode(code: string): Buffer {
  return createHash('sha256').update(code, 'utf8').digest();
}

/** Constant-time comparison of a candidate code against a stored hash. */
export function authCodeMatches(code: string, storedHash: Buffer): boolean {
  const h = hashAuthCode(code);
  return h.length === storedHash.length && timingSafeEqual(h, storedHash);
}

interface MemoryEntry extends AuthCodeRecord {
  hash: Buffer;
}

/** An {@link AuthCodeStore} in a Map: for tests and single-process use where codes may be lost on restart. */
export class MemoryAuthCodeStore implements AuthCodeStore {
  private readonly byPhone = new Map<string, MemoryEntry>();

  issue(phone: string, ref: TerminalRef, now: number): string {
    const code = generateAuthCode();
    for (const [p, e] of this.byPhone) if (p !== phone && e.tenant === ref.tenant && e.deviceId === ref.deviceId) this.byPhone.delete(p);
    this.byPhone.set(phone, { phone, tenant: ref.tenant, deviceId: ref.deviceId, issuedAt: now, hash: hashAuthCode(code) });
    return code;
  }

  check(phone: string, code: string): AuthCodeRecord | undefined {
    const e = this.byPhone.get(phone);
    return e && authCodeMatches(code, e.hash) ? record(e) : undefined;
  }

  findByPhone(phone: string): AuthCodeRecord | undefined {
    const e = this.byPhone.get(phone);
    return e && record(e);
  }

  findByDevice(ref: TerminalRef): AuthCodeRecord | undefined {
    for (const e of this.byPhone.values()) if (e.tenant === ref.tenant && e.deviceId === ref.deviceId) return record(e);
    return undefined;
  }

  revoke(phone: string): boolean {
    return this.byPhone.delete(phone);
  }
}

function record(e: MemoryEntry): AuthCodeRecord {
  return { phone: e.phone, tenant: e.tenant, deviceId: e.deviceId, issuedAt: e.issuedAt };
}
