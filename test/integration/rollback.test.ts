import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { currentSandbox } from '../harness/sandbox.js';

// A release that fails its gate never stays live: action-deploy's automatic rollback and
// action-rollback, through their committed bundles, against the real sandbox host.

describe('automatic rollback inside action-deploy', () => {
  let app: AppFixture;
  const gate = (app: AppFixture) => ({
    'health-url': `http://127.0.0.1:${app.port}/health`,
    'health-successes': '2',
    'health-interval': '500ms',
    'health-timeout': '5s',
  });

  beforeAll(async () => {
    app = await AppFixture.create('gated');
  });

  test('v1 passes its gate; a release whose /health is 404 is rolled back and v1 keeps serving', async () => {
    const good = await app.deploy('v1', gate(app));
    expect(good.errors).toEqual([]);
    expect(good.outputs.status).toBe('deployed');
    expect(good.summary).toMatch(/Health gate \| passed/);

    const bad = await app.deploy('broken', gate(app));
    expect(bad.code).toBe(1);
    expect(bad.outputs).toMatchObject({ status: 'rolled-back', 'release-id': '2', 'previous-release-id': '1' });
    expect(bad.errors).toEqual([
      expect.stringMatching(/^broken failed its health gate \(0\/2 passing rounds in [\d.]+s, last: HTTP 404 from http:\/\/127\.0\.0\.1:\d+\/health\); rolled back to v1 \(release 1\), which is healthy$/),
    ]);
    expect(await app.get('/')).toBe('200 v1');
    expect(app.current()).toBe('releases/1');
    expect(app.ledger()).toEqual(['1:started', '1:deployed', '2:started', '2:failed']);
    expect(app.record('2')).toMatchObject({ status: 'failed', reason: expect.stringContaining('health gate') });
  });

  test('an image that exits at start never becomes healthy and is rolled back', async () => {
    const run = await app.deploy('crash', gate(app));
    expect(run.outputs.status).toBe('rolled-back');
    expect(run.errors[0]).toMatch(new RegExp(`^release \\d+ \\(crash\\) did not come up: container ${app.name}[_-]web[_-]1 (exited with code 3|is restarting).*rolled back to v1`));
    // Read before the rollback removed it: the container, its exit code and its last words.
    expect(run.outputs['failure-reason']).toBe('web exited with code 3: starting');
    expect(run.summary).toMatch(new RegExp(`<summary><code>${app.name}[_-]web[_-]1</code> \\(web\\) exited with code 3</summary>`));
    expect(await app.get('/')).toBe('200 v1');
  });

  test('a post-deploy hook that kills its own process group fails, and the release is rolled back', async () => {
    // `kill 0` signals the hook's whole process group: the command that runs it ends by the
    // signal. That is the hook failing, not a lost connection: the deploy rolls back.
    const run = await app.deploy('v2', { ...gate(app), 'post-deploy': 'echo about to stop >&2; kill 0' });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'rolled-back', 'previous-release-id': '1' });
    expect(run.errors).toEqual([expect.stringMatching(/: 'echo about to stop >&2; kill 0' failed \(killed by SIGTERM\): about to stop; rolled back to v1 \(release 1\), which is healthy$/)]);
    // The failed command as the user wrote it, with its error output.
    expect(run.outputs['failure-reason']).toBe("Post-deploy: 'echo about to stop >&2; kill 0' failed (killed by SIGTERM): about to stop");
    expect(await app.get('/')).toBe('200 v1');
    expect(app.current()).toBe('releases/1');
  });

  test('a first release that fails has nothing to roll back to, says so, and does not stay live', async () => {
    const fresh = await AppFixture.create('first-broken');
    const run = await fresh.deploy('broken', gate(fresh));
    expect(run.outputs.status).toBe('failed');
    expect(run.errors[0]).toMatch(/this was the first release, so there is nothing to roll back to: its containers were stopped$/);
    expect(fresh.containers()).toEqual([]);
    expect(fresh.current()).toBeUndefined();
  });
});

