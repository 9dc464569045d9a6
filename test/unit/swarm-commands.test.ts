import { appLayout } from '../../src/release/layout.js';
import { shellLine } from '../../src/shell/quote.js';
import { inspectStack, removeStack, serviceRollback, stackDeploy, swarmHook } from '../../src/swarm/commands.js';
import { describePlan } from '../../src/deploy/plan.js';
import { describeStackRecovery, planSwarm } from '../../src/deploy/swarm-plan.js';
import type { StackTarget } from '../../src/deploy/steps.js';
import { releaseStack } from '../../src/swarm/record.js';
import { swarmSettings } from './deploy-settings-fixture.js';

const layout = appLayout('/home/deploy/deploy-kit/shop');

describe('swarm commands', () => {
  test('stack deploy sources the release\'s variables from a file, so no value is on the command line', () => {
    const stack = releaseStack(layout, 'shop', '7', ['docker-compose.yml', 'prod.yml'], true);
    expect(shellLine(stackDeploy(stack)).text).toBe(
      'cd /home/deploy/deploy-kit/shop/releases/7 && . /home/deploy/deploy-kit/shop/releases/7/deploy-kit.env.sh && ' +
        'docker stack deploy --with-registry-auth --prune -c /home/deploy/deploy-kit/shop/releases/7/docker-compose.yml -c /home/deploy/deploy-kit/shop/releases/7/prod.yml ' +
        '-c /home/deploy/deploy-kit/shop/releases/7/deploy-kit.swarm.yml -c /home/deploy/deploy-kit/shop/releases/7/deploy-kit.images.yml shop',
    );
  });

  test('with a registry login, DOCKER_CONFIG names the release\'s private config folder', () => {
    const stack = releaseStack(appLayout('/srv/my app'), 'shop', '2', ['docker-compose.yml'], false);
    expect(shellLine(stackDeploy(stack, '/srv/my app/releases/2/.docker')).text).toBe(
      "cd '/srv/my app/releases/2' && . '/srv/my app/releases/2/deploy-kit.env.sh' && DOCKER_CONFIG='/srv/my app/releases/2/.docker' " +
        "docker stack deploy --with-registry-auth --prune -c '/srv/my app/releases/2/docker-compose.yml' -c '/srv/my app/releases/2/deploy-kit.swarm.yml' shop",
    );
  });

  test('inspecting, rolling back and removing', () => {
    expect(shellLine(inspectStack('shop')).text).toContain("docker service ls --quiet --filter label=com.docker.stack.namespace=shop");
    expect(shellLine(inspectStack('shop')).text).toContain("docker stack ps shop --no-trunc --format '{{json .}}'");
    expect(shellLine(serviceRollback('shop_web')).text).toBe('docker service rollback --detach shop_web');
    expect(shellLine(removeStack('shop')).text).toBe('docker stack rm shop');
  });

  test('a hook runs in the release folder with the release and the stack in its environment', () => {
    expect(shellLine(swarmHook('/r/7', 'echo "$VERSION"', { id: '7', version: 'v2', stack: 'shop' })).text).toBe(
      `cd /r/7 && RELEASE_ID=7 VERSION=v2 RELEASE_DIR=/r/7 DEPLOY_KIT_STACK=shop sh -c 'echo "$VERSION"'`,
    );
  });
});

test('the dry-run plan names every command and hides file contents', () => {
  const settings = swarmSettings({ env: { SECRET: 'hunter2 two' }, preDeploy: 'migrate', registry: { server: 'ghcr.io', username: 'ann', password: 'pw-secret' } });
  const target: StackTarget = { layout, releaseId: '7', previousId: '6', startedAt: '2026-12-06T00:00:00Z', stack: 'shop', fileVersion: undefined, login: { configDir: '/home/deploy/deploy-kit/shop/releases/7/.docker', registry: settings.registry! } };
  const plan = [...describePlan(planSwarm(settings, target), settings), describeStackRecovery(target)];
  const text = plan.join('\n');
  expect(text).not.toContain('hunter2');
  expect(text).not.toContain('pw-secret');
  expect(plan.filter((line) => !line.startsWith(' '))).toEqual([
    'Upload release 7:',
    'Pre-deploy:',
    'Deploy stack shop:',
    'Wait for services:',
    'Switch current to release 7:',
    'Prune old releases:',
    'On failure: deploy release 6 again from its pinned images, logged in again for that stack deploy only',
  ]);
  expect(text).toMatch(/write \/home\/deploy\/deploy-kit\/shop\/releases\/7\/deploy-kit\.env\.sh \(mode 0600, \d+ bytes, contents hidden\)/);
  expect(text).toContain('docker login --username ann --password-stdin -- ghcr.io   (password on standard input)');
  // The login folder goes right after the stack deploy, before services are waited for and gated.
  const deployAt = plan.findIndex((line) => line.includes('docker stack deploy'));
  expect(plan[deployAt + 1]).toBe('  $ rm -rf /home/deploy/deploy-kit/shop/releases/7/.docker   (also when a step before it failed)');
  // Swarm's nodes keep their images: the prune removes release folders only.
  expect(plan[plan.length - 2]).toBe('  remove releases beyond the newest 5');
});
