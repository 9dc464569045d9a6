import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { LoadReport, startLoad } from '../harness/load.js';
import { NginxProxy } from '../harness/nginx.js';
import { docker } from '../harness/sandbox.js';

// A real nginx in front of the demo app, and a client sending 100 requests a second through
// it while action-deploy and action-rollback (their committed bundles) change the release:
// a good deploy v1 -> v2, a bad one v2 -> broken (its gate fails), and a rollback v2 -> v1.
// blue-green must drop nothing; recreate's drops are measured and shown, not asserted.

const RATE = 100;
const rows: (LoadReport & { strategy: string; motion: string; outcome: string })[] = [];

const gate = (proxy: NginxProxy) => ({
  'health-url': `http://127.0.0.1:${proxy.port}/health`,
  'health-successes': '2',
  'health-interval': '500ms',
  'health-timeout': '5s',
});

async function underLoad(strategy: string, motion: string, proxy: NginxProxy, change: () => Promise<string>): Promise<LoadReport> {
  const load = startLoad(`http://127.0.0.1:${proxy.port}/`, { ratePerSecond: RATE, maxRequests: 12_000, maxMs: 110_000 });
  await new Promise((r) => setTimeout(r, 500));
  const outcome = await change();
  await new Promise((r) => setTimeout(r, 500));
  const report = await load.stop();
  rows.push({ strategy, motion, outcome, ...report });
  return report;
}

