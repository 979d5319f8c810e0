import uPlot from '/console/vendor/uplot/uPlot.esm.js';
import { h, replace } from './dom.js';
import { formatTime, formatValue } from './labels.js';

/** Telemetry before the alert shown in the chart, ms. */
const BEFORE_MS = 30 * 60_000;
const LEVEL_COLOURS = { 1: '#d9001b', 2: '#f08c00', 3: '#d4a800', 4: '#1e6fd9' };

/**
 * The device's recent telemetry around an alert (`GET /api/v1/devices/:tenant/:deviceId/telemetry`), one field at a
 * time, with the moment the alert was raised marked. The field shown first is the one whose latest value is the
 * alert's (the rule's field), else the first numeric one.
 */
export async function renderTelemetry(container, api, alert) {
  if (alert.kind === 'gateway') {
    replace(container, h('p', { class: 'muted' }, '网关告警没有设备数据。'));
    return;
  }
  replace(container, h('p', { class: 'muted' }, '正在读取设备数据…'));
  const since = Math.max(0, alert.raised_at - BEFORE_MS);
  const path = `/api/v1/devices/${encodeURIComponent(alert.tenant)}/${encodeURIComponent(alert.device_id)}/telemetry?since=${since}&limit=1000`;
  let body;
  try {
    body = await api.get(path);
  } catch (err) {
    replace(container, h('p', { class: 'error' }, `设备数据读取失败：${err.message}`));
    return;
  }
  const points = body.points;
  const numeric = Object.keys(body.fields).filter((f) => points.some((p) => typeof p.fields[f] === 'number'));
  for (const p of points) for (const f of Object.keys(p.fields)) if (typeof p.fields[f] === 'number' && !numeric.includes(f)) numeric.push(f);
  if (points.length === 0 || numeric.length === 0) {
    replace(container, h('p', { class: 'muted' }, '该时段内没有设备数据。'));
    return;
  }
  const last = points.at(-1).fields;
  const initial = numeric.find((f) => alert.last_value !== null && last[f] === alert.last_value) ?? numeric[0];
  const label = (f) => `${body.fields[f]?.label ?? f}${body.fields[f]?.unit ? `（${body.fields[f].unit}）` : ''}`;
  const select = h('select', { 'aria-label': '曲线字段', class: 'field-select' }, ...numeric.map((f) => h('option', { value: f }, label(f))));
  select.value = initial;
  const plotBox = h('div', { class: 'chart' });
  const caption = h('p', { class: 'muted' }, `共 ${points.length} 个数据点（北京时间），红线为告警产生时刻。`);
  replace(container, h('div', { class: 'chart-head' }, h('span', {}, '设备近期数据'), select), plotBox, caption);
  let plot = null;
  const draw = () => {
    plot?.destroy();
    const f = select.value;
    const xs = points.map((p) => p.ts);
    const ys = points.map((p) => (typeof p.fields[f] === 'number' ? p.fields[f] : null));
    plot = new uPlot(
      {
        width: Math.max(280, plotBox.clientWidth || 420),
        height: 200,
        ms: 1,
        tzDate: (ts) => uPlot.tzDate(new Date(ts), 'Asia/Shanghai'),
        legend: { show: true },
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: true } },
        // Beijing time as operators write it (uPlot's default axis format is US-style).
        axes: [{ values: (_u, splits) => splits.map((ms) => formatTime(ms).slice(11)) }, {}],
        series: [{ label: '时间', value: (_u, ms) => (ms === null ? '—' : formatTime(ms)) }, { label: label(f), stroke: LEVEL_COLOURS[alert.level] ?? '#333', width: 2, points: { show: points.length < 60 }, value: (_u, v) => formatValue(v) }],
        hooks: { draw: [(u) => markRaised(u, alert.raised_at)] },
      },
      [xs, ys],
      plotBox,
    );
  };
  select.addEventListener('change', draw);
  draw();
}

/** A vertical line where the alert was raised. */
function markRaised(u, ms) {
  const x = u.valToPos(ms, 'x', true);
  if (!Number.isFinite(x) || x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = '#d9001b';
  ctx.setLineDash([6, 4]);
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(x, u.bbox.top);
  ctx.lineTo(x, u.bbox.top + u.bbox.height);
  ctx.stroke();
  ctx.restore();
}
