import { describeVerdict, gateOutputs, gateSummary } from '../../src/health/summary.js';
import type { GateResult, GateRound } from '../../src/health/types.js';

const URL_A = 'http://127.0.0.1:8080/health';
const round = (n: number, atMs: number, result: GateRound['results'][number], checks?: GateRound['checks']): GateRound => ({
  n,
  ok: result.ok && (checks ?? []).every((c) => c.ok),
  atMs,
  results: [result],
  ...(checks ? { checks } : {}),
});

const unhealthy: GateResult = {
  healthy: false,
  attempts: 3,
  successes: 1,
  p50Ms: 12,
  p95Ms: 15,
  reason: `HTTP 404 from ${URL_A}`,
  elapsedMs: 4100,
  rounds: [
    round(1, 0, { url: URL_A, ok: true, status: 200, ms: 12 }),
    round(2, 2012, { url: URL_A, ok: false, status: 404, ms: 3, error: `HTTP 404 from ${URL_A}` }),
    round(3, 4015, { url: URL_A, ok: true, status: 200, ms: 15 }),
  ],
};

describe('the gate in the job summary, the outputs and one line', () => {
  test('a table of rounds with a column per URL', () => {
    expect(gateSummary({ urls: [URL_A], successes: 3, maxLatencyMs: undefined }, unhealthy)).toBe(
      [
        '### Health gate: ❌ unhealthy',
        '',
        `Health gate failed: HTTP 404 from ${URL_A}; 1/3 passing rounds in a row, 3 rounds in 4.1s, p50 12ms, p95 15ms`,
        '',
        `| Round | Started | Result | ${URL_A} |`,
        '| --- | --- | --- | --- |',
        '| 1 | 0ms | pass | 200 in 12ms |',
        '| 2 | 2s | fail | ❌ HTTP 404 in 3ms |',
        '| 3 | 4s | pass | 200 in 15ms |',
        '',
      ].join('\n'),
    );
  });

  test('checks get columns of their own; table characters in findings are escaped', () => {
    const result: GateResult = {
      healthy: false,
      attempts: 1,
      successes: 0,
      p50Ms: undefined,
      p95Ms: undefined,
      reason: 'body did not match /ok|ready/',
      elapsedMs: 20,
      rounds: [round(1, 0, { url: URL_A, ok: false, status: 200, ms: 4, error: 'body did not match /ok|ready/' }, [{ name: 'containers of shop', ok: false, detail: 'container <web_1> unhealthy' }])],
    };
    const summary = gateSummary({ urls: [URL_A], successes: 3, maxLatencyMs: 500 }, result);
    expect(summary).toContain('Latency limit: p95 at most 500ms.');
    expect(summary).toContain(`| Round | Started | Result | ${URL_A} | containers of shop |`);
    expect(summary).toContain('| 1 | 0ms | fail | ❌ body did not match /ok\\|ready/ | ❌ container &lt;web_1&gt; unhealthy |');
  });

  test('long runs show the first and the last rounds', () => {
    const rounds = Array.from({ length: 100 }, (_, i) => round(i + 1, i * 2000, { url: URL_A, ok: false, error: 'connection refused' }));
    const summary = gateSummary({ urls: [URL_A], successes: 3, maxLatencyMs: undefined }, { ...unhealthy, attempts: 100, rounds });
    const rows = summary.split('\n').filter((l) => /^\| \d/.test(l));
    expect(rows).toHaveLength(40);
    expect(rows[0]).toMatch(/^\| 1 \|/);
    expect(rows[9]).toMatch(/^\| 10 \|/);
    expect(rows[10]).toMatch(/^\| 71 \|/);
    expect(summary).toContain('| … | | 60 more rounds |');
  });

  test('outputs: numbers as text, empty latencies when no request passed', () => {
    expect(gateOutputs(unhealthy)).toEqual({ healthy: 'false', attempts: '3', successes: '1', 'p50-ms': '12', 'p95-ms': '15', reason: `HTTP 404 from ${URL_A}` });
    expect(gateOutputs({ ...unhealthy, p50Ms: undefined, p95Ms: undefined })).toMatchObject({ 'p50-ms': '', 'p95-ms': '' });
  });

  test('the verdict in one line', () => {
    expect(describeVerdict({ successes: 3 }, { ...unhealthy, healthy: true, successes: 3, reason: '' })).toBe('passed: 3/3 passing rounds in a row, 3 rounds in 4.1s, p50 12ms, p95 15ms');
    expect(describeVerdict({ successes: 1 }, { ...unhealthy, attempts: 1, p50Ms: undefined, p95Ms: undefined, reason: 'timeout after 5s', successes: 0 })).toBe(
      'failed: timeout after 5s; 0/1 passing rounds in a row, 1 round in 4.1s',
    );
  });
});
