// Shared by the reliability tests: a generated fleet of gas detectors, a steady QoS 1 publisher that remembers what
// the broker acknowledged, and a sampler of /readyz and /metrics while a dependency is away.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { waitFor } from '../../helpers/services.js';

/** Tenant of the generated fleet (the fixture's t1, so its USCC is a valid one). */
export const TENANT = 't1';
export const REGION = '510104';
export const SITE = 'reliability';

/** Fields of one reading; every value is a function of (device, i), so the store can be checked exactly. */
export interface Fields {
  concentration_lel: number;
  battery_pct: number;
  rsrp_dbm: number;
}

/** Writes a registry seed file of `count` gas detectors into `dir`; returns its path and the device ids. */
export function writeFleet(dir: string, count: number): { file: string; devices: string[] } {
  const devices = Array.from({ length: count }, (_, k) => `rl-gas-${String(k + 1).padStart(2, '0')}`);
  const file = join(dir, 'fleet.yaml');
  writeFileSync(
    file,
    [
      'tenants:',
      `  - { tenant: ${TENANT}, name: 测试企业一, uscc: 91510104MA6CT0001U, region: "${REGION}" }`,
      'devices:',
      ...devices.map((id) => `  - { tenant: ${TENANT}, device_id: ${id}, kind: gas, region: "${REGION}", site: ${SITE}, heartbeat_s: 600 }`),
      '',
    ].join('\n'),
  );
  return { file, devices };
}

/** Reading `i` of device number `k`: low concentrations and a good battery, so no alert rule fires. */
export function fieldsOf(k: number, i: number): Fields {
  return { concentration_lel: ((i * 7 + k * 13) % 1000) / 100, battery_pct: 50 + ((i + k) % 51), rsrp_dbm: -60 - ((i * 3 + k) % 80) };
}

/**
 * Publishes one gas reading per device every `periodMs` (QoS 1, not awaited: a reading counts as published once the
 * broker acknowledged it). Device times are `baseMs + i * 10`: distinct per device and inside the accepted window.
 */
export class Stream {
  /** Device time of reading 0 (ten minutes back, whole second). */
  readonly baseMs = Math.floor((Date.now() - 10 * 60_000) / 1000) * 1000;
  /** Readings handed to the client, per device. */
  readonly sent: number[];
  /** Readings the broker acknowledged (PUBACK), per device: `acked[k]` holds the indices. */
  readonly acked: Set<number>[];
  readonly errors: string[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly client: MqttClient,
    readonly devices: readonly string[],
    private readonly periodMs: number,
  ) {
    this.sent = devices.map(() => 0);
    this.acked = devices.map(() => new Set<number>());
  }

  timeOf(i: number): number {
    return this.baseMs + i * 10;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.periodMs);
  }

  private tick(): void {
    this.devices.forEach((id, k) => {
      const i = this.sent[k]!++;
      const payload = JSON.stringify({ ts: this.timeOf(i), seq: i, data: fieldsOf(k, i) });
      const p = this.client.publishAsync(`rg/v1/${TENANT}/gas/${id}/telemetry`, payload, { qos: 1 }).then(
        () => void this.acked[k]!.add(i),
        (err: unknown) => void this.errors.push(`${id}#${i}: ${err instanceof Error ? err.message : String(err)}`),
      );
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    });
  }

  get sentTotal(): number {
    return this.sent.reduce((a, b) => a + b, 0);
  }

  get ackedTotal(): number {
    return this.acked.reduce((a, s) => a + s.size, 0);
  }

  /** Stops publishing and waits (at most `timeoutMs`) until every reading handed over was acknowledged or failed. */
  async stop(timeoutMs: number): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await waitFor(() => this.inflight.size === 0, { timeoutMs, intervalMs: 50, what: `the broker to acknowledge the last ${this.inflight.size} readings` });
  }
}

export interface Readyz {
  status: string;
  checks: Record<string, boolean>;
}

export async function readyz(httpUrl: string): Promise<{ status: number; body: Readyz }> {
  const res = await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: (await res.json()) as Readyz };
}

/** Every unlabelled sample and the sum over labels of each labelled one, from the gateway's /metrics text. */
export async function scrape(httpUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([-0-9.e+NaInf]+)$/.exec(line);
    if (!m) continue;
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + Number(m[3]));
  }
  return out;
}

/** One sample of /readyz and /metrics, `atMs` after the sampler started. */
export interface Sample {
  atMs: number;
  ready: number;
  checks: Record<string, boolean>;
  metrics: Map<string, number>;
}

/** Samples /readyz and /metrics every `periodMs` until stopped (errors, e.g. a slow scrape, are kept as such). */
export class Sampler {
  readonly samples: Sample[] = [];
  readonly errors: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  private readonly startedMs = Date.now();

  constructor(httpUrl: string, periodMs: number) {
    this.loop = (async () => {
      while (this.running) {
        try {
          const [r, metrics] = await Promise.all([readyz(httpUrl), scrape(httpUrl)]);
          this.samples.push({ atMs: Date.now() - this.startedMs, ready: r.status, checks: r.body.checks, metrics });
        } catch (err) {
          this.errors.push(err instanceof Error ? err.message : String(err));
        }
        await sleep(periodMs);
      }
    })();
  }

  /** Largest value of a metric over the samples (-Infinity when never seen). */
  max(name: string): number {
    let max = Number.NEGATIVE_INFINITY;
    for (const s of this.samples) {
      const v = s.metrics.get(name);
      if (v !== undefined && v > max) max = v;
    }
    return max;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
