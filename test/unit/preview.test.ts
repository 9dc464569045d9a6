import { previewComposeFacts } from '../../src/preview/compose-rules.js';
import { previewComment } from '../../src/preview/comment.js';
import { parsePreviewDomain, parsePrNumber, previewName } from '../../src/preview/names.js';
import { previewOverride } from '../../src/preview/override.js';
import { PreviewRecord, expired, makeRoom, pickPort } from '../../src/preview/record.js';
import { routeText } from '../../src/preview/routes.js';
import { parse } from 'yaml';

const file = (content: string, name = 'docker-compose.yml') => [{ name, content }];
const problems = (content: string) => previewComposeFacts(file(content)).problems;

describe('preview names', () => {
  test('<app>-pr-<n>, and a name too long for 63 characters keeps its suffix and gets a hash of the app', () => {
    expect(previewName('shop', 12)).toBe('shop-pr-12');
    const long = 'a'.repeat(40) + '-customer-portal-backend';
    const name = previewName(long, 1234);
    expect(name).toHaveLength(63);
    expect(name).toMatch(/^a{40}-custome-[0-9a-f]{6}-pr-1234$/);
    // Two long names that share their first 48 characters get different previews.
    expect(previewName(`${long}-x`, 1234)).not.toBe(name);
  });

  test('a pull request number and a preview domain are checked', () => {
    expect(parsePrNumber('42')).toBe(42);
    expect(() => parsePrNumber('0')).toThrow("Input 'pr-number' must be the pull request number");
    expect(() => parsePrNumber('4;rm')).toThrow(/pr-number/);
    expect(parsePreviewDomain('Preview.Example.com')).toBe('preview.example.com');
    expect(parsePreviewDomain('preview.test:8080')).toBe('preview.test:8080');
    expect(() => parsePreviewDomain('example')).toThrow(/preview-domain/);
    expect(() => parsePreviewDomain('a.example.com/x')).toThrow(/preview-domain/);
  });
});

describe('what a preview\'s compose file may not do', () => {
  test('a plain app with its own volume and network passes', () => {
    const facts = previewComposeFacts(
      file(['services:', '  web:', '    image: shop:${VERSION}', '    volumes: [uploads:/data, ./cache:/cache]', '    networks: [inner]', '  worker: { image: shop }', 'volumes: { uploads: {} }', 'networks: { inner: {} }'].join('\n')),
    );
    expect(facts).toEqual({ services: ['web', 'worker'], problems: [] });
  });

  test.each([
    ['container_name', 'services:\n  web: { image: a, container_name: shop-web-1 }', /services\.web\.container_name/],
    ['privileged', 'services:\n  web: { image: a, privileged: true }', /services\.web\.privileged: a privileged container has the host/],
    ['the Docker socket', 'services:\n  web: { image: a, volumes: ["/var/run/docker.sock:/var/run/docker.sock"] }', /the Docker socket is the whole host/],
    ['the socket, long form', 'services:\n  web:\n    image: a\n    volumes: [{ type: bind, source: /run/docker.sock, target: /s }]', /the Docker socket/],
    ['a host folder', 'services:\n  web: { image: a, volumes: ["/srv/shop/uploads:/data"] }', /'\/srv\/shop\/uploads' is a host folder outside the release folder/],
    ['a relative path that climbs out', 'services:\n  web: { image: a, volumes: ["../../shop/current:/app"] }', /outside the release folder/],
    ['a path from a variable', 'services:\n  web: { image: a, volumes: ["${HOME}:/home"] }', /outside the release folder/],
    ['an external volume', 'services:\n  web: { image: a }\nvolumes:\n  data: { external: true }', /volumes\.data\.external/],
    ['production\'s volume by name', 'services:\n  web: { image: a }\nvolumes:\n  data: { name: shop_data }', /volumes\.data\.name: a fixed name \('shop_data'\)/],
    ['an external network', 'services:\n  web: { image: a }\nnetworks:\n  default: { external: true }', /networks\.default\.external/],
    ['host ports', 'services:\n  web: { image: a, ports: ["80:80"] }', /services\.web\.ports: host ports/],
    ['the host network', 'services:\n  web: { image: a, network_mode: host }', /services\.web\.network_mode: 'host'/],
    ['another container\'s network', 'services:\n  web: { image: a, network_mode: "container:shop-web-1" }', /network_mode/],
    ['the host PID namespace', 'services:\n  web: { image: a, pid: host }', /services\.web\.pid/],
    ['capabilities', 'services:\n  web: { image: a, cap_add: [SYS_ADMIN] }', /cap_add/],
    ['devices', 'services:\n  web: { image: a, devices: ["/dev/sda:/dev/sda"] }', /devices/],
    ['a project name', 'name: shop\nservices:\n  web: { image: a }', /^docker-compose\.yml: name: /],
    ['a build', 'services:\n  web: { build: . }', /services\.web\.build/],
    ['an env file outside', 'services:\n  web: { image: a, env_file: [/etc/shop/.env] }', /env_file/],
    ['a bind-mounting volume driver', 'services:\n  web: { image: a }\nvolumes:\n  data: { driver_opts: { type: none, o: bind, device: /srv } }', /driver_opts/],
  ])('refuses %s', (_what, content, expected) => {
    expect(problems(content)).toEqual([expect.stringMatching(expected)]);
  });

  test('every problem of every file is listed, each with its file', () => {
    const facts = previewComposeFacts([
      { name: 'a.yml', content: 'services:\n  web: { image: a, privileged: true }' },
      { name: 'b.yml', content: 'services:\n  web: { ports: ["80:80"] }\n  db: { image: postgres }' },
    ]);
    expect(facts.services).toEqual(['web', 'db']);
    expect(facts.problems).toEqual([expect.stringMatching(/^a\.yml: services\.web\.privileged/), expect.stringMatching(/^b\.yml: services\.web\.ports/)]);
  });
});

