import { createHmac } from 'node:crypto';
import { KINDS } from '../../kinds/index.js';
import { LEVEL_COLOURS, type AlertLevel } from '../../rules/types.js';
import { DISPOSITION_LABELS_ZH, type Alert, type AlertEvent, type AlertEventType } from '../alert.js';
import type { NotifierType } from './notifier-config.js';

/** Operator-facing names of the event types, as a duty officer reads them in a group chat. */
export const EVENT_LABELS_ZH: Record<AlertEventType, string> = {
  raised: '产生',
  level_changed: '级别变更',
  cleared: '设备恢复正常',
  reactivated: '再次报警',
  acknowledged: '已确认',
  assigned: '已指派',
  commented: '备注',
  closed: '已销警',
  escalated: '超时未确认升级',
  flapping_started: '频繁波动',
  flapping_ended: '波动结束',
};

const LEVEL_NUMERALS_ZH: Record<AlertLevel, string> = { 1: '一', 2: '二', 3: '三', 4: '四' };

/** Body of the generic webhook; every field is documented in docs/notifications.md. */
export interface WebhookPayload {
  /** Payload format version; a breaking change bumps it. */
  version: 1;
  event: Pick<AlertEvent, 'seq' | 'type' | 'at' | 'actor' | 'note'>;
  alert: Alert;
  /** The same message as the robots send, as plain text in Simplified Chinese. */
  text_zh: string;
}

/** DingTalk custom robot markdown message. */
export interface DingTalkPayload {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
}

/** WeCom (企业微信) group robot markdown message. */
export interface WeComPayload {
  msgtype: 'markdown';
  markdown: { content: string };
}

export type NotificationPayload = WebhookPayload | DingTalkPayload | WeComPayload;

