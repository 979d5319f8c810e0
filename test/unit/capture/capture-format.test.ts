import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import {
  CAPTURE_FORMAT,
  CaptureFormatError,
  encodePayload,
  formatCapture,
  parseCapture,
  payloadBytes,
  readCapture,
  writeCapture,
  type Capture,
  type CaptureHeader,
} from '../../../src/capture/capture-format.js';

const tmp = mkdtempSync(join(tmpdir(), 'rg-capture-format-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HEADER: CaptureHeader = {
  format: CAPTURE_FORMAT,
  source: 'test',
  licence: 'MIT',
  attribution: 'Test data, MIT',
  devices: [{ tenant: 't1', device_id: 'gas-1', kind: 'gas', heartbeat_s: 10, attrs: {} }],
  created_by: 'test',
  start_ts: 1_700_000_000_000,
  events: [{ t: 1000, label: 'leak', t_end: 3000 }],
};

const CAPTURE: Capture = {
  header: HEADER,
  messages: [
    { t: 0, topic: 'rg/v1/t1/gas/gas-1/telemetry', payload: { ts: 1_700_000_000_000, data: { concentration_lel: 1.5 } } },
    { t: 1000, topic: 'rg/v1/t1/gas/gas-1/telemetry', payload_text: '{"ts": 1700000001000, "data": {}}' },
    { t: 1000, topic: 'rg/v1/t1/gas/gas-1/event', payload_b64: Buffer.from([0, 255, 1]).toString('base64'), retain: true },
  ],
};

describe('capture-format', () => {
  test('a capture survives write and read unchanged (gzipped JSON lines, header first)', () => {
    const path = join(tmp, 'round-trip.jsonl.gz');
    const bytes = writeCapture(path, CAPTURE);
    expect(bytes).toBeGreaterThan(0);
    expect(readCapture(path)).toEqual(CAPTURE);
  });

  test('writing is deterministic: the same capture gives the same bytes', () => {
    const a = join(tmp, 'a.jsonl.gz');
    const b = join(tmp, 'b.jsonl.gz');
    writeCapture(a, CAPTURE);
    writeCapture(b, CAPTURE);
    expect(readCapture(a)).toEqual(readCapture(b));
    expect(gzipSync(formatCapture(CAPTURE), { level: 9 })).toEqual(gzipSync(formatCapture(CAPTURE), { level: 9 }));
  });

  test('a file of two gzip members (as record writes it: header, then body) reads as one capture', () => {
    const text = formatCapture(CAPTURE);
    const [head, ...rest] = text.split('\n');
    const path = join(tmp, 'members.jsonl.gz');
    writeFileSync(path, Buffer.concat([gzipSync(`${head}\n`), gzipSync(rest.join('\n'))]));
    expect(readCapture(path)).toEqual(CAPTURE);
  });

  test('payload bytes come back exactly: canonical JSON as payload, other text as payload_text, binary as base64', () => {
    const cases: [Buffer, string][] = [
      [Buffer.from('{"ts":1,"data":{"a":1}}'), 'payload'],
      [Buffer.from('{"a": 1.0}'), 'payload_text'],
      [Buffer.from('hello 燃气'), 'payload_text'],
      [Buffer.from([0xff, 0xfe, 0x00]), 'payload_b64'],
      [Buffer.from(''), 'payload_text'],
    ];
    for (const [bytes, key] of cases) {
      const enc = encodePayload(bytes);
      expect(Object.keys(enc), bytes.toString('hex')).toEqual([key]);
      expect(payloadBytes({ t: 0, topic: 'x', ...enc })).toEqual(bytes);
    }
  });

  test.each([
    ['an empty file', '', 1, /header line is missing/],
    ['a header of another format', `${JSON.stringify({ ...HEADER, format: 'other/1' })}\n`, 1, /bad header/],
    ['a line that is not JSON', `${JSON.stringify(HEADER)}\n{"t":0,\n`, 2, /not JSON/],
    ['a message without a payload', `${JSON.stringify(HEADER)}\n${JSON.stringify({ t: 0, topic: 'a' })}\n`, 2, /exactly one of payload/],
    ['messages out of time order', `${JSON.stringify(HEADER)}\n{"t":5,"topic":"a","payload":1}\n{"t":4,"topic":"a","payload":1}\n`, 3, /time order/],
  ])('%s is refused with its line number', (_name, text, line, message) => {
    let err: unknown;
    try {
      parseCapture(text, 'c.jsonl');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).line).toBe(line);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(`c.jsonl:${line}:`);
  });
});
