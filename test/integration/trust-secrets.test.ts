import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppFixture, userName } from '../harness/app-fixture.js';
import { ActionRun, runAction } from '../harness/run-action.js';
import { freePort } from '../harness/sandbox.js';
import { SlackApiServer, startSlackApiServer } from '../harness/slack-api-server.js';

// Issue 10, secrets: every secret input is masked, and nothing an action writes (stdout,
// stderr, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV, GITHUB_STATE) nor what it keeps on
// the host (ledger.jsonl, release.json) holds a secret or a line of one, on success and on
// failure. The host's process list never shows one; secret files are 0600 and the
// temporary registry credentials are gone on every path.

const BRIDGE = '    network_mode: bridge';
const PASSPHRASE = 'correct horse battery staple 7f3a';
const REGISTRY_PASSWORD = 'reg-pw-Zq8#x!secret';
const DB_PASSWORD = 'db-pw-K9v$secret';
const CERT_LINES = ['cert-line-one-5b1e9c', 'cert-line-two-77aa0d', 'cert-line-three-c3f4'];
const URL_PASSWORD = 'url-pw-Hh4secret';
const HEADER_TOKEN = 'hdr-token-Pp2secret';
const S3_SECRET = 's3-secret-Wq1x9secret';
const S3_KEY_ID = 'AKIASECRETKEYID42';
const PG_PASSWORD = 'pg-pw-Ll7secret';
const QUERY_TOKEN = 'query-token-Tt5secret';

let app: AppFixture;
let slack: SlackApiServer;
let privateKey: string;
let runnerTemp: string;
const runs: { name: string; run: ActionRun }[] = [];

/** The secret and each of its lines (what the runner masks, and what could leak on its own). */
function pieces(secret: string): string[] {
  const lines = secret
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 4 && !/^-----(BEGIN|END) /.test(l));
  return [secret, ...lines];
}

function secrets(): string[] {
  return [
    privateKey,
    PASSPHRASE,
    REGISTRY_PASSWORD,
    `postgres://shop:${DB_PASSWORD}@db/shop`,
    DB_PASSWORD,
    `-----BEGIN CERT-----\n${CERT_LINES.join('\n')}\n-----END CERT-----`,
    URL_PASSWORD,
    HEADER_TOKEN,
    slack.token,
    slack.webhookUrl,
    new URL(slack.webhookUrl).pathname,
    S3_SECRET,
    S3_KEY_ID,
    PG_PASSWORD,
    QUERY_TOKEN,
  ].flatMap(pieces);
}

function leaks(text: string): string[] {
  return secrets().filter((s) => text.includes(s)).map((s) => `${s.slice(0, 12)}...`);
}

function hostKept(): string {
  const parts = [existsSync(join(app.deployPath, 'ledger.jsonl')) ? readFileSync(join(app.deployPath, 'ledger.jsonl'), 'utf8') : ''];
  for (const id of app.releases()) {
    const record = join(app.deployPath, 'releases', id, 'release.json');
    if (existsSync(record)) parts.push(readFileSync(record, 'utf8'));
  }
  return parts.join('\n');
}

