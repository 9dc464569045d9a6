import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { hostFolder } from '../harness/host-user.js';
import { docker, freePort } from '../harness/sandbox.js';

// Issue 10, faults: what a deploy does when the world misbehaves. Each test checks what a
// user would check: what the site serves, where `current` points, what the ledger says.

const BRIDGE = '    network_mode: bridge';

describe('two deploys of the same app started together', () => {
  test('exactly one runs; the other fails naming the holder, never both', async () => {
    const app = await AppFixture.create('together', { composeExtra: BRIDGE });
    expect((await app.deploy('v1')).code).toBe(0);
    // The hooks run as the deploy user: the trace goes where it may write.
    const trace = join(hostFolder(join(app.sandbox.hostsDir, 'together-traces')), 'trace');
    const hook = (id: string) => ({ 'pre-deploy': `echo ${id} >> ${trace}; sleep 2` });
    const [a, b] = await Promise.all([
      app.deploy('v2', hook('run-1111'), { GITHUB_RUN_ID: '1111' }),
      app.deploy('v3', hook('run-2222'), { GITHUB_RUN_ID: '2222' }),
    ]);
    const winner = a.code === 0 ? a : b;
    const loser = winner === a ? b : a;
    const [winnerId, winnerVersion] = winner === a ? ['1111', 'v2'] : ['2222', 'v3'];
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    expect(loser.errors).toEqual([expect.stringMatching(new RegExp(`^Another deploy holds the lock .*deploy of ${winnerVersion} .*actions/runs/${winnerId}\\b`))]);
    // Only the winner's hook ran, once; one release was started and deployed.
    expect(readFileSync(trace, 'utf8')).toBe(`run-${winnerId}\n`);
    expect(app.ledger().slice(2)).toEqual(['2:started', '2:deployed']);
    expect(await app.get('/')).toBe(`200 ${winnerVersion}`);
    expect(existsSync(join(app.deployPath, '.lock'))).toBe(false);
  });
});

describe('registry down', () => {
  let registry: ChildProcess | undefined;
  afterAll(() => {
    if (registry?.pid) {
      process.kill(registry.pid, 'SIGCONT');
      process.kill(registry.pid, 'SIGTERM');
    }
  });

  test('the deploy fails in the pull phase; the running containers and current are untouched', async () => {
    // A registry of this test's own, so stopping it cannot disturb tests running alongside.
    const app = await AppFixture.create('regdown');
    const port = await freePort();
    const dir = join(app.sandbox.dir, 'regdown-registry');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
    registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore', detached: true });
    for (let i = 0; i < 100; i += 1) {
      if (await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const image = `127.0.0.1:${port}/regdown`;
    for (const tag of ['v1', 'v2']) {
      docker(app.sandbox, ['tag', `${app.sandbox.appImage}:${tag}`, `${image}:${tag}`]);
      docker(app.sandbox, ['push', '-q', `${image}:${tag}`]);
    }
    writeFileSync(
      join(app.workspace, 'docker-compose.yml'),
      ['services:', '  web:', `    image: ${image}:\${VERSION}`, '    init: true', `    ports: ["127.0.0.1:${app.port}:8080"]`, BRIDGE, ''].join('\n'),
    );
    expect((await app.deploy('v1')).code).toBe(0);
    // v2 must come from the registry, not the engine's cache.
    docker(app.sandbox, ['image', 'rm', `${image}:v2`]);
    const containersBefore = app.containers();
    const started = Date.now();
    process.kill(registry.pid!, 'SIGSTOP');
    let run;
    try {
      run = await app.deploy('v2', {}, {});
    } finally {
      process.kill(registry.pid!, 'SIGCONT');
    }
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringMatching(/nothing running was changed$/)]);
    expect(run.stdout).toMatch(/::group::Pull images[\s\S]*::group::Recover/);
    expect(run.stdout).not.toContain('::group::Start containers');
    expect(app.current()).toBe('releases/1');
    expect(app.containers()).toEqual(containersBefore);
    expect(await app.get('/')).toBe('200 v1');
    expect(app.ledger()).toEqual(['1:started', '1:deployed', '2:started', '2:failed']);
    console.log(`registry down: the deploy failed after ${Math.round((Date.now() - started) / 1000)}s`);
  });
});

describe('disk full on the host', () => {
  let mountPoint: string | undefined;
  afterAll(() => {
    if (!mountPoint) return;
    execFileSync('sh', ['-c', 'umount "$1" 2>/dev/null || umount -l "$1"; rmdir "$1" 2>/dev/null || true', 'sh', mountPoint]);
  });

  test('a deploy path with no space left: a clear error, the previous release untouched', async () => {
    const app = await AppFixture.create('diskfull', { composeExtra: BRIDGE });
    mountPoint = app.deployPath;
    mkdirSync(mountPoint, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', mountPoint]);
    hostFolder(mountPoint);
    expect((await app.deploy('v1')).errors).toEqual([]);
    const releaseBefore = execFileSync('sh', ['-c', 'cd "$1" && find releases/1 -type f | sort | xargs sha256sum', 'sh', mountPoint], { encoding: 'utf8' });
    // Fill what is left.
    execFileSync('sh', ['-c', 'dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null; true', 'sh', mountPoint]);

    const run = await app.deploy('v2');
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/no space left on device|disk (is )?full/i);
    expect(run.errors[0]).toContain(mountPoint);
    expect(app.current()).toBe('releases/1');
    expect(await app.get('/')).toBe('200 v1');
    expect(execFileSync('sh', ['-c', 'cd "$1" && find releases/1 -type f | sort | xargs sha256sum', 'sh', mountPoint], { encoding: 'utf8' })).toBe(releaseBefore);
    expect(existsSync(join(mountPoint, '.lock'))).toBe(false);

    // With space again, the next deploy goes through.
    rmSync(join(mountPoint, 'filler'));
    const next = await app.deploy('v2');
    expect(next.errors).toEqual([]);
    expect(await app.get('/')).toBe('200 v2');
  });
});
