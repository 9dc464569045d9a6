import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { AppFixture } from '../harness/app-fixture.js';
import { hostFolder } from '../harness/host-user.js';
import { ActionRun, runAction } from '../harness/run-action.js';
import { docker, freePort } from '../harness/sandbox.js';
import { SlackApiServer, startSlackApiServer } from '../harness/slack-api-server.js';
import { parseEnvInput } from '../../src/release/env-file.js';

// Issue 10, hostile inputs: every input that reaches the host, a file or a URL is fed the
// values an attacker (or a careless workflow) would pass. Each is either refused before
// anything connects, with an error naming the input, or carried through as data. Two
// canaries prove nothing ran: a file on the host that any injected command would create,
// and one in the runner's temp dir.

const ID = randomBytes(6).toString('hex');
const HOST_CANARY = `/tmp/deploy-kit-canary-${ID}`;
const RUNNER_TEMP = mkdtempSync(join(tmpdir(), 'deploy-kit-runner-'));
const RUNNER_CANARY = join(RUNNER_TEMP, `canary-${ID}`);
const INJECT = `touch ${HOST_CANARY} ${RUNNER_CANARY}`;
const RUN_ENV = { RUNNER_TEMP };

/** [label, value]: shell metacharacters, quoting break-outs, control characters, path and option escapes, look-alikes. */
const HOSTILE: readonly (readonly [string, string])[] = [
  ['semicolon', `x;${INJECT}`],
  ['semicolon, spaced', `x ; ${INJECT}`],
  ['and', `x && ${INJECT}`],
  ['or', `x || ${INJECT}`],
  ['pipe', `x | ${INJECT}`],
  ['background', `x & ${INJECT}`],
  ['backticks', `x\`${INJECT}\``],
  ['command substitution', `x$(${INJECT})`],
  ['command substitution alone', `$(${INJECT})`],
  ['IFS', `x;touch\${IFS}${HOST_CANARY}`],
  ['IFS alone', '${IFS}'],
  ['single quote break-out', `x'; ${INJECT}; '`],
  ['double quote break-out', `x"; ${INJECT}; "`],
  ['escaped single quote', `x'\\''; ${INJECT}; '`],
  ['newline', `x\n${INJECT}`],
  ['carriage return', `x\r${INJECT}`],
  ['CRLF', `x\r\n${INJECT}`],
  ['trailing newline', 'x\n'],
  ['tab', `x\t${INJECT}`],
  ['redirect', `x > ${HOST_CANARY}`],
  ['append', `x>>${HOST_CANARY}`],
  ['process substitution', `x <(${INJECT})`],
  ['variable', 'x$HOME'],
  ['braced variable', 'x${HOME}'],
  ['arithmetic', 'x$((6*7))'],
  ['glob', '*'],
  ['tilde user', '~root'],
  ['comment', `x #${INJECT}`],
  ['backslash', `x\\;${INJECT}`],
  ['parent escape', '../../../../tmp/deploy-kit-escape'],
  ['parent in the middle', 'a/../../b'],
  ['absolute path', '/etc/passwd'],
  ['leading dash', '-x'],
  ['long option', '--privileged'],
  ['option with value', `--config=${HOST_CANARY}`],
  ['ssh option', `-oProxyCommand=${INJECT}`],
  ['over-long', 'a'.repeat(5000)],
  ['over-long with injection', `${'a'.repeat(300)};${INJECT}`],
  ['fullwidth semicolon', `x\uff1b${INJECT}`],
  ['fullwidth letters', '\uff53\uff48\uff4f\uff50'],
  ['cyrillic look-alike', '\u0455h\u043e\u0440'],
  ['smart quotes', `\u2018x\u2019; ${INJECT}`],
  ['zero-width space', 'sh\u200bop'],
  ['right-to-left override', 'shop\u202egpj.exe'],
  ['percent-encoded newline', `x%0A${INJECT}`],
  ['url with injection', `http://127.0.0.1:9/$(${INJECT})`],
  ['empty', ''],
  ['blank', ' '],
  ['dash', '-'],
];

type Outcome = 'rejected' | 'carried';

interface InputCase {
  readonly action: string;
  readonly input: string;
  /** The action's inputs with the hostile value in place. */
  readonly inputs: (value: string) => Record<string, string>;
  /** Values (by label, or a test on the value) this input takes as data; every other hostile value must be refused. */
  readonly carries?: readonly string[] | 'any' | ((value: string) => boolean);
  /** The input name the error must name, when not the input itself (env keys and values arrive in 'env'). */
  readonly named?: string;
}

