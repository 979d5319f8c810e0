import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Alert, AlertEvent } from '../../../src/alerts/alert.js';
import {
  buildDingTalkPayload,
  buildPayload,
  buildWeComPayload,
  buildWebhookPayload,
  dingTalkSign,
  formatBeijingTime,
  notificationTitleZh,
  readRobotReply,
  signDingTalkUrl,
} from '../../../src/alerts/notifiers/formats.js';
import { DEFAULT_NOTIFIER_CONFIG, loadNotifierConfig } from '../../../src/alerts/notifiers/notifier-config.js';
import { parseRetryAfterMs } from '../../../src/alerts/notifiers/webhook-notifier.js';
import type { AlertLevel } from '../../../src/rules/types.js';
import { SAMPLE_RAISED_AT, sampleAlert } from '../../fixtures/alerts.js';

const RAISED_AT = SAMPLE_RAISED_AT; // 14:00:00 in Beijing
const alert = sampleAlert;

function event(over: Partial<AlertEvent> = {}, alertOver: Partial<Alert> = {}): AlertEvent {
  return { seq: 345, type: 'raised', alert_id: 12, at: RAISED_AT + 1_000, actor: 'system', note: null, alert: alert(alertOver), ...over };
}

describe('alerts/notifiers/formats', () => {
  test('the generic webhook payload carries version 1, the event, the whole alert and the Chinese text', () => {
    const ev = event();
    const p = buildWebhookPayload(ev);
    expect(Object.keys(p).sort()).toEqual(['alert', 'event', 'text_zh', 'version']);
    expect(p.version).toBe(1);
    expect(p.event).toEqual({ seq: 345, type: 'raised', at: RAISED_AT + 1_000, actor: 'system', note: null });
    expect(p.alert).toEqual(ev.alert);
    expect(p.text_zh.split('\n')).toEqual([
      '【橙色预警】可燃气体浓度二级报警',
      '事件：产生',
      '级别：二级（橙色）',
      '设备：gas-001（燃气泄漏报警）',
      '单位：acme',
      '场所：s1',
      '区域：510104',
      '当前值 / 峰值：27.5 / 31',
      '报警时间：2025-03-15 14:00:00',
      '依据：GB/T 50493-2019 §5.5',
      '告警编号：12（事件序号 345）',
    ]);
  });

  test.each([
    { level: 1, title: '【红色预警】' },
    { level: 2, title: '【橙色预警】' },
    { level: 3, title: '【黄色预警】' },
    { level: 4, title: '【蓝色预警】' },
  ] as { level: AlertLevel; title: string }[])('a level $level alert is titled $title', ({ level, title }) => {
    expect(notificationTitleZh(event({}, { level }))).toBe(`${title}可燃气体浓度二级报警`);
  });

  test.each([
    { type: 'escalated', suffix: '（超时未确认升级）' },
    { type: 'level_changed', suffix: '（级别变更）' },
    { type: 'cleared', suffix: '（设备恢复正常）' },
    { type: 'closed', suffix: '（已销警）' },
  ] as const)('a $type event names itself in the title', ({ type, suffix }) => {
    expect(notificationTitleZh(event({ type }))).toBe(`【橙色预警】可燃气体浓度二级报警${suffix}`);
  });

  test('a manual transition shows the event time, the operator, the note and the disposition', () => {
    const text = buildWebhookPayload(event({ type: 'closed', actor: 'zhang.wei', note: '现场检查为误报', at: RAISED_AT + 3_600_000 }, { disposition: 'false_alarm' })).text_zh;
    expect(text).toContain('事件时间：2025-03-15 15:00:00');
    expect(text).toContain('操作人：zhang.wei');
    expect(text).toContain('处置结论：误报');
    expect(text).toContain('备注：现场检查为误报');
  });

  test('missing values and places show as a dash; a gateway alert names the gateway', () => {
    const text = buildWebhookPayload(event({}, { kind: 'gateway', device_id: '_gateway', last_value: null, peak_value: null, site: null, region: null })).text_zh;
    expect(text).toContain('设备：_gateway（网关）');
    expect(text).toContain('场所：—');
    expect(text).toContain('当前值 / 峰值：— / —');
  });

  test.each([
    { ms: RAISED_AT, text: '2025-03-15 14:00:00' },
    { ms: Date.UTC(2025, 2, 15, 20, 30, 5), text: '2025-03-16 04:30:05' },
    { ms: Date.UTC(2024, 11, 31, 16, 0, 0), text: '2025-01-01 00:00:00' },
  ])('Beijing time of $ms is $text', ({ ms, text }) => {
    expect(formatBeijingTime(ms)).toBe(text);
  });

  test('the DingTalk payload is a markdown message with the title and a bulleted body', () => {
    const p = buildDingTalkPayload(event({ type: 'escalated' }, { escalations: 1 }));
    expect(p.msgtype).toBe('markdown');
    expect(p.markdown.title).toBe('【橙色预警】可燃气体浓度二级报警（超时未确认升级）');
    const lines = p.markdown.text.split('\n');
    expect(lines[0]).toBe('### 【橙色预警】可燃气体浓度二级报警（超时未确认升级）');
    expect(lines).toContain('- **设备**：gas-001（燃气泄漏报警）');
    expect(lines).toContain('- **升级次数**：1');
    expect(lines).toContain('- **报警时间**：2025-03-15 14:00:00');
  });

  test.each([
    { level: 1, type: 'raised', colour: 'warning' },
    { level: 2, type: 'escalated', colour: 'warning' },
    { level: 3, type: 'raised', colour: 'comment' },
    { level: 4, type: 'raised', colour: 'comment' },
    { level: 1, type: 'cleared', colour: 'info' },
  ] as { level: AlertLevel; type: AlertEvent['type']; colour: string }[])('the WeCom title of a level $level $type event is in font colour $colour', ({ level, type, colour }) => {
    const p = buildWeComPayload(event({ type }, { level }));
    expect(p.msgtype).toBe('markdown');
    const [first, ...rest] = p.markdown.content.split('\n');
    expect(first).toBe(`## <font color="${colour}">${notificationTitleZh(event({ type }, { level }))}</font>`);
    expect(rest).toContain('> 单位：<font color="comment">acme</font>');
    // WeCom rejects markdown content over 4096 bytes (errcode 40058).
    expect(Buffer.byteLength(p.markdown.content)).toBeLessThan(4096);
  });

  test('buildPayload picks the format of the notifier type', () => {
    const ev = event();
    expect(buildPayload('webhook', ev)).toEqual(buildWebhookPayload(ev));
    expect(buildPayload('dingtalk', ev)).toEqual(buildDingTalkPayload(ev));
    expect(buildPayload('wecom', ev)).toEqual(buildWeComPayload(ev));
  });
});

