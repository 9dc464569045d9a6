import type { ProbeOutcome } from '../../src/health/probe.js';
import { Probe, RoundCheck, runRounds } from '../../src/health/rounds.js';
import type { Reporter } from '../../src/report.js';
import type { Clock } from '../../src/util/poll.js';

/** Time that passes only when the gate sleeps or a request "takes" it. */
class FakeClock implements Clock {
  t = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

class LogReporter implements Reporter {
  readonly lines: string[] = [];
  info(message: string): void {
    this.lines.push(message);
  }
  warning(message: string): void {
    this.lines.push(`warning: ${message}`);
  }
  debug(): void {}
  group<T>(_title: string, fn: () => Promise<T>): Promise<T> {
    return fn();
  }
}

const URL_A = 'http://127.0.0.1:8080/health';
const ok = (ms = 10): ProbeOutcome => ({ ok: true, status: 200, ms });
const http = (status: number, url = URL_A, ms = 3): ProbeOutcome => ({ ok: false, status, ms, error: `HTTP ${status} from ${url}` });
const refused: ProbeOutcome = { ok: false, error: 'connection refused' };

/** A probe answering from a script, one outcome per round (the last one repeats); each request takes its `ms` of clock time. */
function scripted(clock: FakeClock, script: Record<string, readonly ProbeOutcome[]>): Probe & { calls: string[] } {
  const calls: string[] = [];
  const seen = new Map<string, number>();
  const probe = async (url: string) => {
    calls.push(url);
    const i = seen.get(url) ?? 0;
    seen.set(url, i + 1);
    const outcomes = script[url]!;
    const outcome = outcomes[Math.min(i, outcomes.length - 1)]!;
    clock.t += outcome.ms ?? 0;
    return outcome;
  };
  return Object.assign(probe, { calls });
}

const settings = { urls: [URL_A], successes: 3, intervalMs: 2000, timeoutMs: 60_000, maxLatencyMs: undefined };

describe('gate rounds', () => {
  test('healthy after the needed passing rounds in a row, one log line per round', async () => {
    const clock = new FakeClock();
    const reporter = new LogReporter();
    const result = await runRounds(settings, { probe: scripted(clock, { [URL_A]: [ok(12), ok(14), ok(10)] }), reporter, clock });
    expect(result).toMatchObject({ healthy: true, attempts: 3, successes: 3, p50Ms: 12, p95Ms: 14, reason: '' });
    expect(result.rounds.map((r) => r.atMs)).toEqual([0, 2012, 4026]);
    expect(reporter.lines).toEqual([
      `round 1: pass (1/3 in a row): ${URL_A} 200 in 12ms`,
      `round 2: pass (2/3 in a row): ${URL_A} 200 in 14ms`,
      `round 3: pass (3/3 in a row): ${URL_A} 200 in 10ms`,
    ]);
  });

  test('a failing round starts the count again', async () => {
    const clock = new FakeClock();
    const reporter = new LogReporter();
    const probe = scripted(clock, { [URL_A]: [ok(), ok(), http(503), ok(), ok(), ok()] });
    const result = await runRounds(settings, { probe, reporter, clock });
    expect(result).toMatchObject({ healthy: true, attempts: 6, successes: 3, reason: '' });
    expect(reporter.lines[2]).toBe(`round 3: FAIL (0/3 in a row): HTTP 503 from ${URL_A} in 3ms`);
  });

  test('a flapping URL never passes: unhealthy at the deadline with the last failure', async () => {
    const clock = new FakeClock();
    const flapping = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? ok(5) : http(500, URL_A, 5)));
    const result = await runRounds({ ...settings, successes: 2, timeoutMs: 20_000 }, { probe: scripted(clock, { [URL_A]: flapping }), reporter: new LogReporter(), clock });
    expect(result.healthy).toBe(false);
    expect(result.reason).toBe(`HTTP 500 from ${URL_A}`);
    expect(result.successes).toBeLessThan(2);
    expect(result.attempts).toBe(11); // rounds at 0, 2005, 4010 ... until the 20s budget is spent
    expect(result.rounds.every((r, i) => r.ok === (i % 2 === 0))).toBe(true);
  });

  test('never longer than the budget plus one request, even when every request times out', async () => {
    const clock = new FakeClock();
    const timedOut: ProbeOutcome = { ok: false, ms: 5000, error: 'timeout after 5s' };
    const result = await runRounds({ ...settings, timeoutMs: 13_000 }, { probe: scripted(clock, { [URL_A]: [timedOut] }), reporter: new LogReporter(), clock });
    expect(result).toMatchObject({ healthy: false, successes: 0, reason: 'timeout after 5s', p50Ms: undefined, p95Ms: undefined });
    // 0-5s, 7-12s, then a last round starts at the deadline (13s, after a shortened wait) and runs its 5s.
    expect(result.rounds.map((r) => r.atMs)).toEqual([0, 7000, 13_000]);
    expect(clock.sleeps).toEqual([2000, 1000]);
    expect(result.elapsedMs).toBe(13_000 + 5000);
  });