/** Leftovers a run must not leave on the host: registry credentials, half-written files, the next `current`. */
function hostTempFiles(): string[] {
  return execFileSync('find', [app.deployPath, '(', '-name', '.docker', '-o', '-name', '*.tmp-*', '-o', '-name', 'current.next', ')', '-print'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

function deployInputs(version: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...app.inputs(version),
    'private-key': privateKey,
    passphrase: PASSPHRASE,
    registry: app.sandbox.registry,
    'registry-username': 'deploy-bot',
    'registry-password': REGISTRY_PASSWORD,
    env: `DATABASE_URL=postgres://shop:${DB_PASSWORD}@db/shop\nCERT="-----BEGIN CERT-----\\n${CERT_LINES.join('\\n')}\\n-----END CERT-----"`,
    'health-url': `http://probe:${URL_PASSWORD}@127.0.0.1:${app.port}/health?token=${QUERY_TOKEN}`,
    'health-interval': '200ms',
    'health-successes': '1',
    ...extra,
  };
}

async function record(name: string, run: Promise<ActionRun>): Promise<ActionRun> {
  const done = await run;
  runs.push({ name, run: done });
  // The action's temp files are removed on every path: RUNNER_TEMP is left empty.
  expect([name, readdirSync(runnerTemp)]).toEqual([name, []]);
  return done;
}

const options = () => ({ cwd: app.workspace, env: { RUNNER_TEMP: runnerTemp } });

beforeAll(async () => {
  app = await AppFixture.create('secrets', { composeExtra: BRIDGE });
  slack = await startSlackApiServer();
  runnerTemp = mkdtempSync(join(tmpdir(), 'deploy-kit-runner-'));
  const keyDir = mkdtempSync(join(tmpdir(), 'deploy-kit-key-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'trust-secrets', '-f', join(keyDir, 'id')]);
  privateKey = readFileSync(join(keyDir, 'id'), 'utf8');
  appendFileSync(join(app.sandbox.dir, 'sshd', 'authorized_keys'), `${readFileSync(join(keyDir, 'id.pub'), 'utf8').trim()}\n`);
  rmSync(keyDir, { recursive: true, force: true });
});

afterAll(async () => {
  await slack?.close();
  rmSync(runnerTemp, { recursive: true, force: true });
});

describe('no secret in anything an action writes or keeps, on success and failure', () => {
  test('action-deploy: success, then a failing pull, then a failing health gate', async () => {
    const ok = await record('deploy ok', runAction('action-deploy', deployInputs('v1'), options()));
    expect(ok.errors).toEqual([]);
    expect(ok.stdout).toContain(`::add-mask::${REGISTRY_PASSWORD}`);
    expect(ok.stdout).toContain(`::add-mask::${CERT_LINES[1]}`);
    expect(ok.stdout).toContain(`::add-mask::${QUERY_TOKEN}`);
    const pullFails = await record('deploy pull fails', runAction('action-deploy', deployInputs('does-not-exist'), options()));
    expect(pullFails.code).toBe(1);
    const gateFails = await record('deploy gate fails', runAction('action-deploy', deployInputs('broken', { 'health-timeout': '2s' }), options()));
    expect(gateFails.code).toBe(1);
    expect(gateFails.outputs.status).toBe('rolled-back');
    expect(hostTempFiles()).toEqual([]);
  });

  test('action-rollback and action-healthgate, both ways', async () => {
    const ssh = { ...app.sshInputs(), 'private-key': privateKey, passphrase: PASSPHRASE };
    await record('rollback fails', runAction('action-rollback', { ...ssh, app: app.name, 'deploy-path': app.deployPath, to: '999' }, options()));
    const gate = (url: string) => ({ url, headers: `Authorization: Bearer ${HEADER_TOKEN}`, timeout: '2s', interval: '200ms', successes: '1' });
    const healthy = await record('healthgate ok', runAction('action-healthgate', gate(`http://probe:${URL_PASSWORD}@127.0.0.1:${app.port}/health`), options()));
    expect(healthy.outputs.healthy).toBe('true');
    const closed = await freePort();
    const unhealthy = await record('healthgate fails', runAction('action-healthgate', { ...gate(`http://probe:${URL_PASSWORD}@127.0.0.1:${closed}/health`), ...ssh, containers: app.name }, options()));
    expect(unhealthy.code).toBe(1);
  });

  test('action-notify with a token and with a webhook URL, both ways', async () => {
    const base = { status: 'success', app: 'shop', 'fail-on-error': 'true' };
    const token = await record('notify token ok', runAction('action-notify', { ...base, 'slack-token': slack.token, channel: '#deploys', 'slack-api-url': slack.apiUrl }, options()));
    expect(token.code).toBe(0);
    const hook = await record('notify webhook ok', runAction('action-notify', { ...base, 'slack-webhook-url': slack.webhookUrl }, options()));
    expect(hook.code).toBe(0);
    const deadHook = slack.webhookUrl.replace(/:\d+\//, `:${await freePort()}/`);
    const failed = await record('notify webhook fails', runAction('action-notify', { ...base, 'slack-webhook-url': deadHook }, options()));
    expect(failed.code).toBe(1);
  });

  const backupBundle = existsSync(new URL('../../action-backup/dist/index.js', import.meta.url));
  (backupBundle ? test : test.skip)('action-backup with S3 keys and a database URL (S3 down)', async () => {
    const run = await record(
      'backup fails',
      runAction(
        'action-backup',
        {
          ...app.sshInputs(),
          'private-key': privateKey,
          passphrase: PASSPHRASE,
          app: app.name,
          'deploy-path': app.deployPath,
          destination: 's3://deploy-kit-secrets/backups',
          'postgres-url': `postgres://app:${PG_PASSWORD}@127.0.0.1:1/shop`,
          's3-endpoint': `http://127.0.0.1:${await freePort()}`,
          's3-access-key-id': S3_KEY_ID,
          's3-secret-access-key': S3_SECRET,
          's3-force-path-style': 'true',
        },
        options(),
      ),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`::add-mask::${PG_PASSWORD}`);
  });

  test('malformed secret inputs: each error names its input and shows none of the secret', async () => {
    const gate = { timeout: '1s', interval: '200ms', successes: '1' };
    const url = await record('healthgate url not a URL', runAction('action-healthgate', { ...gate, url: `http://probe:${URL_PASSWORD}"\\@127.0.0.1:99999/health` }, options()));
    expect(url.errors).toEqual(["Input 'url' must hold http:// or https:// URLs, one per line."]);
    const header = await record('healthgate header line', runAction('action-healthgate', { ...gate, url: `http://127.0.0.1:${app.port}/health`, headers: HEADER_TOKEN }, options()));
    expect(header.errors).toEqual(["Input 'headers' must hold 'Name: value' lines; line 1 is not one."]);
    const env = await record('deploy env key', runAction('action-deploy', deployInputs('v1', { env: `CERT=-----BEGIN CERT-----\n${DB_PASSWORD}=x` }), options()));
    expect(env.errors).toEqual(["Input 'env', line 2 is not KEY=value: each line must be KEY=value (KEY: letters, digits and _, not starting with a digit; 'export ' in front is allowed), a # comment, or empty. The line is not shown: it may hold a secret."]);
  });

  test('none of the runs above wrote a secret; the ledger and release.json hold none', () => {
    expect(runs.length).toBeGreaterThanOrEqual(11);
    for (const { name, run } of runs) expect([name, leaks(run.everything)]).toEqual([name, []]);
    expect(leaks(hostKept())).toEqual([]);
  });
});

describe('secrets on the host', () => {
  test("the host's process list never shows a secret during a deploy", async () => {
    const seen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ps = await new Promise<string>((resolve) => {
          const child = spawn('ps', ['-eo', 'args'], { stdio: ['ignore', 'pipe', 'ignore'] });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString()));
          child.on('close', () => resolve(out));
        });
        for (const line of ps.split('\n')) seen.add(line);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    const run = await runAction('action-deploy', deployInputs('v2', { 'pre-deploy': 'sleep 3' }), options());
    sampling = false;
    await sampler;
    expect(run.errors).toEqual([]);
    // The sampler did see the deploy's remote commands, so the check has teeth.
    expect([...seen].some((l) => l.includes('sleep 3'))).toBe(true);
    expect([...seen].some((l) => l.includes('docker-compose') || l.includes('docker compose'))).toBe(true);
    expect(leaks([...seen].join('\n'))).toEqual([]);
  });

  test(".env is 0600 and owned by the deploy user; no registry credentials are left in any release", () => {
    const id = app.current()!.replace('releases/', '');
    const env = statSync(join(app.deployPath, 'releases', id, '.env'));
    expect((env.mode & 0o777).toString(8)).toBe('600');
    expect(userName(env.uid)).toBe(app.endpoint.username);
    expect(readFileSync(join(app.deployPath, 'releases', id, '.env'), 'utf8')).toContain(DB_PASSWORD);
    for (const release of app.releases()) expect(existsSync(join(app.deployPath, 'releases', release, '.docker'))).toBe(false);
    expect(hostTempFiles()).toEqual([]);
  });
});
