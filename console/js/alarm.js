/* global window, document, sessionStorage */
import { byId, replace } from './dom.js';
import { KINDS, levelText } from './labels.js';

/** Beep patterns: level 1 three high tones, level 2 two lower ones (distinguishable without looking). */
const PATTERNS = { 1: { hz: 1320, beeps: 3 }, 2: { hz: 880, beeps: 2 } };
const BEEP_S = 0.18;
const GAP_S = 0.12;
/** How long the banner stays after the newest level 1–2 alert, ms. */
const BANNER_MS = 15_000;
/** Quietest gap between two beep patterns, ms: a burst of alerts (a replay after a network cut) beeps once. */
const MIN_BEEP_GAP_MS = 1500;

/**
 * The sound and visual cue for level 1–2 alerts: a WebAudio beep (no audio file) and a flashing banner. Browsers
 * start audio only after a user gesture: sign-in is one; after a reload the "启用声音" button is.
 */
export class Alarm {
  constructor() {
    this.ctx = null;
    this.muted = sessionStorage.getItem('rg.muted') === '1';
    this.count = 0;
    this.timer = null;
    this.lastBeepAt = 0;
    this.banner = byId('alarm-banner');
    this.soundButton = byId('sound-toggle');
    this.soundButton.addEventListener('click', () => this.toggle());
    this.render();
  }

  /** Call from a user gesture (click): creates or resumes the audio context. */
  unlock() {
    const Ctx = window.AudioContext ?? window.webkitAudioContext;
    if (!Ctx) return;
    this.ctx ??= new Ctx();
    if (this.ctx.state === 'suspended') void this.ctx.resume().then(() => this.render());
    this.render();
  }

  toggle() {
    if (this.ctx?.state !== 'running') {
      this.muted = false;
      this.unlock();
    } else {
      this.muted = !this.muted;
    }
    sessionStorage.setItem('rg.muted', this.muted ? '1' : '0');
    this.render();
  }

  render() {
    const running = this.ctx?.state === 'running';
    this.soundButton.textContent = !running ? '点击启用声音' : this.muted ? '声音：关' : '声音：开';
    this.soundButton.classList.toggle('attention', !running && !this.muted);
  }

  /** A level 1–2 alert needs attention: beep, flash the banner, mark the tab title. */
  raise(alert, why) {
    if (alert.level > 2) return;
    this.count++;
    document.body.dataset.alarms = String(this.count);
    this.beep(alert.level);
    this.banner.hidden = false;
    this.banner.className = `alarm-banner flash lvl-${alert.level}`;
    const where = alert.kind === 'gateway' ? '网关' : `${alert.tenant} / ${alert.device_id}`;
    replace(this.banner, `${levelText(alert.level)}告警${why}：${alert.title}\u3000${KINDS[alert.kind] ?? alert.kind}\u3000${where}`);
    if (!document.title.startsWith('【告警】')) document.title = `【告警】${document.title}`;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.quiet(), BANNER_MS);
  }

  quiet() {
    this.banner.hidden = true;
    document.title = document.title.replace(/^【告警】/, '');
  }

  beep(level) {
    const p = PATTERNS[level];
    const ctx = this.ctx;
    if (!p || !ctx || this.muted || ctx.state !== 'running') return;
    if (Date.now() - this.lastBeepAt < MIN_BEEP_GAP_MS) return;
    this.lastBeepAt = Date.now();
    const t0 = ctx.currentTime + 0.02;
    for (let i = 0; i < p.beeps; i++) {
      const start = t0 + i * (BEEP_S + GAP_S);
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = p.hz;
      // A short ramp in and out: no click at the edges.
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(0.2, start + 0.01);
      gain.gain.setValueAtTime(0.2, start + BEEP_S - 0.02);
      gain.gain.linearRampToValueAtTime(0, start + BEEP_S);
      osc.connect(gain).connect(ctx.destination);
      osc.start(start);
      osc.stop(start + BEEP_S);
    }
    document.body.dataset.beeps = String(Number(document.body.dataset.beeps ?? 0) + 1);
  }
}
