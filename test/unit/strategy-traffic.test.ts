import { listPublished, parsePublished } from '../../src/strategy/addresses.js';
import { otherColor, parseColor, readActiveColor } from '../../src/strategy/colors.js';
import { gateAt } from '../../src/strategy/gate-target.js';
import { readStrategySettings } from '../../src/strategy/settings.js';
import { switchEnvironment, switchTraffic } from '../../src/strategy/switch.js';
import { shellLine } from '../../src/shell/quote.js';
import type { GateSettings } from '../../src/health/types.js';

describe('published addresses', () => {
  test('lists running containers of one project with service and ports', () => {
    expect(shellLine(listPublished('shop-green')).text).toBe(
      "docker ps --filter label=com.docker.compose.project=shop-green --filter status=running --format '{{.Label \"com.docker.compose.service\"}}\t{{.Ports}}'",
    );
  });

  test('parses docker ps ports: loopback kept, 0.0.0.0 becomes loopback, IPv6 and unpublished ports left out', () => {
    const stdout = ['web\t127.0.0.1:49153->8080/tcp', 'api\t0.0.0.0:49160->3000/tcp, :::49160->3000/tcp', 'worker\t8080/tcp', 'db\t', ''].join('\n');
    expect(parsePublished(stdout)).toEqual([
      { service: 'api', address: '127.0.0.1:49160', containerPort: 3000 },
      { service: 'web', address: '127.0.0.1:49153', containerPort: 8080 },
    ]);
    expect(parsePublished(stdout, ['web', 'api']).map((a) => a.address)).toEqual(['127.0.0.1:49153', '127.0.0.1:49160']);
    expect(parsePublished(stdout, ['worker'])).toEqual([]);
  });
});

describe('switching traffic', () => {
  test('switch-command runs in the release folder with the colour and its addresses in its environment', () => {
    const env = switchEnvironment('green', 'shop-green', [
      { service: 'web', address: '127.0.0.1:49153', containerPort: 8080 },
      { service: 'web-admin', address: '127.0.0.1:49154', containerPort: 9000 },
    ]);
    expect(env).toEqual({
      DEPLOY_KIT_COLOR: 'green',
      DEPLOY_KIT_PROJECT: 'shop-green',
      DEPLOY_KIT_ADDRESS: '127.0.0.1:49153',
      DEPLOY_KIT_ADDRESSES: '127.0.0.1:49153 127.0.0.1:49154',
      DEPLOY_KIT_SERVICE_WEB: '127.0.0.1:49153',
      DEPLOY_KIT_SERVICE_WEB_ADMIN: '127.0.0.1:49154',
    });
    expect(switchTraffic('/srv/shop/releases/7', "nginx -s reload; echo 'ok'", { DEPLOY_KIT_ADDRESS: '127.0.0.1:49153' }).text).toBe(
      "cd /srv/shop/releases/7 && DEPLOY_KIT_ADDRESS=127.0.0.1:49153 sh -c 'nginx -s reload; echo '\\''ok'\\'''",
    );
  });

  test('colours alternate, starting with blue; the active colour file is read without failing when absent', () => {
    expect([otherColor(undefined), otherColor('blue'), otherColor('green')]).toEqual(['blue', 'green', 'blue']);
    expect([parseColor('green\n'), parseColor(''), parseColor('red')]).toEqual(['green', undefined, undefined]);
    expect(readActiveColor('/srv/my shop').text).toBe("cat '/srv/my shop/active-color' 2>/dev/null || true");
  });

  test('the gate goes to the idle colour directly, keeping path and query', () => {
    const gate = { urls: ['https://shop.example.com/health?deep=1', 'http://127.0.0.1:80/ready'] } as unknown as GateSettings;
    expect(gateAt(gate, '127.0.0.1:49153').urls).toEqual(['http://127.0.0.1:49153/health?deep=1', 'http://127.0.0.1:49153/ready']);
  });
});

describe('strategy inputs', () => {
  const read = (inputs: Record<string, string>) => readStrategySettings((name) => inputs[name] ?? '');

  test('recreate is the default and adds nothing to the settings', () => {
    expect(read({})).toBeUndefined();
    expect(read({ strategy: 'recreate' })).toBeUndefined();
  });

  test('blue-green reads a switch-command and the rest; without one it uses the built-in nginx switch', () => {
    expect(read({ strategy: 'blue-green', 'switch-command': 'reload', services: 'web, api', 'keep-previous-running': 'true' })).toEqual({
      kind: 'blue-green', services: ['web', 'api'], switchCommand: 'reload', keepPreviousRunning: true,
    });
    expect(read({ strategy: 'blue-green' })).toMatchObject({ switchCommand: '', nginxReloadCommand: 'nginx -s reload' });
  });

  test('rolling reads its services; the proxy needs no command', () => {
    expect(read({ strategy: 'rolling', services: 'web' })).toEqual({ kind: 'rolling', services: ['web'], switchCommand: '', keepPreviousRunning: false });
  });

  test('mistakes are named', () => {
    expect(() => read({ strategy: 'canary' })).toThrow(/^Input 'strategy' must be one of recreate, rolling, blue-green/);
    expect(() => read({ strategy: 'rolling', 'switch-command': 'reload' })).toThrow(/^Input 'switch-command' is not used with 'strategy: rolling'/);
    expect(() => read({ strategy: 'rolling', 'keep-previous-running': 'true' })).toThrow(/^Input 'keep-previous-running' is only used with 'strategy: blue-green'/);
    expect(() => read({ 'switch-command': 'reload' })).toThrow("Input 'switch-command' is only used with 'strategy: blue-green'.");
    expect(() => read({ strategy: 'blue-green', 'switch-command': 'x', services: 'web;rm' })).toThrow(/^Input 'services' names 'web;rm'/);
  });
});
