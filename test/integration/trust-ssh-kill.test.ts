import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { ActionRun, runAction } from '../harness/run-action.js';
import { SshEndpoint, currentSandbox, startSshd } from '../harness/sandbox.js';

// Issue 10, faults: the SSH connection killed in each phase of a deploy. An sshd of this
// file's own serves only these deploys, so killing its per-connection processes (never the
// commands they run, as a cut network would not either) drops exactly the deploy's
// connection. Afterwards a user checks what the site serves, where `current` points, what
// the ledger says and the one error line; then that the next run finds the dead run's
// lock, breaks it only when asked once it is stale, and deploys or rolls back.

const BRIDGE = '    network_mode: bridge';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sshd: SshEndpoint;

beforeAll(async () => {
  const sandbox = currentSandbox();
  // Uploading, switching and the first look at new containers take a few milliseconds: on this
  // host, `mkdir` of kill-upload's release folder, `mv` of kill-switch-current's `current` and
  // the `docker ps` that follows `up` for kill-wait-for-containers and kill-then-rollback first
  // wait 2 s, so that the connection can be dropped while they run.
  const slow = join(sandbox.dir, 'sshkill-bin');
  mkdirSync(slow, { recursive: true });
  const holdFor = (real: string, pattern: string) => `#!/bin/sh\ncase "$*" in ${pattern}) sleep 2;; esac\nexec ${real} "$@"\n`;
  writeFileSync(join(slow, 'mkdir'), holdFor('/bin/mkdir', '*-m\\ 0750\\ */kill-upload/releases/*'), { mode: 0o755 });
  writeFileSync(join(slow, 'mv'), holdFor('/bin/mv', '*/kill-switch-current/current.next*'), { mode: 0o755 });
  const docker = execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim();
  writeFileSync(join(slow, 'docker'), holdFor(docker, 'ps\\ --all*project=kill-wait-for-containers*|ps\\ --all*project=kill-then-rollback*'), { mode: 0o755 });
  sshd = await startSshd(sandbox.dir, sandbox.publicKey, sandbox.dockerHost, 'sshkill', { env: { PATH: `${slow}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` } });
});

afterAll(() => {
  if (sshd) process.kill(sshd.pid);
});

/** Every process below `pid`, as `pid comm args`. */
function descendants(pid: number): { pid: number; comm: string; args: string }[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line)!)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), comm: m[3]!, args: m[4]! }));
  const found: { pid: number; comm: string; args: string }[] = [];
  const walk = (parent: number) => {
    for (const row of rows.filter((r) => r.ppid === parent)) {
      found.push(row);
      walk(row.pid);
    }
  };
  walk(pid);
  return found;
}

/** Kills the sshd processes serving connections (not the listener, not the commands they started): the connection drops. */
function dropConnections(): number {
  const serving = descendants(sshd.pid).filter((p) => p.comm === 'sshd');
  for (const p of serving) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return serving.length;
}

/** Polls until a command matching `pattern` runs under this sshd, then drops the connection. */
async function dropWhenRunning(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = descendants(sshd.pid).find((p) => p.comm !== 'sshd' && pattern.test(p.args));
    if (match) {
      dropConnections();
      return match.args;
    }
    await sleep(20);
  }
  throw new Error(`no command matching ${pattern} ran within ${timeoutMs}ms`);
}

interface Kill {
  /** The phase's group line, as the log prints it. */
  readonly phase: RegExp;
  /** Drop the connection only once a command matching this runs on the host (else at the group line). */
  readonly whileRunning?: RegExp;
  /** Extra deploy inputs that make the phase last long enough. */
  readonly inputs?: Record<string, string>;
}

const sshOf = () => ({ port: String(sshd.port), 'known-hosts': sshd.knownHosts });

/**
 * Waits until no command of the dead run is still running on the host: a dropped connection
 * does not stop them, and a lock is stale only long after they ended (see ageLock). Every such
 * command names the app's folder on its command line.
 */
async function deadRunEnded(app: AppFixture, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const running = () => execFileSync('ps', ['-e', '-o', 'args='], { encoding: 'utf8' }).split('\n').filter((args) => args.includes(`${app.deployPath}/`));
  while (running().length > 0) {
    if (Date.now() > deadline) throw new Error(`the dead run's commands still run after ${timeoutMs}ms: ${running().join(' | ')}`);
    await sleep(100);
  }
}

/**
 * The dead run's lock, as a later run finds it two minutes on: its heartbeat and folder aged
 * on the host ('lock-stale-after' is at least three heartbeats, 45 s).
 */
