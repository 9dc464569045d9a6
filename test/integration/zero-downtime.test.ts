import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { hostFolder } from '../harness/host-user.js';
import { HaproxyProxy } from '../harness/haproxy.js';
import { LoadReport, startLoad } from '../harness/load.js';
import { NginxProxy } from '../harness/nginx.js';
import { docker } from '../harness/sandbox.js';

// A real proxy in front of the demo app (nginx for blue-green and recreate, HAProxy finding
// the containers through Docker's DNS for rolling), and a client sending 100 requests a second
// through it while action-deploy and action-rollback (their committed bundles) change the
// release: a good deploy v1 -> v2, a bad one v2 -> broken (its gate fails), and a rollback
// v2 -> v1. blue-green and rolling must drop nothing; recreate's drops are measured and shown.

const RATE = 100;
const rows: (LoadReport & { strategy: string; motion: string; outcome: string })[] = [];

const gate = (proxy: { port: number }) => ({
  'health-url': `http://127.0.0.1:${proxy.port}/health`,
  'health-successes': '2',
  'health-interval': '500ms',
  'health-timeout': '5s',
});

async function underLoad(strategy: string, motion: string, proxy: { port: number }, change: () => Promise<string>): Promise<LoadReport> {
  const load = startLoad(`http://127.0.0.1:${proxy.port}/`, { ratePerSecond: RATE, maxRequests: 12_000, maxMs: 110_000 });
  await new Promise((r) => setTimeout(r, 500));
  const outcome = await change();
  await new Promise((r) => setTimeout(r, 500));
  const report = await load.stop();
  rows.push({ strategy, motion, outcome, ...report });
  return report;
}

