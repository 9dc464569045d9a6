import { ContainerView, inspectContainers, judgeContainers, parseContainers, probesGivenUp } from '../../src/compose/containers.js';

const c = (over: Partial<ContainerView>): ContainerView => ({ name: 'shop-web-1', service: 'web', state: 'running', health: 'healthy', exitCode: 0, restarts: 0, runningSeconds: 10, image: 'x', probed: false, ...over });

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
  test("a starting container whose own HEALTHCHECK passed when deploy-kit ran it counts as up; Docker's unhealthy still fails", () => {
    expect(judgeContainers([c({ health: 'starting', probed: true })], 3).kind).toBe('ready');
    expect(judgeContainers([c({ health: 'starting', probed: true }), c({ name: 'db', health: 'starting' })], 3)).toMatchObject({ kind: 'waiting', reason: 'container db is starting' });
    expect(judgeContainers([c({ health: 'unhealthy', probed: true })], 3).kind).toBe('failed');
  });
  test('reads which containers passed the probe from the first line, only while Docker still says starting', () => {
    const entry = (id: string, name: string, health: string) => ({
      Id: id,
      Name: `/${name}`,
      Config: { Labels: { 'com.docker.compose.service': 'web' }, Image: 'img' },
      State: { Status: 'running', ExitCode: 0, StartedAt: '2026-11-25T10:00:00Z', Health: { Status: health } },
      RestartCount: 0,
    });
    const now = Date.parse('2026-11-25T10:00:01Z') / 1000;
    const views = parseContainers(`now=${now} probed= aaa ccc  gaveup= \n${JSON.stringify([entry('aaa', 'a', 'starting'), entry('bbb', 'b', 'starting'), entry('ccc', 'c', 'healthy')])}`);
    expect(views.map((v) => [v.name, v.probed])).toEqual([['a', true], ['b', false], ['c', false]]);
    expect(parseContainers(`now=${now} probed=  gaveup= \n[]`)).toEqual([]);
    expect(probesGivenUp(`now=${now} probed= aaa  gaveup= bbb ccc \n[]`)).toEqual(['bbb', 'ccc']);
  });
  test('the probe runs the HEALTHCHECK with docker exec only when asked, bounded, and not again where it timed out', () => {
    const plain = inspectContainers('shop', { settleSeconds: 2 }).text;
    const probing = inspectContainers('shop', { settleSeconds: 2, probe: true, givenUp: ['abc123', 'not an id; rm -rf /'] }).text;
    expect(plain).toContain('sleep 0.1');
    expect(plain).not.toContain('docker exec');
    expect(probing).toContain(`timeout 2 sh -c 'docker inspect --format '\\''{{range $i, $word := .Config.Healthcheck.Test}}`);
    expect(probing).toContain(`| head -c -1 | xargs -0 docker exec "$1"' sh "$id"`);
    // An empty argv must fail the probe, not pass it: no `xargs -r`.
    expect(probing).not.toContain('xargs -0 -r');
    // Only ids go into the script; anything else is dropped.
    expect(probing).toContain("gaveup=' abc123 '");
    expect(probing).not.toContain('rm -rf');
    expect(inspectContainers('shop').text).not.toContain('while');
  });
});
