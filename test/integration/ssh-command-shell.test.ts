import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentSandbox, startSshd, SshEndpoint } from '../harness/sandbox.js';
import { RemoteHost } from '../../src/ssh/connection.js';
import { parseKnownHosts } from '../../src/ssh/known-hosts.js';

// Commands go through one long-lived shell on the host (src/ssh/command-shell.ts) instead of
// a new session each. Against a real sshd: each command still behaves as an exec would.

/** The library's own connection to one of the sandbox's sshds. */
function connectTo(sshd: SshEndpoint): Promise<RemoteHost> {
  return RemoteHost.connect({
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKey: currentSandbox().privateKey,
    passphrase: '',
    hostKeys: { knownHosts: parseKnownHosts(sshd.knownHosts), fingerprints: [], insecureIgnore: false, fingerprintInput: 'host-fingerprint' },
    proxyJump: undefined,
    connectTimeoutMs: 10_000,
  });
}

const sessions = (logPath: string): string[] => readFileSync(logPath, 'utf8').match(/Starting session: \S+/g) ?? [];

describe('commands through the command shell', () => {
  let sshd: SshEndpoint & { pid: number };
  let host: RemoteHost;

  beforeAll(async () => {
    const sandbox = currentSandbox();
    sshd = await startSshd(sandbox.dir, sandbox.publicKey, sandbox.dockerHost, 'command-shell');
    host = await connectTo(sshd);
  });
  afterAll(async () => {
    await host?.close();
    if (sshd) process.kill(sshd.pid);
  });

  test('exit status, stdout and stderr come back apart, trimmed as an exec gives them', async () => {
    expect(await host.run(['sh', '-c', 'printf "out\\n"; printf "err" >&2; exit 7'], { allowFailure: true })).toEqual({ code: 7, stdout: 'out', stderr: 'err' });
    expect(await host.run(['printf', 'no newline'])).toEqual({ code: 0, stdout: 'no newline', stderr: '' });
    await expect(host.run(['sh', '-c', 'echo broken >&2; exit 3'])).rejects.toThrow(/failed \(exit 3\): broken/);
  });

  test('each command starts afresh: no variables, folder or stdin left over from the one before', async () => {
    await host.run({ text: 'export LEFTOVER=1; cd /tmp' });
    expect((await host.run({ text: 'echo "[${LEFTOVER:-}] $(pwd)"' })).stdout).toBe(`[] ${(await host.run({ text: 'echo $HOME' })).stdout}`);
    // A command that reads stdin gets end-of-file, not the commands that follow it.
    expect((await host.run({ text: 'cat; echo read-nothing' })).stdout).toBe('read-nothing');
  });

  test('a syntax error ends that command only', async () => {
    const broken = await host.run({ text: 'if then fi (' }, { allowFailure: true });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/syntax error/i);
    expect((await host.run(['echo', 'still here'])).stdout).toBe('still here');
  });

  test('a command that signals its own process group ends itself, not the shell', async () => {
    const before = sessions(sshd.logPath).length;
    const killed = await host.run({ text: 'kill -TERM 0; sleep 5' }, { allowFailure: true });
    expect(killed.code).toBe(128 + 15);
    expect((await host.run(['echo', 'the shell is still there'])).stdout).toBe('the shell is still there');
    expect(sessions(sshd.logPath).length).toBe(before);
  });

  test('large output arrives whole, and output that looks like a marker does not cut it', async () => {
    const big = await host.run({ text: 'i=0; while [ $i -lt 20000 ]; do echo "line $i @@deploy-kit-done-x 0"; i=$((i+1)); done' });
    const lines = big.stdout.split('\n');
    expect(lines).toHaveLength(20000);
    expect(lines[19999]).toBe('line 19999 @@deploy-kit-done-x 0');
  });

  test('commands given at once, or with input, run in sessions of their own beside the shell', async () => {
    const before = sessions(sshd.logPath).length;
    const [slow, quick, withInput] = await Promise.all([
      host.run({ text: 'sleep 0.5; echo slow' }),
      host.run(['echo', 'quick']),
      host.run(['cat'], { stdin: 'from stdin' }),
    ]);
    expect([slow.stdout, quick.stdout, withInput.stdout]).toEqual(['slow', 'quick', 'from stdin']);
    // The shell took one of them; the other two each opened an exec session.
    expect(sessions(sshd.logPath).length - before).toBe(2);
  });

  test('twenty commands in a row open no new session', async () => {
    const before = sessions(sshd.logPath).length;
    for (let i = 0; i < 20; i += 1) await host.run(['true']);
    expect(sessions(sshd.logPath).length).toBe(before);
    // Over this whole file: one command shell, plus the two exec sessions of the test before.
    expect(sessions(sshd.logPath).filter((s) => s === 'Starting session: command')).toHaveLength(3);
  });
});

describe('where the account cannot start the shell', () => {
  test('every command runs through an exec channel of its own, as before', async () => {
    const sandbox = currentSandbox();
    const sshd = await startSshd(sandbox.dir, sandbox.publicKey, sandbox.dockerHost, 'forced-command');
    // A forced command that runs what it is asked, except a shell.
    const wrapper = `case "$SSH_ORIGINAL_COMMAND" in *"exec /bin/sh"*) echo "no shells here" >&2; exit 1;; *) exec /bin/sh -c "$SSH_ORIGINAL_COMMAND";; esac`;
    writeFileSync(join(sandbox.dir, 'forced-command', 'authorized_keys'), `command="${wrapper.replaceAll('"', '\\"')}" ${sandbox.publicKey}\n`, { mode: 0o600 });
    const host = await connectTo(sshd);
    try {
      expect((await host.run(['echo', 'first'])).stdout).toBe('first');
      expect(await host.run(['sh', '-c', 'echo second; exit 4'], { allowFailure: true })).toEqual({ code: 4, stdout: 'second', stderr: '' });
      // The refused shell plus one exec session per command (sshd logs them as forced commands).
      expect(sessions(sshd.logPath).filter((s) => s === 'Starting session: forced-command')).toHaveLength(3);
    } finally {
      await host.close();
      process.kill(sshd.pid);
    }
  });
});
