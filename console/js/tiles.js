import { byId, h, replace } from './dom.js';
import { KINDS, LEVELS } from './labels.js';

/**
 * Summary tiles: open (not closed) alerts per level and per kind, from the alerts the page holds, and the online
 * rate (上线率) of the devices the token sees (`GET /api/v1/stats/online?group_by=kind`).
 */
export class Tiles {
  constructor(state) {
    this.state = state;
    this.levels = byId('tiles-level');
    this.kinds = byId('tiles-kind');
    this.online = byId('tiles-online');
    state.onChange(() => this.renderCounts());
  }

  renderCounts() {
    const open = this.state.all().filter((a) => a.handling !== 'closed');
    const byLevel = count(open, (a) => a.level);
    const byKind = count(open, (a) => a.kind);
    replace(this.levels, ...Object.entries(LEVELS).map(([lvl, l]) => tile(`${l.label}（${l.colour}）`, byLevel.get(Number(lvl)) ?? 0, `lvl-${lvl}`, { level: lvl })));
    replace(this.kinds, ...Object.entries(KINDS).map(([kind, label]) => tile(label, byKind.get(kind) ?? 0, 'kind', { kind })));
  }

  /** `stats`: the body of GET /api/v1/stats/online?group_by=kind. */
  renderOnline(stats) {
    const pct = (r) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
    const t = stats.total;
    replace(
      this.online,
      tile('设备上线率', pct(t.online_rate), 'online', { kind: 'total' }, `${t.online} / ${t.registered} 台在线`),
      ...stats.rows.map((r) => tile(`${KINDS[r.key] ?? r.key}上线率`, pct(r.online_rate), 'online small', { kind: r.key }, `${r.online} / ${r.registered}`)),
    );
  }

  onlineFailed(message) {
    replace(this.online, h('p', { class: 'error' }, `上线率读取失败：${message}`));
  }
}

function count(items, key) {
  const m = new Map();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

function tile(label, value, cls, dataset, sub) {
  return h('div', { class: `tile ${cls}`, dataset }, h('div', { class: 'tile-value' }, String(value)), h('div', { class: 'tile-label' }, label), sub ? h('div', { class: 'tile-sub' }, sub) : null);
}
