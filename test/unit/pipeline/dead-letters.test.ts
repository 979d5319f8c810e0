import { describe, expect, test } from 'vitest';
import { DEAD_LETTER_PAYLOAD_EXCERPT_BYTES, DeadLetterLog, payloadExcerpt, REJECT_REASONS, type DeadLetter } from '../../../src/pipeline/dead-letters.js';
import { ERRORS } from '../../../src/lib/errors.js';

const T0 = Date.UTC(2025, 2, 15, 6, 0, 0);

/** Adds `n` rejects; tenants alternate t1, t2 unless given. */
function fill(log: DeadLetterLog, n: number, tenant?: string): DeadLetter[] {
  return Array.from({ length: n }, (_, i) =>
    log.add({ at: T0 + i, reason: 'malformed_json', source: 'mqtt', tenant: tenant ?? (i % 2 === 0 ? 't1' : 't2'), message: `reject ${i + 1}` }),
  );
}

const ids = (entries: DeadLetter[]): number[] => entries.map((e) => e.id);

describe('pipeline/dead-letters', () => {
  test('an entry gets an increasing id and the code of its reason', () => {
    const log = new DeadLetterLog(10);
    const [a, b] = [
      log.add({ at: T0, reason: 'bad_topic', source: 'mqtt', topic: 'x/y', message: 'bad topic' }),
      log.add({ at: T0, reason: 'schema_violation', source: 'http', tenant: 't1', path: 'data.concentration_lel', message: 'too big' }),
    ];
    expect(a).toMatchObject({ id: 1, code: 'RG_ERR_INGEST_BAD_TOPIC', topic: 'x/y' });
    expect(b).toMatchObject({ id: 2, code: 'RG_ERR_INGEST_SCHEMA_VIOLATION', path: 'data.concentration_lel' });
  });

  test('every reject reason maps to a catalogued error code', () => {
    for (const code of Object.values(REJECT_REASONS)) expect(ERRORS[code]).toBeDefined();
  });

  test.each([
    { capacity: 1, added: 5, size: 1, kept: [5] },
    { capacity: 3, added: 2, size: 2, kept: [2, 1] },
    { capacity: 3, added: 3, size: 3, kept: [3, 2, 1] },
    { capacity: 3, added: 10, size: 3, kept: [10, 9, 8] },
    { capacity: 4, added: 1000, size: 4, kept: [1000, 999, 998, 997] },
  ])('with capacity $capacity and $added rejects it keeps the newest $size, newest first', ({ capacity, added, size, kept }) => {
    const log = new DeadLetterLog(capacity);
    fill(log, added);
    expect(log.size).toBe(size);
    expect(ids(log.list())).toEqual(kept);
  });

  test('an empty log lists nothing', () => {
    expect(new DeadLetterLog(5).list()).toEqual([]);
    expect(new DeadLetterLog(5).size).toBe(0);
  });

  test.each([
    { name: 'a limit', opts: { limit: 3 }, want: [10, 9, 8] },
    { name: 'a tenant', opts: { tenant: 't1' }, want: [9, 7, 5, 3, 1] },
    { name: 'a tenant and a limit', opts: { tenant: 't2', limit: 2 }, want: [10, 8] },
    { name: 'beforeId', opts: { beforeId: 4 }, want: [3, 2, 1] },
    { name: 'beforeId and a tenant', opts: { beforeId: 8, tenant: 't2' }, want: [6, 4, 2] },
    { name: 'beforeId 1', opts: { beforeId: 1 }, want: [] },
    { name: 'an unknown tenant', opts: { tenant: 'nobody' }, want: [] },
  ])('lists with $name', ({ opts, want }) => {
    const log = new DeadLetterLog(100);
    fill(log, 10);
    expect(ids(log.list(opts))).toEqual(want);
  });

  test('the default limit is 100', () => {
    const log = new DeadLetterLog(500);
    fill(log, 300);
    expect(log.list()).toHaveLength(100);
  });

  test('paging with beforeId walks every entry once, newest first', () => {
    const log = new DeadLetterLog(50);
    fill(log, 120);
    const seen: number[] = [];
    let page = log.list({ limit: 7 });
    while (page.length > 0) {
      seen.push(...ids(page));
      page = log.list({ limit: 7, beforeId: page[page.length - 1]?.id });
    }
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => 120 - i));
  });

  test('paging with beforeId and a tenant stays within the tenant', () => {
    const log = new DeadLetterLog(20);
    fill(log, 20);
    const first = log.list({ tenant: 't1', limit: 4 });
    const second = log.list({ tenant: 't1', limit: 4, beforeId: first[first.length - 1]?.id });
    expect(ids(first)).toEqual([19, 17, 15, 13]);
    expect(ids(second)).toEqual([11, 9, 7, 5]);
  });
});

describe('pipeline/dead-letters payloadExcerpt', () => {
  const jt808 = Buffer.from('7e0200002601234567890100010000000000000c0002', 'hex');
  const cut = DEAD_LETTER_PAYLOAD_EXCERPT_BYTES;

  test.each([
    { name: 'JSON text as is', payload: Buffer.from('{"ts":1,"data":{"site":"一号厂房"}}'), want: '{"ts":1,"data":{"site":"一号厂房"}}' },
    { name: 'text with newlines and tabs as is', payload: Buffer.from('{\n\t"a": 1\r\n}'), want: '{\n\t"a": 1\r\n}' },
    { name: 'an empty payload as empty text', payload: Buffer.alloc(0), want: '' },
    { name: 'invalid UTF-8 as base64', payload: Buffer.from([0xff, 0xfe, 0x41]), want: `base64:${Buffer.from([0xff, 0xfe, 0x41]).toString('base64')}` },
    { name: 'a binary JT/T 808 frame as base64', payload: jt808, want: `base64:${jt808.toString('base64')}` },
    { name: 'NUL bytes as base64', payload: Buffer.from('ab\u0000cd'), want: `base64:${Buffer.from('ab\u0000cd').toString('base64')}` },
    { name: 'a UTF-8 character cut at the end of a short payload as base64', payload: Buffer.from('ab一').subarray(0, 4), want: `base64:${Buffer.from('ab一').subarray(0, 4).toString('base64')}` },
  ])('shows $name', ({ payload, want }) => {
    expect(payloadExcerpt(payload)).toBe(want);
  });

  test(`keeps only the first ${DEAD_LETTER_PAYLOAD_EXCERPT_BYTES} bytes`, () => {
    expect(payloadExcerpt(Buffer.from('x'.repeat(cut * 3)))).toBe('x'.repeat(cut));
    const binary = Buffer.alloc(cut * 2, 0xff);
    expect(payloadExcerpt(binary)).toBe(`base64:${binary.subarray(0, cut).toString('base64')}`);
  });

  test('long text cut in the middle of a character stays text', () => {
    // '一' is 3 bytes: 1 + 3k bytes of it puts the cut inside a character.
    const text = `{${'一'.repeat(cut)}}`;
    const excerpt = payloadExcerpt(Buffer.from(text));
    expect(excerpt).toBe(`{${'一'.repeat((cut - 1 - ((cut - 1) % 3)) / 3)}`);
    expect(Buffer.byteLength(excerpt)).toBeLessThanOrEqual(cut);
  });
});
