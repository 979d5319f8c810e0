// The console's Simplified Chinese text: one place, so wording stays consistent across the page.
// Levels follow the official warning scale (README "Alert rules", domain.md §7): 1 红 … 4 蓝.

/** Alert levels: label and colour name. */
export const LEVELS = {
  1: { label: '一级', colour: '红' },
  2: { label: '二级', colour: '橙' },
  3: { label: '三级', colour: '黄' },
  4: { label: '四级', colour: '蓝' },
};

/** Handling dimension (docs/alerting.md "Two dimensions"). */
export const HANDLING = { new: '未确认', acknowledged: '已确认', closed: '已关闭' };

/** Condition dimension. */
export const CONDITION = { active: '告警中', cleared: '已恢复' };

/** Device kinds (src/kinds/*.ts), and the gateway's own alerts. */
export const KINDS = {
  gas: '燃气泄漏',
  dust: '粉尘涉爆',
  electrical_fire: '电气火灾',
  smoke: '烟感',
  vehicle: '两客一危车辆',
  gateway: '网关',
};

/** Dispositions an operator may close with (the API's values; `auto_resolved` is the system's only). */
export const DISPOSITIONS = {
  real_incident: '真实警情',
  false_alarm: '误报',
  test: '测试',
  device_fault: '设备故障',
  maintenance: '维护保养',
  auto_resolved: '自动恢复',
};

/** Alert event types (the audit trail). */
export const EVENT_TYPES = {
  raised: '产生',
  level_changed: '级别变化',
  cleared: '恢复',
  reactivated: '再次触发',
  acknowledged: '确认',
  assigned: '指派',
  commented: '备注',
  closed: '关闭',
  escalated: '升级（超时未确认）',
  flapping_started: '开始抖动',
  flapping_ended: '抖动结束',
};

/** Stream connection states shown in the top bar. */
export const CONNECTION = {
  connecting: '连接中…',
  replaying: '正在补发断线期间的告警…',
  live: '实时连接正常',
  offline: '连接中断，正在重连…',
};

/** Error codes of the API (docs/errors.md) as an operator reads them. */
export const ERRORS = {
  RG_ERR_AUTH_REQUIRED: '令牌无效、已吊销或已过期',
  RG_ERR_AUTH_FORBIDDEN: '该令牌无权执行此操作',
  RG_ERR_ALERT_INVALID_TRANSITION: '告警状态已变化，不能执行此操作',
  RG_ERR_API_NOT_FOUND: '告警不存在或不在本令牌的管辖范围内',
  RG_ERR_API_BAD_REQUEST: '填写的内容不完整或不正确',
  RG_ERR_RATE_LIMITED: '请求过于频繁，请稍后再试',
};

const beijing = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** Epoch ms as Beijing time, `2025-03-15 14:30:05` (devices and operators are in UTC+8). */
export function formatTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const parts = Object.fromEntries(beijing.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** A number for display: at most 2 decimals, no trailing zeros. */
export function formatValue(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? '是' : '否';
  return String(Math.round(v * 100) / 100);
}

/** `一级（红）` */
export function levelText(level) {
  const l = LEVELS[level];
  return l ? `${l.label}（${l.colour}）` : String(level);
}