describe('action-rollback', () => {
  let app: AppFixture;
  beforeAll(async () => {
    app = await AppFixture.create('history');
    for (const version of ['v1', 'v2', 'v3']) expect((await app.deploy(version)).code).toBe(0);
  });

  test('to: previous puts the release before the current one back, and records why', async () => {
    const run = await app.rollback({ reason: 'checkout errors after v3' });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toEqual({
      'release-id': '2',
      'rolled-back-from': '3',
      healthy: 'true',
      'failure-reason': '',
      hosts: JSON.stringify([{ host: `127.0.0.1:${app.sandbox.ssh.port}`, 'release-id': '2', healthy: true, error: '' }]),
    });
    expect(await app.get('/')).toBe('200 v2');
    expect(app.current()).toBe('releases/2');
    expect(app.ledger().slice(-2)).toEqual(['3:rolled-back', '2:restored']);
    expect(run.summary).toContain('rolled back to release 2 (v2)');
  });

  test('to: <release id> works while the registry is down, from the images pinned on the host', async () => {
    const sandbox = currentSandbox();
    process.kill(sandbox.pids.registry, 'SIGSTOP');
    try {
      const run = await app.rollback({ to: '1', 'health-url': `http://127.0.0.1:${app.port}/health`, 'health-successes': '1' });
      expect(run.errors).toEqual([]);
      expect(run.outputs).toMatchObject({ 'release-id': '1', 'rolled-back-from': '2', healthy: 'true' });
      expect(await app.get('/')).toBe('200 v1');
      expect(app.containers()[0]).toContain(`${sandbox.appImage}@sha256:`);
    } finally {
      process.kill(sandbox.pids.registry, 'SIGCONT');
    }
  });

  test('to: <version> finds that version\'s release', async () => {
    const run = await app.rollback({ to: 'v3' });
    expect(run.outputs['release-id']).toBe('3');
    expect(await app.get('/')).toBe('200 v3');
  });

  test('an unknown release, or the active one, is a clear error that changes nothing', async () => {
    const before = app.hostSnapshot();
    const unknown = await app.rollback({ to: '99' });
    expect(unknown.errors).toEqual([expect.stringMatching(new RegExp(`^${app.name} has no release or version '99'\\. Releases on the host: 1 \\(v1, rolled-back\\), 2 \\(v2, rolled-back\\), 3 \\(v3, deployed\\)\\.$`))]);
    const active = await app.rollback({ to: '3' });
    expect(active.errors).toEqual([`Release 3 (v3) is already the active release of ${app.name}.`]);
    expect(app.hostSnapshot()).toBe(before);
  });

  test('a pruned release says it was pruned', async () => {
    const pruned = await AppFixture.create('pruned');
    for (const version of ['v1', 'v2', 'v3']) await pruned.deploy(version, { 'keep-releases': '2' });
    const run = await pruned.rollback({ to: '1' });
    expect(run.errors[0]).toMatch(new RegExp(`^Release 1 \\(v1\\) of ${pruned.name} was pruned \\('keep-releases'\\)`));
  });

  test('with no earlier release, or with the lock held, it says so and changes nothing', async () => {
    const lonely = await AppFixture.create('lonely');
    await lonely.deploy('v1');
    const none = await lonely.rollback();
    expect(none.errors).toEqual([expect.stringMatching(new RegExp(`^${lonely.name} has no earlier healthy release before release 1 to roll back to`))]);

    await app.deploy('v2');
    mkdirSync(join(app.deployPath, '.lock'));
    writeFileSync(join(app.deployPath, '.lock', 'owner.json'), JSON.stringify({ run: 'https://github.com/acme/shop/actions/runs/777', actor: 'ann', since: 'now', operation: 'deploy of v9' }));
    writeFileSync(join(app.deployPath, '.lock', 'heartbeat'), '');
    const before = app.hostSnapshot();
    const held = await app.rollback();
    expect(held.errors).toEqual([expect.stringMatching(/^Another deploy holds the lock on 127\.0\.0\.1: ann's deploy of v9 since now \(https:\/\/github\.com\/acme\/shop\/actions\/runs\/777\)/)]);
    expect(app.hostSnapshot()).toBe(before);
    expect(await app.get('/')).toBe('200 v2');
  });
});
