import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseNodeState } from '../../src/swarm/commands.js';
import { LEGACY_STACK_FILE_VERSION, checkSwarmFileNames, formatEnvScript, serviceKey, stackFileVersion, stackNeedsFileVersion, swarmOverride, updateDefaults, withFileVersion } from '../../src/swarm/stack.js';

describe('update_config defaults', () => {
  test('every service gets start-first and rollback when the compose files set neither', () => {
    const files = [{ content: 'services:\n  web:\n    image: a\n  worker:\n    image: b\n' }];
    expect(updateDefaults(files)).toEqual({
      web: { order: 'start-first', failure_action: 'rollback' },
      worker: { order: 'start-first', failure_action: 'rollback' },
    });
  });

  test("the user's own keys win, from any of the files, and only the missing ones are filled in", () => {
    const files = [
      { content: 'services:\n  web:\n    image: a\n    deploy:\n      update_config:\n        order: stop-first\n' },
      { content: 'services:\n  web:\n    deploy:\n      update_config:\n        failure_action: pause\n  db:\n    image: postgres\n' },
    ];
    expect(updateDefaults(files)).toEqual({ web: {}, db: { order: 'start-first', failure_action: 'rollback' } });
  });

  test('a service publishing a port in host mode gets stop-first: its new task could not bind the port the old one holds', () => {
    const files = [
      { content: 'services:\n  web:\n    image: a\n    ports:\n      - target: 8080\n        published: 80\n        mode: host\n  api:\n    image: b\n    ports: ["8081:8080"]\n' },
    ];
    expect(updateDefaults(files)).toEqual({
      web: { order: 'stop-first', failure_action: 'rollback' },
      api: { order: 'start-first', failure_action: 'rollback' },
    });
  });

  test('the override is a compose file of deploy.update_config per service, with the user\'s version copied', () => {
    const text = swarmOverride({ web: { order: 'start-first', failure_action: 'rollback' }, db: {} }, '3.8');
    expect(text.startsWith('# Written by deploy-kit')).toBe(true);
    expect(parse(text)).toEqual({ version: '3.8', services: { web: { deploy: { update_config: { order: 'start-first', failure_action: 'rollback' } } } } });
    expect(parse(swarmOverride({ web: { failure_action: 'rollback' } }))).toEqual({ services: { web: { deploy: { update_config: { failure_action: 'rollback' } } } } });
  });
});

describe('the env script docker stack deploy runs under', () => {
  const hostile = {
    VERSION: 'v2',
    SPACES: 'two words  and more',
    QUOTES: `it's "quoted"`,
    DOLLAR: '$HOME and ${PATH} and $(id)',
    HASH: 'a#b # c',
    BACKTICK: '`id` \\n \\',
    NEWLINE: 'line1\nline2',
    EMPTY: '',
  };

  test('sourcing it with sh gives back every value exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'swarm-env-'));
    try {
      const file = join(dir, 'env.sh');
      writeFileSync(file, formatEnvScript(hostile));
      const names = Object.keys(hostile);
      const printed = execFileSync('sh', ['-c', `. "$1" && for n in ${names.join(' ')}; do eval "printf '%s\\0' \\"\\$$n\\""; done`, 'sh', file], { encoding: 'utf8', env: {} });
      expect(printed.split('\0').slice(0, -1)).toEqual(Object.values(hostile));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('one export per variable, and invalid names are refused', () => {
    expect(formatEnvScript({ VERSION: 'v1', A: 'x y' }).split('\n').slice(1)).toEqual(['export VERSION=v1', "export A='x y'", '']);
    expect(() => formatEnvScript({ 'A-B': 'x' })).toThrow("'A-B' is not a valid environment variable name.");
  });
});

test("a compose file named like deploy-kit's own swarm files is refused", () => {
  expect(() => checkSwarmFileNames(['docker-compose.yml', 'deploy-kit.swarm.yml'])).toThrow(
    "Input 'compose-file' names 'deploy-kit.swarm.yml', a file deploy-kit writes itself with 'target: swarm'; rename your file.",
  );
  expect(() => checkSwarmFileNames(['docker-compose.yml'])).not.toThrow();
});

test('service names lose their stack prefix', () => {
  expect(serviceKey('shop', 'shop_web')).toBe('web');
  expect(serviceKey('shop', 'other_web')).toBe('other_web');
});

describe("the Compose file version for docker stack deploy before Docker 23 (Debian 12's 20.10)", () => {
  test('CLIs before 23.0 need one; 23.0 and later, and an unknown version, do not', () => {
    expect(stackNeedsFileVersion('20.10.24+dfsg1')).toBe(true);
    expect(stackNeedsFileVersion('19.03.8')).toBe(true);
    expect(stackNeedsFileVersion('23.0.0')).toBe(false);
    expect(stackNeedsFileVersion('28.2.2')).toBe(false);
    expect(stackNeedsFileVersion('')).toBe(false);
  });

  test("the user's own version wins; else 3.9 for an old CLI; else none", () => {
    expect(stackFileVersion('3.8', '20.10.24+dfsg1')).toBe('3.8');
    expect(stackFileVersion(undefined, '20.10.24+dfsg1')).toBe(LEGACY_STACK_FILE_VERSION);
    expect(stackFileVersion(undefined, '28.2.2')).toBeUndefined();
  });

  test("a file without version gets it first, a file with one is left as it is, and the rest of the file is unchanged", () => {
    const bare = 'services:\n  web:\n    image: a:${VERSION}\n';
    const versioned = withFileVersion(bare, '3.9');
    expect(parse(versioned)).toEqual({ version: '3.9', services: { web: { image: 'a:${VERSION}' } } });
    expect(versioned.endsWith(bare)).toBe(true);
    const own = 'version: "3.7"\nservices:\n  web:\n    image: a\n';
    expect(withFileVersion(own, '3.9')).toBe(own);
    expect(withFileVersion(bare, undefined)).toBe(bare);
  });

  test("docker info's node state and the CLI version are read from their two lines", () => {
    expect(parseNodeState('active true\n20.10.24+dfsg1\n')).toEqual({ state: 'active true', cliVersion: '20.10.24+dfsg1' });
    expect(parseNodeState('inactive false\n')).toEqual({ state: 'inactive false', cliVersion: '' });
  });
});
