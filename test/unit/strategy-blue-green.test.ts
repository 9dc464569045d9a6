import { describePlan, planDeploy, releaseProject } from '../../src/deploy/plan.js';
import type { ComposeDeploySettings } from '../../src/deploy/settings.js';
import { deploySettings } from './deploy-settings-fixture.js';
import { appLayout } from '../../src/release/layout.js';
import { ShellLine, shellLine, toCompletion } from '../../src/shell/quote.js';
import type { Color, StrategySettings } from '../../src/strategy/types.js';

const strategy: StrategySettings = { kind: 'blue-green', services: [], switchCommand: 'reload-proxy "$DEPLOY_KIT_ADDRESS"', keepPreviousRunning: false };

const settings = (over: Partial<ComposeDeploySettings> = {}): ComposeDeploySettings =>
  deploySettings({ gate: { urls: ['https://shop.example.com/health'] } as never, strategy, ...over });

const layout = appLayout('/srv/shop');
const dir = '/srv/shop/releases/7';
const target = (activeColor?: Color) => ({
  layout,
  releaseId: '7',
  previousId: '6',
  startedAt: '2026-11-25T10:00:00Z',
  project: releaseProject({ variant: 'v2', name: 'shop' }, layout, '7', ['docker-compose.yml'], false),
  ...(activeColor ? { activeColor } : {}),
});
const compose = (project: string) => `docker compose --project-name ${project} --project-directory ${dir} -f ${dir}/docker-compose.yml -f ${dir}/deploy-kit.images.yml --env-file ${dir}/.env`;

describe('blue-green plan', () => {
  test('the idle colour starts, is waited on and gated directly, gets traffic, then the live colour drains', () => {
    const phases = planDeploy(settings(), target('blue'));
    expect(phases.map((p) => p.name)).toEqual([
      'Upload release 7',
      'Pull images',
      'Start green (idle, no traffic yet)',
      'Health gate on green, before it gets traffic',
      'Move traffic to green',
      'Switch current to release 7',
      'Drain and remove blue',
      'Prune old releases',
    ]);
    const byName = (name: string) => phases.find((p) => p.name === name)!;
    // `up` of the idle colour, and the first look at its containers, in one round trip.
    expect(byName('Start green (idle, no traffic yet)').steps).toEqual([
      { kind: 'overlap', edge: 'start' },
      { kind: 'wait-containers', start: toCompletion([...compose('shop-green').split(' '), 'up', '--detach', '--remove-orphans']), timeoutMs: 120_000, project: 'shop-green' },
    ]);
    expect(byName('Health gate on green, before it gets traffic').steps).toEqual([{ kind: 'gate', project: 'shop-green' }]);
    const move = byName('Move traffic to green');
    expect(move.steps[0]).toEqual({ kind: 'switch-traffic', project: 'shop-green', color: 'green', directory: dir, command: strategy.switchCommand, services: [] });
    expect(shellLine((move.steps[1] as { command: ShellLine }).command).text).toBe("printf '%s\\n' green > /srv/shop/active-color.next && mv -f /srv/shop/active-color.next /srv/shop/active-color");
    const drain = byName('Drain and remove blue');
    expect(drain.changesContainers).toBe(true);
    expect(drain.steps.map((s) => (s.kind === 'run' ? shellLine(s.command).text : s.kind))).toEqual([
      'sleep 3',
      "ids=$(docker ps --all --quiet --filter label=com.docker.compose.project=shop-blue); if [ -n \"$ids\" ]; then docker stop $ids >/dev/null; fi && " +
        "if [ -n \"$ids\" ]; then docker rm --force $ids >/dev/null; fi; docker network ls --quiet --filter label=com.docker.compose.project=shop-blue | xargs -r docker network rm >/dev/null 2>&1 || true",
      'overlap',
    ]);
  });

  test('nothing before the switch changes what serves; failures undo the idle colour and move traffic back', () => {
    const phases = planDeploy(settings(), target('green'));
    const beforeSwitch = phases.slice(0, phases.findIndex((p) => p.name.startsWith('Switch current')));
    expect(beforeSwitch.some((p) => p.changesContainers)).toBe(false);
    expect(phases.find((p) => p.name === 'Start blue (idle, no traffic yet)')!.undo).toEqual([
      { kind: 'run', command: toCompletion([...compose('shop-blue').split(' '), 'down', '--remove-orphans']) },
    ]);
    const back = phases.find((p) => p.name === 'Move traffic to blue')!.undo!;
    expect(back[0]).toEqual({ kind: 'switch-traffic', project: 'shop-green', color: 'green', directory: dir, command: strategy.switchCommand, services: [] });
  });

  test('the first blue-green deploy takes over from a recreate project named after the app, and keeps it when asked', () => {
    const phases = planDeploy(settings({ strategy: { ...strategy, keepPreviousRunning: true } }), target(undefined));
    expect(phases.map((p) => p.name)).toContain('Start blue (idle, no traffic yet)');
    expect(phases.find((p) => p.name === 'Move traffic to blue')!.undo).toEqual([]);
    const stop = phases.find((p) => p.name === 'Drain and stop shop')!.steps[1]!;
    expect(stop.kind === 'run' && shellLine(stop.command).text).toBe(
      "ids=$(docker ps --all --quiet --filter label=com.docker.compose.project=shop); if [ -n \"$ids\" ]; then docker stop $ids >/dev/null; fi",
    );
  });

  test('release.json records the strategy and colour; recreate records stay as they were', () => {
    const record = planDeploy(settings(), target('blue'))[0]!.steps.find((s) => s.kind === 'write' && s.path.endsWith('release.json'));
    const json = JSON.parse((record as { content: string }).content) as Record<string, unknown>;
    expect(json).toMatchObject({ strategy: 'blue-green', color: 'green', switchCommand: strategy.switchCommand, services: [], keepPreviousRunning: false });
    const plain = planDeploy(settings({ strategy: undefined }), target())[0]!.steps.find((s) => s.kind === 'write' && s.path.endsWith('release.json'));
    expect(Object.keys(JSON.parse((plain as { content: string }).content) as object)).not.toContain('strategy');
  });

  test('a dry run describes the motion', () => {
    const s = settings();
    const text = describePlan(planDeploy(s, target('blue')), s).join('\n');
    expect(text).toContain('health gate on shop-green directly: https://shop.example.com/health');
    expect(text).toContain(`$ sh -c 'reload-proxy "$DEPLOY_KIT_ADDRESS"'   (in ${dir}, with DEPLOY_KIT_COLOR=green and the published addresses of shop-green)`);
  });
});
