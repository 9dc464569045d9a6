import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { startSshd } from '../harness/sandbox.js';

// action-deploy's committed bundle, run as the GitHub runner runs it, against a real sshd,
// Docker engine and registry. Each test checks what a user would check on the host.

describe('action-deploy', () => {
  let app: AppFixture;

  beforeAll(async () => {
    app = await AppFixture.create('shop');
  });

  test('deploys v1, then v2: v2 is served, current and the ledger follow, .env is 0600', async () => {
    const first = await app.deploy('v1', { env: 'DATABASE_URL=postgres://shop:s3cret-pw@db/shop\nGREETING="hello world"' });
    expect(first.errors).toEqual([]);
    expect(first.code).toBe(0);
    expect(first.outputs).toMatchObject({ 'release-id': '1', 'previous-release-id': '', status: 'deployed' });
    expect(await app.get('/')).toBe('200 v1');

    const second = await app.deploy('v2');
    expect(second.code).toBe(0);
    expect(second.outputs).toMatchObject({ 'release-id': '2', 'previous-release-id': '1', status: 'deployed' });
    expect(await app.get('/')).toBe('200 v2');

    const images = JSON.parse(second.outputs.images!) as Record<string, string>;
    expect(images.web).toMatch(new RegExp(`^${app.sandbox.appImage}@sha256:[0-9a-f]{64}$`));
    expect(Number(second.outputs['duration-seconds'])).toBeGreaterThan(0);

    expect(app.current()).toBe('releases/2');
    expect(app.ledger()).toEqual(['1:started', '1:deployed', '2:started', '2:deployed']);
    expect(app.record('2')).toMatchObject({ id: '2', version: 'v2', status: 'deployed', previous: '1', images, actor: 'octocat' });
    expect(app.fileMode('releases/1/.env')).toBe('600');
    // Everything on the host belongs to the login deploy-kit used, with the modes docs/how-it-works.md gives.
    const user = app.sandbox.ssh.username;
    expect(user).toBe('deploy');
    expect(['.', 'releases', 'releases/1', 'releases/1/.env', 'releases/1/docker-compose.yml', 'releases/1/release.json', 'ledger.jsonl', 'current'].map((p) => `${p}: ${app.ownership(p)}`)).toEqual([
      `.: ${user} 755`,
      `releases: ${user} 755`,
      `releases/1: ${user} 750`,
      `releases/1/.env: ${user} 600`,
      `releases/1/docker-compose.yml: ${user} 644`,
      `releases/1/release.json: ${user} 644`,
      `ledger.jsonl: ${user} 644`,
      `current: ${user} 777`,
    ]);
    const env = readFileSync(join(app.deployPath, 'releases/1/.env'), 'utf8');
    expect(env).toContain('VERSION=v1\n');
    expect(env).toContain("GREETING='hello world'\n");
    expect(app.containers()).toEqual([expect.stringMatching(new RegExp(`^${app.name}[_-]web[_-]1 running ${app.sandbox.appImage}@sha256:`))]);

    // The job summary tells the story; the secret in `env` is nowhere in what the runner keeps.
    expect(second.summary).toContain(`${app.name} v2: deployed`);
    expect(second.summary).toMatch(/\| Previous release \| 1 \|/);
    expect(second.summary).toContain('Pull images');
    expect(first.everything).not.toContain('s3cret-pw');
    expect(second.stdout).toMatch(/::group::Pull images/);
  });

  test('a failing pull changes nothing that runs', async () => {
    const before = app.current();
    const run = await app.deploy('does-not-exist');
    expect(run.code).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/failed.*nothing running was changed/s);
    expect(await app.get('/')).toBe('200 v2');
    expect(app.current()).toBe(before);
    expect(app.ledger().slice(-2)).toEqual([`${run.outputs['release-id']}:started`, `${run.outputs['release-id']}:failed`]);
  });

  test('a dry run prints the plan and changes nothing', async () => {
    const before = app.hostSnapshot();
    const run = await app.deploy('v3', { 'dry-run': 'true' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Dry run: the plan (nothing was changed)');
    expect(run.stdout).toMatch(new RegExp(`docker(-compose| compose) --project-name ${app.name} .* up --detach --remove-orphans`));
    expect(run.stdout).toMatch(/write .*\/\.env \(mode 0600, \d+ bytes, contents hidden\)/);
    expect(app.hostSnapshot()).toBe(before);
    expect(await app.get('/')).toBe('200 v2');
  });

  test('a second deploy started while one runs is refused by the lock, naming the holder', async () => {
    const slow = app.deploy('v3', { 'pre-deploy': 'sleep 6' }, { GITHUB_RUN_ID: '1111' });
    // Wait until the first deploy holds the lock.
    const lockOwner = join(app.deployPath, '.lock', 'owner.json');
    for (let i = 0; i < 100 && !(await exists(lockOwner)); i += 1) await new Promise((r) => setTimeout(r, 100));
    expect([app.ownership('.lock'), app.ownership('.lock/owner.json')]).toEqual([`${app.sandbox.ssh.username} 755`, `${app.sandbox.ssh.username} 644`]);
    const second = await app.deploy('v1', {}, { GITHUB_RUN_ID: '2222' });
    expect(second.code).toBe(1);
    expect(second.errors[0]).toMatch(/Another deploy holds the lock .*octocat's deploy of v3 .*actions\/runs\/1111/);
    const first = await slow;
    expect(first.code).toBe(0);
    expect(await app.get('/')).toBe('200 v3');
    expect(await exists(lockOwner)).toBe(false);
  });

  test('keeps only keep-releases releases, never the active one', async () => {
    await app.deploy('v1', { 'keep-releases': '2' });
    const run = await app.deploy('v2', { 'keep-releases': '2' });
    expect(run.code).toBe(0);
    expect(app.releases()).toHaveLength(2);
    expect(app.current()).toBe(`releases/${run.outputs['release-id']}`);
    expect(app.ledger().filter((e) => e.endsWith(':pruned')).length).toBeGreaterThan(0);
  });
});

describe("action-deploy waits for the container's own HEALTHCHECK", () => {
  // Docker runs a container's first check one `interval` after it starts; deploy-kit runs the
  // same command at once (docker exec) and calls the container up when it passes.
  const healthcheck = (test: string, interval: string) =>
    ['    healthcheck:', `      test: ${test}`, `      interval: ${interval}`, '      timeout: 2s', '      retries: 2'].join('\n');

  test('an interval longer than the wait timeout does not hold the deploy: the check is run at once', async () => {
    const app = await AppFixture.create('probe-slow', { composeExtra: healthcheck('["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]', '5m') });
    const run = await app.deploy('v1', { 'wait-timeout': '30s' });
    expect(run.errors).toEqual([]);
    expect(run.stdout).toMatch(new RegExp(`containers up: ${app.name}[_-]web[_-]1 \\(healthy: its HEALTHCHECK passed when run at once\\)`));
    expect(await app.get('/')).toBe('200 v1');
    // Docker itself has not run a check yet: without the probe this deploy would have timed out.
    const id = execFileSync('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${app.name}`], { env: { ...process.env, DOCKER_HOST: app.sandbox.dockerHost }, encoding: 'utf8' }).trim();
    expect(execFileSync('docker', ['inspect', '--format', '{{.State.Health.Status}}', id], { env: { ...process.env, DOCKER_HOST: app.sandbox.dockerHost }, encoding: 'utf8' }).trim()).toBe('starting');
  });

  test('a check that fails is never taken as passed: Docker calls the container unhealthy and the release is rolled back', async () => {
    const app = await AppFixture.create('probe-fails');
    expect((await app.deploy('v1')).errors).toEqual([]);
    app.writeCompose('docker-compose.yml', healthcheck('["CMD", "/bin/busybox", "false"]', '1s'));
    const run = await app.deploy('v2');
    expect(run.outputs.status).toBe('rolled-back');
    expect(run.errors).toEqual([expect.stringMatching(new RegExp(`did not come up: container ${app.name}[_-]web[_-]1 unhealthy; rolled back to v1`))]);
    // (The rollback's v1 passes its probe; v2's wait never did.)
    expect(run.stdout.slice(0, run.stdout.indexOf('::group::Recover'))).not.toContain('passed when run at once');
    expect(await app.get('/')).toBe('200 v1');
  });
});

describe('action-deploy refuses bad input before changing anything', () => {
  let app: AppFixture;
  beforeAll(async () => {
    app = await AppFixture.create('guarded');
  });

  test('a host key that does not match is refused before authentication', async () => {
    // The host is an sshd of this test's own: the shared one's log also has the other tests' logins.
    const host = await startSshd(app.sandbox.dir, app.sandbox.publicKey, app.sandbox.dockerHost, 'guarded-host');
    const other = await startSshd(app.sandbox.dir, app.sandbox.publicKey, app.sandbox.dockerHost, 'impostor');
    try {
      const run = await app.deploy('v1', { port: String(host.port), 'known-hosts': other.knownHosts.replace(`:${other.port}]`, `:${host.port}]`) });
      expect(run.code).toBe(1);
      expect(run.errors).toEqual([expect.stringMatching(/^Host key verification failed for 127\.0\.0\.1:\d+: it presented a key with fingerprint SHA256:\S+, which matches neither 'known-hosts' nor 'host-fingerprint'.*ssh-keyscan/)]);
      const log = readFileSync(host.logPath, 'utf8');
      expect(log).toMatch(/Connection from 127\.0\.0\.1/);
      expect(log).not.toContain('Accepted publickey');
      expect(app.hostSnapshot()).toBe('(no deploy path)');
    } finally {
      process.kill(host.pid);
      process.kill(other.pid);
    }
  });

  test('host-fingerprint alone is enough to pin the host', async () => {
    const run = await app.deploy('v1', { 'known-hosts': '', 'host-fingerprint': app.sandbox.ssh.fingerprint, 'dry-run': 'true' });
    expect(run.errors).toEqual([]);
  });

  test.each([
    ['private-key', { 'private-key': 'not a key' }, /^Input 'private-key' must be a private key in OpenSSH or PEM format/],
    ['known-hosts', { 'known-hosts': '' }, /^Input 'known-hosts' or 'host-fingerprint' is required .*ssh-keyscan/],
    ['port', { port: '70000' }, /^Input 'port' must be a whole number from 1 to 65535; got '70000'\.$/],
    ['host (unreachable)', { port: '1' }, /^Cannot connect to 127\.0\.0\.1:1: connection refused/],
    ['version', { version: 'v1;touch /tmp/pwned' }, /^Input 'version' must be an image tag/],
    ['app', { app: 'shop$(id)' }, /^Input 'app' must be lowercase letters/],
    ['compose-file (missing)', { 'compose-file': 'nope.yml' }, /^Input 'compose-file': 'nope.yml' was not found/],
    ['compose-file (escape)', { 'compose-file': '../../etc/passwd' }, /^Input 'compose-file' must name files inside the workspace/],
    ['wait-timeout', { 'wait-timeout': 'soon' }, /^Input 'wait-timeout' must be a duration like '30s'/],
  ])('%s', async (_name, extra, message) => {
    const run = await app.deploy((extra as Record<string, string>).version ?? 'v1', extra as Record<string, string>);
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(message);
    expect(app.hostSnapshot()).toBe('(no deploy path)');
  });

  test('a wrong passphrase, or none for an encrypted key, is named', async () => {
    const keyFile = join(app.workspace, 'encrypted_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'right horse', '-f', keyFile]);
    const key = readFileSync(keyFile, 'utf8');
    const wrong = await app.deploy('v1', { 'private-key': key, passphrase: 'wrong horse' });
    expect(wrong.errors).toEqual(["Input 'passphrase' does not decrypt 'private-key'."]);
    const none = await app.deploy('v1', { 'private-key': key });
    expect(none.errors).toEqual(["Input 'private-key' is encrypted; give its passphrase in 'passphrase'."]);
    expect(wrong.everything).not.toContain('wrong horse');
    expect(app.hostSnapshot()).toBe('(no deploy path)');
  });

  test('a compose file that is not one is refused', async () => {
    app.writeCompose('broken.yml', '  oops: [unclosed');
    const run = await app.deploy('v1', { 'compose-file': 'broken.yml' });
    expect(run.errors).toEqual([expect.stringMatching(/^Input 'compose-file': 'broken.yml' is not valid YAML/)]);
    expect(app.hostSnapshot()).toBe('(no deploy path)');
  });
});

async function exists(path: string): Promise<boolean> {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}