function canariesAbsent(): boolean {
  return !existsSync(HOST_CANARY) && !existsSync(RUNNER_CANARY);
}

/** Refused before connecting: one `::error::` naming the input, no phase ever started. */
function outcome(run: ActionRun, input: string): Outcome {
  if (run.code !== 0 && run.errors.length === 1 && run.errors[0]!.includes(`'${input}'`) && !/^::group::/m.test(run.stdout)) return 'rejected';
  return 'carried';
}

/**
 * The runner trims inputs (core.getInput), so these arrive as 'x' or '' and may be taken
 * like any plain value (an empty input takes its default).
 */
const TRIMMED_TO_PLAIN = new Set(['trailing newline', 'blank', 'empty']);

function mayCarry(c: InputCase, label: string, value: string): boolean {
  if (TRIMMED_TO_PLAIN.has(label) || c.carries === 'any') return true;
  if (typeof c.carries === 'function') return c.carries(value);
  return (c.carries ?? []).includes(label);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

/** Dotenv input text whose parse gives back `value` for `key` (as a user would quote it). */
function dotenvLine(key: string, value: string): string {
  if (!value.includes("'")) return `${key}='${value}'`;
  if (!value.includes('`')) return `${key}=\`${value}\``;
  return `${key}="${value.replaceAll('\n', '\\n')}"`;
}

/** The engine's default bridge: no project network to allocate. */
const BRIDGE = '    network_mode: bridge';

let app: AppFixture;
let slack: SlackApiServer;
let closedPort: number;

beforeAll(async () => {
  app = await AppFixture.create('hostile', { composeExtra: BRIDGE });
  slack = await startSlackApiServer();
  closedPort = await freePort();
  mkdirSync(join(app.sandbox.dir, 'hosts'), { recursive: true });
});

afterAll(async () => {
  await slack?.close();
  rmSync(RUNNER_TEMP, { recursive: true, force: true });
});

afterEach(() => {
  // A failing case must not hide behind the next one's canary.
  expect(canariesAbsent()).toBe(true);
});

function cases(): InputCase[] {
  type Extra = () => Record<string, string>;
  const deploy = (name: string, extra: Extra = () => ({})) => (value: string) => ({ ...app.inputs('v1', { 'dry-run': 'true', ...extra() }), [name]: value });
  /**
   * For inputs that take almost anything as data: a closed SSH port, so a value that passes
   * the checks costs a refused connection, not a session; the batched tests below carry such
   * values all the way to the host.
   */
  const untilConnect = (inputs: (value: string) => Record<string, string>) => (value: string) => ({ ...inputs(value), port: String(closedPort) });
  const rollback = (name: string) => (value: string) => ({ ...app.sshInputs(), app: app.name, 'deploy-path': join(app.sandbox.dir, 'hosts', 'hostile-empty'), [name]: value });
  const gate = (name: string, extra: Extra = () => ({})) => (value: string) => ({
    url: `http://127.0.0.1:${closedPort}/health`,
    timeout: '300ms',
    interval: '100ms',
    successes: '1',
    'request-timeout': '300ms',
    fail: 'false',
    ...extra(),
    [name]: value,
  });
  const notify = (name: string) => (value: string) => ({ 'slack-token': slack.token, channel: '#deploys', 'slack-api-url': slack.apiUrl, status: 'success', app: 'shop', [name]: value });
  const webhook = (value: string) => ({ 'slack-webhook-url': value, status: 'success', app: 'shop' });
  const backup = (name: string, extra: Extra = () => ({})) => (value: string) => ({
    ...app.sshInputs(),
    app: app.name,
    'deploy-path': join(app.sandbox.dir, 'hosts', 'hostile-empty'),
    destination: 's3://deploy-kit-hostile/backups',
    command: 'echo backup',
    's3-endpoint': `http://127.0.0.1:${closedPort}`,
    's3-access-key-id': 'AKIAHOSTILE',
    's3-secret-access-key': 'hostile-secret-key',
    's3-force-path-style': 'true',
    ...extra(),
    [name]: value,
  });
  // Free text that is only ever data (a JSON field, a Slack message): anything on one line, up to the input's limit.
  const oneLine = (max: number) => (v: string) => !/[\r\n]/.test(v.trim()) && v.trim().length <= max;
  // What HTTP allows in a header name (RFC 9110 tokens); such a name is only ever sent in a request.
  const token = (v: string) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(v.split(':')[0]!);
  return [
    { action: 'action-deploy', input: 'app', inputs: deploy('app'), carries: ['empty'] },
    { action: 'action-deploy', input: 'version', inputs: deploy('version') },
    { action: 'action-deploy', input: 'deploy-path', inputs: deploy('deploy-path'), carries: ['empty', 'absolute path'] },
    { action: 'action-deploy', input: 'compose-file', inputs: deploy('compose-file'), carries: ['empty', 'blank'] },
    { action: 'action-deploy', input: 'env (key)', named: 'env', inputs: (v) => deploy('env')(`${v}=value`), carries: ['over-long'] },
    { action: 'action-deploy', input: 'env (value)', named: 'env', inputs: untilConnect((v) => deploy('env')(dotenvLine('HOSTILE', v))), carries: 'any' },
    { action: 'action-deploy', input: 'registry', inputs: deploy('registry', () => ({ 'registry-username': 'bot', 'registry-password': 'pw' })), carries: ['empty'] },
    { action: 'action-deploy', input: 'registry-username', inputs: untilConnect(deploy('registry-username', () => ({ registry: app.sandbox.registry, 'registry-password': 'pw' }))), carries: 'any' },
    { action: 'action-deploy', input: 'health-url', inputs: deploy('health-url'), carries: ['empty', 'blank', 'url with injection'] },
    { action: 'action-deploy', input: 'host', inputs: deploy('host') },
    { action: 'action-deploy', input: 'username', inputs: deploy('username') },
    { action: 'action-deploy', input: 'port', inputs: deploy('port'), carries: ['empty', 'blank'] },
    { action: 'action-deploy', input: 'proxy-jump', inputs: deploy('proxy-jump'), carries: ['empty', 'blank'] },
    { action: 'action-deploy', input: 'known-hosts', inputs: untilConnect(deploy('known-hosts', () => ({ 'host-fingerprint': app.sandbox.ssh.fingerprint }))), carries: 'any' },
    { action: 'action-deploy', input: 'host-fingerprint', inputs: deploy('host-fingerprint'), carries: ['empty', 'blank'] },
    {
      action: 'action-deploy',
      input: 'proxy-jump-fingerprint',
      inputs: untilConnect(deploy('proxy-jump-fingerprint', () => ({ 'proxy-jump': `127.0.0.1:${closedPort}` }))),
      carries: ['empty', 'blank'],
    },
    { action: 'action-rollback', input: 'to', inputs: rollback('to'), carries: ['empty'] },
    { action: 'action-rollback', input: 'app', inputs: rollback('app'), carries: ['empty'] },
    { action: 'action-rollback', input: 'deploy-path', inputs: rollback('deploy-path'), carries: ['empty', 'absolute path'] },
    { action: 'action-rollback', input: 'reason', inputs: untilConnect(rollback('reason')), carries: oneLine(500) },
    { action: 'action-rollback', input: 'health-url', inputs: rollback('health-url'), carries: ['empty', 'blank', 'url with injection'] },
    { action: 'action-healthgate', input: 'url', inputs: gate('url'), carries: ['url with injection'] },
    { action: 'action-healthgate', input: 'headers', inputs: (v) => gate('headers')(`X-Hostile: ${v}`), carries: (v) => !/[^\t\x20-\x7e\x80-\xff]/.test(v.trim()) },
    { action: 'action-healthgate', input: 'headers (name)', named: 'headers', inputs: (v) => gate('headers')(`${v}: value`), carries: token },
    { action: 'action-healthgate', input: 'containers', inputs: gate('containers', () => app.sshInputs()), carries: ['empty'] },
    { action: 'action-healthgate', input: 'expect-body', inputs: gate('expect-body'), carries: 'any' },
    { action: 'action-notify', input: 'slack-webhook-url', inputs: webhook, carries: ['url with injection'] },
    { action: 'action-notify', input: 'slack-api-url', inputs: notify('slack-api-url'), carries: ['empty', 'blank', 'url with injection'] },
    { action: 'action-notify', input: 'environment-url', inputs: notify('environment-url'), carries: ['empty', 'blank', 'url with injection'] },
    { action: 'action-notify', input: 'channel', inputs: notify('channel'), carries: 'any' },
    { action: 'action-notify', input: 'app', inputs: notify('app'), carries: oneLine(200) },
    { action: 'action-notify', input: 'environment', inputs: notify('environment'), carries: oneLine(200) },
    { action: 'action-notify', input: 'version', inputs: notify('version'), carries: oneLine(200) },
    { action: 'action-notify', input: 'mention', inputs: notify('mention'), carries: oneLine(200) },
    { action: 'action-notify', input: 'text', inputs: notify('text'), carries: 'any' },
    { action: 'action-notify', input: 'ts', inputs: notify('ts'), carries: ['empty', 'blank'] },
    ...(existsSync(new URL('../../action-backup/dist/index.js', import.meta.url))
      ? [
          { action: 'action-backup', input: 'destination', inputs: (v: string) => backup('destination')(`s3://deploy-kit-hostile/${v}`), carries: 'any' as const },
          { action: 'action-backup', input: 'destination (bucket)', named: 'destination', inputs: (v: string) => backup('destination')(`s3://${v}`) },
          {
            action: 'action-backup',
            input: 'compose-service',
            inputs: backup('compose-service', () => ({ command: '', 'postgres-url': 'postgres://app:pw@127.0.0.1:1/shop' })),
            carries: ['over-long'],
          },
          {
            action: 'action-backup',
            input: 'restore-from',
            inputs: backup('restore-from', () => ({ mode: 'restore', 'restore-to': 'postgres://app:pw@127.0.0.1:1/shop', confirm: 'shop', command: '' })),
            carries: 'any' as const,
          },
        ]
      : []),
  ];
}

describe('hostile values are refused before connecting, or carried through as data', () => {
  test.each(cases().map((c) => [`${c.action} ${c.input}`, c] as const))('%s', async (_name, c) => {
    const named = c.named ?? c.input;
    const runs = await mapLimit(HOSTILE, 8, async ([label, value]) => {
      const run = await runAction(c.action, c.inputs(value), { cwd: app.workspace, env: RUN_ENV, timeoutMs: 60_000 });
      return { label, value, run, outcome: outcome(run, named) };
    });
    const problems: string[] = [];
    for (const { label, value, run, outcome: o } of runs) {
      const carried = mayCarry(c, label, value);
      if (o === 'rejected') {
        // The error says what the input must be, not just that it failed.
        if (!/must|required|is not|cannot|needs|names|not found|go together/.test(run.errors[0]!)) problems.push(`${label}: unclear error: ${run.errors[0]}`);
      } else if (!carried) {
        problems.push(`${label}: not refused before connecting (exit ${run.code}): ${run.errors.join(' / ') || run.stdout.split('\n').slice(-3).join(' / ')}`);
      } else if (run.errors.some((e) => /\n\s+at /.test(e))) {
        problems.push(`${label}: crashed: ${run.errors.join(' / ')}`);
      }
    }
    expect(problems).toEqual([]);
    expect(canariesAbsent()).toBe(true);
  });

  test('at least 40 hostile values, over every input above', () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
    expect(cases().length).toBeGreaterThanOrEqual(35);
  });
});

