import { planDeploy, releaseProject } from '../../src/deploy/plan.js';
import { deploySettings } from './deploy-settings-fixture.js';
import { appLayout } from '../../src/release/layout.js';
import { shellLine } from '../../src/shell/quote.js';
import { drainState, parseWorkers, upstreamFile, upstreamServers, writeUpstream } from '../../src/strategy/nginx.js';
import { readStrategySettings } from '../../src/strategy/settings.js';

const read = (inputs: Record<string, string>) => readStrategySettings((name) => inputs[name] ?? '');

describe('the built-in nginx switch', () => {
  test('an empty switch-command with blue-green is the built-in switch, reloading with nginx -s reload unless told otherwise', () => {
    expect(read({ strategy: 'blue-green' })).toEqual({ kind: 'blue-green', services: [], switchCommand: '', keepPreviousRunning: false, nginxReloadCommand: 'nginx -s reload' });
    expect(read({ strategy: 'blue-green', 'nginx-reload-command': 'sudo nginx -s reload' })).toMatchObject({ nginxReloadCommand: 'sudo nginx -s reload' });
    expect(() => read({ strategy: 'blue-green', 'switch-command': 'x', 'nginx-reload-command': 'nginx -s reload' })).toThrow(/^Input 'nginx-reload-command' is only used by the built-in nginx switch/);
    expect(() => read({ strategy: 'rolling', 'nginx-reload-command': 'nginx -s reload' })).toThrow(/^Input 'nginx-reload-command' is only used with 'strategy: blue-green'/);
  });

  test('the upstream file: where, what, and written whole', () => {
    expect(upstreamFile('/home/deploy/deploy-kit/shop', 'shop')).toBe('/home/deploy/deploy-kit/shop/nginx/shop.upstream.conf');
    const text = upstreamServers([{ service: 'web', address: '127.0.0.1:49153', containerPort: 8080 }, { service: 'web', address: '127.0.0.1:49154', containerPort: 8080 }]);
    expect(text).toBe('server 127.0.0.1:49153;\nserver 127.0.0.1:49154;\n');
    expect(shellLine(writeUpstream('/srv/shop/nginx/shop.upstream.conf', text)).text).toBe(
      "mkdir -p /srv/shop/nginx && printf '%s' 'server 127.0.0.1:49153;\nserver 127.0.0.1:49154;\n' > /srv/shop/nginx/shop.upstream.conf.next && mv -f /srv/shop/nginx/shop.upstream.conf.next /srv/shop/nginx/shop.upstream.conf",
    );
  });

  test('the drain follows the workers of the nginx that reloaded, and no other', () => {
    const ps = (lines: string[]) => parseWorkers(lines.join('\n'));
    const before = ps([
      '  100     1 nginx: master process /usr/sbin/nginx -p /tmp/a -c /tmp/a/nginx.conf',
      '  101   100 nginx: worker process',
      '  200     1 nginx: master process /usr/sbin/nginx',
      '  201   200 nginx: worker process',
      '  300   299 grep nginx: worker process',
    ]);
    expect(before).toEqual([{ pid: 101, master: 100, shuttingDown: false }, { pid: 201, master: 200, shuttingDown: false }]);
    expect(drainState(before, before)).toEqual({ state: 'reloading', old: [] });
    const draining = ps(['  101   100 nginx: worker process is shutting down', '  102   100 nginx: worker process', '  201   200 nginx: worker process']);
    expect(draining[0]).toEqual({ pid: 101, master: 100, shuttingDown: true });
    expect(drainState(before, draining)).toEqual({ state: 'draining', old: [101] });
    expect(drainState(before, ps(['  102   100 nginx: worker process', '  201   200 nginx: worker process']))).toEqual({ state: 'drained', old: [] });
  });

  test('the plan: the switch step carries the file and the reload command, and there is no fixed drain', () => {
    const layout = appLayout('/srv/shop');
    const settings = deploySettings({ strategy: { kind: 'blue-green', services: [], switchCommand: '', keepPreviousRunning: false, nginxReloadCommand: 'sudo nginx -s reload' } });
    const target = { layout, releaseId: '7', previousId: '6', startedAt: 'now', activeColor: 'blue' as const, project: releaseProject({ variant: 'v2', name: 'shop' }, layout, '7', ['docker-compose.yml'], false) };
    const phases = planDeploy(settings, target);
    expect(phases.find((p) => p.name === 'Move traffic to green')!.steps[0]).toMatchObject({
      kind: 'switch-traffic', command: '', nginx: { file: '/srv/shop/nginx/shop.upstream.conf', reload: 'sudo nginx -s reload' },
    });
    expect(phases.find((p) => p.name === 'Drain and remove blue')!.steps.map((s) => s.kind)).toEqual(['run', 'overlap']);
    const record = JSON.parse((phases[0]!.steps.find((s) => s.kind === 'write' && s.path.endsWith('release.json')) as { content: string }).content) as object;
    expect(record).toMatchObject({ strategy: 'blue-green', switchCommand: '', nginxReloadCommand: 'sudo nginx -s reload' });
  });
});
