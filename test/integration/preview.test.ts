import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import type { CaddyProxy } from '../harness/caddy.js';
import type { GitHubApiServer } from '../harness/github-api-server.js';
import { PreviewFixture } from '../harness/preview-fixture.js';
import { currentSandbox, docker } from '../harness/sandbox.js';

// Pull request previews through action-preview's committed bundle: previews of one app on the
// sandbox host, each at its own name through a real Caddy, with the pull request's comment and
// deployments going to the local GitHub API server; production deployed beside them.

const sandbox = currentSandbox();
let previews: PreviewFixture;
let caddy: CaddyProxy;
let github: GitHubApiServer;
let production: AppFixture;
let previewsPath: string;

const compose = (file: string, extra = '') => previews.compose(file, extra);
const preview = (command: 'open' | 'close' | 'cleanup', pr: number | undefined, extra: Record<string, string> = {}) => previews.run(command, pr, extra);
const open = (pr: number, version: string, extra: Record<string, string> = {}) => previews.open(pr, version, extra);
const at = (pr: number) => previews.at(pr);
const containers = (project: string) => docker(sandbox, ['ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${project}`]).trim().split('\n').filter(Boolean);
const volumes = (project: string) => docker(sandbox, ['volume', 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${project}`]).trim().split('\n').filter(Boolean);
const networks = (project: string) => docker(sandbox, ['network', 'ls', '--quiet', '--filter', `label=com.docker.compose.project=${project}`]).trim().split('\n').filter(Boolean);
const comment = (pr: number) => github.comments(pr).map((c) => c.body);
const lastStatus = (pr: number) => github.deployments(`preview/pr-${pr}`).at(-1)?.statuses.at(-1);

beforeAll(async () => {
  previews = await PreviewFixture.start('shop', '21000-21099');
  ({ caddy, github, previewsPath } = previews);
  compose('docker-compose.yml', ['    volumes:', '      - uploads:/data', 'volumes:', '  uploads: {}'].join('\n'));
  production = await AppFixture.create('shop-production');
  expect((await production.deploy('v1')).outputs.status).toBe('deployed');
});

afterAll(async () => {
  await previews?.stop();
});

describe('previews of pull requests', () => {
  test('three pull requests become three previews, each at its own name with its own version; production is untouched', async () => {
    const runs = [await open(1, 'v1'), await open(2, 'v2'), await open(3, 'v3', { cpus: '0.5', memory: '256m' })];
    for (const [i, run] of runs.entries()) {
      expect(run.errors).toEqual([]);
      expect(run.outputs).toMatchObject({ status: 'live', name: `shop-pr-${i + 1}`, url: `http://pr-${i + 1}.${caddy.domain}`, 'release-id': '1' });
    }
    expect(await at(1)).toBe('200 v1');
    expect(await at(2)).toBe('200 v2');
    expect(await at(3)).toBe('200 v3');
    // Each preview is a compose project of its own with its own release history.
    for (const pr of [1, 2, 3]) expect(readFileSync(join(previewsPath, `shop-pr-${pr}`, 'ledger.jsonl'), 'utf8')).toMatch(/"release":"1","event":"deployed"/);
    // Its limits are on its containers; nothing but the proxy's loopback port is published.
    const [web3] = containers('shop-pr-3');
    const limits = docker(sandbox, ['inspect', '--format', '{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{json .HostConfig.PortBindings}}', web3!]).trim();
    expect(limits).toMatch(/^500000000 268435456 \{"8080\/tcp":\[\{"HostIp":"127\.0\.0\.1","HostPort":"210\d\d"\}\]\}$/);
    // The pull request's one comment and its environment's deployment.
    expect(comment(2)).toEqual([expect.stringContaining(`### Preview is live: http://pr-2.${caddy.domain}`)]);
    expect(comment(2)[0]).toMatch(/\| Version \| `v2` \(2222222\) \|/);
    expect(comment(2)[0]).toMatch(/\| Health gate \| passed: 2\/2 passing rounds/);
    expect(lastStatus(2)).toMatchObject({ state: 'success', environmentUrl: `http://pr-2.${caddy.domain}` });
    expect(github.deployments('preview/pr-2')[0]).toMatchObject({ ref: '2222222abcdef', transient: true });
    // Production and the proxy's own site are as they were.
    expect(await production.get('/')).toBe('200 v1');
    expect(await caddy.get('www.shop.test')).toBe('200 the shop itself');
  });

  test('a push to one pull request changes only its preview, and its comment is updated in place', async () => {
    const before = { 1: containers('shop-pr-1'), 3: containers('shop-pr-3') };
    const run = await open(2, 'v3');
    expect(run.outputs).toMatchObject({ status: 'live', 'release-id': '2' });
    expect(await at(2)).toBe('200 v3');
    expect(await at(1)).toBe('200 v1');
    expect(await at(3)).toBe('200 v3');
    expect(containers('shop-pr-1')).toEqual(before[1]);
    expect(containers('shop-pr-3')).toEqual(before[3]);
    expect(comment(2)).toHaveLength(1);
    expect(comment(2)[0]).toMatch(/\| Version \| `v3` /);
    // The earlier deployment is inactive, the new one active.
    expect(github.deployments('preview/pr-2').map((d) => d.statuses.at(-1)?.state)).toEqual(['inactive', 'success']);
  });

  test('a preview whose image fails its gate: the pull request is told why, and the previous release keeps serving', async () => {
    const run = await open(3, 'broken', { env: 'BREAK_VERSION=broken', 'health-timeout': '8s' });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ status: 'failed' });
    expect(run.outputs['failure-reason']).toMatch(/HTTP 404/);
    expect(run.errors).toEqual([expect.stringMatching(/^The preview of #3 failed: .*HTTP 404/)]);
    expect(await at(3)).toBe('200 v3');
    expect(comment(3)).toHaveLength(1);
    expect(comment(3)[0]).toMatch(/### Preview failed/);
    expect(comment(3)[0]).toMatch(/\| Health gate \| failed: .*HTTP 404/);
    expect(comment(3)[0]).toMatch(/\| Serving \| the previous release \(v3\), put back \|/);
    expect(lastStatus(3)).toMatchObject({ state: 'failure' });

    // A first release that fails: nothing serves it, and the comment says so.
    const first = await open(4, 'crash');
    expect(first.outputs.status).toBe('failed');
    expect(first.outputs['failure-reason']).toMatch(/web exited with code 3/);
    expect(comment(4)[0]).toMatch(/\| URL \| http:\/\/pr-4\.\S+ \(not serving\) \|/);
    expect(comment(4)[0]).toMatch(/\| Health gate \| failed: web exited with code 3/);
    expect(existsSync(join(caddy.routes, 'shop-pr-4.caddy'))).toBe(false);
  });

  test('max-previews: a new preview is refused when the user says so, or the one deployed longest ago makes room', async () => {
    // Open now: 1, 2, 3 and the failed 4.
    const refused = await open(5, 'v1', { 'max-previews': '4', 'when-full': 'refuse' });
    expect(refused.code).toBe(1);
    expect(refused.errors).toEqual([expect.stringMatching(/^There are already 4 previews \(max-previews: 4\): .*Nothing was changed\.$/)]);
    expect(containers('shop-pr-5')).toEqual([]);

    const made = await open(5, 'v2', { 'max-previews': '4' });
    expect(made.outputs.status).toBe('live');
    expect(JSON.parse(made.outputs.removed!)).toEqual([{ name: 'shop-pr-1', 'pr-number': 1, why: expect.stringContaining('max-previews: 4') }]);
    expect(containers('shop-pr-1')).toEqual([]);
    expect(await at(1)).not.toMatch(/v\d/);
    expect(await at(5)).toBe('200 v2');
    expect(comment(1)[0]).toMatch(/### Preview removed[\s\S]*removed to make room for #5/);
    expect(lastStatus(1)).toMatchObject({ state: 'inactive' });
  });

  test('closing a pull request removes everything of its preview and nothing else', async () => {
    expect(volumes('shop-pr-2')).not.toEqual([]);
    const run = await preview('close', 2);
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ status: 'removed', name: 'shop-pr-2' });
    expect(containers('shop-pr-2')).toEqual([]);
    expect(volumes('shop-pr-2')).toEqual([]);
    expect(networks('shop-pr-2')).toEqual([]);
    expect(existsSync(join(previewsPath, 'shop-pr-2'))).toBe(false);
    expect(readdirSync(caddy.routes).sort()).toEqual(['shop-pr-3.caddy', 'shop-pr-5.caddy']);
    expect(await at(2)).not.toMatch(/v\d/);
    expect(comment(2)).toHaveLength(1);
    expect(comment(2)[0]).toMatch(/### Preview removed[\s\S]*the pull request was closed/);
    expect(github.deployments('preview/pr-2').every((d) => d.statuses.at(-1)?.state === 'inactive')).toBe(true);
    // The others and production serve on.
    expect(await at(3)).toBe('200 v3');
    expect(await at(5)).toBe('200 v2');
    expect(await production.get('/')).toBe('200 v1');
    expect(await caddy.get('www.shop.test')).toBe('200 the shop itself');
  });

  test('cleanup removes the previews not deployed for longer than the ttl', async () => {
    // Preview 3 was last deployed 8 days ago.
    const record = join(previewsPath, 'shop-pr-3', 'preview.json');
    const old = JSON.parse(readFileSync(record, 'utf8')) as Record<string, unknown>;
    writeFileSync(record, JSON.stringify({ ...old, deployedAt: new Date(Date.now() - 8 * 86_400_000).toISOString() }));
    const run = await preview('cleanup', undefined, { ttl: '7d' });
    expect(run.errors).toEqual([]);
    expect(JSON.parse(run.outputs.removed!)).toEqual([{ name: 'shop-pr-3', 'pr-number': 3, why: expect.stringMatching(/^not deployed for .* \(ttl\)$/) }]);
    expect(containers('shop-pr-3')).toEqual([]);
    expect(await at(5)).toBe('200 v2');
    expect(comment(3)[0]).toMatch(/### Preview removed/);
  });
});

describe('a preview stays inside its own world', () => {
  test('a compose file that names the project like production, or mounts production\'s volume, is refused before the host is touched', async () => {
    const before = readdirSync(previewsPath).sort();
    compose('named.yml', 'name: shop-production');
    const named = await open(7, 'v1', { 'compose-file': 'named.yml' });
    expect(named.code).toBe(1);
    expect(named.errors).toEqual([expect.stringMatching(/^Input 'compose-file': a preview may not reach outside its own project.*named\.yml: name: /)]);

    compose('volume.yml', ['    volumes:', '      - data:/data', 'volumes:', '  data:', '    external: true', `    name: ${production.name}_data`].join('\n'));
    const volume = await open(7, 'v1', { 'compose-file': 'volume.yml' });
    expect(volume.errors).toEqual([expect.stringMatching(/volumes\.data\.external: .*volumes\.data\.name: a fixed name \('shop-production_data'\)/)]);

    compose('socket.yml', ['    volumes:', '      - /var/run/docker.sock:/var/run/docker.sock', '    ports: ["8080:8080"]'].join('\n'));
    const socket = await open(7, 'v1', { 'compose-file': 'socket.yml' });
    expect(socket.errors).toEqual([expect.stringMatching(/services\.web\.ports: .*services\.web\.volumes\[0\]: the Docker socket is the whole host/)]);
    expect(readdirSync(previewsPath).sort()).toEqual(before);
    expect(containers('shop-pr-7')).toEqual([]);
  });

  test('with require-label, a pull request is previewed only once it carries the label', async () => {
    const unlabelled = await open(8, 'v1', { 'require-label': 'preview' });
    expect(unlabelled.code).toBe(1);
    expect(unlabelled.errors).toEqual(["Pull request #8 does not carry the label 'preview' ('require-label'); a maintainer adds it to allow its preview. Nothing was deployed."]);
    expect(containers('shop-pr-8')).toEqual([]);
    github.setLabels(8, ['bug', 'preview']);
    const labelled = await open(8, 'v1', { 'require-label': 'preview' });
    expect(labelled.outputs.status).toBe('live');
    expect(await at(8)).toBe('200 v1');
  });

  test('a preview whose derived name is a compose project that is not a preview is refused', async () => {
    const clash = await AppFixture.create('clash-pr-9');
    expect((await clash.deploy('v1')).outputs.status).toBe('deployed');
    const run = await preview('open', 9, { version: 'v2', app: 'clash' });
    expect(run.code).toBe(1);
    expect(run.errors).toEqual([expect.stringMatching(/^A compose project named 'clash-pr-9' already runs on .* and is not this preview .*Nothing was changed\.$/)]);
    expect(await clash.get('/')).toBe('200 v1');
    expect(clash.current()).toBe('releases/1');
  });
});
