import type { StackSection } from '../../src/swarm/commands.js';
import { StackService, judgeStack, parseStack, stackImages } from '../../src/swarm/converge.js';

const IMAGE = 'reg/app:v2@sha256:aaa';
const OLD = 'reg/app:v1@sha256:bbb';

/** `inspectStack`'s output, as its sections read it back. */
function output(services: object[], replicas: object[], tasks: object[]): Map<StackSection, string> {
  return new Map<StackSection, string>([
    ['services', `${JSON.stringify(services, null, 2)}\n`],
    ['replicas', replicas.map((r) => `${JSON.stringify(r)}\n`).join('')],
    ['tasks', tasks.map((t) => `${JSON.stringify(t)}\n`).join('')],
  ]);
}

const service = (update?: object) => ({ ID: 'x', Spec: { Name: 'shop_web', TaskTemplate: { ContainerSpec: { Image: IMAGE } } }, ...(update ? { UpdateStatus: update } : {}) });
const task = (image: string, desired: string, current: string, error = '') => ({ ID: 't', Name: 'shop_web.1', Image: image, DesiredState: desired, CurrentState: current, Error: error });

describe('parsing the stack', () => {
  test('services with their compose name, resolved image, desired and running tasks of that image', () => {
    const text = output(
      [service({ State: 'updating', Message: 'update in progress' })],
      [{ ID: 'x', Name: 'shop_web', Replicas: '1/2' }],
      [task(IMAGE, 'Running', 'Running 3 seconds ago'), task(IMAGE, 'Running', 'Pending 2 seconds ago', 'no suitable node (host-mode port already in use on 1 node)'), task(OLD, 'Running', 'Running 2 minutes ago')],
    );
    expect(parseStack('shop', text)).toEqual<StackService[]>([
      {
        name: 'shop_web',
        service: 'web',
        image: IMAGE,
        update: { state: 'updating', message: 'update in progress' },
        desired: 2,
        running: 1,
        failed: 0,
        waitingFor: 'Pending: no suitable node (host-mode port already in use on 1 node)',
      },
    ]);
  });

  test('no stack yet is no services', () => {
    expect(parseStack('shop', output([], [], []))).toEqual([]);
  });

  test('images by compose service name, as a rollback re-deploys them', () => {
    const services = parseStack('shop', output([service()], [{ Name: 'shop_web', Replicas: '1/1' }], [task(IMAGE, 'Running', 'Running 1 second ago')]));
    expect(stackImages(services)).toEqual({ web: IMAGE });
  });
});

describe('judging convergence', () => {
  const view = (over: Partial<StackService>): StackService => ({ name: 'shop_web', service: 'web', image: IMAGE, update: undefined, desired: 1, running: 1, failed: 0, waitingFor: '', ...over });

  test('a completed update with its tasks running is ready', () => {
    expect(judgeStack([view({ update: { state: 'completed', message: 'update completed' } })]).kind).toBe('ready');
  });

  test('an update in progress is waited for', () => {
    expect(judgeStack([view({ update: { state: 'updating', message: 'update in progress' } })])).toMatchObject({ kind: 'waiting', reason: 'service shop_web: updating (update in progress)' });
  });

  test.each([
    // Swarm has judged the update failed: the deploy puts the previous release back itself, without waiting on Swarm's rollback.
    ['rollback_started', 'Swarm began rolling the update back'],
    ['rollback_completed', 'Swarm rolled the update back'],
    ['paused', 'Swarm paused the update'],
    ['rollback_paused', 'Swarm paused rolling the update back'],
  ])("%s fails, with Swarm's message", (state, words) => {
    expect(judgeStack([view({ update: { state, message: 'rollback completed' } })])).toMatchObject({ kind: 'failed', reason: `service shop_web: ${words} (rollback completed)` });
  });

  test("after 'docker service rollback', Swarm's finished rollback is the success", () => {
    const rolledBack = view({ update: { state: 'rollback_completed', message: 'rollback completed' } });
    expect(judgeStack([rolledBack], [], 'rollback').kind).toBe('ready');
    expect(judgeStack([view({ update: { state: 'rollback_started', message: 'manually requested rollback' } })], [], 'rollback').kind).toBe('waiting');
    expect(judgeStack([view({ update: { state: 'rollback_paused', message: 'rollback paused' } })], [], 'rollback').kind).toBe('failed');
  });

  test('a first deploy (no update status) waits until as many tasks as wanted run the new image', () => {
    expect(judgeStack([view({ running: 0, desired: 2, waitingFor: 'Starting' })])).toMatchObject({ kind: 'waiting', reason: 'service shop_web: 0/2 tasks running, Starting' });
    expect(judgeStack([view({ running: 2, desired: 2 })]).kind).toBe('ready');
  });

  test('tasks of the new image failing again and again fail the deploy before the timeout', () => {
    expect(judgeStack([view({ running: 0, failed: 3, waitingFor: 'task: non-zero exit (3)' })])).toMatchObject({
      kind: 'failed',
      reason: `service shop_web: 3 tasks of ${IMAGE} failed, last: task: non-zero exit (3)`,
    });
  });

  test('services the compose files name but the swarm does not have yet are waited for', () => {
    expect(judgeStack([view({})], ['web', 'worker'])).toMatchObject({ kind: 'waiting', reason: 'no service worker yet' });
    expect(judgeStack([])).toMatchObject({ kind: 'waiting', reason: 'no service yet' });
  });
});

test("output that is not JSON is reported without quoting it: it holds the services' environment", () => {
  const torn = new Map<StackSection, string>([['services', '[{"Spec": {"Name": "shop_web", "TaskTemplate": {"ContainerSpec": {"Env": ["TOKEN=s3cr\\"et-value']]);
  expect(() => parseStack('shop', torn)).toThrow("Could not read 'docker service inspect' output for stack shop: it is not JSON.");
});
