import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { startSshd } from '../harness/sandbox.js';

// How action-deploy reaches the host and shares it: one SSH connection per deploy, a jump
// host, stale locks, waiting for a lock, and the post-deploy hook.

const accepted = (logPath: string): number => (readFileSync(logPath, 'utf8').match(/Accepted publickey/g) ?? []).length;

describe('action-deploy connections and locks', () => {
  let app: AppFixture;
  beforeAll(async () => {
    app = await AppFixture.create('conn');
  });

  test('a whole deploy opens exactly one SSH connection to the host', async () => {
    // An sshd of its own: the shared one also serves the tests running in parallel.
    const solo = await startSshd(app.sandbox.dir, app.sandbox.publicKey, app.sandbox.dockerHost, 'solo');
    const run = await app.deploy('v1', { port: String(solo.port), 'known-hosts': solo.knownHosts, 'post-deploy': 'echo "post-deploy of $VERSION as release $RELEASE_ID" > post-deploy.txt' });
    process.kill(solo.pid);
    expect(run.errors).toEqual([]);
    expect(accepted(solo.logPath)).toBe(1);
    expect(readFileSync(join(app.deployPath, 'releases/1/post-deploy.txt'), 'utf8')).toBe('post-deploy of v1 as release 1\n');
  });

  test('proxy-jump reaches the host through a jump host, checking both host keys', async () => {
    const jump = await startSshd(app.sandbox.dir, app.sandbox.publicKey, app.sandbox.dockerHost, 'jump');
    try {
      const knownHosts = `${app.sandbox.ssh.knownHosts}\n${jump.knownHosts}`;
      const run = await app.deploy('v2', { 'proxy-jump': `${jump.username}@127.0.0.1:${jump.port}`, 'known-hosts': knownHosts });
      expect(run.errors).toEqual([]);
      expect(await app.get('/')).toBe('200 v2');
      expect(accepted(jump.logPath)).toBe(1);
      expect(readFileSync(jump.logPath, 'utf8')).toMatch(/direct-tcpip|Connection from 127\.0\.0\.1/);

      const unpinned = await app.deploy('v3', { 'proxy-jump': `127.0.0.1:${jump.port}`, 'known-hosts': app.sandbox.ssh.knownHosts });
      expect(unpinned.errors).toEqual([expect.stringMatching(new RegExp(`^Host key verification failed for 127\\.0\\.0\\.1:${jump.port}:`))]);
      expect(await app.get('/')).toBe('200 v2');
    } finally {
      process.kill(jump.pid);
    }
  });

  test('a stale lock is reported with its holder, and broken only when asked', async () => {
    const lock = join(app.deployPath, '.lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner.json'), JSON.stringify({ run: 'https://github.com/acme/shop/actions/runs/9', actor: 'bob', since: 'yesterday', operation: 'deploy of v0' }));
    writeFileSync(join(lock, 'heartbeat'), '');
    execFileSync('touch', ['-d', '2 hours ago', join(lock, 'heartbeat'), lock]);

    const refused = await app.deploy('v3');
    expect(refused.errors).toEqual([
      expect.stringMatching(/is stale: held by bob's deploy of v0 since yesterday \(https:\/\/github\.com\/acme\/shop\/actions\/runs\/9\), with no sign of life for \d+s .*'break-stale-lock: true'/),
    ]);
    expect(await app.get('/')).toBe('200 v2');

    const broken = await app.deploy('v3', { 'break-stale-lock': 'true' });
    expect(broken.errors).toEqual([]);
    expect(broken.stdout).toMatch(/::warning::Broke a stale deploy lock held by bob's deploy of v0/);
    expect(await app.get('/')).toBe('200 v3');
    expect(existsSync(lock)).toBe(false);
  });

  test('with lock-timeout, a deploy waits for the one holding the lock, then runs', async () => {
    const first = app.deploy('v1', { 'pre-deploy': 'sleep 4' }, { GITHUB_RUN_ID: '5001' });
    for (let i = 0; i < 100 && !existsSync(join(app.deployPath, '.lock', 'owner.json')); i += 1) await new Promise((r) => setTimeout(r, 100));
    const second = await app.deploy('v2', { 'lock-timeout': '60s' }, { GITHUB_RUN_ID: '5002' });
    expect(second.errors).toEqual([]);
    expect(second.stdout).toMatch(/The deploy lock is held by octocat's deploy of v1 .*runs\/5001.*; waiting up to 1m/);
    expect((await first).errors).toEqual([]);
    expect(await app.get('/')).toBe('200 v2');
    const ids = app.ledger().filter((e) => e.endsWith(':deployed')).map((e) => Number(e.split(':')[0]));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
  });
});
