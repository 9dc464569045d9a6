import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Fleet, FleetHost, startFleet, stopFleet } from '../harness/fleet.js';
import { ActionRun, runAction } from '../harness/run-action.js';
import { currentSandbox } from '../harness/sandbox.js';

// Issue 9: one release to several hosts. Each host is its own machine as far as deploy-kit
// can tell (own network namespace and loopback, own Docker engine, own sshd and home); they
// pull from one registry. Host 3 fails /health when it runs v3 (BREAK_VERSION=v3 in its
// environment), the way one bad host in a real fleet would.

const APP = 'shop';
let fleet: Fleet;
let workspace: string;

const home = (host: FleetHost) => join(host.dir, 'home');
const deployPath = (host: FleetHost) => join(home(host), 'deploy-kit', APP);

function inputs(hosts: readonly FleetHost[], extra: Record<string, string> = {}): Record<string, string> {
  return {
    host: hosts.map((h) => h.address).join(', '),
    username: hosts[0]!.ssh.username,
    'private-key': fleet.sandbox.privateKey,
    'known-hosts': hosts.map((h) => h.ssh.knownHosts).join('\n'),
    app: APP,
    'wait-timeout': '40s',
    'connect-timeout': '5s',
    ...extra,
  };
}

const gate = { 'health-url': 'http://127.0.0.1:8080/health', 'health-via-host': 'true', 'health-successes': '2', 'health-interval': '500ms', 'health-timeout': '6s' };

const deploy = (version: string, extra: Record<string, string> = {}, hosts = fleet.hosts): Promise<ActionRun> =>
  runAction('action-deploy', { ...inputs(hosts, extra), version }, { cwd: workspace });

function ledger(host: FleetHost): string[] {
  const file = join(deployPath(host), 'ledger.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').trim().split('\n').map((line) => {
    const e = JSON.parse(line) as { release: string; event: string };
    return `${e.release}:${e.event}`;
  });
}

const current = (host: FleetHost): string | undefined => (existsSync(join(deployPath(host), 'current')) ? readlinkSync(join(deployPath(host), 'current')) : undefined);
const record = (host: FleetHost, id: string) => JSON.parse(readFileSync(join(deployPath(host), 'releases', id, 'release.json'), 'utf8')) as { images: Record<string, string> };

/** What each host serves, in host order. */
const serving = (): Promise<string[]> => Promise.all(fleet.hosts.map((h) => fleet.get(h, '/')));

/** Everything deploy-kit keeps for the app on a host: proof that nothing changed there. */
function snapshot(host: FleetHost): string {
  const root = deployPath(host);
  if (!existsSync(root)) return '(none)';
  const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [`${join(dir, e.name)}/`, ...walk(join(dir, e.name))] : [join(dir, e.name)]));
  return [...walk(root), readFileSync(join(root, 'ledger.jsonl'), 'utf8')].join('\n');
}

/** Connections each host's sshd accepted, from its own log. */
const connections = (host: FleetHost): number => (readFileSync(host.ssh.logPath, 'utf8').match(/Accepted publickey/g) ?? []).length;

