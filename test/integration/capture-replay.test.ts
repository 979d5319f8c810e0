// Issue 6: every committed capture (devices/captures/, real recordings mapped onto riskgate devices) replayed at max
// speed with rebased time through a real Mosquitto into the real gateway with the default alert-rules; the alerts
// are the ones the recordings' events imply, and nothing is rejected. Then `record`: what was published is what the
// capture holds.
//
// Two settings differ from the defaults, because a max-speed replay compresses hours of device time into seconds of
// gateway time (docs/captures.md "Replaying at max speed"):
// - RULE_HISTORY_CUTOFF_MS = 7 d: the rebased recording lies up to 6 days back; evaluated as history it would split
//   every episode into a historical and a live alert. Here it is evaluated as the live stream it was.
// - ALERT_FLAP_FLIPS very high: flapping is counted in gateway time, so 9 overspeed episodes over 87 minutes arriving
//   within one second look like flapping and their transitions would be held.
// And INGEST_MAX_MESSAGES_PER_DEVICE_PER_S is raised: one device sends thousands of messages per second.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alert, AlertEvent } from '../../src/alerts/alert.js';
import { payloadBytes, readCapture, writeRegistrySeed, type Capture } from '../../src/capture/capture-format.js';
import { CaptureRecorder } from '../../src/capture/record.js';
import { replayCapture, type ReplayResult } from '../../src/capture/replay.js';
import type { SqlitePointWriter } from '../../src/storage/sqlite.js';
import { connectPublisher, metricValue, REPO_ROOT, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startMosquitto, waitFor, type RunningService } from '../helpers/services.js';

const CAPTURES_DIR = join(REPO_ROOT, 'devices/captures');
const FILES = readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.jsonl.gz')).sort();

interface Replayed {
  capture: Capture;
  result: ReplayResult;
  /** The device-time offset the replay applied. */
  offsetMs: number;
}

/** Data of one message of the capture (its payload's `data`) with its rebased device time. */
interface Sample {
  ts: number;
  deviceId: string;
  data: Record<string, unknown>;
}

function samples(r: Replayed): Sample[] {
  return r.capture.messages.map((m) => {
    const p = m.payload as { ts: number; data: Record<string, unknown> };
    return { ts: p.ts + r.offsetMs, deviceId: m.topic.split('/')[4] as string, data: p.data };
  });
}

/** Rebased device time of a capture event. */
function eventTs(r: Replayed, label: RegExp): number {
  const e = r.capture.header.events?.find((x) => label.test(x.label));
  if (!e) throw new Error(`no event ${label} in ${r.capture.header.source}`);
  return (r.capture.header.start_ts as number) + e.t + r.offsetMs;
}