async function viaProxy(proxy: { port: number }): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${proxy.port}/`, { signal: AbortSignal.timeout(3000) });
  return `${response.status} ${(await response.text()).trim()}`;
}

const running = (app: AppFixture, project: string): string[] =>
  docker(app.sandbox, ['ps', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.Label "com.docker.compose.service"}}']).split('\n').filter(Boolean);

const proxies: { stop: () => void }[] = [];

afterAll(() => {
  for (const proxy of proxies) proxy.stop();
  console.log(
    `Requests through the proxy (nginx; HAProxy for rolling) at ${RATE}/s during each change:\n` +
      [
        ['strategy', 'change', 'outcome', 'sent', 'non-2xx', 'conn errors', 'resent (keep-alive closed)', 'max latency', 'seconds', 'served'].join(' | '),
        ...rows.map((r) => [r.strategy, r.motion, r.outcome, r.sent, r.non2xx, r.connectionErrors, r.retriedOnClosedKeepAlive, `${r.maxLatencyMs}ms`, r.seconds, r.bodies.map((b) => `${b}:${r.counts[b]}`).join(',')].join(' | ')),
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
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [] });
    expect(report.bodies).toEqual(['v1', 'v2']);
    expect(await viaProxy(proxy)).toBe('200 v2');
    expect(summary).toMatch(/\| Strategy \| blue-green; old and new ran side by side for [\d.]+s \|/);
    expect(app.record('2')).toMatchObject({ strategy: 'blue-green', color: 'green', status: 'deployed' });
    expect(running(app, `${app.name}-green`)).toEqual(['web']);
    expect(running(app, `${app.name}-blue`)).toEqual([]);
  });

  test('a bad deploy v2 -> broken fails its gate on the idle colour: traffic never moves, nothing is dropped', async () => {
    let error = '';
    let failure = '';
    let summary = '';
    const report = await underLoad('blue-green', 'deploy v2->broken', proxy, async () => {
      const run = await app.deploy('broken', inputs);
      expect(run.code).toBe(1);
      error = run.errors[0] ?? '';
      failure = run.outputs['failure-reason'] ?? '';
      summary = run.summary;
      return run.outputs.status!;
    });
    expect(error).toMatch(/^broken failed its health gate .*HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/health\); traffic never moved: blue \(release 3\) was removed/);
    expect(failure).toMatch(/^health gate: HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/health in \d+ms: /);
    // The idle colour's containers, read before the undo removed them.
    expect(summary).toMatch(new RegExp(`<summary><code>${app.name}-blue[_-]web[_-]1</code> \\(web\\) is running</summary>`));
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [] });
    expect(report.bodies).toEqual(['v2']);
    expect(app.current()).toBe('releases/2');
    expect(running(app, `${app.name}-blue`)).toEqual([]);
  });

  test('a rollback v2 -> v1 is the same motion in reverse, and drops nothing', async () => {
    const report = await underLoad('blue-green', 'rollback v2->v1', proxy, async () => {
      const run = await app.rollback(gate(proxy));
      expect(run.errors).toEqual([]);
      expect(run.outputs).toMatchObject({ 'release-id': '1', healthy: 'true' });
      return 'rolled back';
    });
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [] });
    expect(report.bodies).toEqual(['v2', 'v1']);
    expect(await viaProxy(proxy)).toBe('200 v1');
    expect(running(app, `${app.name}-blue`)).toEqual(['web']);
    expect(running(app, `${app.name}-green`)).toEqual([]);
  });
  test('a failure after traffic moved (post-deploy) rolls back by the same motion, and drops nothing', async () => {
    let run: Awaited<ReturnType<AppFixture['deploy']>> | undefined;
    const report = await underLoad('blue-green', 'deploy v1->v3, post-deploy fails', proxy, async () => {
      run = await app.deploy('v3', { ...inputs, 'post-deploy': 'echo migration failed >&2; exit 1' });
      return run.outputs.status!;
    });
    expect(run!.outputs).toMatchObject({ status: 'rolled-back', 'previous-release-id': '1' });
    expect(run!.errors[0]).toMatch(/rolled back to v1 \(release 1\), which is healthy$/);
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [] });
    expect(report.bodies).toEqual(['v1', 'v3']);
    expect(await viaProxy(proxy)).toBe('200 v1');
    expect(app.current()).toBe('releases/1');
    expect(running(app, `${app.name}-blue`)).toEqual(['web']);
    expect(running(app, `${app.name}-green`)).toEqual([]);
  });
});

describe('blue-green with the built-in nginx switch and keep-previous-running', () => {
  let app: AppFixture;
  let proxy: NginxProxy;
  let inputs: Record<string, string>;
  let upstreamFile: string;
  /** `id state` of a colour's containers, running or not. */
  const colour = (project: string): string[] =>
    docker(app.sandbox, ['ps', '--all', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.ID}} {{.State}}']).split('\n').filter(Boolean);

  beforeAll(async () => {
    app = await AppFixture.create('builtin');
    writeFileSync(
      join(app.workspace, 'docker-compose.yml'),
      ['services:', '  web:', `    image: ${app.sandbox.appImage}:\${VERSION}`, '    init: true', '    stop_grace_period: 5s', '    ports: ["127.0.0.1::8080"]', ''].join('\n'),
    );
    // The user's nginx includes the file deploy-kit writes, inside its upstream block; it
    // must exist before nginx starts, so it is created once by hand (here: by the harness).
    hostFolder(app.deployPath);
    upstreamFile = join(app.deployPath, 'nginx', `${app.name}.upstream.conf`);
    proxy = await NginxProxy.start(join(app.sandbox.dir, 'proxies'), 'builtin', '127.0.0.1:9', { include: upstreamFile });
    proxies.push(proxy);
    // No switch-command: the built-in one. This nginx is not the system's, so it is reloaded with its own -p/-c.
    inputs = { strategy: 'blue-green', 'nginx-reload-command': proxy.reloadCommand, 'keep-previous-running': 'true', ...gate(proxy) };
    const first = await app.deploy('v1', inputs);
    expect(first.errors).toEqual([]);
    expect(await viaProxy(proxy)).toBe('200 v1');
    expect(readFileSync(upstreamFile, 'utf8')).toMatch(/^server 127\.0\.0\.1:\d+;\n$/);
  });

  test('a good deploy v1 -> v2 drops no request; the switch waits for nginx\'s old workers; blue stays, stopped', async () => {
    let log = '';
    const report = await underLoad('blue-green (built-in nginx)', 'deploy v1->v2', proxy, async () => {
      const run = await app.deploy('v2', inputs);
      expect(run.errors).toEqual([]);
      log = run.stdout;
      return run.outputs.status!;
    });
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [] });
    expect(report.bodies).toEqual(['v1', 'v2']);
    expect(log).toMatch(/nginx reloaded; its old workers finished their requests and exited after [\d.]+s/);
    expect(await viaProxy(proxy)).toBe('200 v2');
    expect(app.record('2')).toMatchObject({ strategy: 'blue-green', color: 'green', switchCommand: '', nginxReloadCommand: proxy.reloadCommand, keepPreviousRunning: true });
    expect(colour(`${app.name}-blue`).map((c) => c.split(' ')[1])).toEqual(['exited']);
    expect(colour(`${app.name}-green`).map((c) => c.split(' ')[1])).toEqual(['running']);
  });

  test('a rollback v2 -> v1 starts the kept blue containers again (the same containers, not new ones) and drops nothing', async () => {
    const kept = colour(`${app.name}-blue`).map((c) => c.split(' ')[0]);
    let restoreMs = 0;
    const report = await underLoad('blue-green (built-in nginx)', 'rollback v2->v1 (kept containers)', proxy, async () => {
      const t0 = performance.now();
      const run = await app.rollback(gate(proxy));
      restoreMs = performance.now() - t0;
      expect(run.errors).toEqual([]);
      expect(run.outputs).toMatchObject({ 'release-id': '1', healthy: 'true' });
      return 'rolled back';
    });
    console.log(`rollback to kept, stopped containers: ${Math.round(restoreMs)}ms in all (connect, lock, start, wait, gate, switch, drain)`);
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [] });
    expect(report.bodies).toEqual(['v2', 'v1']);
    expect(await viaProxy(proxy)).toBe('200 v1');
    expect(colour(`${app.name}-blue`)).toEqual(kept.map((id) => `${id} running`));
    expect(colour(`${app.name}-green`).map((c) => c.split(' ')[1])).toEqual(['exited']);
  });
});

describe('rolling behind HAProxy, which finds the containers through Docker DNS', () => {
  let app: AppFixture;
  let proxy: HaproxyProxy;
  let inputs: Record<string, string>;
  /**
   * What each container of the app serves, running or not (`state version`). The page is read
   * with `docker cp`, from the container's file system as the engine sees it: in the
   * fresh-machine chroot, `docker exec NAME cat /www/index.html` did not find the file.
   */
  const containers = () =>
    docker(app.sandbox, ['ps', '--all', '--filter', `label=com.docker.compose.project=${app.name}`, '--format', '{{.Names}} {{.State}}'])
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name, state] = line.split(' ');
        const copy = join(app.sandbox.dir, `index-of-${name}.html`);
        docker(app.sandbox, ['cp', `${name}:/www/index.html`, copy]);
        const version = readFileSync(copy, 'utf8').trim();
        rmSync(copy);
        return `${state} ${version}`;
      });

  /** underLoad, and HAProxy's own lines for the requests that failed (they say why). */
  const rolled = async (motion: string, change: () => Promise<string>): Promise<LoadReport & { proxyFailures: string[] }> => {
    const since = new Date();
    const report = await underLoad('rolling', motion, proxy, change);
    return { ...report, proxyFailures: proxy.failedRequests(since) };
  };

  beforeAll(async () => {
    app = await AppFixture.create('rolling');
    // No host port at all: the proxy reaches each replica on the compose network.
    writeFileSync(
      join(app.workspace, 'docker-compose.yml'),
      ['services:', '  web:', `    image: ${app.sandbox.appImage}:\${VERSION}`, '    init: true', '    stop_grace_period: 5s', '    expose: ["8080"]', ''].join('\n'),
    );
    // The gate goes to each new container directly; only the URL's path counts.
    inputs = { strategy: 'rolling', 'health-url': 'http://web:8080/health', 'health-successes': '2', 'health-interval': '500ms', 'health-timeout': '5s' };
    const first = await app.deploy('v1', inputs);
    expect(first.errors).toEqual([]);
    proxy = await HaproxyProxy.start(app.sandbox, `${app.name}_default`, 'web');
    proxies.push(proxy);
    expect(await viaProxy(proxy)).toBe('200 v1');
  });

  test('a good deploy v1 -> v2 drops no request; the old container is gone afterwards', async () => {
    let summary = '';
    const report = await rolled('deploy v1->v2', async () => {
      const run = await app.deploy('v2', inputs);
      expect(run.errors).toEqual([]);
      summary = run.summary;
      return run.outputs.status!;
    });
    expect(report.sent).toBeGreaterThan(200);
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples, proxyFailures: report.proxyFailures }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [], proxyFailures: [] });
    expect(report.bodies).toEqual(['v1', 'v2']);
    expect(await viaProxy(proxy)).toBe('200 v2');
    expect(summary).toMatch(/\| Strategy \| rolling; old and new ran side by side for [\d.]+s \|/);
    expect(app.record('2')).toMatchObject({ strategy: 'rolling', services: ['web'], status: 'deployed' });
    expect(containers()).toEqual(['running v2']);
  });

  test('a bad deploy v2 -> broken fails its gate on the new container, which is removed; the old one never stopped', async () => {
    let error = '';
    let failure = '';
    let summary = '';
    const report = await rolled('deploy v2->broken', async () => {
      const run = await app.deploy('broken', inputs);
      expect(run.code).toBe(1);
      error = run.errors[0] ?? '';
      failure = run.outputs['failure-reason'] ?? '';
      summary = run.summary;
      return run.outputs.status!;
    });
    expect(error).toMatch(/^broken failed its health gate on the new web container .*HTTP 404 from http:\/\/[\d.]+:8080\/health\); nothing running was changed/);
    expect(failure).toMatch(/^health gate: HTTP 404 from http:\/\/[\d.]+:8080\/health in \d+ms: /);
    // Only the new container: the old one kept serving.
    expect(summary.match(/<summary>/g)).toHaveLength(1);
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples, proxyFailures: report.proxyFailures }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [], proxyFailures: [] });
    expect(report.bodies[0]).toBe('v2');
    expect(await viaProxy(proxy)).toBe('200 v2');
    expect(app.current()).toBe('releases/2');
    expect(containers()).toEqual(['running v2']);
  });

  test('a rollback v2 -> v1 is the same motion (v1 beside v2, then v2 retires) and drops nothing', async () => {
    const report = await rolled('rollback v2->v1', async () => {
      const run = await app.rollback({ 'health-url': 'http://web:8080/health', 'health-successes': '2', 'health-interval': '500ms', 'health-timeout': '5s' });
      expect(run.errors).toEqual([]);
      expect(run.outputs).toMatchObject({ 'release-id': '1', healthy: 'true' });
      return 'rolled back';
    });
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples, proxyFailures: report.proxyFailures }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [], proxyFailures: [] });
    expect(report.bodies).toEqual(['v2', 'v1']);
    expect(await viaProxy(proxy)).toBe('200 v1');
    expect(containers()).toEqual(['running v1']);
  });

  test('replicas: the compose file asks for 2, so a deploy starts 2 beside the running ones (4 at once), then 2 remain', async () => {
    writeFileSync(
      join(app.workspace, 'docker-compose.yml'),
      ['services:', '  web:', `    image: ${app.sandbox.appImage}:\${VERSION}`, '    init: true', '    stop_grace_period: 5s', '    expose: ["8080"]', '    deploy:', '      replicas: 2', ''].join('\n'),
    );
    const toV3 = await app.deploy('v3', inputs);
    expect(toV3.errors).toEqual([]);
    expect(toV3.stdout).toMatch(new RegExp(`web: 1 running \\(${app.name}[_-]web[_-]\\d+\\); starting 2 new beside them`));
    expect(containers()).toEqual(['running v3', 'running v3']);
    let log = '';
    const report = await rolled('deploy v3->v2, 2 replicas', async () => {
      const run = await app.deploy('v2', inputs);
      expect(run.errors).toEqual([]);
      log = run.stdout;
      return run.outputs.status!;
    });
    expect(log).toMatch(new RegExp(`web: 2 running \\(${app.name}[_-]web[_-]\\d+, ${app.name}[_-]web[_-]\\d+\\); starting 2 new beside them`));
    // One old replica at a time: a retry never meets a second one that is stopping.
    const stops = [...log.matchAll(/web: stopping the old (\S+) \(it waits its stop_grace_period\)/g)].map((m) => m[1]);
    expect(stops).toHaveLength(2);
    expect(new Set(stops).size).toBe(2);
    expect({ non2xx: report.non2xx, connectionErrors: report.connectionErrors, failures: report.samples, proxyFailures: report.proxyFailures }).toEqual({ non2xx: 0, connectionErrors: 0, failures: [], proxyFailures: [] });
    expect(report.bodies).toEqual(['v3', 'v2']);
    expect(containers()).toEqual(['running v2', 'running v2']);
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