beforeAll(async () => {
  fleet = await startFleet(currentSandbox(), 4, { env: { 3: { BREAK_VERSION: 'v3' } } });
  // One home per host: the hosts share this machine's file system, not their deploy paths.
  for (const host of fleet.hosts) expect(await fleet.ownHome(host)).toBe(home(host));
  workspace = join(fleet.dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  writeFileSync(
    join(workspace, 'docker-compose.yml'),
    ['services:', '  web:', `    image: ${fleet.image}:\${VERSION}`, '    init: true', '    environment: [BREAK_VERSION]', '    ports: ["127.0.0.1:8080:8080"]', ''].join('\n'),
  );
});

afterAll(async () => {
  await stopFleet(fleet);
});

describe('one release to four hosts', () => {
  test('v1 then v2 with parallel 2: every host serves v2 under one release id and the same digest, over one connection per host', async () => {
    const first = await deploy('v1', { parallel: '100%', ...gate });
    expect(first.errors).toEqual([]);
    expect(await serving()).toEqual(['200 v1', '200 v1', '200 v1', '200 v1']);
    const before = fleet.hosts.map(connections);

    const second = await deploy('v2', { parallel: '2', ...gate });
    expect(second.errors).toEqual([]);
    expect(second.outputs).toMatchObject({ 'release-id': '2', 'previous-release-id': '1', status: 'deployed' });
    expect(await serving()).toEqual(['200 v2', '200 v2', '200 v2', '200 v2']);
    for (const host of fleet.hosts) {
      expect(current(host)).toBe('releases/2');
      expect(ledger(host)).toEqual(['1:started', '1:deployed', '2:started', '2:deployed']);
    }
    // One set of digests, resolved once: every host's release.json pins the same image.
    const digest = JSON.parse(second.outputs.images!) as Record<string, string>;
    expect(digest.web).toMatch(/@sha256:[0-9a-f]{64}$/);
    for (const host of fleet.hosts) expect(record(host, '2').images).toEqual(digest);
    expect(fleet.hosts.map(connections).map((n, i) => n - before[i]!)).toEqual([1, 1, 1, 1]);

    // Two batches of two, in host order; the summary has a row per host.
    expect(second.stdout).toMatch(/::group::Deploy release 2 to \S+, \S+ \(batch 1 of 2\)[\s\S]*::group::Deploy release 2 to \S+, \S+ \(batch 2 of 2\)/);
    expect(JSON.parse(second.outputs.hosts!)).toEqual(fleet.hosts.map((h) => expect.objectContaining({ host: h.address, status: 'deployed' })));
    for (const host of fleet.hosts) expect(second.summary).toContain(`| \`${host.address}\` | ✅ deployed |`);
  });

  test("host 3's new version fails its gate: hosts 1-3 end on v2 again, host 4 is never touched", async () => {
    const untouched = snapshot(fleet.host(4));
    const run = await deploy('v3', gate);
    expect(run.code).toBe(1);
    const [h1, h2, h3, h4] = fleet.hosts.map((h) => h.address);
    expect(run.errors).toEqual([
      expect.stringMatching(new RegExp(`^Release 3 \\(v3\\) failed on 1 of 4 hosts: ${h3}: v3 failed its health gate .*Rolled back ${h1}, ${h2}\\. Not started: ${h4}\\.$`)),
    ]);
    expect(run.outputs).toMatchObject({ 'release-id': '3', status: 'rolled-back' });
    expect(await serving()).toEqual(['200 v2', '200 v2', '200 v2', '200 v2']);
    for (const host of fleet.hosts.slice(0, 2)) {
      expect(current(host)).toBe('releases/2');
      expect(ledger(host).slice(4)).toEqual(['3:started', '3:deployed', '3:rolled-back', '2:restored']);
    }
    expect(current(fleet.host(3))).toBe('releases/2');
    expect(ledger(fleet.host(3)).slice(4)).toEqual(['3:started', '3:failed']);
    expect(snapshot(fleet.host(4))).toBe(untouched);
    expect(JSON.parse(run.outputs.hosts!)).toEqual([
      expect.objectContaining({ host: h1, status: 'rolled-back', rollback: 'rolled back to release 2 (v2)' }),
      expect.objectContaining({ host: h2, status: 'rolled-back', rollback: 'rolled back to release 2 (v2)' }),
      expect.objectContaining({ host: h3, status: 'rolled-back' }),
      expect.objectContaining({ host: h4, status: 'not started' }),
    ]);
    expect(run.summary).toContain(`| \`${h4}\` | ⏸️ not started |`);
    // Why, named by host: the failing host's gate responses and containers.
    expect(run.outputs['failure-reason']).toMatch(new RegExp(`^${h3}: health gate: HTTP 404 from http://`));
    expect(run.summary).toContain(`### Why it failed on \`${h3}\``);
  });

  test('a switched host that drops off before its rollback is named loudly, and can be rolled back once it is back', async () => {
    const [h1, h2, h3] = fleet.hosts.map((h) => h.address);
    let killed: Promise<void> | undefined;
    const run = await runAction(
      'action-deploy',
      { ...inputs(fleet.hosts.slice(0, 3), gate), version: 'v3' },
      {
        cwd: workspace,
        // While host 3's gate runs, host 2 (already on release 4) loses its sshd and every session.
        onStdout: (chunk) => {
          if (!killed && chunk.includes(`[${h3}] ▸ Health gate`)) killed = fleet.killSshd(2);
        },
      },
    );
    await killed;
    expect(killed).toBeDefined();
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([
      expect.stringMatching(new RegExp(`^Release 4 \\(v3\\) failed on 1 of 3 hosts: ${h3}: .* Rolled back ${h1}\\. NOT ROLLED BACK, still on release 4: ${h2} \\(rollback FAILED: .*\\)\\.$`)),
    ]);
    expect(run.outputs.status).toBe('failed');
    expect(run.summary).toContain('rollback FAILED');
    expect(await serving()).toEqual(['200 v2', '200 v3', '200 v2', '200 v2']);

    // Back online: its lock is the dead run's, stale after lock-stale-after (as found two
    // minutes on: its heartbeat aged on the host); a rollback breaks it and says so.
    await fleet.startSshd(2);
    const deadLock = join(deployPath(fleet.host(2)), '.lock');
    execFileSync('touch', ['-d', '2 minutes ago', join(deadLock, 'heartbeat'), deadLock]);
    const recover = await runAction(
      'action-rollback',
      { ...inputs([fleet.host(2)], gate), to: '2', 'break-stale-lock': 'true', 'lock-stale-after': '1m', reason: 'host 2 was cut off during the fleet rollback' },
      { cwd: workspace },
    );
    expect(recover.errors).toEqual([]);
    expect(recover.stdout).toMatch(/Broke a stale deploy lock held by .* idle for \d+s/);
    expect(await serving()).toEqual(['200 v2', '200 v2', '200 v2', '200 v2']);
    expect(current(fleet.host(2))).toBe('releases/2');
  });

  test("a dead host fails the deploy before anything changes; a host that does not answer costs 'connect-timeout', not the others' time", async () => {
    const before = fleet.hosts.map(snapshot);
    await fleet.stopSshd(4);
    fleet.disconnect(2);
    try {
      const run = await deploy('v1', { ...gate, 'connect-timeout': '3s' });
      expect(run.code).toBe(1);
      const [, h2, , h4] = fleet.hosts.map((h) => h.address);
      expect(run.errors).toEqual([
        expect.stringMatching(
          new RegExp(`^Could not reach 2 of 4 hosts, so nothing was changed on any host\\. ${h2}: Cannot connect to ${h2}:22: no SSH handshake within 3s .* ${h4}: Cannot connect to ${h4}:22: connection refused`),
        ),
      ]);
      expect(fleet.hosts.map(snapshot)).toEqual(before);
      expect(fleet.hosts.map((h) => existsSync(join(deployPath(h), '.lock')))).toEqual([false, false, false, false]);
    } finally {
      fleet.reconnect(2);
      await fleet.startSshd(4);
    }
  });

  test('a lock held on one host: nothing starts anywhere, and the locks taken on the others are given back', async () => {
    const lock = join(deployPath(fleet.host(3)), '.lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner.json'), JSON.stringify({ token: 'x', run: 'https://github.com/acme/shop/actions/runs/77', actor: 'bob', since: new Date().toISOString(), operation: 'deploy of v9' }));
    writeFileSync(join(lock, 'heartbeat'), '');
    const before = fleet.hosts.map(snapshot);
    try {
      const run = await deploy('v1', gate);
      expect(run.errors).toEqual([expect.stringMatching(new RegExp(`^Nothing was started on any host: Another deploy holds the lock on ${fleet.host(3).address}: .*actions/runs/77`))]);
      expect(fleet.hosts.map(snapshot)).toEqual(before);
      expect(fleet.hosts.map((h) => existsSync(join(deployPath(h), '.lock')))).toEqual([false, false, true, false]);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  });
});

describe('rollback and health gate over the same host list', () => {
  test('action-rollback takes every host back to v1, two at a time; action-healthgate checks each host through its own connection', async () => {
    const run = await runAction('action-rollback', { ...inputs(fleet.hosts, { parallel: '2', ...gate }), reason: 'v2 leaks memory' }, { cwd: workspace });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ 'release-id': '1', 'rolled-back-from': '2', healthy: 'true' });
    expect(await serving()).toEqual(['200 v1', '200 v1', '200 v1', '200 v1']);
    for (const host of fleet.hosts) expect(current(host)).toBe('releases/1');
    expect(run.summary).toContain('rollback to previous on 4 hosts');

    const healthInputs = (hosts: readonly FleetHost[]) => {
      const { host, username, 'private-key': key, 'known-hosts': known } = inputs(hosts);
      return { host: host!, username: username!, 'private-key': key!, 'known-hosts': known!, url: 'http://127.0.0.1:8080/', 'expect-body': '^v1\\s*$', successes: '1', timeout: '3s', interval: '500ms' };
    };
    const healthy = await runAction('action-healthgate', healthInputs(fleet.hosts));
    expect(healthy.errors).toEqual([]);
    expect(healthy.outputs.healthy).toBe('true');

    // One host's app gone: the gate fails and names that host.
    fleet.docker(2, ['stop', '-t', '1', ...fleet.docker(2, ['ps', '-q']).trim().split('\n')]);
    const unhealthy = await runAction('action-healthgate', healthInputs(fleet.hosts));
    expect(unhealthy.outputs.healthy).toBe('false');
    expect(unhealthy.errors).toEqual([expect.stringMatching(new RegExp(`^Health gate failed: 1 of 4 hosts unhealthy \\(${fleet.host(2).address}\\)`))]);
  });
});
