import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
      expect(unpinned.errors).toEqual([expect.stringMatching(new RegExp(`^Host key verification failed for the jump host 127\\.0\\.0\\.1:${jump.port}: .*nor 'proxy-jump-fingerprint'`))]);
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

  test('a run whose lock another run took stops before its next step on the host, and says so', async () => {
    const lock = join(app.deployPath, '.lock');
    const before = await app.get('/');
    const events = app.ledger().length;
    let lockLeft = '';
    // The pre-deploy hook plays the other run: it takes the lock over (as a breaker would) and
    // holds it past this run's next heartbeat.
    const other = JSON.stringify({ token: 'other-run', run: 'https://github.com/acme/shop/actions/runs/77', actor: 'mallory', since: 'now', operation: 'deploy of v9' });
    const takeOver = `mv ${lock} ${lock}.taken && mkdir ${lock} && printf '%s\\n' '${other}' > ${lock}/owner.json && touch ${lock}/heartbeat && rm -rf ${lock}.taken && sleep 17`;
    const run = await app.deploy('v3', { 'pre-deploy': takeOver }).finally(() => {
      // The other run's lock, as the hook left it, is checked below; the next tests need none.
      lockLeft = existsSync(join(lock, 'owner.json')) ? readFileSync(join(lock, 'owner.json'), 'utf8') : '';
      rmSync(lock, { recursive: true, force: true });
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::warning::Lost the deploy lock \S+\.lock on deploy@127\.0\.0\.1:\d+ \(it is no longer this run's/);
    expect(run.errors).toEqual([
      expect.stringMatching(
        /^Lost the deploy lock \S+\.lock on 127\.0\.0\.1: it is no longer this run's: another run broke it as stale, or holds it now\. Stopped before 'docker[ -]compose --project-name conn .* up --detach --remove-orphans', so this run changed nothing more on the host; check the host before the next deploy\. Release \d+ was interrupted and nothing was rolled back: another run may be changing the host\.$/,
      ),
    ]);
    expect(run.stdout).not.toContain('::group::Health gate');
    // What serves, the ledger (the release only 'started') and the other run's lock are as the other run left them.
    expect(await app.get('/')).toBe(before);
    expect(app.ledger().slice(events)).toEqual([expect.stringMatching(/^\d+:started$/)]);
    expect(lockLeft).toContain('"token":"other-run"');
  });

  test('lock-stale-after below three heartbeats is refused before connecting', async () => {
    const run = await app.deploy('v3', { 'lock-stale-after': '10s', 'break-stale-lock': 'true' });
    expect(run.errors).toEqual(["Input 'lock-stale-after' must be at least 45s, three heartbeats of 15s: a lock whose holder is alive must never look stale; got '10s'."]);
    expect(run.stdout).not.toMatch(/^::group::/m);
  });

  test('proxy-jump-fingerprint pins the jump host and host-fingerprint the target: the deploy goes through the jump', async () => {
    const jump = await startSshd(app.sandbox.dir, app.sandbox.publicKey, app.sandbox.dockerHost, 'jump-pinned');
    try {
      const pins = { 'proxy-jump': `127.0.0.1:${jump.port}`, 'known-hosts': '', 'host-fingerprint': app.sandbox.ssh.fingerprint, 'proxy-jump-fingerprint': jump.fingerprint };
      const run = await app.deploy('v1', pins);
      expect(run.errors).toEqual([]);
      expect(await app.get('/')).toBe('200 v1');
      expect(accepted(jump.logPath)).toBe(1);

      // The jump host's fingerprint pins only the jump host: given as the target's, the target's own key is refused.
      const swapped = await app.deploy('v2', { ...pins, 'host-fingerprint': jump.fingerprint, 'proxy-jump-fingerprint': jump.fingerprint });
      expect(swapped.errors).toEqual([expect.stringMatching(/^Input 'host-fingerprint' holds the jump host's fingerprint/)]);
      const wrongTarget = await app.deploy('v2', { ...pins, 'host-fingerprint': jump.fingerprint, 'proxy-jump-fingerprint': '' , 'known-hosts': jump.knownHosts });
      expect(wrongTarget.errors).toEqual([expect.stringMatching(new RegExp(`^Host key verification failed for 127\\.0\\.0\\.1:${app.sandbox.ssh.port}: `))]);
      expect(await app.get('/')).toBe('200 v1');
    } finally {
      process.kill(jump.pid);
    }
  });

  test('a jump host that answers for the target with its own key is refused, however its fingerprint was pinned', async () => {
    // The target is the jump sshd's own address, reached through the jump: what a compromised
    // bastion does when it answers for the target itself.
    const jump = await startSshd(app.sandbox.dir, app.sandbox.publicKey, app.sandbox.dockerHost, 'jump-impostor');
    try {
      const through = { port: String(jump.port), 'proxy-jump': `127.0.0.1:${jump.port}` };
      const pinned = await app.deploy('v3', { ...through, 'known-hosts': '', 'host-fingerprint': app.sandbox.ssh.fingerprint, 'proxy-jump-fingerprint': jump.fingerprint });
      // As docs/security.md used to advise: the jump host's fingerprint in 'host-fingerprint', next to the target's.
      const oldAdvice = await app.deploy('v3', { ...through, 'known-hosts': jump.knownHosts, 'host-fingerprint': `${app.sandbox.ssh.fingerprint} ${jump.fingerprint}` });
      for (const run of [pinned, oldAdvice]) {
        expect(run.errors).toEqual([expect.stringMatching(new RegExp(`^Host key verification failed for 127\\.0\\.0\\.1:${jump.port}: `))]);
      }
      expect(oldAdvice.errors[0]).toMatch(/the jump host's own key/);
      // Each run logged in to the jump host only: the target connection never authenticated.
      expect(accepted(jump.logPath)).toBe(2);
      expect(await app.get('/')).toBe('200 v1');
    } finally {
      process.kill(jump.pid);
    }
  });

  test('with several hosts each fingerprint names its host; a bare one is refused before connecting', async () => {
    const other = await startSshd(app.sandbox.dir, app.sandbox.publicKey, app.sandbox.dockerHost, 'fleet-other');
    try {
      const hosts = { host: `127.0.0.1:${app.sandbox.ssh.port}, 127.0.0.1:${other.port}`, 'known-hosts': '' };
      const bare = await app.deploy('v3', { ...hosts, 'host-fingerprint': `${app.sandbox.ssh.fingerprint} ${other.fingerprint}` });
      expect(bare.errors).toEqual([expect.stringMatching(/^Input 'host-fingerprint' must name the host of each fingerprint when 'host' lists several hosts/)]);
      // Each pin bound to the other host: the first host's own key is refused, not accepted as the second's.
      const crossed = await app.deploy('v3', { ...hosts, 'host-fingerprint': `127.0.0.1:${app.sandbox.ssh.port} ${other.fingerprint}\n127.0.0.1:${other.port} ${app.sandbox.ssh.fingerprint}` });
      expect(crossed.code).toBe(1);
      expect(crossed.errors.join('\n')).toMatch(/Host key verification failed for 127\.0\.0\.1:\d+/);
      expect(accepted(other.logPath)).toBe(0);
      expect(await app.get('/')).toBe('200 v1');
    } finally {
      process.kill(other.pid);
    }
  });

  test('an sshd whose only host key is RSA: a known_hosts line or a fingerprint pins it (rsa-sha2-256/512, not SHA-1 ssh-rsa)', async () => {
    const rsa = await startSshd(app.sandbox.dir, app.sandbox.publicKey, app.sandbox.dockerHost, 'rsa-only', { hostKeyType: 'rsa' });
    try {
      expect(rsa.knownHosts).toMatch(/ ssh-rsa AAAA/);
      const byLine = await app.deploy('v2', { port: String(rsa.port), 'known-hosts': rsa.knownHosts });
      expect(byLine.errors).toEqual([]);
      const byFingerprint = await app.deploy('v3', { port: String(rsa.port), 'known-hosts': '', 'host-fingerprint': rsa.fingerprint });
      expect(byFingerprint.errors).toEqual([]);
      expect(await app.get('/')).toBe('200 v3');
      expect(accepted(rsa.logPath)).toBe(2);
    } finally {
      process.kill(rsa.pid);
    }
  });
});
