import http from 'node:http';
import https from 'node:https';
import { InfluxDB, type IPoint, type IPoolOptions } from 'influx';
import type { FieldValue } from '../pipeline/reading.js';
import { pointLine } from './line-protocol.js';
import type { Point, PointWriter } from './point.js';

/** Options of the InfluxDB 1.x API backend (also served by InfluxDB 2.x/3.x for compatibility). */
export interface InfluxV1PointWriterOptions {
  /** Base URL, `http://host:8086`. */
  url: string;
  database: string;
  username?: string;
  password?: string;
  /** `start()` creates the database when it is missing (needs admin rights when auth is on). Default true. */
  createDatabase?: boolean;
  /** Per-request timeout, ms. Default 30_000. */
  requestTimeoutMs?: number;
  /** Timeout of `ping()`, ms. Default 2000. */
  pingTimeoutMs?: number;
}

/**
 * The `influx` pool disables a host for an exponential backoff after a network error or a 5xx and
 * fails every request meanwhile with "No host available". Retrying is the batcher's job, so the host
 * stays enabled and each write is exactly one request.
 */
const NO_BACKOFF: NonNullable<IPoolOptions['backoff']> = {
  getDelay: () => 0,
  next: () => NO_BACKOFF,
  reset: () => NO_BACKOFF,
};

/** Points turned into line protocol between two turns of the event loop. */
const LINE_CHUNK = 1000;

/** Writes batches through the 1.x `/write` API with the `influx` package. */
export class InfluxV1PointWriter implements PointWriter {
  readonly name = 'influx-v1';
  private client: InfluxDB | undefined;
  private writeUrl: URL | undefined;
  private agent: http.Agent | undefined;
  private authHeader: string | undefined;

  constructor(private readonly opts: InfluxV1PointWriterOptions) {}

  async start(): Promise<void> {
    const url = new URL(this.opts.url);
    const client = new InfluxDB({
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      host: url.hostname,
      port: url.port === '' ? (url.protocol === 'https:' ? 443 : 8086) : Number(url.port),
      path: url.pathname === '/' ? '' : url.pathname,
      database: this.opts.database,
      username: this.opts.username,
      password: this.opts.password,
      pool: { maxRetries: 0, backoff: NO_BACKOFF, requestTimeout: this.opts.requestTimeoutMs ?? 30_000 },
    });
    if (this.opts.createDatabase ?? true) {
      const names = await client.getDatabaseNames();
      if (!names.includes(this.opts.database)) await client.createDatabase(this.opts.database);
    }
    const base = this.opts.url.replace(/\/+$/, '');
    this.writeUrl = new URL(`${base}/write?${new URLSearchParams({ db: this.opts.database, precision: 'ms' }).toString()}`);
    this.agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: 2 }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
    // The package's own default when no credentials are configured is root:root; InfluxDB ignores them with auth off.
    this.authHeader = this.opts.username === undefined ? undefined : `Basic ${Buffer.from(`${this.opts.username}:${this.opts.password ?? ''}`).toString('base64')}`;
    this.client = client;
  }

  async write(points: readonly Point[]): Promise<void> {
    if (this.client === undefined) throw new Error('influx-v1 writer is not started');
    // The body writePoints would send (line-protocol.ts writes it byte for byte), POSTed directly: the package's
    // writePoints parsed, sorted and regex-escaped every point again — the largest allocator of this path (issue 9).
    // Built LINE_CHUNK points at a time with a turn of the event loop between: a 5000-point batch built in one go held
    // readings and alerts back by ~10 ms each second.
    const lines: string[] = [];
    for (let i = 0; i < points.length; i++) {
      if (i > 0 && i % LINE_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
      const ip = toInfluxPoint(points[i] as Point);
      if (ip !== undefined) lines.push(pointLine(ip.measurement as string, ip.tags as Record<string, string>, ip.fields as Record<string, FieldValue>, ip.timestamp as number));
    }
    if (lines.length === 0) return;
    // join() builds one flat string; `+=` built a rope 5000 deep that encoding had to flatten first.
    const body = lines.join('\n');
    const res = await postText(this.writeUrl as URL, body, this.authHeader, this.opts.requestTimeoutMs ?? 30_000, this.agent);
    // One request, no retry: retrying (with backoff, order kept) is the batcher's job.
    if (res.status !== 204 && res.status !== 200) throw new Error(`InfluxDB /write answered ${res.status}: ${res.text.slice(0, 300)}`);
  }

  /** The points' line protocol, one line each (a point with nothing writable left out): what `write` would send. */
  encode(points: readonly Point[]): string {
    const lines: string[] = [];
    for (let i = 0; i < points.length; i++) {
      const ip = toInfluxPoint(points[i] as Point);
      if (ip !== undefined) lines.push(pointLine(ip.measurement as string, ip.tags as Record<string, string>, ip.fields as Record<string, FieldValue>, ip.timestamp as number));
    }
    // join() gives one flat string: held until the batch is written, one object for the collector, not a rope of pieces.
    return lines.join('\n');
  }

  /** Sends the `encode`d chunks as one batch: the body `write` would send for all their points. */
  async writeEncoded(chunks: readonly string[]): Promise<void> {
    if (this.client === undefined) throw new Error('influx-v1 writer is not started');
    const body = chunks.filter((c) => c !== '').join('\n');
    if (body === '') return;
    const res = await postText(this.writeUrl as URL, body, this.authHeader, this.opts.requestTimeoutMs ?? 30_000, this.agent);
    if (res.status !== 204 && res.status !== 200) throw new Error(`InfluxDB /write answered ${res.status}: ${res.text.slice(0, 300)}`);
  }

  async ping(): Promise<boolean> {
    if (this.client === undefined) return false;
    const hosts = await this.client.ping(this.opts.pingTimeoutMs ?? 2000);
    return hosts.some((h) => h.online);
  }

  async stop(): Promise<void> {
    this.client = undefined;
    this.agent?.destroy();
    this.agent = undefined;
  }
}

