import { describePlan, planDeploy, releaseProject } from '../../src/deploy/plan.js';
import type { ComposeDeploySettings } from '../../src/deploy/settings.js';
import { deploySettings } from './deploy-settings-fixture.js';
import { appLayout } from '../../src/release/layout.js';
import { shellLine } from '../../src/shell/quote.js';
import { declaredReplicas, listServiceContainers, parseServiceContainers, removeContainers, retireContainer, rollingServices, scaleUp, settleProject } from '../../src/strategy/rolling.js';
import { containerAddress } from '../../src/strategy/rolling-run.js';
import type { StrategySettings } from '../../src/strategy/types.js';

const strategy: StrategySettings = { kind: 'rolling', services: [], switchCommand: '', keepPreviousRunning: false };
const composeFile = ['services:', '  web:', '    image: shop', '    expose: ["8080"]', '  api:', '    image: api', '    ports: ["127.0.0.1::9000"]', '  worker:', '    image: worker', ''].join('\n');

const settings = (over: Partial<ComposeDeploySettings> = {}): ComposeDeploySettings =>
  deploySettings({ gate: { urls: ['https://shop.example.com/health'] } as never, strategy, composeFiles: [{ name: 'docker-compose.yml', content: composeFile }], ...over });

const layout = appLayout('/srv/shop');
const dir = '/srv/shop/releases/7';
const target = {
  layout,
  releaseId: '7',
  previousId: '6',
  startedAt: '2026-11-25T10:00:00Z',
  project: releaseProject({ variant: 'v1', name: 'shop' }, layout, '7', ['docker-compose.yml'], false),
};
const pinned = releaseProject({ variant: 'v1', name: 'shop' }, layout, '7', ['docker-compose.yml'], true);
const compose = `docker-compose --project-name shop --project-directory ${dir} -f ${dir}/docker-compose.yml -f ${dir}/deploy-kit.images.yml --env-file ${dir}/.env`;

