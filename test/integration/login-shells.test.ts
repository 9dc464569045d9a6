import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { SHELL_USERS, ensureHostUser } from '../harness/host-user.js';
import { SshEndpoint, currentSandbox, startSshd } from '../harness/sandbox.js';

// The login deploy-kit uses is the user's choice, and so is its shell. Commands are POSIX sh:
// they run the same whatever the login shell is, or the action stops at connect with one line
// that says what to change. Root stays a supported login.

const logins = [
  { user: 'root', shell: 'bash' },
  { user: SHELL_USERS.zsh, shell: 'zsh' },
  { user: SHELL_USERS.fish, shell: 'fish' },
] as const;

describe.each(logins)('logged in as $user (login shell $shell)', ({ user, shell }) => {
  let sshd: SshEndpoint;
  let app: AppFixture;

  beforeAll(async () => {
    const sandbox = currentSandbox();
    sshd = await startSshd(sandbox.dir, sandbox.publicKey, sandbox.dockerHost, `sshd-${user}`, { user, shell });
    app = await AppFixture.create(`login-${shell}-${user === 'root' ? 'root' : 'user'}`, { endpoint: sshd });
  });

  afterAll(() => {
    if (sshd) process.kill(sshd.pid);
  });

  test('deploy v1 and v2 (with a pre-deploy hook), then roll back to v1 with a reason full of quotes', async () => {
    const first = await app.deploy('v1');
    expect(first.errors).toEqual([]);
    const second = await app.deploy('v2', { 'pre-deploy': `printf '%s\\n' "$VERSION" > pre-deploy.out` });
    expect(second.errors).toEqual([]);
    expect(await app.get('/')).toBe('200 v2');
    expect(app.ledger()).toEqual(['1:started', '1:deployed', '2:started', '2:deployed']);
    expect(readFileSync(join(app.deployPath, 'releases/2/pre-deploy.out'), 'utf8')).toBe('v2\n');

    // The reason travels in a command line (the ledger append): it must arrive byte for byte.
    const reason = `can't keep v2: "quoted" \\ back\\\\slash $HOME \`id\` ! %s`;
    const back = await app.rollback({ reason });
    expect(back.errors).toEqual([]);
    expect(JSON.parse(readFileSync(join(app.deployPath, 'ledger.jsonl'), 'utf8').trim().split('\n').pop()!)).toMatchObject({ reason });
    expect(await app.get('/')).toBe('200 v1');
    expect(app.current()).toBe('releases/1');
    expect(app.ownership('releases/2/.env')).toBe(`${user} 600`);
    expect(app.ownership('ledger.jsonl')).toBe(`${user} 644`);
  });
});

describe('a login whose shell runs no commands', () => {
  test('the deploy stops at connect with one line saying what to change, and nothing on the host changes', async () => {
    const sandbox = currentSandbox();
    ensureHostUser('deploy-nologin', '/usr/sbin/nologin');
    const sshd = await startSshd(sandbox.dir, sandbox.publicKey, sandbox.dockerHost, 'sshd-nologin', { user: 'deploy-nologin' });
    try {
      const app = await AppFixture.create('login-nologin', { endpoint: sshd });
      const run = await app.deploy('v1');
      expect(run.code).toBe(1);
      expect(run.errors).toEqual([expect.stringMatching(/^deploy-nologin@127\.0\.0\.1:\d+ does not run commands for deploy-kit \(exit 1: This account is currently not available\.\)\. The account needs a login shell/)]);
      // The deploy path made for that login stays as it was: empty.
      expect(app.hostSnapshot()).toBe('');
    } finally {
      process.kill(sshd.pid);
    }
  });
});
