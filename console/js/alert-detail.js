import { byId, h, replace } from './dom.js';
import { CONDITION, DISPOSITIONS, EVENT_TYPES, HANDLING, KINDS, formatTime, formatValue, levelText } from './labels.js';
import { renderTelemetry } from './telemetry-chart.js';

/**
 * The selected alert (`GET /api/v1/alerts/:id`): its facts, the acknowledge / close actions, the device's recent
 * telemetry and the audit trail (every event with its actor and note).
 */
export class AlertDetail {
  constructor(api, { onAck, onClose, tenantName }) {
    this.api = api;
    this.onAck = onAck;
    this.onClose = onClose;
    this.tenantName = tenantName;
    this.el = byId('detail');
    this.id = null;
    this.chartFor = null;
    this.loading = null;
  }

  async show(id) {
    this.id = id;
    this.chartFor = null;
    replace(this.el, h('p', { class: 'muted' }, '正在读取告警详情…'));
    await this.refresh();
  }

  /** Re-reads the selected alert (after an event on it); the chart is kept unless the alert changed device. */
  async refresh() {
    const id = this.id;
    if (id === null) return;
    let body;
    try {
      body = await this.api.get(`/api/v1/alerts/${id}`);
    } catch (err) {
      if (this.id === id) replace(this.el, h('p', { class: 'error' }, `读取失败：${err.message}`));
      return;
    }
    if (this.id !== id) return;
    const a = body.alert;
    const oldChart = this.chartFor === id ? this.el.querySelector('.telemetry') : null;
    const chart = oldChart ?? h('div', { class: 'telemetry' });
    replace(
      this.el,
      h('div', { class: `detail-head lvl-${a.level}` }, h('span', { class: `badge lvl-${a.level}` }, levelText(a.level)), h('h2', {}, a.title)),
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'ack-button', disabled: a.handling !== 'new', onclick: () => this.onAck(a) }, '确认告警'),
        h('button', { type: 'button', id: 'close-button', class: 'danger', disabled: a.handling === 'closed', onclick: () => this.onClose(a) }, '关闭告警'),
      ),
      facts(a, this.tenantName(a.tenant)),
      chart,
      h('h3', {}, '处置记录'),
      trail(body.events),
    );
    if (!oldChart) {
      this.chartFor = id;
      await renderTelemetry(chart, this.api, a);
    }
  }
}

function facts(a, tenantName) {
  const rows = [
    ['处置状态', h('span', { class: 'handling', dataset: { handling: a.handling } }, HANDLING[a.handling] ?? a.handling)],
    ['告警状态', CONDITION[a.condition] ?? a.condition],
    ['企业', a.kind === 'gateway' ? '—' : `${tenantName ?? a.tenant}（${a.tenant}）`],
    ['设备', `${a.device_id}\u3000${KINDS[a.kind] ?? a.kind}`],
    ['区域 / 场所', `${a.region ?? '—'} / ${a.site ?? '—'}`],
    ['规则', `${a.rule_id}\u3000${a.standard}`],
    ['首次 / 最新 / 峰值', `${formatValue(a.first_value)} / ${formatValue(a.last_value)} / ${formatValue(a.peak_value)}`],
    ['产生时间', `${formatTime(a.raised_at)}（设备时间）`],
    ['触发次数', String(a.count)],
  ];
  if (a.acknowledged_by) rows.push(['确认人', `${a.acknowledged_by}\u3000${formatTime(a.acknowledged_at)}`]);
  if (a.assignee) rows.push(['处置人', a.assignee]);
  if (a.closed_by) rows.push(['关闭', `${a.closed_by}\u3000${formatTime(a.closed_at)}\u3000${DISPOSITIONS[a.disposition] ?? a.disposition ?? ''}`]);
  if (a.escalations > 0) rows.push(['超时升级', `${a.escalations} 次`]);
  if (a.historical) rows.push(['说明', '由补传数据产生，不作实时推送']);
  if (a.silenced) rows.push(['说明', '产生于屏蔽期（维护窗口）内']);
  return h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

function trail(events) {
  return h(
    'table',
    { class: 'trail', id: 'audit-trail' },
    h('thead', {}, h('tr', {}, h('th', {}, '时间'), h('th', {}, '事件'), h('th', {}, '级别'), h('th', {}, '操作人'), h('th', {}, '备注'))),
    h(
      'tbody',
      {},
      ...events.map((e) =>
        h(
          'tr',
          { dataset: { eventType: e.type } },
          h('td', { class: 'time' }, formatTime(e.at)),
          h('td', {}, EVENT_TYPES[e.type] ?? e.type, e.type === 'closed' && e.alert.disposition ? `（${DISPOSITIONS[e.alert.disposition] ?? e.alert.disposition}）` : ''),
          h('td', {}, levelText(e.alert.level)),
          h('td', {}, e.actor === 'system' ? '系统' : e.actor),
          h('td', {}, e.note ?? ''),
        ),
      ),
    ),
  );
}