/**
 * Without a schema the `influx` package writes a number as `String(n)` — a float in line protocol,
 * never an `i` integer — so a field's type cannot flip between batches ("field type conflict").
 * Non-finite numbers have no line-protocol form and would make the server reject the whole batch
 * (400) again on every retry; they are left out, and a point left without fields is skipped.
 * Empty tag values are invalid line protocol too.
 */
function toInfluxPoint(p: Point): IPoint | undefined {
  const fields = allWritable(p.fields) ? p.fields : writableOnly(p.fields);
  if (!hasKeys(fields)) return undefined;
  const tags = noEmptyTag(p.tags) ? p.tags : Object.fromEntries(Object.entries(p.tags).filter(([, v]) => v !== ''));
  return { measurement: p.measurement, tags, fields, timestamp: p.timeMs };
}

// Loops rather than Object.values(): no array per point for the common case (issue 9).
function allWritable(fields: Record<string, FieldValue>): boolean {
  for (const k in fields) if (!isWritable(fields[k] as FieldValue)) return false;
  return true;
}

function noEmptyTag(tags: Record<string, string>): boolean {
  for (const k in tags) if (tags[k] === '') return false;
  return true;
}

function isWritable(v: FieldValue): boolean {
  return typeof v === 'boolean' || Number.isFinite(v);
}

function writableOnly(fields: Record<string, FieldValue>): Record<string, FieldValue> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => isWritable(v)));
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * POSTs a text body with node:http (a keep-alive agent of its own): the string is encoded once, where fetch
 * first checked it for lone surrogates and copied it through a web stream — 7 % of the hot path (issue 9 profile).
 */
function postText(url: URL, body: string, authorization: string | undefined, timeoutMs: number, agent: http.Agent | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    // Encoded once (byteLength and a string write would each scan it).
    const bytes = Buffer.from(body, 'utf8');
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', 'content-length': bytes.length };
    if (authorization !== undefined) headers.authorization = authorization;
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'POST', headers, agent, timeout: timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (text.length < 4096) text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`InfluxDB /write timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(bytes);
  });
}

