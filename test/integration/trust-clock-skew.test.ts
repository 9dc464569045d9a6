import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { ActionRun, runAction } from '../harness/run-action.js';
import { S3Fixture, startS3 } from '../harness/s3.js';

// Issue 10, faults: the runner's clock 2 hours ahead of the host, and 2 hours behind. The
// bundles run with a preloaded module that shifts Date.now() and new Date() (timers and
// performance.now() are untouched, as on a runner whose wall clock is wrong). Lock ages are
// measured on the host, so a live lock is never called stale and a dead one is, after
// 'lock-stale-after' of host time; backup retention never deletes the backup it just made.

const HOUR = 3_600_000;
const BRIDGE = '    network_mode: bridge';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let s3: S3Fixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-kit-skew-'));
  writeFileSync(
    join(dir, 'skew.mjs'),
    [
      'const offset = Number(process.env.DEPLOY_KIT_TEST_CLOCK_OFFSET_MS ?? 0);',
      'const RealDate = Date;',
      'class SkewedDate extends RealDate {',
      '  constructor(...args) { if (args.length === 0) super(RealDate.now() + offset); else super(...args); }',
      '  static now() { return RealDate.now() + offset; }',
      '}',
      'globalThis.Date = SkewedDate;',
      '',
    ].join('\n'),
  );
  s3 = await startS3();
});

afterAll(async () => {
  await s3?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const skewed = (offsetMs: number): Record<string, string> => ({ NODE_OPTIONS: `--import ${join(dir, 'skew.mjs')}`, DEPLOY_KIT_TEST_CLOCK_OFFSET_MS: String(offsetMs) });

describe.each([
  ['2 hours ahead', 2 * HOUR],
  ['2 hours behind', -2 * HOUR],
])('the runner clock %s of the host', (_name, offset) => {
  test('a live lock is not called stale; a dead one is, after lock-stale-after of host time', async () => {
    const app = await AppFixture.create(`skew-lock-${offset > 0 ? 'ahead' : 'behind'}`, { composeExtra: BRIDGE });
    expect((await app.deploy('v1')).errors).toEqual([]);

    // The holder's clock is off the other way (4 hours between the two runners); the skew is
    // real: the lock's `since` is the holder's (wrong) time.
    const holder = app.deploy('v2', { 'pre-deploy': 'sleep 6' }, { ...skewed(-offset), GITHUB_RUN_ID: '7001' });
    const owner = join(app.deployPath, '.lock', 'owner.json');
    // owner.json appears empty for an instant before the lock command has written it.
    const written = () => existsSync(owner) && readFileSync(owner, 'utf8').endsWith('}\n');
    for (let i = 0; i < 100 && !written(); i += 1) await sleep(100);
    const since = Date.parse((JSON.parse(readFileSync(owner, 'utf8')) as { since: string }).since);
    expect(Math.abs(since - Date.now() + offset)).toBeLessThan(60_000);
    await sleep(1500);

    // A second skewed deploy sees a live holder (1-2 s idle on the host's clock), not a stale one.
    const waiting = await app.deploy('v3', { 'lock-stale-after': '45s', 'break-stale-lock': 'true' }, skewed(offset));
    expect(waiting.errors).toEqual([expect.stringMatching(/^Another deploy holds the lock on .*deploy of v2 .*runs\/7001\)/)]);
    expect(waiting.stdout).not.toContain('Broke a stale deploy lock');
    expect((await holder).errors).toEqual([]);
    expect(await app.get('/')).toBe('200 v2');

    // A dead holder's lock, its heartbeat last touched 40 s ago by the host's clock: not stale
    // under 'lock-stale-after: 45s'...
    const lock = join(app.deployPath, '.lock');
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner.json'), JSON.stringify({ token: 'gone', run: 'https://github.com/acme/shop/actions/runs/9', actor: 'bob', since: new Date().toISOString(), operation: 'deploy of v0' }));
    const heartbeatAt = (secondsAgo: number) => execFileSync('touch', ['-d', `${secondsAgo} seconds ago`, join(lock, 'heartbeat'), lock]);
    heartbeatAt(40);
    const early = await app.deploy('v3', { 'lock-stale-after': '45s' }, skewed(offset));
    expect(early.errors).toEqual([expect.stringMatching(/^Another deploy holds the lock .*bob's deploy of v0/)]);
    // ...and stale once more than 45 s of host time passed: idle is measured in seconds, not hours.
    heartbeatAt(50);
    const late = await app.deploy('v3', { 'lock-stale-after': '45s' }, skewed(offset));
    const idle = Number(/no sign of life for (\d+)s/.exec(late.errors[0] ?? '')?.[1]);
    expect(late.errors).toEqual([expect.stringMatching(/is stale: held by bob's deploy of v0/)]);
    expect(idle).toBeGreaterThanOrEqual(50);
    expect(idle).toBeLessThan(120);
    const broken = await app.deploy('v3', { 'lock-stale-after': '45s', 'break-stale-lock': 'true' }, skewed(offset));
    expect(broken.errors).toEqual([]);
    expect(await app.get('/')).toBe('200 v3');
  });
});

describe('backup retention with a skewed runner clock', () => {
  const backup = (app: AppFixture, env: Record<string, string>, version: string): Promise<ActionRun> =>
    runAction(
      'action-backup',
      {
        ...app.sshInputs(),
        app: app.name,
        'deploy-path': app.deployPath,
        command: `echo backup of ${version}`,
        destination: 's3://backups/skew',
        's3-endpoint': s3.endpoint,
        's3-access-key-id': s3.accessKeyId,
        's3-secret-access-key': s3.secretAccessKey,
        's3-force-path-style': 'true',
        'retention-count': '1',
        'retention-days': '0',
        version,
      },
      { env },
    );

  test('the backup just made is always kept, whichever way the clock is off', async () => {
    const app = await AppFixture.create('skew-backup');
    const inBucket = async () => (await s3.keys(`skew/${app.name}/`)).map((k) => k.slice(k.lastIndexOf('/') + 1));
    const runs: [string, Record<string, string>][] = [
      ['right', {}],
      ['behind', skewed(-2 * HOUR)],
      ['ahead', skewed(2 * HOUR)],
      ['right-again', {}],
    ];
    for (const [version, env] of runs) {
      const run = await backup(app, env, version);
      expect(run.errors).toEqual([]);
      const key = run.outputs.key!;
      const name = key.slice(key.lastIndexOf('/') + 1);
      // What a user checks: the backup this run reports is in the bucket, with its manifest.
      expect(await inBucket()).toEqual(expect.arrayContaining([name, `${name}.manifest.json`]));
      expect((await s3.get(key)).length).toBeGreaterThan(0);
      expect(run.stdout).not.toContain(`deleted ${key}`);
    }
    console.log(`backups left with retention-count 1, retention-days 0: ${(await inBucket()).join(', ')}`);
  });
});
