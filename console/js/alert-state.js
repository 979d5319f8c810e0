/** Most alerts kept in the page; the oldest closed ones go first. */
const MAX_ALERTS = 2000;

/**
 * The alerts the page knows, by id, each as it stood after the newest event seen. The list fetched at sign-in and the
 * stream's events both feed it; an event older than what is already known (by seq, or by `updated_at` against the
 * fetched list) never rolls an alert back.
 */
export class AlertState {
  constructor() {
    /** @type {Map<number, { alert: object, seq: number }>} */
    this.byId = new Map();
    this.listeners = [];
  }

  onChange(fn) {
    this.listeners.push(fn);
  }

  changed(ids) {
    for (const fn of this.listeners) fn(ids);
  }

  /** Alerts from `GET /api/v1/alerts` (seq unknown: 0). */
  load(alerts) {
    for (const a of alerts) {
      const known = this.byId.get(a.id);
      if (!known || known.alert.updated_at <= a.updated_at) this.byId.set(a.id, { alert: a, seq: known?.seq ?? 0 });
    }
    this.trim();
    this.changed(alerts.map((a) => a.id));
  }

  /** Applies one event; returns true when it changed what the page shows. */
  apply(ev) {
    const known = this.byId.get(ev.alert_id);
    if (known && (ev.seq <= known.seq || (known.seq === 0 && ev.alert.updated_at < known.alert.updated_at))) return false;
    this.byId.set(ev.alert_id, { alert: ev.alert, seq: ev.seq });
    if (!known) this.trim();
    this.changed([ev.alert_id]);
    return true;
  }

  get(id) {
    return this.byId.get(id)?.alert;
  }

  /** Every alert, newest raised first. */
  all() {
    return [...this.byId.values()].map((e) => e.alert).sort((a, b) => b.created_at - a.created_at || b.id - a.id);
  }

  trim() {
    if (this.byId.size <= MAX_ALERTS) return;
    const closed = this.all().filter((a) => a.handling === 'closed');
    for (const a of closed.reverse()) {
      if (this.byId.size <= MAX_ALERTS) break;
      this.byId.delete(a.id);
    }
  }
}