  test('the reason is the last failure even when later rounds passed', async () => {
    const clock = new FakeClock();
    const result = await runRounds({ ...settings, timeoutMs: 5000 }, { probe: scripted(clock, { [URL_A]: [refused, http(404), ok(), ok()] }), reporter: new LogReporter(), clock });
    expect(result).toMatchObject({ healthy: false, attempts: 4, successes: 2, reason: `HTTP 404 from ${URL_A}` });
  });

  test('p95 of the passing round trips above max-latency fails the gate', async () => {
    const clock = new FakeClock();
    const result = await runRounds({ ...settings, maxLatencyMs: 500 }, { probe: scripted(clock, { [URL_A]: [ok(812), ok(40), ok(50)] }), reporter: new LogReporter(), clock });
    expect(result).toMatchObject({ healthy: false, attempts: 3, successes: 3, p50Ms: 50, p95Ms: 812, reason: 'p95 latency 812ms above max-latency 500ms' });
    const fast = await runRounds({ ...settings, maxLatencyMs: 500 }, { probe: scripted(new FakeClock(), { [URL_A]: [ok(40)] }), reporter: new LogReporter(), clock: new FakeClock() });
    expect(fast).toMatchObject({ healthy: true, p95Ms: 40, reason: '' });
  });

  test('every URL must pass in a round; a failure names its URL when there are several', async () => {
    const URL_B = 'https://shop.example.com/ready';
    const clock = new FakeClock();
    const reporter = new LogReporter();
    const probe = scripted(clock, { [URL_A]: [ok(10)], [URL_B]: [refused, ok(20)] });
    const result = await runRounds({ ...settings, urls: [URL_A, URL_B], successes: 1 }, { probe, reporter, clock });
    expect(result).toMatchObject({ healthy: true, attempts: 2 });
    expect(probe.calls).toEqual([URL_A, URL_B, URL_A, URL_B]);
    expect(reporter.lines[0]).toBe(`round 1: FAIL (0/1 in a row): ${URL_A} 200 in 10ms; ${URL_B}: connection refused`);
    const failing = await runRounds(
      { ...settings, urls: [URL_A, URL_B], successes: 1, timeoutMs: 0 },
      { probe: scripted(new FakeClock(), { [URL_A]: [ok()], [URL_B]: [refused] }), reporter: new LogReporter(), clock: new FakeClock() },
    );
    expect(failing.reason).toBe(`connection refused (${URL_B})`);
  });

  test('a password in a URL is never shown', async () => {
    const secretUrl = 'http://probe:hunter22@127.0.0.1:8080/health';
    const clock = new FakeClock();
    const reporter = new LogReporter();
    const probe = scripted(clock, { [secretUrl]: [{ ok: false, status: 401, ms: 2, error: 'HTTP 401 from http://probe:***@127.0.0.1:8080/health' }] });
    const result = await runRounds({ ...settings, urls: [secretUrl], timeoutMs: 0 }, { probe, reporter, clock });
    expect(probe.calls).toEqual([secretUrl]);
    expect(result.reason).toBe('HTTP 401 from http://probe:***@127.0.0.1:8080/health');
    expect(JSON.stringify(result) + reporter.lines.join('\n')).not.toContain('hunter22');
  });

  test('other checks (containers) take part in every round', async () => {
    const clock = new FakeClock();
    const reporter = new LogReporter();
    const states = [
      { name: 'containers of shop', ok: false, detail: 'container shop-web-1 is starting' },
      { name: 'containers of shop', ok: true, detail: 'shop-web-1 healthy' },
    ];
    let n = 0;
    const check: RoundCheck = async () => states[Math.min(n++, 1)]!;
    const result = await runRounds({ ...settings, successes: 2 }, { probe: scripted(clock, { [URL_A]: [ok(5)] }), checks: [check], reporter, clock });
    expect(result).toMatchObject({ healthy: true, attempts: 3 });
    expect(reporter.lines[0]).toBe(`round 1: FAIL (0/2 in a row): ${URL_A} 200 in 5ms; containers of shop: container shop-web-1 is starting`);
    expect(result.rounds[1]!.checks).toEqual([states[1]]);
    const unhealthy: RoundCheck = async () => ({ name: 'containers of shop', ok: false, detail: 'container web_1 unhealthy' });
    const failed = await runRounds({ ...settings, timeoutMs: 0 }, { probe: scripted(new FakeClock(), { [URL_A]: [ok()] }), checks: [unhealthy], reporter: new LogReporter(), clock: new FakeClock() });
    expect(failed).toMatchObject({ healthy: false, reason: 'container web_1 unhealthy' });
  });

  test('an interval of 0 means rounds back to back, not a single round', async () => {
    const clock = new FakeClock();
    const probe = scripted(clock, { [URL_A]: [ok(1)] });
    const result = await runRounds({ ...settings, intervalMs: 0 }, { probe, reporter: new LogReporter(), clock });
    expect(result).toMatchObject({ healthy: true, attempts: 3 });
  });
});
