import { AppFixture } from '../harness/app-fixture.js';
import { runAction } from '../harness/run-action.js';
import { docker } from '../harness/sandbox.js';

// Issue 17, item 3: output read back from the host is never cut at a marker a free-text field
// can hold. The rollback reason, a failure message carrying a hook's stderr, the actor, and env
// values (which `compose config` prints) all hold every marker text deploy-kit ever used, and
// one shaped like today's with a nonce of its own; the releases, the ledger and the rollback
// target stay exactly what happened.

const MARKERS = [
  '@@deploy-kit@@',
  '@@deploy-kit@@current',
  '@@deploy-kit@@releases',
  '@@deploy-kit@@ledger',
  '@@deploy-kit@@config',
  '@@release',
  '@@deploy-kit-swarm@@services',
  '@@deploy-kit-swarm@@tasks',
  '@@deploy-kit-0123456789abcdef01234567@@ledger',
].join(' ');

describe('marker texts in every free-text field', () => {
  let app: AppFixture;
  /** The reproduction has the markers in the rollback reason only; from the second test on, the actor holds them too. */
  let env: Record<string, string> = {};
  const deploy = (version: string, extra: Record<string, string> = {}) =>
    app.deploy(version, { env: `MARKERS='${MARKERS}'`, ...extra }, env);
  const rollback = (extra: Record<string, string>) =>
    runAction('action-rollback', { ...app.sshInputs(), app: app.name, 'deploy-path': app.deployPath, 'wait-timeout': '40s', ...extra }, { cwd: app.workspace, env });

  beforeAll(async () => {
    app = await AppFixture.create('markers', { composeExtra: '    environment:\n      MARKERS: ${MARKERS}' });
  });

  test('roll back 2 -> 1 with the markers as the reason, deploy 3: a rollback to previous picks 1, not the rolled-back 2', async () => {
    for (const version of ['v1', 'v2']) expect((await deploy(version)).errors).toEqual([]);
    const back = await rollback({ to: '1', reason: `bad release ${MARKERS}` });
    expect(back.errors).toEqual([]);
    expect(back.outputs).toMatchObject({ 'release-id': '1', 'rolled-back-from': '2' });

    const third = await deploy('v3');
    expect(third.errors).toEqual([]);
    expect(third.outputs).toMatchObject({ 'release-id': '3', 'previous-release-id': '1' });

    const previous = await rollback({ to: 'previous' });
    expect(previous.errors).toEqual([]);
    expect(previous.outputs).toMatchObject({ 'release-id': '1', 'rolled-back-from': '3' });
    expect(await app.get('/')).toBe('200 v1');
  });

  test("a failure whose message carries the hook's stderr with the markers leaves every later read whole", async () => {
    env = { GITHUB_ACTOR: `octocat ${MARKERS}` };
    const failed = await deploy('v2', { 'pre-deploy': `echo '${MARKERS}' >&2; exit 3` });
    expect(failed.outputs).toMatchObject({ status: 'failed', 'release-id': '4' });
    expect(failed.errors[0]).toContain('@@deploy-kit@@ledger');
    expect(app.record('4')).toMatchObject({ status: 'failed', reason: expect.stringContaining('@@deploy-kit@@ledger') });

    // Release 4 is seen (the next one is 5) and its failure is not a rollback target; the env
    // value with the markers reaches the container exactly.
    const next = await deploy('v3');
    expect(next.errors).toEqual([]);
    expect(next.outputs).toMatchObject({ 'release-id': '5', 'previous-release-id': '1' });
    expect(await app.get('/')).toBe('200 v3');
    const previous = await rollback({ to: 'previous', reason: MARKERS });
    expect(previous.outputs).toMatchObject({ 'release-id': '1', 'rolled-back-from': '5' });

    expect(app.ledger()).toEqual([
      '1:started', '1:deployed', '2:started', '2:deployed', '2:rolled-back', '1:restored',
      '3:started', '3:deployed', '3:rolled-back', '1:restored',
      '4:started', '4:failed', '5:started', '5:deployed', '5:rolled-back', '1:restored',
    ]);
    expect(app.releases()).toEqual(['1', '2', '3', '4', '5']);
    expect(app.current()).toBe('releases/1');
    const id = docker(app.sandbox, ['ps', '-q', '--filter', `label=com.docker.compose.project=${app.name}`]).trim();
    expect(JSON.parse(docker(app.sandbox, ['inspect', '--format', '{{json .Config.Env}}', id])) as string[]).toContain(`MARKERS=${MARKERS}`);
  });
});
