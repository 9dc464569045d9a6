import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runAction } from '../harness/run-action.js';

// action-healthgate's committed bundle, run as the GitHub runner runs it, against real HTTP
// servers started here on 127.0.0.1 (no SSH: see healthgate-ssh.test.ts for the tunnel).

interface TestServer {
  readonly base: string;
  readonly port: number;
  /** Every request as `METHOD path` with the time it arrived. */
  readonly requests: { line: string; at: number; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ line: `${req.method} ${req.url}`, at: performance.now(), headers: req.headers });
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const quick = { interval: '50ms', 'request-timeout': '1s' };

describe('action-healthgate', () => {
  let app: TestServer;

  beforeAll(async () => {
    app = await serve((req, res) => {
      switch (req.url) {
        case '/health':
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"status":"ok","db":"up"}');
          return;
        case '/empty':
          res.writeHead(204).end();
          return;
        case '/moved':
          res.writeHead(301, { Location: '/health' }).end();
          return;
        case '/degraded':
          res.writeHead(200).end('{"status":"degraded"}');
          return;
        case '/private':
          if (req.headers.authorization === 'Bearer tok-4f9a1c2e77') res.writeHead(200).end('ok');
          else res.writeHead(401).end('who are you?');
          return;
        default:
          res.writeHead(404).end('not here');
      }
    });
  });

  afterAll(() => app.close());

  test('passes after the consecutive rounds: outputs, one log line per round, a summary table', async () => {
    const run = await runAction('action-healthgate', { url: `${app.base}/health`, successes: '3', ...quick });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs).toMatchObject({ healthy: 'true', attempts: '3', successes: '3', reason: '' });
    expect(Number(run.outputs['p50-ms'])).toBeGreaterThanOrEqual(0);
    expect(Number(run.outputs['p95-ms'])).toBeGreaterThanOrEqual(Number(run.outputs['p50-ms']));
    expect(run.stdout.match(/^round \d+: .*$/gm)).toEqual([
      expect.stringMatching(new RegExp(`^round 1: pass \\(1/3 in a row\\): ${app.base}/health 200 in \\d+ms$`)),
      expect.stringMatching(/^round 2: pass \(2\/3 in a row\)/),
      expect.stringMatching(/^round 3: pass \(3\/3 in a row\)/),
    ]);
    expect(run.stdout).toMatch(/^Health gate passed: 3\/3 passing rounds in a row, 3 rounds in /m);
    expect(run.summary).toContain('### Health gate: ✅ healthy');
    expect(run.summary).toContain(`| Round | Started | Result | ${app.base}/health |`);
    expect(run.summary.split('\n').filter((l) => /^\| \d+ \|.*\| pass \| 200 in \d+ms \|$/.test(l))).toHaveLength(3);
  });

  test('status ranges: 200-399 by default, a class, one status, a list', async () => {
    const runs = await Promise.all([
      runAction('action-healthgate', { url: `${app.base}/moved`, successes: '1', ...quick }),
      runAction('action-healthgate', { url: `${app.base}/empty`, successes: '1', 'expect-status': '2xx', ...quick }),
      runAction('action-healthgate', { url: `${app.base}/missing`, successes: '1', 'expect-status': '404', ...quick }),
      runAction('action-healthgate', { url: `${app.base}/health\n${app.base}/missing`, successes: '1', 'expect-status': '200,404', ...quick }),
    ]);
    for (const run of runs) {
      expect(run.errors).toEqual([]);
      expect(run.outputs.healthy).toBe('true');
    }
    const notInClass = await runAction('action-healthgate', { url: `${app.base}/moved`, 'expect-status': '2xx', timeout: '300ms', ...quick });
    expect(notInClass.outputs).toMatchObject({ healthy: 'false', reason: `HTTP 301 from ${app.base}/moved` });
  });

  test('a 404 fails the step with one line that says why', async () => {
    const run = await runAction('action-healthgate', { url: `${app.base}/missing`, timeout: '400ms', ...quick });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ healthy: 'false', successes: '0', reason: `HTTP 404 from ${app.base}/missing`, 'p50-ms': '', 'p95-ms': '' });
    expect(Number(run.outputs.attempts)).toBeGreaterThan(1);
    expect(run.errors).toEqual([expect.stringMatching(new RegExp(`^Health gate failed: HTTP 404 from ${app.base}/missing; 0/3 passing rounds in a row, \\d+ rounds in \\d`))]);
    expect(run.stdout).toMatch(/^round 1: FAIL \(0\/3 in a row\): HTTP 404 from .* in \d+ms$/m);
    expect(run.summary).toContain('### Health gate: ❌ unhealthy');
    expect(run.summary).toMatch(/\| 1 \| \d+ms \| fail \| ❌ HTTP 404 in \d+ms \|/);
  });

  test('the body must match expect-body', async () => {
    const ok = await runAction('action-healthgate', { url: `${app.base}/health`, 'expect-body': '"status":\\s*"ok"', successes: '1', ...quick });
    expect(ok.outputs.healthy).toBe('true');
    const degraded = await runAction('action-healthgate', { url: `${app.base}/degraded`, 'expect-body': 'ok', timeout: '300ms', ...quick });
    expect(degraded.code).toBe(1);
    expect(degraded.outputs).toMatchObject({ healthy: 'false', reason: 'body did not match /ok/' });
  });

  test('a URL that alternates 200 and 500 never passes; one that recovers passes after the rounds in a row', async () => {
    const flapping = await serve((_req, res, n) => res.writeHead(n % 2 === 1 ? 200 : 500).end());
    const recovering = await serve((_req, res, n) => res.writeHead(n <= 3 ? 503 : 200).end());
    try {
      const [flap, recover] = await Promise.all([
        runAction('action-healthgate', { url: `${flapping.base}/`, successes: '2', timeout: '1500ms', ...quick }),
        runAction('action-healthgate', { url: `${recovering.base}/`, successes: '3', timeout: '20s', ...quick }),
      ]);
      expect(flap.outputs).toMatchObject({ healthy: 'false', reason: `HTTP 500 from ${flapping.base}/` });
      expect(Number(flap.outputs.successes)).toBeLessThan(2);
      expect(Number(flap.outputs.attempts)).toBeGreaterThanOrEqual(6);
      expect(flapping.requests.length).toBe(Number(flap.outputs.attempts));
      const verdicts = flap.stdout.match(/^round \d+: (pass|FAIL)/gm)!.map((l) => l.replace(/^round \d+: /, ''));
      expect(verdicts.every((v, i) => v === (i % 2 === 0 ? 'pass' : 'FAIL'))).toBe(true);

      expect(recover.errors).toEqual([]);
      expect(recover.outputs).toMatchObject({ healthy: 'true', attempts: '6', successes: '3', reason: '' });
    } finally {
      await flapping.close();
      await recovering.close();
    }
  });

  test('a server that never answers: each request gives up at request-timeout, the gate within timeout plus one request', async () => {
    const silent = await serve(() => undefined);
    try {
      const started = performance.now();
      const run = await runAction('action-healthgate', { url: `${silent.base}/health`, timeout: '1500ms', 'request-timeout': '600ms', interval: '100ms' });
      const ended = performance.now();
      expect(run.code).toBe(1);
      expect(run.outputs).toMatchObject({ healthy: 'false', successes: '0', reason: 'timeout after 600ms' });
      // No round starts after the budget; the process ends after the budget plus one request
      // timeout, plus time to write its outputs and exit (generous: a loaded runner is slow to
      // exit, while a request without its timeout would hang until the test's own limit).
      const firstRequest = silent.requests[0]!.at;
      expect(silent.requests.at(-1)!.at - firstRequest).toBeLessThanOrEqual(1500);
      expect(ended - firstRequest).toBeLessThanOrEqual(1500 + 600 + 1500);
      expect(ended - started).toBeGreaterThanOrEqual(1500);
      // Rounds at ~0, ~0.7s, ~1.4s: the last one starts before the deadline and runs its 600ms.
      expect(silent.requests.length).toBe(Number(run.outputs.attempts));
      expect(Number(run.outputs.attempts)).toBeGreaterThanOrEqual(2);
      expect(run.stdout).toMatch(/^round 1: FAIL \(0\/3 in a row\): .*\/health: timeout after 600ms$/m);
    } finally {
      await silent.close();
    }
  });

  test('max-latency: a slow server fails on its p95, a fast one passes', async () => {
    const slow = await serve((_req, res) => setTimeout(() => res.writeHead(200).end('ok'), 300));
    try {
      const [tooSlow, fastEnough] = await Promise.all([
        runAction('action-healthgate', { url: `${slow.base}/`, successes: '2', 'max-latency': '100', ...quick }),
        runAction('action-healthgate', { url: `${app.base}/health`, successes: '2', 'max-latency': '1000', ...quick }),
      ]);
      expect(tooSlow.code).toBe(1);
      expect(tooSlow.outputs).toMatchObject({ healthy: 'false', attempts: '2', successes: '2' });
      const p95 = Number(tooSlow.outputs['p95-ms']);
      expect(p95).toBeGreaterThanOrEqual(300);
      expect(tooSlow.outputs.reason).toBe(`p95 latency ${p95}ms above max-latency 100ms`);
      expect(tooSlow.errors[0]).toMatch(/^Health gate failed: p95 latency \d+ms above max-latency 100ms; 2\/2 passing rounds in a row/);
      expect(fastEnough.outputs).toMatchObject({ healthy: 'true', reason: '' });
    } finally {
      await slow.close();
    }
  });

  test("fail: false only sets the outputs", async () => {
    const run = await runAction('action-healthgate', { url: `${app.base}/missing`, timeout: '200ms', fail: 'false', ...quick });
    expect(run.code).toBe(0);
    expect(run.errors).toEqual([]);
    expect(run.stdout).not.toMatch(/^::(error|warning)/m);
    expect(run.outputs).toMatchObject({ healthy: 'false', successes: '0', reason: `HTTP 404 from ${app.base}/missing` });
    expect(run.stdout).toContain("'fail' is false, so the step passes");
  });

  test('connection refused, and every URL must pass', async () => {
    const closed = await serve(() => undefined);
    await closed.close();
    const refused = await runAction('action-healthgate', { url: `${closed.base}/health`, timeout: '200ms', fail: 'false', ...quick });
    expect(refused.outputs).toMatchObject({ healthy: 'false', reason: 'connection refused' });

    const both = await runAction('action-healthgate', { url: `${app.base}/health\n${closed.base}/health`, timeout: '200ms', fail: 'false', ...quick });
    expect(both.outputs).toMatchObject({ healthy: 'false', reason: `connection refused (${closed.base}/health)` });
    expect(both.summary).toContain(`| Round | Started | Result | ${app.base}/health | ${closed.base}/health |`);
    expect(both.summary).toMatch(/\| 1 \| \d+ms \| fail \| 200 in \d+ms \| ❌ connection refused \|/);
  });

  test('headers are sent and their values never written anywhere the runner keeps', async () => {
    const secret = 'tok-4f9a1c2e77';
    const before = app.requests.length;
    const run = await runAction('action-healthgate', { url: `${app.base}/private`, headers: `Authorization: Bearer ${secret}\nX-Probe: deploy-kit`, successes: '1', ...quick });
    expect(run.outputs.healthy).toBe('true');
    const sent = app.requests.slice(before).map((r) => r.headers);
    expect(sent[0]).toMatchObject({ authorization: `Bearer ${secret}`, 'x-probe': 'deploy-kit', host: `127.0.0.1:${app.port}`, 'user-agent': 'deploy-kit-healthgate' });
    // The value is registered with the runner's masking protocol, and written nowhere else.
    expect(run.stdout).toContain(`::add-mask::Bearer ${secret}`);
    expect(run.everything.replace(/^::add-mask::.*$/gm, '')).not.toContain(secret);

    const without = await runAction('action-healthgate', { url: `${app.base}/private`, timeout: '200ms', fail: 'false', ...quick });
    expect(without.outputs.reason).toBe(`HTTP 401 from ${app.base}/private`);
  });

  test('an input mistake fails before any request, naming the input', async () => {
    const before = app.requests.length;
    const run = await runAction('action-healthgate', { url: `${app.base}/health`, 'expect-status': 'ok' });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual(["Input 'expect-status' must be statuses like '200-399', '200', '2xx' or a comma-separated list of those; got 'ok'."]);
    const noUrl = await runAction('action-healthgate', {});
    expect(noUrl.errors).toEqual(["Input 'url' is required: the URL(s) to check, one per line."]);
    const containersWithoutHost = await runAction('action-healthgate', { url: `${app.base}/health`, containers: 'shop' });
    expect(containersWithoutHost.errors).toEqual([
      "Input 'containers' needs the SSH inputs ('host', 'username', 'private-key', 'known-hosts') so the containers can be inspected on the host.",
    ]);
    expect(app.requests.length).toBe(before);
  });
});
