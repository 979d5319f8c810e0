import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { DEVICE_INPUT_SCHEMA } from '../registry/device-registry.js';

// riskgate-capture/1: gzipped JSON lines. Line 1 is the header, every further line one MQTT message
// `{t, topic, payload}`. docs/captures.md describes the format; it is the one place that parses or writes it.

/** Value of the header's `format`; a reader refuses any other. */
export const CAPTURE_FORMAT = 'riskgate-capture/1';

/** Something that happened during the recording, at `t` ms from its start (ignition, fault episode…). */
export interface CaptureEvent {
  /** Offset from the capture's start, ms. */
  t: number;
  /** Short label, from the source where it has one (`Ignition`, `Thermal Runaway`). */
  label: string;
  /** End of an episode, ms from the start; absent for an instant. */
  t_end?: number;
}

const EVENT_SCHEMA = z.strictObject({ t: z.number().min(0), label: z.string().min(1), t_end: z.number().min(0).optional() });

/** Registry entries (the seed-file form, snake_case) of the devices a replay needs. */
export type CaptureDevice = z.output<typeof DEVICE_INPUT_SCHEMA>;

const HEADER_SCHEMA = z.looseObject({
  format: z.literal(CAPTURE_FORMAT),
  /** Where the messages came from: a data file and its upstream, or the broker and topic filter recorded. */
  source: z.string().min(1),
  /** Licence of the data (`CC BY 4.0`, `MIT`); `unspecified` for recordings of unknown origin. */
  licence: z.string(),
  /** The attribution text the licence requires, verbatim; empty when none is required. */
  attribution: z.string(),
  /** Registry entries needed to replay (REGISTRY_SEED). */
  devices: z.array(DEVICE_INPUT_SCHEMA),
  /** Tool and version that wrote it. */
  created_by: z.string().min(1),
  /** Source time of `t = 0`, epoch ms (informative: a replay with --rebase-time moves device times anyway). */
  start_ts: z.number().optional(),
  events: z.array(EVENT_SCHEMA).optional(),
  notes: z.array(z.string()).optional(),
});

/** The header line. Unknown keys are kept (a later minor revision may add some). */
export type CaptureHeader = z.infer<typeof HEADER_SCHEMA>;

/**
 * One recorded message. Exactly one of `payload` (JSON whose `JSON.stringify` is the published bytes),
 * `payload_text` (UTF-8 text that is not such JSON) or `payload_b64` (anything else) is present.
 */
export interface CaptureMessage {
  /** Offset from the capture's start, ms. */
  t: number;
  topic: string;
  payload?: unknown;
  payload_text?: string;
  payload_b64?: string;
  /** Received as a retained message; replayed with the retain flag. */
  retain?: boolean;
}

const MESSAGE_SCHEMA = z
  .strictObject({
    t: z.number().min(0),
    topic: z.string().min(1),
    payload: z.unknown().optional(),
    payload_text: z.string().optional(),
    payload_b64: z.base64().optional(),
    retain: z.boolean().optional(),
  })
  .refine((m) => [m.payload, m.payload_text, m.payload_b64].filter((p) => p !== undefined).length === 1, {
    message: 'needs exactly one of payload, payload_text, payload_b64',
  });

/** A whole capture in memory. */
export interface Capture {
  header: CaptureHeader;
  /** In file order, which is `t` order. */
  messages: CaptureMessage[];
}

/** A capture line that is not what the format says; `line` is 1-based in the decompressed text. */
export class CaptureFormatError extends Error {
  constructor(
    readonly path: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${path}:${line}: ${reason}`);
    this.name = 'CaptureFormatError';
  }
}

/** Reads and validates a capture file (gzipped; a plain `.jsonl` is read as is). */
export function readCapture(path: string): Capture {
  const raw = readFileSync(path);
  // gzip magic 1f 8b; multi-member files (as `record` writes them) decompress as one stream.
  const text = (raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw).toString('utf8');
  return parseCapture(text, path);
}

/** Parses the decompressed text of a capture. */
export function parseCapture(text: string, path = 'capture'): Capture {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0) throw new CaptureFormatError(path, 1, 'empty file: the header line is missing');
  const header = HEADER_SCHEMA.safeParse(parseJsonLine(lines[0] as string, path, 1));
  if (!header.success) throw new CaptureFormatError(path, 1, `bad header: ${z.prettifyError(header.error).replaceAll('\n', '; ')}`);
  const messages: CaptureMessage[] = [];
  let lastT = 0;
  for (let i = 1; i < lines.length; i++) {
    const m = MESSAGE_SCHEMA.safeParse(parseJsonLine(lines[i] as string, path, i + 1));
    if (!m.success) throw new CaptureFormatError(path, i + 1, `bad message: ${z.prettifyError(m.error).replaceAll('\n', '; ')}`);
    if (m.data.t < lastT) throw new CaptureFormatError(path, i + 1, `t ${m.data.t} is before the previous line's ${lastT}: messages must be in time order`);
    lastT = m.data.t;
    messages.push(m.data as CaptureMessage);
  }
  return { header: header.data, messages };
}

/** The capture as text: header line, then one line per message. */
export function formatCapture(capture: Capture): string {
  const out = [JSON.stringify(capture.header)];
  for (const m of capture.messages) out.push(JSON.stringify(m));
  return `${out.join('\n')}\n`;
}

/**
 * Writes a capture gzipped, via a temporary file and a rename (a reader never sees half a file). Deterministic: the
 * same capture gives the same bytes (Node's gzip header carries no time stamp), so re-importing is diff-free.
 */
export function writeCapture(path: string, capture: Capture): number {
  const bytes = gzipSync(formatCapture(capture), { level: 9 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return bytes.length;
}

/** The bytes to publish for a message. */
export function payloadBytes(m: CaptureMessage): Buffer {
  if (m.payload !== undefined) return Buffer.from(JSON.stringify(m.payload), 'utf8');
  if (m.payload_text !== undefined) return Buffer.from(m.payload_text, 'utf8');
  return Buffer.from(m.payload_b64 ?? '', 'base64');
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** How received bytes are stored so that {@link payloadBytes} gives them back exactly. */
export function encodePayload(bytes: Uint8Array): Pick<CaptureMessage, 'payload' | 'payload_text' | 'payload_b64'> {
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return { payload_b64: Buffer.from(bytes).toString('base64') };
  }
  try {
    const json: unknown = JSON.parse(text);
    // Only when re-serialising gives the same bytes: `{"a": 1.0}` is kept as text, or a replay would send `{"a":1}`.
    if (JSON.stringify(json) === text) return { payload: json };
  } catch {
    // not JSON: kept as text
  }
  return { payload_text: text };
}

function parseJsonLine(line: string, path: string, lineNo: number): unknown {
  try {
    return JSON.parse(line);
  } catch (err) {
    throw new CaptureFormatError(path, lineNo, `not JSON: ${(err as Error).message}`);
  }
}

/** Writes the capture's devices as a registry seed file (REGISTRY_SEED; JSON is YAML). */
export function writeRegistrySeed(path: string, captures: readonly Capture[]): number {
  const devices = captures.flatMap((c) => c.header.devices);
  writeFileSync(path, `${JSON.stringify({ description: 'devices of riskgate captures (riskgate replay --seed-out)', devices }, null, 2)}\n`);
  return devices.length;
}