/** `YYYY-MM-DD HH:mm:ss` in Beijing time (UTC+8, no daylight saving), whatever the host's time zone. */
export function formatBeijingTime(epochMs: number): string {
  return new Date(epochMs + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** `【橙色预警】可燃气体浓度二级报警`, with the event in brackets unless it is the raise itself (chat previews show only the title). */
export function notificationTitleZh(ev: AlertEvent): string {
  const head = `【${LEVEL_COLOURS[ev.alert.level].zh}预警】${ev.alert.title}`;
  return ev.type === 'raised' ? head : `${head}（${EVENT_LABELS_ZH[ev.type]}）`;
}

function value(v: number | null): string {
  return v === null ? '—' : String(v);
}

/** The labelled lines of a message, shared by every format. */
function detailLinesZh(ev: AlertEvent): [label: string, text: string][] {
  const a = ev.alert;
  const kind = a.kind === 'gateway' ? '网关' : KINDS[a.kind].labelZh;
  const lines: [string, string][] = [
    ['事件', EVENT_LABELS_ZH[ev.type]],
    ['级别', `${LEVEL_NUMERALS_ZH[a.level]}级（${LEVEL_COLOURS[a.level].zh}）`],
    ['设备', `${a.device_id}（${kind}）`],
    ['单位', a.tenant],
    ['场所', a.site ?? '—'],
    ['区域', a.region ?? '—'],
    ['当前值 / 峰值', `${value(a.last_value)} / ${value(a.peak_value)}`],
    ['报警时间', formatBeijingTime(a.raised_at)],
  ];
  if (ev.type !== 'raised') lines.push(['事件时间', formatBeijingTime(ev.at)]);
  if (ev.actor !== 'system') lines.push(['操作人', ev.actor]);
  if (ev.type === 'escalated') lines.push(['升级次数', String(a.escalations)]);
  if (ev.type === 'closed' && a.disposition !== null) lines.push(['处置结论', DISPOSITION_LABELS_ZH[a.disposition]]);
  if (ev.note !== null && ev.note !== '') lines.push(['备注', ev.note]);
  lines.push(['依据', a.standard], ['告警编号', `${a.id}（事件序号 ${ev.seq}）`]);
  return lines;
}

/** Plain-text message in Simplified Chinese: the title, then one `标签：值` line per detail (times in Beijing time). */
export function notificationTextZh(ev: AlertEvent): string {
  return [notificationTitleZh(ev), ...detailLinesZh(ev).map(([k, v]) => `${k}：${v}`)].join('\n');
}

export function buildWebhookPayload(ev: AlertEvent): WebhookPayload {
  return {
    version: 1,
    event: { seq: ev.seq, type: ev.type, at: ev.at, actor: ev.actor, note: ev.note },
    alert: ev.alert,
    text_zh: notificationTextZh(ev),
  };
}

/** DingTalk markdown: the title (shown in chat previews and notifications) and a bulleted body. */
export function buildDingTalkPayload(ev: AlertEvent): DingTalkPayload {
  const title = notificationTitleZh(ev);
  const text = [`### ${title}`, '', ...detailLinesZh(ev).map(([k, v]) => `- **${k}**：${v}`)].join('\n');
  return { msgtype: 'markdown', markdown: { title, text } };
}

/**
 * WeCom markdown knows three font colours: `warning` (orange-red), `info` (green), `comment` (grey). Levels 1–2 are
 * `warning`, 3–4 `comment`; a recovery (cleared, closed) is `info` whatever the level.
 */
export function weComColour(ev: AlertEvent): 'warning' | 'info' | 'comment' {
  if (ev.type === 'cleared' || ev.type === 'closed' || ev.type === 'flapping_ended') return 'info';
  return ev.alert.level <= 2 ? 'warning' : 'comment';
}

export function buildWeComPayload(ev: AlertEvent): WeComPayload {
  const title = `## <font color="${weComColour(ev)}">${notificationTitleZh(ev)}</font>`;
  const body = detailLinesZh(ev).map(([k, v]) => `> ${k}：<font color="comment">${v}</font>`);
  return { msgtype: 'markdown', markdown: { content: [title, ...body].join('\n') } };
}

export function buildPayload(type: NotifierType, ev: AlertEvent): NotificationPayload {
  switch (type) {
    case 'webhook':
      return buildWebhookPayload(ev);
    case 'dingtalk':
      return buildDingTalkPayload(ev);
    case 'wecom':
      return buildWeComPayload(ev);
  }
}

/**
 * DingTalk custom robot signature (加签): Base64(HmacSHA256(key = secret, `${timestampMs}\n${secret}`)). The robot
 * rejects a timestamp more than an hour from its own clock, so it is computed afresh for every attempt.
 */
export function dingTalkSign(secret: string, timestampMs: number): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** The robot URL with `timestamp` and the URL-encoded `sign` appended as query parameters. */
export function signDingTalkUrl(url: string, secret: string, timestampMs: number): string {
  const u = new URL(url);
  u.searchParams.set('timestamp', String(timestampMs));
  u.searchParams.set('sign', dingTalkSign(secret, timestampMs));
  return u.toString();
}

/**
 * Robot errcodes that a retry cannot fix: the token, the group or the content is wrong. Any other non-zero errcode
 * (system busy `-1`, rate limits DingTalk `410100`/`130101` and WeCom `45009`, codes we do not know) is retried.
 */
export const PERMANENT_ERRCODES: Record<'dingtalk' | 'wecom', ReadonlySet<number>> = {
  // 300001/300005 token does not exist; 310000 security settings (keyword missing, sign mismatch or timestamp
  // skew, IP not allowed); 400013 group dissolved; 400101 access_token missing; 400102 robot disabled;
  // 430101–430104 content blocked (unsafe link, sensitive words); 40035 missing parameter; 43004 bad Content-Type.
  dingtalk: new Set([300001, 300005, 310000, 400013, 400101, 400102, 430101, 430102, 430103, 430104, 40035, 43004]),
  // 93000 invalid webhook URL (robot removed, key wrong); 40008 invalid message type; 40058 invalid parameter (e.g.
  // markdown over 4096 bytes); 44004 empty content.
  wecom: new Set([93000, 40008, 40058, 44004]),
};

/** What a robot's HTTP 200 body says: ok, or an errcode and whether retrying may help. */
export type RobotReply = { ok: true } | { ok: false; permanent: boolean; error: string };

/** Both robots answer HTTP 200 with `{errcode, errmsg}`; only `errcode: 0` is a delivery. */
export function readRobotReply(type: 'dingtalk' | 'wecom', body: string): RobotReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const errcode = typeof parsed === 'object' && parsed !== null ? (parsed as { errcode?: unknown }).errcode : undefined;
  // Anything else (a proxy's HTML page) is not a confirmed delivery; retrying risks a duplicate, not a missed alarm.
  if (typeof errcode !== 'number') return { ok: false, permanent: false, error: `unexpected robot reply: ${body.slice(0, 200)}` };
  if (errcode === 0) return { ok: true };
  const errmsg = (parsed as { errmsg?: unknown }).errmsg;
  return { ok: false, permanent: PERMANENT_ERRCODES[type].has(errcode), error: `errcode ${errcode}: ${typeof errmsg === 'string' ? errmsg : ''}`.trim() };
}