describe('compose files that leave the workspace', () => {
  test("override.yml -> /proc/self/environ is refused before connecting: the action's environment never reaches the host", async () => {
    const canary = `environ-canary-${ID}`;
    const link = join(app.workspace, 'override.yml');
    symlinkSync('/proc/self/environ', link);
    try {
      const before = app.hostSnapshot();
      const run = await runAction('action-deploy', app.inputs('v1', { 'compose-file': 'docker-compose.yml\noverride.yml' }), {
        cwd: app.workspace,
        env: { ...RUN_ENV, DEPLOY_KIT_TEST_CANARY: canary },
      });
      expect(run.errors).toEqual(["Input 'compose-file': 'override.yml' is a link to a file outside the workspace; compose files must be regular files inside it."]);
      expect(run.stdout).not.toMatch(/^::group::/m);
      expect(app.hostSnapshot()).toBe(before);
      // No file of any deploy path holds the environment's canary (grep: 1 = nothing found).
      const grep = spawnSync('grep', ['-rlF', canary, join(app.sandbox.dir, 'hosts')], { encoding: 'utf8' });
      expect([grep.status, grep.stdout]).toEqual([1, '']);
    } finally {
      rmSync(link, { force: true });
    }
  });
});

describe('hostile values that are data arrive exactly as given', () => {
  test('env values with quotes, $, #, spaces, newlines arrive in the container exactly; the unencodable are refused naming the key', async () => {
    const keys: string[] = [];
    const lines: string[] = [];
    const refused: string[] = [];
    const extra = [
      ['QUOTES', `it's "both" kinds`],
      ['DOLLARS', 'pa$$word $HOME $1 $ end'],
      ['HASH', 'value # not a comment'],
      ['SPACES', '  padded  '],
      ['MULTILINE', 'line one\nline two\n  three'],
      ['BACKSLASHES', 'C:\\path\\\\share \\n not a newline'],
      ['QUOTE_AND_NEWLINE', "it's\nmulti-line"],
    ] as const;
    const all = [...HOSTILE.map(([, v], i) => [`HOSTILE_${i}`, v] as const), ...extra];
    // Which values .env can carry is decided by parseEnvInput (the table above ran each through the bundle).
    for (const [key, value] of all) {
      const line = dotenvLine(key, value);
      try {
        parseEnvInput(line);
        keys.push(key);
        lines.push(line);
      } catch (error) {
        expect((error as Error).message).toMatch(new RegExp(`^Input 'env': the value of ${key} .*Compose v1 and v2 cannot both read`));
        refused.push(key);
      }
    }
    // Every value of the list is carried; only ${...} (Compose v1 expands it) and '$' next to a quote or CR are refused.
    expect(keys).toEqual(expect.arrayContaining(extra.map(([k]) => k)));
    expect(refused.length).toBeLessThan(all.length / 4);

    app.writeCompose('docker-compose.yml', [BRIDGE, '    environment:', ...keys.map((k) => `      ${k}: \${${k}}`)].join('\n'));
    const envInput = lines.join('\n');
    const run = await app.deploy('v1', { env: envInput }, RUN_ENV);
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const id = docker(app.sandbox, ['ps', '-q', '--filter', `label=com.docker.compose.project=${app.name}`]).trim();
    const containerEnv = JSON.parse(docker(app.sandbox, ['inspect', '--format', '{{json .Config.Env}}', id])) as string[];
    const got = Object.fromEntries(containerEnv.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const expected = parseDotenv(envInput);
    for (const key of keys) expect([key, got[key]]).toEqual([key, expected[key]]);
    expect(app.fileMode(`releases/${run.outputs['release-id']}/.env`)).toBe('600');
    app.writeCompose('docker-compose.yml', BRIDGE);
  });

  test('pre-deploy and post-deploy run exactly once, exactly as written, and nothing else', async () => {
    // The hooks run on the host as the deploy user: their traces go to a folder it owns.
    const dir = hostFolder(join(app.deployPath, 'hook-traces'));
    const script = (trace: string) =>
      [
        `echo "semicolon"; echo 'single $HOME' >> ${trace}`,
        `echo "and" >> ${trace} && echo "or" >> ${trace} || echo never >> ${trace}`,
        `echo "pipe|" | tr a-z A-Z >> ${trace}`,
        `echo "backticks \`echo inner\`" >> ${trace}`,
        `echo "subst $(echo nested "quoted \\" string")" >> ${trace}`,
        `printf '%s\\n' "it's" 'say "hi"' >> ${trace}`,
        `x=a\${IFS}b; echo "ifs:$x" >> ${trace}`,
        `cat >> ${trace} <<'EOF'`,
        'heredoc $(not run) `not run`',
        'EOF',
        `echo "# not a comment" >> ${trace} # a comment; touch ${HOST_CANARY}`,
      ].join('\n');
    const hostTrace = join(dir, 'host-trace');
    const postTrace = join(dir, 'post-trace');
    const localTrace = join(dir, 'local-trace');
    execFileSync('sh', ['-c', script(localTrace)], { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
    const run = await app.deploy('v2', { 'pre-deploy': script(hostTrace), 'post-deploy': script(postTrace) }, RUN_ENV);
    expect(run.errors).toEqual([]);
    const expected = readFileSync(localTrace, 'utf8');
    expect(expected).toContain('heredoc $(not run) `not run`');
    expect(readFileSync(hostTrace, 'utf8')).toBe(expected);
    expect(readFileSync(postTrace, 'utf8')).toBe(expected);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a hostile registry username and password go to docker login as data', async () => {
    const hostile = `bot'"; ${INJECT}; $(${INJECT}) \`${INJECT}\` | ${INJECT} && ${INJECT}`;
    const run = await app.deploy('v1', { registry: app.sandbox.registry, 'registry-username': hostile, 'registry-password': `pw\n${hostile}` }, RUN_ENV);
    expect(run.errors).toEqual([]);
    expect(run.stdout).toContain('::group::Pull images');
  });

  test('a hostile rollback reason lands in the ledger as written, and runs nothing', async () => {
    const reason = HOSTILE.map(([, v]) => v)
      .filter((v) => !/[\r\n]/.test(v) && v.length < 100)
      .join(' ')
      .slice(0, 500);
    const before = app.ledger().length;
    const run = await app.rollback({ reason });
    expect(run.errors).toEqual([]);
    const events = readFileSync(join(app.deployPath, 'ledger.jsonl'), 'utf8').trim().split('\n').slice(before).map((l) => JSON.parse(l) as { reason?: string });
    expect(events.map((e) => e.reason)).toContain(reason);
  });
});
