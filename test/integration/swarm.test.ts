import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ActionRun, runAction } from '../harness/run-action.js';
import { Fleet, FleetHost, startFleet, stopFleet } from '../harness/fleet.js';
import { hostFolder } from '../harness/host-user.js';
import { currentSandbox, freePort, hostDockerCliVersion } from '../harness/sandbox.js';

// `target: swarm` through the committed bundles, against a server of its own that is a
// single-node Docker Swarm: a fleet host (test/harness/fleet.ts), whose engine has a network
// namespace and a firewall of its own. (A second engine in the sandbox's namespace would
// rebuild Docker's iptables chains as it starts, under the containers the other files are
// starting.) The routing mesh does not publish ports here, so the app publishes its port in
// `mode: host`, on the host's address.

interface SwarmApp {
  readonly name: string;
  readonly port: number;
  readonly workspace: string;
  readonly deployPath: string;
}

describe('target: swarm', () => {
  let fleet: Fleet;
  let host: FleetHost;
  let app: SwarmApp;
  /** The docker CLI against the swarm host's engine. */
  const docker = (args: string[]): string => fleet.docker(host, args);
  // Also the section markers of `docker service inspect` output, old and new style (issue 17, item 3): the value is in every inspect's output.
  const SECRET = 'swarm secret with spaces $HOME "quotes" @@deploy-kit-swarm@@tasks @@deploy-kit-0123456789abcdef01234567@@services';

  function createApp(name: string, port: number): SwarmApp {
    const workspace = join(host.dir, 'workspaces', name);
    mkdirSync(workspace, { recursive: true });
    writeFileSync(
      join(workspace, 'docker-compose.yml'),
      [
        'services:',
        '  web:',
        `    image: ${fleet.image}:\${VERSION}`,
        '    init: true',
        '    ports:',
        '      - target: 8080',
        `        published: ${port}`,
        '        mode: host',
        '    environment:',
        '      APP_SECRET: ${APP_SECRET}',
        '',
      ].join('\n'),
    );
    return { name, port, workspace, deployPath: join(hostFolder(join(host.dir, 'apps')), name) };
  }

  const sshInputs = () => ({
    host: host.ssh.host,
    port: String(host.ssh.port),
    username: host.ssh.username,
    'private-key': currentSandbox().privateKey,
    'known-hosts': host.ssh.knownHosts,
  });

  const deploy = (a: SwarmApp, version: string, extra: Record<string, string> = {}): Promise<ActionRun> =>
    runAction(
      'action-deploy',
      {
        ...sshInputs(),
        app: a.name,
        version,
        target: 'swarm',
        'deploy-path': a.deployPath,
        'wait-timeout': '60s',
        env: `APP_SECRET='${SECRET}'`,
        'health-url': `http://${host.address}:${a.port}/health`,
        'health-successes': '2',
        'health-interval': '500ms',
        'health-timeout': '5s',
        ...extra,
      },
      { cwd: a.workspace },
    );

  const get = async (a: SwarmApp, path = '/'): Promise<string> => {
    try {
      const response = await fetch(`http://${host.address}:${a.port}${path}`, { signal: AbortSignal.timeout(3000) });
      return `${response.status} ${(await response.text()).trim()}`;
    } catch (error) {
      return `error ${(error as Error).message}`;
    }
  };

  const ledger = (a: SwarmApp): string[] => {
    const file = join(a.deployPath, 'ledger.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { release: string; event: string })
      .map((e) => `${e.release}:${e.event}`);
  };
  const record = (a: SwarmApp, id: string) => JSON.parse(readFileSync(join(a.deployPath, 'releases', id, 'release.json'), 'utf8')) as Record<string, unknown>;
  const current = (a: SwarmApp) => (existsSync(join(a.deployPath, 'current')) ? readlinkSync(join(a.deployPath, 'current')) : undefined);
  const serviceImage = (a: SwarmApp) => docker(['service', 'inspect', '--format', '{{.Spec.TaskTemplate.ContainerSpec.Image}}', `${a.name}_web`]).trim();

  beforeAll(async () => {
    fleet = await startFleet(currentSandbox(), 1);
    host = fleet.hosts[0]!;
    docker(['swarm', 'init', '--advertise-addr', host.address]);
    app = createApp('swarmy', await freePort());
  }, 180_000);

  afterAll(async () => {
    if (!fleet) return;
    try {
      for (const stack of docker(['stack', 'ls', '--format', '{{.Name}}']).split('\n').filter(Boolean)) docker(['stack', 'rm', stack]);
      docker(['swarm', 'leave', '--force']);
    } catch {
      // the engine may already be gone
    }
    await stopFleet(fleet);
  }, 60_000);

  test('v1 then v2: one release each, v2 serves, the ledger and release.json say swarm, images pinned by digest', async () => {
    const first = await deploy(app, 'v1');
    expect(first.errors).toEqual([]);
    expect(first.outputs).toMatchObject({ status: 'deployed', 'release-id': '1', 'previous-release-id': '' });
    // The user's file has no `version:`; a Docker CLI before 23 (Debian 12's 20.10) needs one
    // in the copies it deploys, a newer one gets the file as it is.
    const cli = hostDockerCliVersion();
    const copy = readFileSync(join(app.deployPath, 'releases', '1', 'docker-compose.yml'), 'utf8');
    if (Number(cli.split('.')[0]) < 23) {
      expect(first.stdout).toContain(`docker ${cli} on ${host.ssh.host}: its stack deploy needs a Compose file version, so the release's files carry version 3.9`);
      expect(copy).toMatch(/^# version added by deploy-kit.*\nversion: "3\.9"\nservices:/);
    } else {
      expect(copy).toBe(readFileSync(join(app.workspace, 'docker-compose.yml'), 'utf8'));
    }
    expect(await get(app)).toBe('200 v1');

    const second = await deploy(app, 'v2');
    expect(second.errors).toEqual([]);
    expect(second.outputs).toMatchObject({ status: 'deployed', 'release-id': '2', 'previous-release-id': '1' });
    expect(await get(app)).toBe('200 v2');
    expect(current(app)).toBe('releases/2');
    expect(ledger(app)).toEqual(['1:started', '1:deployed', '2:started', '2:deployed']);

    const images = JSON.parse(second.outputs.images!) as Record<string, string>;
    expect(images.web).toMatch(new RegExp(`^${fleet.image.replace(/[.]/g, '\\.')}:v2@sha256:[0-9a-f]{64}$`));
    expect(record(app, '2')).toMatchObject({ target: 'swarm', stack: 'swarmy', status: 'deployed', images, previous: '1' });
    expect(serviceImage(app)).toBe(images.web);
    expect(readFileSync(join(app.deployPath, 'releases', '2', 'deploy-kit.images.yml'), 'utf8')).toContain(images.web);
    expect(readFileSync(join(app.deployPath, 'releases', '2', 'deploy-kit.swarm.yml'), 'utf8')).toMatch(/order: stop-first\n\s+failure_action: rollback/);
    for (const file of ['.env', 'deploy-kit.env.sh']) expect((statSync(join(app.deployPath, 'releases', '2', file)).mode & 0o777).toString(8)).toBe('600');

    // The variable reached the service's environment exactly, through the sourced script, and never the log.
    const env = JSON.parse(docker(['service', 'inspect', '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}', 'swarmy_web'])) as string[];
    expect(env).toContain(`APP_SECRET=${SECRET}`);
    expect(second.everything).not.toContain(SECRET);
    expect(second.summary).toMatch(/Strategy \| swarm/);
  });

  test('a release whose /health is 404 fails its gate and the stack goes back to v2 from its pinned digest', async () => {
    const pinned = (record(app, '2').images as Record<string, string>).web;
    const bad = await deploy(app, 'broken');
    expect(bad.code).toBe(1);
    expect(bad.outputs).toMatchObject({ status: 'rolled-back', 'release-id': '3', 'previous-release-id': '2' });
    expect(bad.errors).toEqual([
      expect.stringMatching(new RegExp(`^broken failed its health gate \\(0/2 passing rounds in [\\d.]+s, last: HTTP 404 from http://${host.address.replace(/\./g, '\\.')}:${app.port}/health\\); rolled back to v2 \\(release 2\\), which is healthy$`)),
    ]);
    expect(await get(app)).toBe('200 v2');
    expect(serviceImage(app)).toBe(pinned);
    expect(current(app)).toBe('releases/2');
    expect(ledger(app).slice(-2)).toEqual(['3:started', '3:failed']);
    expect(record(app, '3')).toMatchObject({ target: 'swarm', status: 'failed', reason: expect.stringContaining('rolled back to v2') });
  });

  test('an image that exits at start: Swarm rolls its update back, the deploy fails and v2 keeps serving', async () => {
    const run = await deploy(app, 'crash');
    expect(run.outputs).toMatchObject({ status: 'rolled-back', 'release-id': '4' });
    // Swarm's own rollback of the update may still be running when wait-timeout ends (Docker 20.10 under load): either way, v2 is put back.
    expect(run.errors).toEqual([
      expect.stringMatching(/^release 4 \(crash\) did not converge: (services not converged after 1m: )?service swarmy_web: .*; rolled back to v2 \(release 2\), which is healthy$/),
    ]);
    // The failed tasks' error and the service's last log line, read before the recovery.
    expect(run.outputs['failure-reason']).toMatch(/^web has \d+ failed tasks?, the last: task: non-zero exit \(3\): starting$/);
    expect(run.summary).toMatch(/<summary><code>swarmy_web<\/code> \(web\) has \d+ failed tasks?/);
    expect(await get(app)).toBe('200 v2');
    expect(current(app)).toBe('releases/2');
    expect(ledger(app).slice(-2)).toEqual(['4:started', '4:failed']);
  });

  test('action-rollback puts release 1 back as the stack, from its pinned digest', async () => {
    const run = await runAction('action-rollback', { ...sshInputs(), app: app.name, 'deploy-path': app.deployPath, 'wait-timeout': '60s', reason: 'back to v1' }, { cwd: app.workspace });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'release-id': '1', 'rolled-back-from': '2', healthy: 'true' });
    expect(await get(app)).toBe('200 v1');
    expect(serviceImage(app)).toBe((record(app, '1').images as Record<string, string>).web);
    expect(current(app)).toBe('releases/1');
    expect(ledger(app).slice(-2)).toEqual(['2:rolled-back', '1:restored']);
  });

  test('the next good deploy after a rollback replaces release 1 and prunes beyond keep-releases', async () => {
    const run = await deploy(app, 'v3', { 'keep-releases': '2' });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ status: 'deployed', 'release-id': '5', 'previous-release-id': '1' });
    expect(await get(app)).toBe('200 v3');
    // Kept: the newest 2 releases that were ever healthy (5 and 2); 1 is older, 3 and 4 failed.
    expect(ledger(app).slice(-5)).toEqual(['5:started', '5:deployed', '1:pruned', '3:pruned', '4:pruned']);
    expect(readdirSync(join(app.deployPath, 'releases')).sort()).toEqual(['2', '5']);
  });

  test('a dry run prints the stack deploy it would run and changes nothing', async () => {
    const before = ledger(app);
    const run = await deploy(app, 'v1', { 'dry-run': 'true' });
    expect(run.errors).toEqual([]);
    expect(run.outputs.status).toBe('');
    expect(run.stdout).toContain(`docker stack deploy --with-registry-auth --prune -c ${app.deployPath}/releases/6/docker-compose.yml -c ${app.deployPath}/releases/6/deploy-kit.swarm.yml swarmy`);
    expect(run.everything).not.toContain(SECRET);
    expect(ledger(app)).toEqual(before);
    expect(existsSync(join(app.deployPath, 'releases', '6'))).toBe(false);
    expect(await get(app)).toBe('200 v3');
  });

  test('a first release that fails has nothing to roll back to: its stack is removed', async () => {
    const fresh = createApp('swarm-first', await freePort());
    const run = await deploy(fresh, 'crash');
    expect(run.outputs).toMatchObject({ status: 'failed', 'release-id': '1' });
    expect(run.errors[0]).toMatch(/this was the first release, so there is nothing to roll back to: its stack was removed$/);
    expect(docker(['service', 'ls', '--quiet', '--filter', 'label=com.docker.stack.namespace=swarm-first']).trim()).toBe('');
    expect(current(fresh)).toBeUndefined();
    expect(ledger(fresh)).toEqual(['1:started', '1:failed']);
  });

  test("a stack deployed by hand before deploy-kit: a failed first release goes back with 'docker service rollback'", async () => {
    const adopted = createApp('swarm-adopt', await freePort());
    const byHand = join(adopted.workspace, 'by-hand.yml');
    // With its version line, as `docker stack deploy` before Docker 23 requires (Debian 12's docker.io is 20.10).
    writeFileSync(byHand, `version: "3.9"\n${readFileSync(join(adopted.workspace, 'docker-compose.yml'), 'utf8').replace('${VERSION}', 'v1').replace('${APP_SECRET}', 'none')}`);
    docker(['stack', 'deploy', '-c', byHand, adopted.name]);
    const deadline = Date.now() + 60_000;
    while ((await get(adopted)) !== '200 v1' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
    expect(await get(adopted)).toBe('200 v1');

    const run = await deploy(adopted, 'broken');
    expect(run.outputs).toMatchObject({ status: 'rolled-back', 'release-id': '1', 'previous-release-id': '' });
    expect(run.errors).toEqual([
      expect.stringMatching(/^broken failed its health gate .*; rolled back with 'docker service rollback' \(there is no release record of what ran before\), which is healthy$/),
    ]);
    expect(await get(adopted)).toBe('200 v1');
    expect(current(adopted)).toBeUndefined();
    expect(ledger(adopted)).toEqual(['1:started', '1:failed']);

    // An image that exits at start: Swarm may already be rolling its update back (failure_action:
    // rollback), leaving no previous spec for 'docker service rollback'; then its own rollback is what is waited for.
    const crash = await deploy(adopted, 'crash');
    expect(crash.outputs).toMatchObject({ status: 'rolled-back', 'release-id': '2', 'previous-release-id': '' });
    expect(crash.errors).toEqual([
      expect.stringMatching(/^release 2 \(crash\) did not converge: service swarm-adopt_web: .*; rolled back (by Swarm's own rollback|with 'docker service rollback') \(there is no release record of what ran before\), which is healthy$/),
    ]);
    expect(await get(adopted)).toBe('200 v1');
    expect(ledger(adopted)).toEqual(['1:started', '1:failed', '2:started', '2:failed']);
  });

  test('registry credentials: releases/<id>/.docker is gone before the health gate runs, and a recovery logs in again', async () => {
    const login = createApp('swarm-login', await freePort());
    // The health endpoint is the app's, through a proxy that looks at the release folders on
    // each request: what anyone on the host would see while the gate runs.
    const seen: { release: string; docker: boolean }[] = [];
    const gate = createServer((_request, response) => {
      const releases = existsSync(join(login.deployPath, 'releases')) ? readdirSync(join(login.deployPath, 'releases')) : [];
      for (const release of releases) seen.push({ release, docker: existsSync(join(login.deployPath, 'releases', release, '.docker')) });
      fetch(`http://${host.address}:${login.port}/health`, { signal: AbortSignal.timeout(2000) }).then(
        (answer) => response.writeHead(answer.status).end(),
        () => response.writeHead(502).end(),
      );
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const registry = { registry: fleet.registry, 'registry-username': 'deploy-bot', 'registry-password': 'swarm-registry-pw' };
    const gateInputs = { 'health-url': `http://127.0.0.1:${(gate.address() as AddressInfo).port}/health`, 'health-successes': '1', 'health-timeout': '3s' };
    try {
      const first = await deploy(login, 'v1', { ...registry, ...gateInputs });
      expect(first.errors).toEqual([]);
      expect(seen.filter((s) => s.release === '1').length).toBeGreaterThan(0);
      expect(seen.filter((s) => s.docker)).toEqual([]);

      // Release 2 (/health 404) fails its gate; the recovery deploys release 1 again, logging in again, and gates it.
      seen.length = 0;
      const run = await deploy(login, 'broken', { ...registry, ...gateInputs });
      expect(run.outputs).toMatchObject({ status: 'rolled-back', 'release-id': '2' });
      expect(run.errors).toEqual([expect.stringMatching(/^broken failed its health gate .*; rolled back to v1 \(release 1\), which is healthy$/)]);
      expect(seen.filter((s) => s.release === '2').length).toBeGreaterThan(0);
      expect(seen.filter((s) => s.docker)).toEqual([]);
      expect(['1', '2'].map((id) => existsSync(join(login.deployPath, 'releases', id, '.docker')))).toEqual([false, false]);
      expect(run.everything).not.toContain('swarm-registry-pw');
    } finally {
      gate.close();
      docker(['stack', 'rm', login.name]);
    }
  });

  test('strategy inputs are refused with target: swarm, before connecting', async () => {
    const run = await deploy(app, 'v3', { strategy: 'blue-green', 'switch-command': 'true' });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      "Input 'strategy' is for 'target: compose'; with 'target: swarm', Swarm's update_config (order: start-first, failure_action: rollback) replaces services without downtime. Remove 'strategy'.",
    ]);
  });
});
