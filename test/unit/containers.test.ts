import { ContainerView, judgeContainers, parseContainers } from '../../src/compose/containers.js';

const c = (over: Partial<ContainerView>): ContainerView => ({ name: 'shop-web-1', service: 'web', state: 'running', health: 'healthy', exitCode: 0, restarts: 0, runningSeconds: 10, image: 'x', ...over });

describe('judging containers', () => {
  test('ready when healthy, or running and stable without a HEALTHCHECK', () => {
    expect(judgeContainers([c({}), c({ name: 'b', health: undefined, runningSeconds: 5 })], 3).kind).toBe('ready');
  });
  test('waiting while starting, restarting, or not yet stable', () => {
    expect(judgeContainers([c({ health: 'starting' })], 3)).toMatchObject({ kind: 'waiting', reason: 'container shop-web-1 is starting' });
    expect(judgeContainers([c({ health: undefined, runningSeconds: 1 })], 3).kind).toBe('waiting');
    expect(judgeContainers([c({ state: 'restarting', restarts: 4 })], 3)).toMatchObject({ reason: 'container shop-web-1 is restarting (4 restarts)' });
    expect(judgeContainers([], 3)).toMatchObject({ kind: 'waiting', reason: 'no containers yet' });
  });
  test('failed at once on a crash or an unhealthy container', () => {
    expect(judgeContainers([c({ state: 'exited', exitCode: 3 })], 3)).toMatchObject({ kind: 'failed', reason: 'container shop-web-1 exited with code 3' });
    expect(judgeContainers([c({ health: 'unhealthy' })], 3)).toMatchObject({ kind: 'failed', reason: 'container shop-web-1 unhealthy' });
  });
  test('a one-shot job that exited 0 does not hold the deploy back', () => {
    expect(judgeContainers([c({}), c({ name: 'migrate', state: 'exited', exitCode: 0, health: undefined })], 3).kind).toBe('ready');
  });
  test('parses docker inspect with the host clock, leaving out one-off containers', () => {
    const inspect = [
      { Name: '/shop-web-1', Config: { Labels: { 'com.docker.compose.service': 'web' }, Image: 'img' }, State: { Status: 'running', ExitCode: 0, StartedAt: '2026-11-25T10:00:00Z', Health: { Status: 'healthy' } }, RestartCount: 0 },
      { Name: '/shop-web-run-1', Config: { Labels: { 'com.docker.compose.oneoff': 'True' } }, State: { Status: 'exited', ExitCode: 1, StartedAt: '' }, RestartCount: 0 },
    ];
    const now = Date.parse('2026-11-25T10:00:07Z') / 1000;
    expect(parseContainers(`now=${now}\n${JSON.stringify(inspect)}`)).toEqual([c({ runningSeconds: 7, image: 'img' })]);
  });
});
