import type { LoadtestReport, TimelineRow } from './report.js';

// The run as a picture without a browser or a plotting library: a standalone SVG with two panels on one time axis —
// published / accepted / stored per second above, each alert's latency (dots) and the p95 per interval below.

const W = 960;
const LEFT = 72;
const RIGHT = 24;
/** Height of one header line, px; the panels sit below the header. */
const LINE_PX = 17;
const RATE_PANEL_PX = 230;
const LATENCY_PANEL_PX = 190;
/** Longest header line, characters (about the chart's width at 12 px). */
const MAX_LINE_CHARS = 140;
/** Most latency dots drawn; a longer run is thinned evenly (the p95 line still uses every event). */
const MAX_DOTS = 4000;

const COLORS = { published: '#9e9e9e', accepted: '#1f77b4', stored: '#2ca02c', rejected: '#d62728', dot: '#9467bd', p95: '#ff7f0e', axis: '#444', grid: '#e5e5e5' } as const;

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Round tick values from 0 to at least `max`: steps of 1, 2 or 5 × 10^k, about `count` of them. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) as number) * mag;
  const ticks: number[] = [];
  for (let v = 0; v < max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  if ((ticks[ticks.length - 1] as number) < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

const fmt = (v: number): string => (Math.abs(v) >= 10_000 ? `${v / 1000}k` : String(v));

interface Panel {
  top: number;
  bottom: number;
  yMax: number;
}

function yOf(p: Panel, v: number): number {
  return p.bottom - (Math.min(v, p.yMax) / p.yMax) * (p.bottom - p.top);
}

function axes(p: Panel, xTicks: number[], xOf: (t: number) => number, yTicks: number[], yLabel: string): string[] {
  const out: string[] = [];
  for (const t of yTicks) {
    const y = yOf(p, t).toFixed(1);
    out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y}" y2="${y}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${LEFT - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
  }
  for (const t of xTicks) {
    const x = xOf(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${p.bottom}" y2="${p.bottom + 4}" stroke="${COLORS.axis}"/>`);
    out.push(`<text x="${x}" y="${p.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${p.bottom}" y2="${p.bottom}" stroke="${COLORS.axis}"/>`);
  out.push(`<line x1="${LEFT}" x2="${LEFT}" y1="${p.top}" y2="${p.bottom}" stroke="${COLORS.axis}"/>`);
  const mid = (p.top + p.bottom) / 2;
  out.push(`<text x="16" y="${mid}" transform="rotate(-90 16 ${mid})" text-anchor="middle">${escapeXml(yLabel)}</text>`);
  return out;
}

/** A polyline through the points, broken where a value is null. */
function line(points: { t: number; v: number | null }[], xOf: (t: number) => number, p: Panel, color: string, dashed = false): string[] {
  const segments: string[][] = [[]];
  for (const pt of points) {
    if (pt.v === null) {
      if ((segments[segments.length - 1] as string[]).length > 0) segments.push([]);
      continue;
    }
    (segments[segments.length - 1] as string[]).push(`${xOf(pt.t).toFixed(1)},${yOf(p, pt.v).toFixed(1)}`);
  }
  return segments
    .filter((s) => s.length > 0)
    .map((s) => `<polyline fill="none" stroke="${color}" stroke-width="1.8"${dashed ? ' stroke-dasharray="5 3"' : ''} points="${s.join(' ')}"/>`);
}

function legend(x: number, y: number, items: { label: string; color: string }[]): string[] {
  return items.flatMap((it, i) => {
    const lx = x + i * 150;
    return [`<rect x="${lx}" y="${y - 8}" width="14" height="4" fill="${it.color}"/>`, `<text x="${lx + 20}" y="${y}" dominant-baseline="middle">${escapeXml(it.label)}</text>`];
  });
}

function clip(text: string): string {
  return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS - 1)}…` : text;
}

/** The report's chart as an SVG document. */
export function renderChartSvg(r: LoadtestReport): string {
  const tl = r.timeline;
  const header = [
    ...r.workload.map((w) => clip(w)),
    `${r.started_at}, QoS ${r.qos}: ${r.published.messages} messages published, ${r.gateway.accepted} readings accepted, ${r.gateway.stored} stored, ${r.gateway.rejected_total} rejected`,
  ];
  const headerBottom = 30 + header.length * LINE_PX;
  const ratePanel = { top: headerBottom + 30, bottom: headerBottom + 30 + RATE_PANEL_PX };
  const latencyPanel = { top: ratePanel.bottom + 60, bottom: ratePanel.bottom + 60 + LATENCY_PANEL_PX };
  const height = latencyPanel.bottom + 50;
  const tMax = Math.max(1, ...tl.map((row) => row.t_s), ...r.latencies.map((l) => l.t_s));
  const xTicks = niceTicks(tMax, 8);
  const xEnd = xTicks[xTicks.length - 1] as number;
  const xOf = (t: number): number => LEFT + (t / xEnd) * (W - LEFT - RIGHT);

  const rateMax = Math.max(1, ...tl.flatMap((row) => [row.published_per_s, row.accepted_per_s, row.stored_per_s, row.rejected_per_s]));
  const rateTicks = niceTicks(rateMax);
  const rates: Panel = { ...ratePanel, yMax: rateTicks[rateTicks.length - 1] as number };
  const latMax = Math.max(1, ...r.latencies.map((l) => l.ms));
  const latTicks = niceTicks(latMax);
  const lat: Panel = { ...latencyPanel, yMax: latTicks[latTicks.length - 1] as number };

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${height}" fill="#fff"/>`,
    `<text x="${LEFT}" y="24" font-size="15" font-weight="bold">riskgate loadtest</text>`,
    ...header.map((line, i) => `<text x="${LEFT}" y="${24 + (i + 1) * LINE_PX}" fill="#555">${escapeXml(line)}</text>`),
    ...axes(rates, xTicks, xOf, rateTicks, 'readings (messages) per second'),
    ...line(tl.map((row) => ({ t: row.t_s, v: row.published_per_s })), xOf, rates, COLORS.published, true),
    ...line(tl.map((row) => ({ t: row.t_s, v: row.accepted_per_s })), xOf, rates, COLORS.accepted),
    ...line(tl.map((row) => ({ t: row.t_s, v: row.stored_per_s })), xOf, rates, COLORS.stored),
    ...(r.gateway.rejected_total > 0 ? line(tl.map((row) => ({ t: row.t_s, v: row.rejected_per_s })), xOf, rates, COLORS.rejected) : []),
    ...legend(LEFT + 10, ratePanel.top - 8, [
      { label: 'published msg/s', color: COLORS.published },
      { label: 'accepted /s', color: COLORS.accepted },
      { label: 'stored /s', color: COLORS.stored },
      ...(r.gateway.rejected_total > 0 ? [{ label: 'rejected /s', color: COLORS.rejected }] : []),
    ]),
    ...axes(lat, xTicks, xOf, latTicks, 'alert latency, ms'),
  ];
  const step = Math.max(1, Math.ceil(r.latencies.length / MAX_DOTS));
  for (let i = 0; i < r.latencies.length; i += step) {
    const l = r.latencies[i] as { t_s: number; ms: number };
    out.push(`<circle cx="${xOf(l.t_s).toFixed(1)}" cy="${yOf(lat, l.ms).toFixed(1)}" r="2" fill="${COLORS.dot}" fill-opacity="0.45"/>`);
  }
  // The p95 of each interval as a level over that interval (not a line between intervals: most have no alert).
  tl.forEach((row, i) => {
    if (row.latency_p95_ms === null) return;
    const from = Math.max(0, i > 0 ? (tl[i - 1] as TimelineRow).t_s : row.t_s - 1);
    const y = yOf(lat, row.latency_p95_ms).toFixed(1);
    out.push(`<line x1="${xOf(from).toFixed(1)}" x2="${xOf(row.t_s).toFixed(1)}" y1="${y}" y2="${y}" stroke="${COLORS.p95}" stroke-width="2"/>`);
  });
  const s = r.latency_ms;
  const summary = s.count === 0 ? 'no alert matched' : `p50 ${s.p50} · p95 ${s.p95} · p99 ${s.p99} · max ${s.max} ms (n ${s.count})`;
  out.push(...legend(LEFT + 10, latencyPanel.top - 8, [{ label: 'each alert', color: COLORS.dot }, { label: 'p95 per interval', color: COLORS.p95 }]));
  out.push(`<text x="${W - RIGHT}" y="${latencyPanel.top - 8}" text-anchor="end" dominant-baseline="middle">${escapeXml(summary)}</text>`);
  out.push(`<text x="${(LEFT + W - RIGHT) / 2}" y="${height - 12}" text-anchor="middle">seconds since the start of the run</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
