import type { ContainerView } from '../../src/compose/containers.js';
import { checkProjectContainers, judgeProjectContainers } from '../../src/health/containers-check.js';
import { Command, ShellLine, shellLine } from '../../src/shell/quote.js';

const c = (over: Partial<ContainerView>): ContainerView => ({ name: 'web_1', service: 'web', state: 'running', health: 'healthy', exitCode: 0, restarts: 0, runningSeconds: 0, image: 'x', probed: false, ...over });

describe('the containers check of the gate', () => {
  test('passes when every container runs, healthy where it has a HEALTHCHECK (no settling time: the rounds in a row are that)', () => {
    expect(judgeProjectContainers('shop', [c({}), c({ name: 'worker_1', health: undefined })])).toEqual({
      name: 'containers of shop',
      ok: true,
      detail: 'web_1 healthy, worker_1 running',
    });
  });

  test('fails with the container named', () => {
    expect(judgeProjectContainers('shop', [c({ health: 'unhealthy' })])).toMatchObject({ ok: false, detail: 'container web_1 unhealthy' });
    expect(judgeProjectContainers('shop', [c({ health: 'starting' })])).toMatchObject({ ok: false, detail: 'container web_1 is starting' });
    expect(judgeProjectContainers('shop', [c({ state: 'exited', exitCode: 3, health: undefined })])).toMatchObject({ ok: false, detail: 'container web_1 exited with code 3' });
    expect(judgeProjectContainers('shop', [c({ state: 'restarting', restarts: 2 })])).toMatchObject({ ok: false, detail: 'container web_1 is restarting (2 restarts)' });
    expect(judgeProjectContainers('shop', [])).toMatchObject({ ok: false, detail: 'no containers of compose project shop on the host' });
  });

  test('runs one docker inspect on the host and turns its failure or silence into words', async () => {
    const lines: string[] = [];
    const inspect = JSON.stringify([{ Name: '/web_1', Config: {}, State: { Status: 'running', ExitCode: 0, StartedAt: '', Health: { Status: 'unhealthy' } }, RestartCount: 0 }]);
    const host = {
      run: async (command: Command | ShellLine) => {
        lines.push(shellLine(command).text);
        return { code: 0, stdout: `now=1\n${inspect}`, stderr: '' };
      },
    };
    expect(await checkProjectContainers(host as never, 'shop', 1000)).toMatchObject({ ok: false, detail: 'container web_1 unhealthy' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("label=com.docker.compose.project=shop");

    const refusing = { run: async () => Promise.reject(new Error('permission denied on /var/run/docker.sock')) };
    expect(await checkProjectContainers(refusing as never, 'shop', 1000)).toMatchObject({ ok: false, detail: 'cannot inspect the containers: permission denied on /var/run/docker.sock' });

    const silent = { run: () => new Promise(() => undefined) };
    expect(await checkProjectContainers(silent as never, 'shop', 20)).toMatchObject({ ok: false, detail: 'docker inspect on the host gave no answer within 20ms' });
  });
});
