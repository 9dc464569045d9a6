import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { readDeployInputs } from '../../action-deploy/src/inputs.js';

const key = ssh2.utils.generateKeyPairSync('ed25519').private;

describe("action-deploy's 'target' input", () => {
  let workspace: string;
  beforeAll(() => {
    workspace = mkdtempSync(join(tmpdir(), 'swarm-inputs-'));
    writeFileSync(join(workspace, 'docker-compose.yml'), 'services:\n  web:\n    image: app:${VERSION}\n');
  });
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));

  const read = (given: Record<string, string>) =>
    readDeployInputs(
      (name) => ({ host: 'manager1', username: 'deploy', 'private-key': key, 'insecure-ignore-host-key': 'true', version: 'v2', ...given })[name] ?? '',
      () => undefined,
      { run: { actor: 'ann', commit: 'abc', runUrl: 'local' }, defaultApp: 'shop', workspace },
    );

  test('compose is the default and leaves the settings as they were; swarm is marked', () => {
    expect(read({}).target).toBe('compose');
    expect(read({ target: 'compose' }).target).toBe('compose');
    expect(read({ target: 'swarm' }).target).toBe('swarm');
  });

  test('anything else is refused, naming the input', () => {
    expect(() => read({ target: 'kubernetes' })).toThrow("Input 'target' must be one of compose, swarm; got 'kubernetes'.");
  });

  test.each([
    ['strategy', 'blue-green'],
    ['services', 'web'],
    ['switch-command', 'nginx -s reload'],
    ['keep-previous-running', 'true'],
  ])("with target: swarm, '%s' is refused in one line naming it", (name, value) => {
    expect(() => read({ target: 'swarm', [name]: value })).toThrow(
      `Input '${name}' is for 'target: compose'; with 'target: swarm', Swarm's update_config (order: start-first, failure_action: rollback) replaces services without downtime. Remove '${name}'.`,
    );
  });

  test("strategy: recreate (the default) is fine with swarm", () => {
    expect(read({ target: 'swarm', strategy: 'recreate', 'keep-previous-running': 'false' }).target).toBe('swarm');
  });
});
