import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Fleet, startFleet, stopFleet } from '../harness/fleet.js';
import { currentSandbox } from '../harness/sandbox.js';

// The fleet harness itself: hosts that look like separate servers (own network namespace,
// dockerd and sshd), reached over real SSH with strict host key checking.

describe('fleet harness', () => {
  let fleet: Fleet | undefined;

  afterAll(async () => {
    await stopFleet(fleet);
  });

  test('two hosts each run their own version on 127.0.0.1:8080; stopping removes every trace', async () => {
    fleet = await startFleet(currentSandbox(), 2, { env: { 2: { BREAK_VERSION: 'v2' } } });
    console.log(`fleet of 2 hosts started in ${fleet.startMs}ms`);
    const [one, two] = fleet.hosts as [NonNullable<typeof fleet.hosts[0]>, NonNullable<typeof fleet.hosts[1]>];
    expect(one.address).not.toBe(two.address);
    expect(one.ssh.knownHosts).toMatch(new RegExp(`^${one.address.replace(/\./g, '\\.')} ssh-ed25519 `));

    // Each SSH session talks to its own host's engine (with the host's extra variables).
    const ids = await Promise.all(
      [one, two].map(async (host) => {
        const result = await fleet!.ssh(host, 'docker info --format "{{.DockerRootDir}}"; echo "[$BREAK_VERSION]"');
        expect(result.stderr).not.toMatch(/warning|error/i);
        expect(result.code).toBe(0);
        return result.stdout;
      }),
    );
    expect(ids[0]).toMatch(/\[\]\n$/);
    expect(ids[1]).toMatch(/\[v2\]\n$/);
    expect(ids[0]!.split('\n')[0]).not.toBe(ids[1]!.split('\n')[0]);

    // The same published port on both hosts at once; -e BREAK_VERSION passes the session's value on.
    for (const [host, version] of [[one, 'v1'], [two, 'v2']] as const) {
      const run = await fleet.ssh(host, `docker run -d --init -e BREAK_VERSION -p 127.0.0.1:8080:8080 ${fleet.image}:${version}`);
      expect(run.stderr).toContain(`Downloaded newer image for ${fleet.image}:${version}`);
      expect(run.code).toBe(0);
    }
    for (let i = 0; i < 50 && ((await fleet.get(one)) !== '200 v1' || (await fleet.get(two)) !== '200 v2'); i += 1) await new Promise((r) => setTimeout(r, 100));
    expect(await fleet.get(one, '/')).toBe('200 v1');
    expect(await fleet.get(two, '/')).toBe('200 v2');
    // Host 2 names v2 in BREAK_VERSION: its v2 fails /health; host 1 is healthy.
    expect(await fleet.get(one, '/health')).toBe('200 ok');
    expect(await fleet.get(two, '/health')).toMatch(/^404 /);
    // Through each host's own SSH connection, 127.0.0.1:8080 is that host's container.
    expect((await fleet.ssh(one, 'busybox wget -qO- http://127.0.0.1:8080/')).stdout).toBe('v1\n');
    expect((await fleet.ssh(two, 'busybox wget -qO- http://127.0.0.1:8080/')).stdout).toBe('v2\n');
    // The runner reaches each engine over its socket too.
    expect(fleet.docker(one, ['ps', '--format', '{{.Image}}']).trim()).toBe(`${fleet.image}:v1`);

    // A stopped sshd refuses; started again, the same known_hosts line still matches.
    await fleet.stopSshd(two);
    expect((await fleet.ssh(two, 'true')).code).not.toBe(0);
    await fleet.startSshd(two);
    expect((await fleet.ssh(two, 'echo back')).stdout).toBe('back\n');

    const { bridge, dir } = fleet;
    const namespaces = fleet.hosts.map((h) => h.netns);
    await stopFleet(fleet);
    await stopFleet(fleet);
    const netnsList = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const ns of namespaces) expect(netnsList).not.toContain(ns);
    expect(execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })).not.toContain(bridge);
    expect(existsSync(dir)).toBe(false);
  });

  test('four hosts start in parallel, each with an engine and an sshd of its own', async () => {
    const four = await startFleet(currentSandbox(), 4);
    try {
      console.log(`fleet of 4 hosts started in ${four.startMs}ms`);
      const roots = await Promise.all(four.hosts.map(async (host) => (await four.ssh(host, 'docker info --format "{{.DockerRootDir}}"')).stdout.trim()));
      expect(roots).toEqual(four.hosts.map((host) => `${host.dir}/data`));
    } finally {
      await stopFleet(four);
    }
  });
});