describe('rolling plan', () => {
  test('each traffic service: new containers beside the old, waited on, gated (the first), then the old retire; the others are recreated last', () => {
    const phases = planDeploy(settings(), target);
    expect(phases.map((p) => p.name)).toEqual([
      'Upload release 7',
      'Pull images',
      'Start new web beside the old',
      'Wait for new web',
      'Health gate on new web, directly',
      'Retire old web',
      'Start new api beside the old',
      'Wait for new api',
      'Retire old api',
      'Start the other services',
      'Switch current to release 7',
      'Prune old releases',
    ]);
    const byName = (name: string) => phases.find((p) => p.name === name)!;
    const roll = (action: string, service: string) => ({ kind: 'roll', action, service, project: pinned, timeoutMs: 120_000 });
    expect(byName('Start new web beside the old').steps).toEqual([{ kind: 'overlap', edge: 'start' }, roll('start', 'web')]);
    expect(byName('Start new web beside the old').undo).toEqual([roll('remove-new', 'web')]);
    expect(byName('Wait for new web').steps).toEqual([roll('wait', 'web')]);
    expect(byName('Health gate on new web, directly').steps).toEqual([roll('gate', 'web')]);
    expect(byName('Retire old web').steps).toEqual([{ kind: 'run', command: ['sleep', '3'] }, roll('retire', 'web')]);
    expect(byName('Retire old api').steps).toEqual([{ kind: 'run', command: ['sleep', '3'] }, roll('retire', 'api'), { kind: 'overlap', edge: 'end' }]);
    expect(byName('Start the other services').steps).toEqual([roll('settle', 'web')]);
  });

  test('nothing before the first retire changes what serves; a failure there removes only the new containers', () => {
    const phases = planDeploy(settings({ strategy: { ...strategy, services: ['web'] } }), target);
    const beforeRetire = phases.slice(0, phases.findIndex((p) => p.name === 'Retire old web'));
    expect(beforeRetire.some((p) => p.changesContainers)).toBe(false);
    expect(phases.filter((p) => p.changesContainers).map((p) => p.name)).toEqual(['Retire old web', 'Start the other services']);
  });

  test('the exact commands', () => {
    expect(shellLine(listServiceContainers('shop', 'web')).text).toBe(
      "docker ps --all --filter label=com.docker.compose.project=shop --filter label=com.docker.compose.service=web --format '{{.Names}} {{.State}}'",
    );
    expect(parseServiceContainers('shop_web_2 running\nshop_web_1 running\nshop_web_3 exited\n')).toEqual({ running: ['shop_web_1', 'shop_web_2'], stopped: ['shop_web_3'] });
    expect(shellLine(scaleUp(pinned, 'web', 4)).label).toBe(`${compose} up --detach --no-recreate --scale web=4 web`);
    expect(shellLine(retireContainer('shop_web_1')).text).toBe('docker stop shop_web_1 >/dev/null && docker rm shop_web_1 >/dev/null');
    expect(shellLine(removeContainers(['shop_web_3'])).text).toBe('docker rm --force shop_web_3');
    expect(shellLine(settleProject(pinned, { web: 2, api: 1 })).label).toBe(`${compose} up --detach --remove-orphans --scale web=2 --scale api=1`);
  });

  test('traffic services: as given, else those with ports or expose, else a clear error', () => {
    expect(rollingServices([{ name: 'a.yml', content: composeFile }], [])).toEqual(['web', 'api']);
    expect(rollingServices([{ name: 'a.yml', content: composeFile }], ['worker'])).toEqual(['worker']);
    expect(rollingServices([{ name: 'a.yml', content: 'services: {db: {image: pg}}' }, { name: 'b.yml', content: 'services: {db: {expose: ["5432"]}}' }], [])).toEqual(['db']);
    expect(() => rollingServices([{ name: 'a.yml', content: 'services: {db: {image: pg}}' }], [])).toThrow(/^'strategy: rolling' found no service that carries traffic/);
  });

  test('how many new containers: what the compose files ask, last file first; else the runner counts the running ones', () => {
    const files = [
      { name: 'a.yml', content: 'services: {web: {image: x, deploy: {replicas: 2}}, api: {scale: 3}, db: {deploy: {replicas: "${N}"}}}' },
      { name: 'b.yml', content: 'services: {web: {deploy: {replicas: 4}}}' },
    ];
    expect([declaredReplicas(files, 'web'), declaredReplicas(files, 'api'), declaredReplicas(files, 'db'), declaredReplicas(files, 'worker')]).toEqual([4, 3, undefined, undefined]);
    const phases = planDeploy(settings({ composeFiles: files, strategy: { ...strategy, services: ['web'] } }), target);
    expect(phases.find((p) => p.name === 'Start new web beside the old')!.steps[1]).toEqual({ kind: 'roll', action: 'start', service: 'web', project: pinned, timeoutMs: 120_000, replicas: 4 });
  });

  test('the gate reaches a new container at its published port, else at its address on its network', () => {
    const inspect = (ports: unknown, exposed: unknown) =>
      JSON.stringify([{ NetworkSettings: { Ports: ports, Networks: { shop_default: { IPAddress: '172.18.0.5' } } }, Config: { ExposedPorts: exposed } }]);
    expect(containerAddress(inspect({ '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '49153' }, { HostIp: '::', HostPort: '49153' }] }, { '8080/tcp': {} }))).toBe('127.0.0.1:49153');
    expect(containerAddress(inspect({ '8080/tcp': null }, { '8080/tcp': {} }))).toBe('172.18.0.5:8080');
    // Compose v2 writes `expose` without the protocol (Compose v1 and the Docker CLI add /tcp).
    expect(containerAddress(inspect({ '8080/tcp': null }, { '8080': {} }))).toBe('172.18.0.5:8080');
    expect(containerAddress(inspect({}, { '53/udp': {} }))).toBeUndefined();
    expect(containerAddress(inspect({}, {}))).toBeUndefined();
  });

  test('release.json records the rolled services; a dry run describes the motion', () => {
    const record = planDeploy(settings(), target)[0]!.steps.find((s) => s.kind === 'write' && s.path.endsWith('release.json'));
    const json = JSON.parse((record as { content: string }).content) as Record<string, unknown>;
    expect(json).toMatchObject({ strategy: 'rolling', services: ['web', 'api'] });
    expect(json).not.toHaveProperty('color');
    const text = describePlan(planDeploy(settings(), target), settings()).join('\n');
    expect(text).toContain('start new web containers beside the running ones (as many as the compose files ask, else as run now, at least 1)');
    expect(text).toContain('stop the old web containers one at a time (each waits its stop_grace_period), 3 s apart, and remove them');
  });
});
