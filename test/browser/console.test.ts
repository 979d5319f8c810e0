import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { waitFor } from '../helpers/services.js';
import { REPO_ROOT, connectPublisher, startTestGateway, type TestGateway } from '../helpers/gateway.js';

// Debian's Chromium (scripts/test.sh installs it); playwright-core never downloads a browser of its own.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test/browser/artifacts');
const OPERATOR = '张伟';

/** What a page did that an offline console under its CSP must never do. */
interface PageWatch {
  cspViolations: string[];
  errors: string[];
  externalRequests: string[];
  /** `GET /api/v1/alerts…` requests, in order. */
  alertListRequests: string[];
  /** URLs of the WebSockets the page opened, in order. */
  sockets: string[];
}

let gw: TestGateway;
let browser: Browser;
let pub: MqttClient;
let operatorToken: string;

async function openConsole(): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  const watch: PageWatch = { cspViolations: [], errors: [], externalRequests: [], alertListRequests: [], sockets: [] };
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) watch.cspViolations.push(m.text());
  });
  page.on('pageerror', (err) => watch.errors.push(err.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(gw.httpUrl) && !r.url().startsWith('data:')) watch.externalRequests.push(r.url());
    if (new URL(r.url()).pathname === '/api/v1/alerts') watch.alertListRequests.push(r.url());
  });
  page.on('websocket', (ws) => watch.sockets.push(ws.url()));
  await page.goto(`${gw.httpUrl}/`);
  await page.locator('#token').fill(operatorToken);
  await page.locator('#signin-button').click();
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: 15_000 });
  return { context, page, watch };
}

function publish(topic: string, data: Record<string, unknown>, ts = Date.now()): Promise<unknown> {
  return pub.publishAsync(topic, JSON.stringify({ ts, data }), { qos: 1 });
}

/** The table row of a device's alert (there is one open alert per device and rule). */
const rowOf = (page: Page, deviceId: string) => page.locator('#alert-rows tr', { has: page.locator('td', { hasText: new RegExp(`^${deviceId}$`) }) });

function expectClean(watch: PageWatch): void {
  expect(watch.cspViolations, 'CSP violations').toEqual([]);
  expect(watch.errors, 'page errors').toEqual([]);
  expect(watch.externalRequests, 'requests beyond the gateway').toEqual([]);
}