describe('DingTalk signing', () => {
  // Vector computed outside Node: printf '1700000000000\nSEC0123456789abcdef' | openssl dgst -sha256 -hmac 'SEC0123456789abcdef' -binary | base64
  const SECRET = 'SEC0123456789abcdef';
  const SIGN = 'TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=';

  test('the sign is Base64(HmacSHA256(secret, timestamp + "\\n" + secret))', () => {
    expect(dingTalkSign(SECRET, 1_700_000_000_000)).toBe(SIGN);
  });

  test('timestamp and the URL-encoded sign are appended to the robot URL', () => {
    expect(signDingTalkUrl('https://oapi.dingtalk.com/robot/send?access_token=abc', SECRET, 1_700_000_000_000)).toBe(
      'https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1700000000000&sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D',
    );
  });
});

describe('robot replies', () => {
  test.each([
    { type: 'dingtalk', body: '{"errcode":0,"errmsg":"ok"}', reply: { ok: true } },
    { type: 'dingtalk', body: '{"errcode":310000,"errmsg":"sign not match"}', reply: { ok: false, permanent: true, error: 'errcode 310000: sign not match' } },
    { type: 'dingtalk', body: '{"errcode":300001,"errmsg":"token is not exist"}', reply: { ok: false, permanent: true, error: 'errcode 300001: token is not exist' } },
    { type: 'dingtalk', body: '{"errcode":410100,"errmsg":"send too fast"}', reply: { ok: false, permanent: false, error: 'errcode 410100: send too fast' } },
    { type: 'dingtalk', body: '{"errcode":-1,"errmsg":"系统繁忙"}', reply: { ok: false, permanent: false, error: 'errcode -1: 系统繁忙' } },
    { type: 'wecom', body: '{"errcode":0,"errmsg":"ok"}', reply: { ok: true } },
    { type: 'wecom', body: '{"errcode":93000,"errmsg":"invalid webhook url"}', reply: { ok: false, permanent: true, error: 'errcode 93000: invalid webhook url' } },
    { type: 'wecom', body: '{"errcode":45009,"errmsg":"api freq out of limit"}', reply: { ok: false, permanent: false, error: 'errcode 45009: api freq out of limit' } },
    { type: 'wecom', body: '<html>bad gateway</html>', reply: { ok: false, permanent: false, error: 'unexpected robot reply: <html>bad gateway</html>' } },
  ] as const)('$type $body', ({ type, body, reply }) => {
    expect(readRobotReply(type, body)).toEqual(reply);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2025, 2, 15, 6, 0, 0);
  test.each([
    { header: '3', ms: 3000 },
    { header: ' 0 ', ms: 0 },
    { header: 'Sat, 15 Mar 2025 06:00:10 GMT', ms: 10_000 },
    { header: 'Sat, 15 Mar 2025 05:00:00 GMT', ms: 0 },
    { header: 'soon', ms: undefined },
    { header: null, ms: undefined },
  ])('$header → $ms', ({ header, ms }) => {
    expect(parseRetryAfterMs(header, now)).toBe(ms);
  });
});

describe('alerts/notifiers/notifier-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-notifiers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('a minimal notifier gets every default', () => {
    const res = loadNotifierConfig(write('min.yaml', 'notifiers:\n  - name: duty\n    type: webhook\n    url: https://hooks.example.cn/riskgate\n'));
    expect(res).toEqual({
      ok: true,
      value: {
        notifiers: [
          {
            name: 'duty',
            type: 'webhook',
            url: 'https://hooks.example.cn/riskgate',
            events: ['raised', 'escalated'],
            levels: [1, 2, 3, 4],
            headers: {},
            timeoutMs: 5000,
            retry: { ...DEFAULT_NOTIFIER_CONFIG.retry },
          },
        ],
      },
    });
  });

  test('durations, filters, headers and a DingTalk secret are read', () => {
    const res = loadNotifierConfig(
      write(
        'full.yaml',
        `notifiers:
  - name: dingtalk-duty
    type: dingtalk
    url: https://oapi.dingtalk.com/robot/send?access_token=abc
    secret: SEC0123
    events: [raised, escalated, level_changed]
    levels: [1, 2]
    tenants: [acme]
    headers: { X-Source: riskgate }
    timeout: 3s
    retry: { max_attempts: 4, initial_delay: 500ms, max_delay: 30s, factor: 3, jitter: 0 }
`,
      ),
    );
    expect(res.ok && res.value.notifiers[0]).toEqual({
      name: 'dingtalk-duty',
      type: 'dingtalk',
      url: 'https://oapi.dingtalk.com/robot/send?access_token=abc',
      secret: 'SEC0123',
      events: ['raised', 'escalated', 'level_changed'],
      levels: [1, 2],
      tenants: ['acme'],
      headers: { 'X-Source': 'riskgate' },
      timeoutMs: 3000,
      retry: { maxAttempts: 4, initialDelayMs: 500, maxDelayMs: 30_000, factor: 3, jitter: 0 },
    });
  });

  test('every problem is reported at once with file:line', () => {
    const res = loadNotifierConfig(
      write(
        'bad.yaml',
        `notifiers:
  - name: a
    type: slack
    url: ftp://x
  - name: a
    type: webhook
    url: https://x.example.cn
    secret: nope
    events: [raised, exploded]
    levels: [5]
    timeout: soon
`,
      ),
      'notifiers.yaml',
    );
    expect(res.ok).toBe(false);
    if (res.ok) return;
    const where = res.problems.map((p) => `${p.line} ${p.path}`);
    expect(where).toEqual(
      expect.arrayContaining(['3 notifiers[0].type', '4 notifiers[0].url', '9 notifiers[1].events[1]', '10 notifiers[1].levels[0]', '11 notifiers[1].timeout']),
    );
    expect(res.problems.every((p) => p.file === 'notifiers.yaml')).toBe(true);
  });

  test('duplicate names and a secret on a non-DingTalk notifier are refused', () => {
    const res = loadNotifierConfig(
      write(
        'dup.yaml',
        `notifiers:
  - { name: a, type: webhook, url: "https://x.example.cn" }
  - { name: a, type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", secret: s }
`,
      ),
    );
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.problems.map((p) => `${p.line} ${p.path}: ${p.message}`)).toEqual(
      expect.arrayContaining(['3 notifiers[1].secret: only dingtalk notifiers take a secret', '3 notifiers[1].name: duplicate notifier name "a"']),
    );
  });
});

describe('docs/notifications.md', () => {
  const doc = readFileSync(join(resolve(import.meta.dirname, '../../..'), 'docs', 'notifications.md'), 'utf8');
  const p = buildWebhookPayload(event());
  const fields = [
    ...Object.keys(p).map((k) => k),
    ...Object.keys(p.event).map((k) => `event.${k}`),
    ...Object.keys(p.alert).map((k) => `alert.${k}`),
  ];

  test.each(fields)('documents the generic payload field %s', (field) => {
    expect(doc).toMatch(new RegExp(`^\\|\\s*\`${field.replace('.', '\\.')}\`\\s*\\|`, 'm'));
  });
});