describe('the preview\'s own compose file', () => {
  test('limits every service, labels it, and publishes only the web service on loopback', () => {
    const text = previewOverride({ services: ['web', 'worker'], webService: 'web', webPort: 8080, hostPort: 21003, cpus: '0.5', memory: '256m', name: 'shop-pr-3' });
    expect(parse(text)).toEqual({
      services: {
        web: { cpus: '0.5', mem_limit: '256m', labels: { 'dev.deploy-kit.preview': 'shop-pr-3' }, ports: ['127.0.0.1:21003:8080'] },
        worker: { cpus: '0.5', mem_limit: '256m', labels: { 'dev.deploy-kit.preview': 'shop-pr-3' } },
      },
    });
  });

  test('a Caddy route per preview: automatic HTTPS for https, plain HTTP when asked', () => {
    expect(routeText({ name: 'shop-pr-3', pr: 3, host: 'pr-3.preview.example.com', scheme: 'https', port: 21003 })).toMatch(/^# .*\npr-3\.preview\.example\.com \{\n\treverse_proxy 127\.0\.0\.1:21003\n\}\n$/);
    expect(routeText({ name: 'shop-pr-3', pr: 3, host: 'pr-3.preview.test:8080', scheme: 'http', port: 21003 })).toMatch(/\nhttp:\/\/pr-3\.preview\.test:8080 \{/);
  });
});

describe('room, age and ports', () => {
  const record = (pr: number, deployedAt: string, port = 21000 + pr): PreviewRecord => ({ name: `shop-pr-${pr}`, app: 'shop', pr, port, url: '', version: 'v1', createdAt: deployedAt, deployedAt });
  const three = [record(1, '2026-12-01T10:00:00Z'), record(2, '2026-11-30T10:00:00Z'), record(3, '2026-12-02T10:00:00Z')];

  test('below the limit, or redeploying one that exists, takes no room', () => {
    expect(makeRoom(three, 'shop-pr-4', 4, 'refuse')).toEqual([]);
    expect(makeRoom(three, 'shop-pr-2', 3, 'refuse')).toEqual([]);
  });

  test('at the limit: the one deployed longest ago goes, or the new one is refused', () => {
    expect(makeRoom(three, 'shop-pr-4', 3, 'remove-oldest').map((p) => p.pr)).toEqual([2]);
    expect(makeRoom(three, 'shop-pr-4', 2, 'remove-oldest').map((p) => p.pr)).toEqual([2, 1]);
    expect(() => makeRoom(three, 'shop-pr-4', 3, 'refuse')).toThrow('There are already 3 previews (max-previews: 3): #1, #2, #3.');
  });

  test('past the ttl', () => {
    const now = new Date('2026-12-08T10:00:01Z');
    const old = expired(three, 7 * 86_400_000, now);
    expect(old.map((e) => e.preview.pr)).toEqual([1, 2]);
    expect(old.map((e) => e.idle)).toEqual(['7d', '8d']);
  });

  test('the lowest port that no preview holds and nothing listens on', () => {
    expect(pickPort({ first: 21000, last: 21003 }, new Set([21000, 21001]))).toBe(21002);
    expect(() => pickPort({ first: 21000, last: 21001 }, new Set([21000, 21001]))).toThrow(/port-range/);
  });
});

describe('the pull request comment', () => {
  const base = { name: 'shop-pr-3', url: 'https://pr-3.preview.example.com', version: 'v2', commit: '0123456789abcdef', at: new Date('2026-12-06T12:34:56Z'), runUrl: 'https://github.com/acme/shop/actions/runs/7' };

  test('live: URL, version, gate, time, and the marker that finds it again', () => {
    const body = previewComment({ ...base, state: { kind: 'live', gate: 'passed: 2/2 passing rounds in a row' } });
    expect(body.split('\n')[0]).toBe('<!-- deploy-kit preview shop-pr-3 -->');
    expect(body).toContain('### Preview is live: https://pr-3.preview.example.com');
    expect(body).toContain('| Version | `v2` (0123456) |');
    expect(body).toContain('| Health gate | passed: 2/2 passing rounds in a row |');
    expect(body).toContain('| Updated | 2026-12-06 12:34 UTC |');
    expect(body).toContain('[The run](https://github.com/acme/shop/actions/runs/7)');
  });

  test('failed: the reason, with pipes kept out of the table', () => {
    const body = previewComment({ ...base, state: { kind: 'failed', reason: 'web exited with code 3: a | b', serving: undefined } });
    expect(body).toContain('| URL | https://pr-3.preview.example.com (not serving) |');
    expect(body).toContain('| Health gate | failed: web exited with code 3: a \\| b |');
  });
});