describe.skipIf(!existsSync(CHROMIUM))('operator console', () => {
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    gw = await startTestGateway();
    operatorToken = gw.gateway.tokens.create({ name: OPERATOR, role: 'operator', regions: ['5101'], createdBy: 'test' }).token;
    pub = await connectPublisher(gw.mqttUrl);
    // Two vehicles on the map (below any speed limit: no alert).
    await publish('rg/v1/t3/vehicle/013912345678/telemetry', { lat: 30.6574, lon: 104.0658, speed_kmh: 42, heading_deg: 90 });
    await publish('rg/v1/t3/vehicle/013912345679/telemetry', { lat: 30.6012, lon: 104.1203, speed_kmh: 0, heading_deg: 180 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Offline: every host but the gateway's loopback address fails to resolve. Audio without a gesture, so the
      // beep is played (and counted) in headless mode too.
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--autoplay-policy=no-user-gesture-required'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await pub?.endAsync();
    await gw?.stop();
  });

  test('an operator signs in, sees a level 2 alert arrive with a cue, acknowledges and closes it', async () => {
    const { context, page, watch } = await openConsole();
    await page.locator('#tiles-online .tile').first().waitFor();
    await page.locator('#vehicle-map g.vehicle').nth(1).waitFor();

    // Two quiet readings, then 61.5 %LEL: over the 50 %LEL 二级 set point of gas.lel (GB/T 50493-2019).
    await publish('rg/v1/t1/gas/gas-1/telemetry', { gas_type: 'CH4', concentration_lel: 4 }, Date.now() - 20_000);
    await publish('rg/v1/t1/gas/gas-1/telemetry', { gas_type: 'CH4', concentration_lel: 6.5 }, Date.now() - 10_000);
    await publish('rg/v1/t1/gas/gas-1/telemetry', { gas_type: 'CH4', concentration_lel: 61.5 });
    const row = rowOf(page, 'gas-1');
    await row.locator('.badge', { hasText: '二级（橙）' }).waitFor();
    expect(await row.getAttribute('data-level')).toBe('2');
    expect(await row.getAttribute('class')).toContain('flash');
    expect(await row.locator('td.handling').textContent()).toBe('未确认');
    expect(await page.locator('#alarm-banner').isVisible()).toBe(true);
    expect(await page.locator('#alarm-banner').textContent()).toContain('二级（橙）告警');
    expect(Number(await page.evaluate('document.body.dataset.beeps ?? 0'))).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#tiles-level .tile[data-level="2"] .tile-value').textContent()).not.toBe('0');

    // Filters: another kind hides the row, the gas kind shows it.
    await page.locator('#f-kind').selectOption('smoke');
    await page.locator('#alert-rows tr.empty').waitFor();
    await page.locator('#f-kind').selectOption('gas');
    await row.waitFor();
    await page.locator('#f-handling').selectOption('new');
    await row.waitFor();
    await page.locator('#filters button[type=reset]').click();

    // Detail: telemetry chart and audit trail.
    await row.click();
    await page.locator('#detail h2', { hasText: '可燃气体浓度二级报警' }).waitFor();
    await page.locator('#detail .chart canvas').waitFor();
    expect(await page.locator('#detail .field-select').inputValue()).toBe('concentration_lel');
    await page.locator('#audit-trail tr[data-event-type="raised"]').waitFor();

    await page.locator('#ack-button').click();
    await page.locator('#ack-note').fill('已电话通知店长关阀开窗');
    await page.locator('#ack-dialog button[type=submit]').click();
    await page.locator('#audit-trail tr[data-event-type="acknowledged"]', { hasText: OPERATOR }).waitFor();
    await page.locator('#alert-rows tr[data-handling="acknowledged"]', { hasText: 'gas-1' }).waitFor();

    await page.locator('#close-button').click();
    // Closing needs a disposition and a note: the dialog refuses an empty one.
    await page.locator('#close-dialog button[type=submit]').click();
    expect(await page.locator('#close-dialog').isVisible()).toBe(true);
    await page.locator('#close-disposition').selectOption({ label: '测试' });
    await page.locator('#close-note').fill('联调测试，现场无泄漏');
    await page.locator('#close-dialog button[type=submit]').click();
    await page.locator('#audit-trail tr[data-event-type="closed"]', { hasText: '测试' }).waitFor();
    await page.locator('#alert-rows tr[data-handling="closed"]', { hasText: 'gas-1' }).waitFor();
    expect(await page.locator('#ack-button').isDisabled()).toBe(true);
    expect(await page.locator('#close-button').isDisabled()).toBe(true);

    const id = Number(await row.getAttribute('data-alert-id'));
    const { json } = await gw.api('GET', `/api/v1/alerts/${id}`);
    const alert = json.alert as Record<string, unknown>;
    expect(alert).toMatchObject({ handling: 'closed', disposition: 'test', acknowledged_by: OPERATOR, closed_by: OPERATOR, level: 2 });
    expect((json.events as { type: string; note: string | null }[]).map((e) => [e.type, e.note])).toEqual([
      ['raised', null],
      ['acknowledged', '已电话通知店长关阀开窗'],
      ['closed', '联调测试，现场无泄漏'],
    ]);

    await page.screenshot({ path: join(ARTIFACTS, 'console-alert-closed.png'), fullPage: true });
    expectClean(watch);
    await context.close();
  });

  test('after a network cut the console resumes with since=<last seq> and shows every alert raised meanwhile', async () => {
    const { context, page, watch } = await openConsole();
    await publish('rg/v1/t1/electrical_fire/efm-1/telemetry', { residual_current_ma: 420 });
    await rowOf(page, 'efm-1').waitFor();
    const lastSeen = gw.gateway.alertStore.lastSeq();
    const alarmsBefore = Number(await page.evaluate('document.body.dataset.alarms ?? 0'));

    // The cut: the browser goes offline and the server drops its end of the socket.
    await context.setOffline(true);
    for (const client of gw.gateway.http.websocketServer.clients) client.terminate();
    await page.locator('#conn[data-state="offline"]').waitFor();
    const listRequestsBefore = watch.alertListRequests.length;
    const socketsBefore = watch.sockets.length;

    await publish('rg/v1/t1/gas/gas-2/telemetry', { gas_type: 'CH4', concentration_lel: 58 });
    await publish('rg/v1/t2/electrical_fire/efm-2/telemetry', { residual_current_ma: 380 });
    await publish('rg/v1/t2/smoke/smoke-1/telemetry', { alarm: true, smoke_db_m: 0.31 });
    await waitFor(() => gw.gateway.alertStore.lastSeq() >= lastSeen + 3, { timeoutMs: 5000, intervalMs: 20, what: 'three alerts raised during the cut' });
    const raised = gw.gateway.alertStore.eventsSince(lastSeen, 100).map((e) => e.alert.device_id);
    expect(raised).toEqual(expect.arrayContaining(['gas-2', 'efm-2', 'smoke-1']));
    // Long enough for the console's first reconnect attempts (1 s, 2 s backoff), which the cut refuses.
    await page.waitForTimeout(2500);
    for (const device of raised) expect(await rowOf(page, device).count(), `${device} not shown while offline`).toBe(0);
    expect(await page.locator('#conn').getAttribute('data-state')).not.toBe('live');

    await context.setOffline(false);
    for (const device of raised) await rowOf(page, device).waitFor({ timeout: 20_000 });
    await page.locator('#conn[data-state="live"]').waitFor();

    // Replayed by the stream from the last seq seen, not re-read from the list.
    const resumed = watch.sockets.slice(socketsBefore);
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    expect(new URL(resumed.at(-1) as string).searchParams.get('since')).toBe(String(lastSeen));
    expect(watch.alertListRequests.length).toBe(listRequestsBefore);
    expect(Number(await page.evaluate('document.body.dataset.alarms ?? 0'))).toBeGreaterThan(alarmsBefore);
    // Each alert once.
    expect(await page.locator('#alert-rows tr', { hasText: 'gas-2' }).count()).toBe(1);

    await page.screenshot({ path: join(ARTIFACTS, 'console-after-reconnect.png'), fullPage: true });
    expectClean(watch);
    await context.close();
  });
});
