import { describe, expect, test } from 'vitest';
import { escapeXml, niceTicks, renderChartSvg } from '../../../src/loadtest/chart-svg.js';
import type { LoadtestReport, TimelineRow } from '../../../src/loadtest/report.js';

function report(latencies: { t_s: number; ms: number }[], timeline: TimelineRow[]): LoadtestReport {
  return {
    format: 'riskgate-loadtest/1',
    started_at: '2026-05-01T10:00:00.000Z',
    duration_s: 10,
    gateway_url: 'http://gw',
    broker_url: 'mqtt://b',
    qos: 1,
    workload: ['scenario <gas & leak>', `fleet ${'x'.repeat(300)}`],
    offered_rate_per_s: 100,
    published: { messages: 1, readings: 1, acked: 1, errors: 0, first_error: null, rate_per_s: 1, max_lag_ms: 0 },
    gateway: { accepted: 1, stored: 1, rejected_total: 0, rejected: {}, accepted_per_s: 1, stored_per_s: 1, peak_accepted_per_s: 1, peak_stored_per_s: 1, all_accounted: true, all_stored: true, drain_s: 0 },
    latency_ms: { count: latencies.length, p50: 1, p95: 2, p99: 3, max: 4, mean: 2, matched: latencies.length, unmatched: 0 },
    alerts: { received: 0, expected: 0, arrived: 0, all_arrived: null, missing: [], skipped: [], stream_closed_early: null },
    timeline,
    latencies,
  };
}

const row = (t_s: number, rate: number, p95: number | null): TimelineRow => ({ t_s, published_per_s: rate, accepted_per_s: rate, stored_per_s: rate / 2, rejected_per_s: 0, alerts: 0, latency_p95_ms: p95, latency_max_ms: p95 });

/** Every opening tag closed, in order (the SVG is written without self-nesting surprises). */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
    if (m[3] === '/') continue;
    if (m[1] === '/') {
      if (stack.pop() !== m[2]) return false;
    } else stack.push(m[2] as string);
  }
  return stack.length === 0;
}

describe('chart-svg', () => {
  test.each([
    [100, [0, 20, 40, 60, 80, 100]],
    [7, [0, 2, 4, 6, 8]],
    [0.3, [0, 0.1, 0.2, 0.3]],
    [12_345, [0, 5000, 10_000, 15_000]],
    [0, [0, 1]],
  ])('nice ticks up to %d are %j', (max, want) => {
    expect(niceTicks(max, 5)).toEqual(want);
  });

  test('text is escaped for XML', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });

  test('the chart is one well-formed SVG with the rate lines, a dot per alert and the p95 line', () => {
    const svg = renderChartSvg(report([{ t_s: 1.5, ms: 12 }, { t_s: 2.5, ms: 40 }], [row(1, 100, null), row(2, 120, 12), row(3, 80, 40)]));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('scenario &lt;gas &amp; leak&gt;');
    expect(svg).toMatch(/fleet x{100,}…</); // a long workload line is clipped, not run off the edge
    expect(svg.match(/<circle /g)).toHaveLength(2);
    // published (dashed), accepted, stored; the p95 as a level over each interval that had alerts (two of three).
    expect(svg.match(/<polyline /g)).toHaveLength(3);
    expect(svg.match(/<line [^>]*stroke="#ff7f0e"/g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  test('a run without alerts or scrapes still draws empty axes', () => {
    const svg = renderChartSvg(report([], []));
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('no alert matched');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  test('a long run is thinned to at most 4000 dots', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => ({ t_s: i / 100, ms: i % 50 }));
    expect(renderChartSvg(report(many, [row(100, 10, 5)])).match(/<circle /g)?.length).toBeLessThanOrEqual(4000);
  });
});