async function viaProxy(proxy: NginxProxy): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${proxy.port}/`, { signal: AbortSignal.timeout(3000) });
  return `${response.status} ${(await response.text()).trim()}`;
}

const running = (app: AppFixture, project: string): string[] =>
  docker(app.sandbox, ['ps', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Label "com.docker.compose.service"}}']).split('\n').filter(Boolean);

const proxies: NginxProxy[] = [];

afterAll(() => {
  for (const proxy of proxies) proxy.stop();
  console.log(
    `Requests through nginx at ${RATE}/s during each change:\n` +
      [
        ['strategy', 'change', 'outcome', 'sent', 'non-2xx', 'conn errors', 'max latency', 'seconds', 'served'].join(' | '),
        ...rows.map((r) => [r.strategy, r.motion, r.outcome, r.sent, r.non2xx, r.connectionErrors, `${r.maxLatencyMs}ms`, r.seconds, r.bodies.join(',')].join(' | ')),
      ].join('\n') +
      rows.filter((r) => r.samples.length > 0).map((r) => `\nfailures of ${r.strategy}/${r.motion}, first ${r.samples.length}: ${r.samples.join(', ')}`).join(''),
  );
});

describe('blue-green behind nginx', () => {
  let app: AppFixture;
  let proxy: NginxProxy;
  let inputs: Record<string, string>;

  beforeAll(async () => {
    app = await AppFixture.create('bluegreen');
    // No fixed host port: both colours run at once, each on a port Docker picks.
    writeFileSync(
      join(app.workspace, 'docker-compose.yml'),
      ['services:', '  web:', `    image: ${app.sandbox.appImage}:\${VERSION}`, '    init: true', '    stop_grace_period: 5s', '    ports: ["127.0.0.1::8080"]', ''].join('\n'),
    );
    proxy = await NginxProxy.start(join(app.sandbox.dir, 'proxies'), 'bg', '127.0.0.1:9');
    proxies.push(proxy);
    inputs = { strategy: 'blue-green', 'switch-command': proxy.switchCommand, ...gate(proxy) };
    const first = await app.deploy('v1', inputs);
    expect(first.errors).toEqual([]);
    expect(await viaProxy(proxy)).toBe('200 v1');
  });

  test('a good deploy v1 -> v2 drops no request, and the old colour is gone after the drain', async () => {
    let summary = '';
    const report = await underLoad('blue-green', 'deploy v1->v2', proxy, async () => {
      const run = await app.deploy('v2', inputs);
      expect(run.errors).toEqual([]);
      summary = run.summary;
      return run.outputs.status!;
    });
    expect(report.sent).toBeGreaterThan(200);
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors }).toEqual({ non2xx: 0, connectionErrors: 0 });
    expect(report.bodies).toEqual(['v1', 'v2']);
    expect(await viaProxy(proxy)).toBe('200 v2');
    expect(summary).toMatch(/\| Strategy \| blue-green; old and new ran side by side for [\d.]+s \|/);
    expect(app.record('2')).toMatchObject({ strategy: 'blue-green', color: 'green', status: 'deployed' });
    expect(running(app, 'bluegreen-green')).toEqual(['web']);
    expect(running(app, 'bluegreen-blue')).toEqual([]);
  });

  test('a bad deploy v2 -> broken fails its gate on the idle colour: traffic never moves, nothing is dropped', async () => {
    let error = '';
    const report = await underLoad('blue-green', 'deploy v2->broken', proxy, async () => {
      const run = await app.deploy('broken', inputs);
      expect(run.code).toBe(1);
      error = run.errors[0] ?? '';
      return run.outputs.status!;
    });
    expect(error).toMatch(/^broken failed its health gate .*HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/health\); traffic never moved: blue \(release 3\) was removed/);
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors }).toEqual({ non2xx: 0, connectionErrors: 0 });
    expect(report.bodies).toEqual(['v2']);
    expect(app.current()).toBe('releases/2');
    expect(running(app, 'bluegreen-blue')).toEqual([]);
  });

  test('a rollback v2 -> v1 is the same motion in reverse, and drops nothing', async () => {
    const report = await underLoad('blue-green', 'rollback v2->v1', proxy, async () => {
      const run = await app.rollback(gate(proxy));
      expect(run.errors).toEqual([]);
      expect(run.outputs).toMatchObject({ 'release-id': '1', healthy: 'true' });
      return 'rolled back';
    });
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors }).toEqual({ non2xx: 0, connectionErrors: 0 });
    expect(report.bodies).toEqual(['v2', 'v1']);
    expect(await viaProxy(proxy)).toBe('200 v1');
    expect(running(app, 'bluegreen-blue')).toEqual(['web']);
    expect(running(app, 'bluegreen-green')).toEqual([]);
  });
  test('a failure after traffic moved (post-deploy) rolls back by the same motion, and drops nothing', async () => {
    let run: Awaited<ReturnType<AppFixture['deploy']>> | undefined;
    const report = await underLoad('blue-green', 'deploy v1->v3, post-deploy fails', proxy, async () => {
      run = await app.deploy('v3', { ...inputs, 'post-deploy': 'echo migration failed >&2; exit 1' });
      return run.outputs.status!;
    });
    expect(run!.outputs).toMatchObject({ status: 'rolled-back', 'previous-release-id': '1' });
    expect(run!.errors[0]).toMatch(/rolled back to v1 \(release 1\), which is healthy$/);
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors }).toEqual({ non2xx: 0, connectionErrors: 0 });
    expect(report.bodies).toEqual(['v1', 'v3']);
    expect(await viaProxy(proxy)).toBe('200 v1');
    expect(app.current()).toBe('releases/1');
    expect(running(app, 'bluegreen-blue')).toEqual(['web']);
    expect(running(app, 'bluegreen-green')).toEqual([]);
  });
});

describe('recreate behind nginx (for comparison: its failures are reported, not asserted)', () => {
  let app: AppFixture;
  let proxy: NginxProxy;

  beforeAll(async () => {
    app = await AppFixture.create('recreated', { composeExtra: '    stop_grace_period: 5s' });
    proxy = await NginxProxy.start(join(app.sandbox.dir, 'proxies'), 'rc', `127.0.0.1:${app.port}`);
    proxies.push(proxy);
    expect((await app.deploy('v1', gate(proxy))).errors).toEqual([]);
  });

  test('deploy v1 -> v2, deploy v2 -> broken (rolled back), rollback v2 -> v1', async () => {
    await underLoad('recreate', 'deploy v1->v2', proxy, async () => (await app.deploy('v2', gate(proxy))).outputs.status!);
    expect(await viaProxy(proxy)).toBe('200 v2');
    await underLoad('recreate', 'deploy v2->broken', proxy, async () => (await app.deploy('broken', gate(proxy))).outputs.status!);
    expect(await viaProxy(proxy)).toBe('200 v2');
    await underLoad('recreate', 'rollback v2->v1', proxy, async () => ((await app.rollback()).code === 0 ? 'rolled back' : 'failed'));
    expect(await viaProxy(proxy)).toBe('200 v1');
    for (const row of rows.filter((r) => r.strategy === 'recreate')) expect(row.sent).toBeGreaterThan(100);
  });
});
