/* global requestAnimationFrame, FormData */
import { byId, h, replace } from './dom.js';
import { CONDITION, HANDLING, KINDS, LEVELS, formatTime, formatValue, levelText } from './labels.js';

/** Rows drawn at most (the filters narrow the rest). */
const MAX_ROWS = 500;
/** How long a new level 1–2 row flashes, ms. */
const FLASH_MS = 10_000;

/**
 * The alert table, newest first, coloured by level, narrowed by the filter bar (region, enterprise, kind, level,
 * handling state). `onSelect(id)` when a row is clicked.
 */
export class AlertList {
  constructor(state, { onSelect }) {
    this.state = state;
    this.onSelect = onSelect;
    this.tbody = byId('alert-rows');
    this.count = byId('alert-count');
    this.form = byId('filters');
    this.tenantNames = new Map();
    this.selected = null;
    this.flashing = new Set();
    this.pending = false;
    this.form.addEventListener('change', () => this.render());
    this.form.addEventListener('reset', () => setTimeout(() => this.render()));
    state.onChange(() => this.schedule());
    fillSelect(byId('f-kind'), Object.entries(KINDS));
    fillSelect(byId('f-level'), Object.entries(LEVELS).map(([k]) => [k, levelText(Number(k))]));
    fillSelect(byId('f-handling'), [['open', '未关闭（未确认＋已确认）'], ...Object.entries(HANDLING)]);
  }

  /** Enterprises the token sees (`GET /api/v1/tenants`): names for the table and the filter. */
  setTenants(tenants) {
    for (const t of tenants) this.tenantNames.set(t.tenant, t.name);
    fillSelect(byId('f-tenant'), tenants.map((t) => [t.tenant, t.name]));
    this.schedule();
  }

  /** Regions (`GET /api/v1/regions`): cities and counties, a county indented under its city. */
  setRegions(regions) {
    const options = regions.filter((r) => r.code.length >= 4).map((r) => [r.code, r.code.length > 4 ? `\u3000${r.name}` : r.name]);
    fillSelect(byId('f-region'), options);
  }

  flash(id) {
    this.flashing.add(id);
    setTimeout(() => {
      this.flashing.delete(id);
      this.schedule();
    }, FLASH_MS);
    this.schedule();
  }

  select(id) {
    this.selected = id;
    this.schedule();
  }

  filters() {
    const f = Object.fromEntries(new FormData(this.form));
    return (a) =>
      (!f.region || (a.region ?? '').startsWith(f.region)) &&
      (!f.tenant || a.tenant === f.tenant) &&
      (!f.kind || a.kind === f.kind) &&
      (!f.level || a.level === Number(f.level)) &&
      (!f.handling || (f.handling === 'open' ? a.handling !== 'closed' : a.handling === f.handling));
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  render() {
    const all = this.state.all();
    const shown = all.filter(this.filters());
    this.count.textContent = `显示 ${Math.min(shown.length, MAX_ROWS)} / 共 ${all.length} 条`;
    replace(this.tbody, ...shown.slice(0, MAX_ROWS).map((a) => this.row(a)));
    if (shown.length === 0) this.tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: 9 }, '没有符合条件的告警')));
  }

  row(a) {
    const classes = [`lvl-${a.level}`, `handling-${a.handling}`];
    if (this.flashing.has(a.id)) classes.push('flash');
    if (this.selected === a.id) classes.push('selected');
    const tenant = a.kind === 'gateway' ? '—' : (this.tenantNames.get(a.tenant) ?? a.tenant);
    return h(
      'tr',
      { class: classes.join(' '), dataset: { alertId: a.id, level: a.level, handling: a.handling }, tabindex: 0, onclick: () => this.onSelect(a.id), onkeydown: (e) => e.key === 'Enter' && this.onSelect(a.id) },
      h('td', {}, h('span', { class: `badge lvl-${a.level}` }, levelText(a.level))),
      h('td', { class: 'time' }, formatTime(a.created_at)),
      h('td', {}, tenant),
      h('td', {}, a.device_id),
      h('td', {}, KINDS[a.kind] ?? a.kind),
      h('td', { class: 'title' }, a.title, a.historical ? h('span', { class: 'tag' }, '补传') : null, a.silenced ? h('span', { class: 'tag' }, '屏蔽期') : null),
      h('td', { class: 'num' }, formatValue(a.last_value)),
      h('td', { class: `condition-${a.condition}` }, CONDITION[a.condition] ?? a.condition),
      h('td', { class: 'handling' }, HANDLING[a.handling] ?? a.handling),
    );
  }
}

function fillSelect(select, options) {
  const keep = select.value;
  const all = select.querySelector('option[value=""]');
  select.replaceChildren(...(all ? [all] : []), ...options.map(([value, label]) => h('option', { value }, label)));
  select.value = options.some(([v]) => v === keep) ? keep : '';
}