function ageLock(app: AppFixture): void {
  const lock = join(app.deployPath, '.lock');
  execFileSync('touch', ['-d', '2 minutes ago', join(lock, 'heartbeat'), lock]);
}

async function deployWithKill(app: AppFixture, version: string, kill: Kill): Promise<{ run: ActionRun; killedWhile: string }> {
  let seen = '';
  let armed: Promise<string> | undefined;
  const run = await runAction('action-deploy', app.inputs(version, { ...sshOf(), ...kill.inputs }), {
    cwd: app.workspace,
    // A run that hangs on the dead connection is killed here, and fails the test below.
    timeoutMs: 90_000,
    onStdout: (chunk) => {
      seen += chunk;
      if (armed || !kill.phase.test(seen)) return;
      armed = kill.whileRunning ? dropWhenRunning(kill.whileRunning) : Promise.resolve(dropConnections()).then((n) => `(${n} sshd processes at the group line)`);
    },
  });
  if (!armed) throw new Error(`the deploy never reached ${kill.phase}:\n${run.stdout}`);
  return { run, killedWhile: await armed };
}

/** The site answers with one of `versions` within `ms` (a recreate restarts containers). */
async function servesOneOf(app: AppFixture, versions: string[], ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  let last = '';
  while (Date.now() < deadline) {
    last = await app.get('/');
    if (versions.some((v) => last === `200 ${v}`)) return last;
    await sleep(250);
  }
  return last;
}

interface LedgerLine {
  release: string;
  event: string;
}

