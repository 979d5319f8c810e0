/* global document, sessionStorage, location */
import { Alarm } from './alarm.js';
import { AlertDetail } from './alert-detail.js';
import { AlertList } from './alert-list.js';
import { AlertState } from './alert-state.js';
import { Api } from './api.js';
import { HandlingDialogs } from './dialogs.js';
import { byId } from './dom.js';
import { CONNECTION } from './labels.js';
import { AlertStream } from './stream.js';
import { Tiles } from './tiles.js';
import { VehicleMap } from './vehicle-map.js';

/** The token lives for the browser tab only (sessionStorage): closing the tab signs out. */
const TOKEN_KEY = 'rg.token';
const MESSAGE_KEY = 'rg.signin-message';
const STATS_EVERY_MS = 60_000;
const VEHICLES_EVERY_MS = 15_000;
/** Event types that call for attention when they make an alert level 1–2 (or more severe). */
const ATTENTION = { raised: '', reactivated: '（再次触发）', level_changed: '（级别升高）', escalated: '（超时未确认）' };

const alarm = new Alarm();
const signinForm = byId('signin-form');
const signinError = byId('signin-error');
signinError.textContent = sessionStorage.getItem(MESSAGE_KEY) ?? '';
sessionStorage.removeItem(MESSAGE_KEY);

signinForm.addEventListener('submit', (e) => {
  e.preventDefault();
  alarm.unlock(); // the click is the user gesture browsers want before audio
  void signIn(byId('token').value.trim());
});

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) void signIn(saved);

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (message) sessionStorage.setItem(MESSAGE_KEY, message);
  location.reload();
}

async function signIn(token) {
  if (!token) return;
  signinError.textContent = '';
  const api = new Api(token, { onUnauthorized: () => signOut('令牌无效、已吊销或已过期，请重新登录') });
  try {
    await api.get('/api/v1/alerts?limit=1');
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    signinError.textContent = err.status === 403 ? '该令牌不能查看告警（需要运维人员或企业令牌）' : err.message;
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  byId('signin').hidden = true;
  byId('app').hidden = false;
  byId('signout').addEventListener('click', () => signOut());
  run(api, token);
}

function run(api, token) {
  const state = new AlertState();
  const tiles = new Tiles(state);
  const map = new VehicleMap(state);
  const list = new AlertList(state, { onSelect: (id) => select(id) });
  const detail = new AlertDetail(api, {
    onAck: (a) => dialogs.openAck(a),
    onClose: (a) => dialogs.openClose(a),
    tenantName: (t) => list.tenantNames.get(t),
  });
  const dialogs = new HandlingDialogs(api, {
    onDone: (ev) => {
      state.apply(ev);
      void detail.refresh();
    },
  });
  const select = (id) => {
    list.select(id);
    void detail.show(id);
  };

  let loaded = false;
  const early = [];
  const onEvent = (ev) => {
    const before = state.get(ev.alert_id);
    if (!state.apply(ev)) return;
    const a = ev.alert;
    const why = ATTENTION[ev.type];
    const worse = ev.type !== 'level_changed' || !before || a.level < before.level;
    if (why !== undefined && worse && a.level <= 2 && !a.historical && !a.silenced && a.handling !== 'closed') {
      alarm.raise(a, why);
      list.flash(a.id);
    }
    if (detail.id === ev.alert_id) void detail.refresh();
  };
  const conn = byId('conn');
  const stream = new AlertStream(token, {
    onState: (s) => {
      conn.dataset.state = s;
      conn.textContent = CONNECTION[s];
    },
    // The list is read after the first hello: every later event comes over the stream (none falls in between).
    onHello: async () => {
      const [open, recent] = await Promise.all([api.get('/api/v1/alerts?open=true&limit=1000'), api.get('/api/v1/alerts?limit=300')]).catch((err) => {
        byId('alert-count').textContent = `告警列表读取失败：${err.message}`;
        return [{ alerts: [] }, { alerts: [] }];
      });
      state.load([...open.alerts, ...recent.alerts]);
      loaded = true;
      for (const ev of early.splice(0)) onEvent(ev);
    },
    onEvent: (ev) => (loaded ? onEvent(ev) : early.push(ev)),
  });
  stream.start();

  api.get('/api/v1/tenants?limit=1000').then((b) => list.setTenants(b.tenants), () => {});
  api.get('/api/v1/regions').then((b) => list.setRegions(b.regions), () => {});
  const stats = () => api.get('/api/v1/stats/online?group_by=kind&window=24h').then((b) => tiles.renderOnline(b), (err) => tiles.onlineFailed(err.message));
  const vehicles = () => api.get('/api/v1/telemetry/latest?kind=vehicle').then((b) => map.update(b), (err) => map.failed(err.message));
  void stats();
  void vehicles();
  setInterval(stats, STATS_EVERY_MS);
  setInterval(vehicles, VEHICLES_EVERY_MS);
  tiles.renderCounts();
  map.render();
  document.title = 'riskgate 值班台';
}