describe('capture replay through Mosquitto into the gateway', () => {
  let mosquitto: RunningService;
  let gw: TestGateway;
  let tmp: string;
  const replayed = new Map<string, Replayed>();
  let alerts: Alert[] = [];
  const alertsOf = (deviceId: string, ruleId?: string): Alert[] => alerts.filter((a) => a.device_id === deviceId && (ruleId === undefined || a.rule_id === ruleId));
  const eventsOf = async (a: Alert): Promise<AlertEvent[]> => (await gw.api('GET', `/api/v1/alerts/${a.id}`)).json.events as AlertEvent[];
  const get = (file: string): Replayed => {
    const r = replayed.get(file);
    if (!r) throw new Error(`${file} was not replayed`);
    return r;
  };

  beforeAll(async () => {
    expect(FILES.length).toBeGreaterThanOrEqual(7);
    const captures = FILES.map((f) => [f, readCapture(join(CAPTURES_DIR, f))] as const);
    tmp = mkdtempSync(join(tmpdir(), 'rg-capture-'));
    const seed = join(tmp, 'seed.json');
    writeRegistrySeed(seed, captures.map(([, c]) => c));
    mosquitto = await startMosquitto();
    gw = await startTestGateway({
      MQTT_URL: mosquitto.url,
      REGISTRY_SEED: seed,
      INGEST_MAX_MESSAGES_PER_DEVICE_PER_S: '1000000',
      RULE_HISTORY_CUTOFF_MS: String(7 * 86_400_000),
      ALERT_FLAP_FLIPS: '1000000',
    });
    for (const [file, capture] of captures) {
      const result = await replayCapture(capture, { brokerUrl: mosquitto.url, speed: Infinity, rebaseTime: true });
      replayed.set(file, { capture, result, offsetMs: (result.passes[0] as { offsetMs: number }).offsetMs });
    }
    const total = captures.reduce((n, [, c]) => n + c.messages.length, 0);
    const seen = async (): Promise<number> =>
      (await metricValue(gw.httpUrl, 'riskgate_readings_accepted_total')) + (await metricValue(gw.httpUrl, 'riskgate_readings_rejected_total'));
    await waitFor(async () => (await seen()) >= total, { timeoutMs: 60_000, intervalMs: 200, what: `the gateway to take all ${total} replayed readings` });
    alerts = (await gw.api('GET', '/api/v1/alerts?limit=1000')).json.alerts as Alert[];
  });

  afterAll(async () => {
    await gw?.stop();
    await mosquitto?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('every replayed message is acknowledged and accepted: no rejects (the importer kept the defects out)', async () => {
    for (const [file, r] of replayed) expect(r.result.published, file).toBe(r.capture.messages.length);
    expect(await metricValue(gw.httpUrl, 'riskgate_readings_rejected_total')).toBe(0);
    const byKind = new Map<string, number>();
    for (const r of replayed.values()) for (const d of r.capture.header.devices) byKind.set(d.kind, 0);
    for (const r of replayed.values()) {
      for (const m of r.capture.messages) {
        const kind = m.topic.split('/')[3] as string;
        byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      }
    }
    for (const [kind, n] of byKind) expect(await metricValue(gw.httpUrl, 'riskgate_readings_accepted_total', { kind }), kind).toBe(n);
  });

  test('fire: each room heat detector alarms (57 °C, level 2) at its first reading over 57 °C, the family room 16 s after ignition', () => {
    const r = get('fsri-gasburner-4.jsonl.gz');
    const ignition = eventTs(r, /ignition/i);
    const all = samples(r);
    for (const d of r.capture.header.devices) {
      const own = all.filter((s) => s.deviceId === d.device_id);
      const first = own.find((s) => (s.data.temperature_c as number) >= 57);
      const heat = alertsOf(d.device_id, 'smoke.heat');
      expect(heat, d.device_id).toHaveLength(1);
      const a = heat[0] as Alert;
      expect(a.level).toBe(2);
      expect(a.historical).toBe(false);
      expect(a.raised_at, d.device_id).toBe(first?.ts);
      expect(a.raised_at).toBeGreaterThan(ignition);
      expect(a.peak_value).toBe(Math.max(...own.map((s) => s.data.temperature_c as number)));
      // Nothing else: the burner fire has no smoke-chamber, fault or battery signal in the recording.
      expect(alertsOf(d.device_id).map((x) => x.rule_id)).toEqual(['smoke.heat']);
    }
    const family = alertsOf('heat-family-room-center', 'smoke.heat')[0] as Alert;
    expect(family.raised_at - ignition).toBe(16_000); // data README §2: passes 57 °C 16 s after ignition
    expect(family.peak_value).toBe(200); // 241.5 °C clamped to the detector's range (import report)
  });

  test('li-ion thermal runaway: the CO detector alarms 一级 then 二级 after the recorded runaway; THC and H2 stay far below 25 %LEL', async () => {
    const r = get('fsri-ess-cell.jsonl.gz');
    const runaway = eventTs(r, /thermal runaway/i);
    const all = samples(r);
    const co = all.filter((s) => s.deviceId === 'ess-co');
    const firstOver = (ppm: number): number | undefined => co.find((s) => (s.data.concentration_ppm as number) >= ppm)?.ts;
    const coAlerts = alertsOf('ess-co', 'gas.co_ppm');
    expect(coAlerts).toHaveLength(1);
    const a = coAlerts[0] as Alert;
    expect(a.raised_at).toBe(firstOver(24));
    expect(a.raised_at).toBeGreaterThanOrEqual(runaway);
    expect(a.raised_at - runaway).toBeLessThan(30_000);
    const events = await eventsOf(a);
    const firstLevel2 = events.find((e) => e.alert.level === 2);
    expect(firstLevel2?.type).toBe('level_changed');
    expect(firstLevel2?.alert.last_at).toBe(firstOver(160));
    expect(a.peak_value).toBe(Math.max(...co.map((s) => s.data.concentration_ppm as number)));
    // Diluted in a 2 m³/s hood exhaust, the combustible gases never approach the 25 %LEL 一级 set point.
    for (const id of ['ess-thc', 'ess-h2']) {
      expect(Math.max(...all.filter((s) => s.deviceId === id).map((s) => s.data.concentration_lel as number))).toBeLessThan(5);
      expect(alertsOf(id), id).toEqual([]);
    }
  });

  test('SKAB pump: the 68–87 °C motor housing on probe channel 1 holds the 70 °C cable alarm from the first reading; the labelled faults raise nothing more', () => {
    for (const file of ['skab-valve1.jsonl.gz', 'skab-other23.jsonl.gz']) {
      const r = get(file);
      const deviceId = (r.capture.header.devices[0] as { device_id: string }).device_id;
      const all = samples(r);
      expect(r.capture.header.events?.some((e) => /anomaly/.test(e.label)), file).toBe(true);
      const own = alertsOf(deviceId);
      expect(own.map((a) => a.rule_id), file).toEqual(['electrical_fire.cable_temp']);
      const a = own[0] as Alert;
      expect(a.raised_at).toBe(all[0]?.ts);
      // Never below the 65 °C clear point: one alert, active throughout.
      expect(Math.min(...all.map((s) => (s.data.temp_c as number[])[0] as number))).toBeGreaterThan(65);
      expect(a.condition).toBe('active');
    }
  });

  test('Twizy: every emulated terminal overspeed episode (posted limit, ≥ 10 s) raises or reactivates 终端超速报警; the class ceiling (100 km/h) is never passed', async () => {
    for (const file of ['rsk-twizy-t1.jsonl.gz', 'rsk-twizy-t3.jsonl.gz']) {
      const r = get(file);
      const deviceId = (r.capture.header.devices[0] as { device_id: string }).device_id;
      const all = samples(r);
      const rising = all.filter((s, i) => s.data.alarm_bits === 2 && (i === 0 || (all[i - 1] as Sample).data.alarm_bits !== 2)).map((s) => s.ts);
      expect(rising.length, file).toBe(r.capture.header.events?.length);
      const own = alertsOf(deviceId);
      expect(own.map((a) => a.rule_id), file).toEqual(['vehicle.alarm_overspeed']);
      const events = await eventsOf(own[0] as Alert);
      const activations = events.filter((e) => e.type === 'raised' || e.type === 'reactivated').map((e) => e.alert.last_at);
      expect(activations, file).toEqual(rising);
      expect(Math.max(...all.map((s) => s.data.speed_kmh as number))).toBeLessThan(100);
    }
  });

  test('Beijing haze: PM10 is stored as mg/m³ at the right hour; no default rule reads dust_conc_mgm3, so no alert', async () => {
    const r = get('beijing-prsa-2015-11-26.jsonl.gz');
    const writer = gw.gateway.writer as SqlitePointWriter;
    await waitFor(() => writer.query({ measurement: 'dust' }).length === r.capture.messages.length, { timeoutMs: 10_000, intervalMs: 100, what: 'dust points stored' });
    const peak = writer
      .query({ measurement: 'dust' })
      .reduce((best, p) => ((p.fields.dust_conc_mgm3 as number) > (best.fields.dust_conc_mgm3 as number) ? p : best));
    // Source line 2255: Wanshouxigong, 2015-11-30 hour 15 (Beijing time), PM10 704 µg/m³ (the first of two such hours).
    expect(peak.fields.dust_conc_mgm3).toBe(0.704);
    expect(peak.tags.device).toBe('pm-wanshouxigong');
    expect(peak.timeMs - r.offsetMs).toBe(Date.parse('2015-11-30T15:00:00+08:00'));
    expect(alerts.filter((a) => a.tenant === 'beijing-prsa')).toEqual([]);
  });
});

describe('capture record from Mosquitto', () => {
  let mosquitto: RunningService;
  let tmp: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'rg-record-'));
    mosquitto = await startMosquitto();
  });

  afterAll(async () => {
    await mosquitto?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('record: the capture holds exactly the messages published while recording, bytes and order', async () => {
    const out = join(tmp, 'recorded.jsonl.gz');
    const recorder = new CaptureRecorder({ brokerUrl: mosquitto.url, topic: 'rg/v1/#', outPath: out });
    await recorder.start();
    const pub = await connectPublisher(mosquitto.url);
    const sent: { topic: string; payload: Buffer }[] = [];
    const bodies = [
      JSON.stringify({ ts: Date.now(), data: { concentration_lel: 3.5 } }),
      '{"ts": 1742020205000, "data": {"concentration_lel": 1.0}}', // valid JSON, not canonical: kept as text
      'not json at all',
    ];
    for (let i = 0; i < 30; i++) {
      const topic = i % 5 === 4 ? 'rg/v1/bad-topic' : `rg/v1/rec-t/gas/gas-${i % 3}/telemetry`;
      const payload = i % 10 === 9 ? Buffer.from([0xff, 0x00, i]) : Buffer.from(bodies[i % 3] as string);
      await pub.publishAsync(topic, payload, { qos: 1 });
      sent.push({ topic, payload });
    }
    await pub.endAsync();
    await waitFor(() => recorder.messages >= sent.length, { timeoutMs: 10_000, intervalMs: 20, what: 'the recorder to receive every message' });
    const res = await recorder.stop();
    expect(res.messages).toBe(sent.length);
    const cap = readCapture(out);
    expect(cap.messages.map((m) => m.topic)).toEqual(sent.map((s) => s.topic));
    expect(cap.messages.map((m) => payloadBytes(m).toString('hex'))).toEqual(sent.map((s) => s.payload.toString('hex')));
    expect(cap.header.devices.map((d) => `${d.tenant}/${d.device_id}/${d.kind}`).sort()).toEqual(['rec-t/gas-0/gas', 'rec-t/gas-1/gas', 'rec-t/gas-2/gas']);
    const ts = cap.messages.map((m) => m.t);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  });
});