function ledgerOf(app: AppFixture): LedgerLine[] {
  return readFileSync(join(app.deployPath, 'ledger.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LedgerLine);
}

/** Every release's events in an order that makes sense: started first, at most one outcome of the deploy, nothing after pruned. */
function ledgerProblems(lines: LedgerLine[]): string[] {
  const problems: string[] = [];
  const byId = new Map<string, string[]>();
  for (const l of lines) byId.set(l.release, [...(byId.get(l.release) ?? []), l.event]);
  for (const [id, events] of byId) {
    if (events[0] !== 'started') problems.push(`${id}: first event ${events[0]}`);
    if (events.filter((e) => e === 'started').length !== 1) problems.push(`${id}: started ${events.filter((e) => e === 'started').length} times`);
    const pruned = events.indexOf('pruned');
    if (pruned !== -1 && pruned !== events.length - 1) problems.push(`${id}: events after pruned`);
    if (events.filter((e) => e === 'deployed').length > 1) problems.push(`${id}: deployed twice`);
  }
  return problems;
}

const PHASES: [string, Kill][] = [
  ['upload', { phase: /::group::Upload release 2/, whileRunning: /^sleep 2$/ }],
  ['pull', { phase: /::group::Pull images/, whileRunning: /pull --quiet/ }],
  ['pre-deploy', { phase: /::group::Pre-deploy/, whileRunning: /sleep 5/, inputs: { 'pre-deploy': 'sleep 5' } }],
  ['start containers', { phase: /::group::Start containers/, whileRunning: /up --detach/ }],
  ['wait for containers', { phase: /::group::Start containers/, whileRunning: /^sleep 2$/ }],
  ['health gate', { phase: /::group::Health gate/, inputs: { 'health-successes': '3', 'health-interval': '1s' } }],
  ['switch current', { phase: /::group::Switch current to release 2/, whileRunning: /^sleep 2$/ }],
];

describe.each(PHASES)('the SSH connection killed during %s', (name, kill) => {
  test('the site keeps serving, the error is one line, the ledger is consistent; the next run breaks the stale lock and deploys', async () => {
    const app = await AppFixture.create(`kill-${name.replace(/\W+/g, '-')}`, { composeExtra: BRIDGE });
    const gate = { 'health-url': `http://127.0.0.1:${app.port}/health`, 'health-successes': '1', 'health-interval': '1s' };
    const first = await app.deploy('v1', { ...sshOf(), ...gate });
    expect(first.errors).toEqual([]);

    const started = Date.now();
    const { run, killedWhile } = await deployWithKill(app, 'v2', { ...kill, inputs: { ...gate, ...kill.inputs } });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`killed during ${name} (${killedWhile}); the deploy ended after ${seconds}s with: ${run.errors.join(' | ')}`);
    await deadRunEnded(app);

    // The run ends by itself (a command on a dead connection must fail, not wait forever)...
    expect([`ended within 60s`, Number(seconds) < 60]).toEqual([`ended within 60s`, true]);
    // ...with one clear error line, naming the lost connection; exit 1.
    expect(run.code).toBe(1);
    expect(run.errors).toHaveLength(1);
    expect(run.errors[0]).toMatch(/^Lost the SSH connection to /);
    // The site answers with the previous or the new release.
    expect(await servesOneOf(app, ['v1', 'v2'])).toMatch(/^200 v[12]$/);
    expect(['releases/1', 'releases/2']).toContain(app.current());
    // The ledger: release 1 deployed; release 2 started and, at most, one outcome.
    const lines = ledgerOf(app);
    expect(ledgerProblems(lines)).toEqual([]);
    expect(lines.slice(0, 2).map((l) => `${l.release}:${l.event}`)).toEqual(['1:started', '1:deployed']);
    // The dead run could not release its lock.
    expect(existsSync(join(app.deployPath, '.lock', 'owner.json'))).toBe(true);

    // Without break-stale-lock, once stale: refused, naming the dead run.
    ageLock(app);
    const refused = await app.deploy('v3', { ...sshOf(), ...gate, 'lock-stale-after': '1m' });
    expect(refused.code).toBe(1);
    expect(refused.errors).toEqual([expect.stringMatching(/is stale: held by octocat's deploy of v2 since \S+ \(https:\/\/github\.com\/acme\/shop\/actions\/runs\/4242\), with no sign of life for \d+s/)]);

    // With it: broken, said so, and the next release deploys.
    const next = await app.deploy('v3', { ...sshOf(), ...gate, 'lock-stale-after': '1m', 'break-stale-lock': 'true' });
    expect(next.errors).toEqual([]);
    expect(next.stdout).toMatch(/::warning::Broke a stale deploy lock held by octocat's deploy of v2 /);
    expect(await app.get('/')).toBe('200 v3');
    expect(app.current()).toBe('releases/3');
    expect(existsSync(join(app.deployPath, '.lock'))).toBe(false);
    expect(app.containers()).toEqual([expect.stringMatching(new RegExp(`running ${app.sandbox.appImage.replace(/[.]/g, '\\.')}@sha256:`))]);
    expect(ledgerProblems(ledgerOf(app))).toEqual([]);
    // No half-written file of the dead run is left in a release folder.
    expect(execFileSync('sh', ['-c', 'find "$1" -name "*.tmp-*" -o -name "current.next" -o -name ".lock.broken.*"', 'sh', app.deployPath], { encoding: 'utf8' })).toBe('');

    // A rollback then goes back to the newest release before 3 that was deployed: release 2
    // when the dead run got as far as switching (its switch and its `deployed` event are one
    // command), release 1 otherwise; never to a release whose deploy did not finish.
    const reached = ledgerOf(app).some((l) => l.release === '2' && l.event === 'deployed');
    const back = await app.rollback({ ...sshOf(), to: 'previous' });
    expect(back.errors).toEqual([]);
    expect(await app.get('/')).toBe(reached ? '200 v2' : '200 v1');
    expect(app.current()).toBe(reached ? 'releases/2' : 'releases/1');
  });
});

describe('a rollback right after an interrupted deploy', () => {
  // action-rollback takes `current` back when a newer deploy was interrupted: the interrupted
  // release is what gets rolled back (src/rollback/target.ts, interruptedAfter).
  test('with the new containers up and current still naming release 1, it puts release 1 back', async () => {
    const app = await AppFixture.create('kill-then-rollback', { composeExtra: BRIDGE });
    expect((await app.deploy('v1', sshOf())).errors).toEqual([]);
    // Dropped once `up` is done: v2's containers serve while current still names release 1.
    const { run } = await deployWithKill(app, 'v2', { phase: /::group::Start containers/, whileRunning: /^sleep 2$/ });
    expect(run.errors).toEqual([expect.stringMatching(/^Lost the SSH connection to /)]);
    await deadRunEnded(app);
    expect(await servesOneOf(app, ['v2'])).toBe('200 v2');
    expect(app.current()).toBe('releases/1');

    ageLock(app);
    const back = await app.rollback({ ...sshOf(), to: 'previous', 'lock-stale-after': '1m', 'break-stale-lock': 'true' });
    expect(back.errors).toEqual([]);
    expect(back.stdout).toMatch(/::warning::Broke a stale deploy lock held by octocat's deploy of v2 /);
    expect(await app.get('/')).toBe('200 v1');
    expect(app.current()).toBe('releases/1');
    expect(ledgerOf(app).map((l) => `${l.release}:${l.event}`)).toEqual(['1:started', '1:deployed', '2:started', '2:rolled-back', '1:restored']);
    expect(existsSync(join(app.deployPath, '.lock'))).toBe(false);
  });
});
