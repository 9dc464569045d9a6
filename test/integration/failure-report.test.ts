import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppFixture } from '../harness/app-fixture.js';
import { type ActionRun, runAction } from '../harness/run-action.js';
import { type SlackApiServer, startSlackApiServer } from '../harness/slack-api-server.js';

// When a deploy fails, it says why: the failed command, each failed container's state, health
// check output and last log lines, and the health gate's last responses, in the log, the job
// summary, the `failure-reason` output and (through action-notify) Slack. Each image below
// fails in its own way; each is the v1 test image with its start command or health check
// changed in the compose file. The app prints its database password: it is masked everywhere.

const PASSWORD = 'pw-Zq81-unlikely-secret';
const ENV = { env: `DB_PASSWORD=${PASSWORD}` };

/** The web service's lines after image, init and ports: the password in its environment, then `extra`. */
const service = (extra: string[]): string => ['    environment:', '      DB_PASSWORD: ${DB_PASSWORD}', ...extra].join('\n');
/** A start command, as the container's shell runs it (`$$` is a `$` to Compose). */
const entrypoint = (script: string): string => `    entrypoint: ["/bin/busybox", "sh", "-c", ${JSON.stringify(script)}]`;

let slack: SlackApiServer;
let errorServer: Server;
let errorUrl = '';

beforeAll(async () => {
  slack = await startSlackApiServer();
  // A health endpoint that answers 500 with what went wrong (and a secret it should not print).
  errorServer = createServer((_request, response) => {
    response.writeHead(500, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ error: 'database is down', detail: `FATAL: password authentication failed (tried ${PASSWORD})` }));
  });
  await new Promise<void>((resolve) => errorServer.listen(0, '127.0.0.1', resolve));
  errorUrl = `http://127.0.0.1:${(errorServer.address() as AddressInfo).port}/health`;
});

afterAll(async () => {
  await slack?.close();
  await new Promise((resolve) => errorServer?.close(resolve));
});

/** What every failure report must show wherever it goes (`logged`: a line of its log group; Slack too), and never the password. */
async function expectReported(run: ActionRun, reason: string | RegExp, logged: string): Promise<void> {
  expect(run.code).toBe(1);
  const said = run.outputs['failure-reason']!;
  if (typeof reason === 'string') expect(said).toBe(reason);
  else expect(said).toMatch(reason);
  // The log: a group of its own.
  const group = run.stdout.slice(run.stdout.indexOf('::group::Why it failed'));
  expect(group.slice(0, group.indexOf('::endgroup::')).split('\n')).toContainEqual(expect.stringContaining(logged));
  // The summary: a section, the reason in bold.
  expect(run.summary).toContain('### Why it failed');
  expect(run.summary).toContain(`**${said.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|')}**`);
  expect(run.everything).not.toContain(PASSWORD);
  const message = await slackMessage(run);
  expect(message).toContain('Why it failed');
  expect(message).toContain(JSON.stringify(said.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')).slice(1, -1));
  expect(message).not.toContain(PASSWORD);
}

/** Posts the failure to the local Slack API as the reusable workflow does, and returns the message's text. */
async function slackMessage(run: ActionRun): Promise<string> {
  const status = run.outputs.status === 'rolled-back' ? 'rolled-back' : 'failure';
  const notified = await runAction('action-notify', {
    'slack-api-url': slack.apiUrl,
    'slack-token': slack.token,
    channel: '#deploys',
    'github-token': '',
    app: 'shop',
    status,
    'failure-reason': run.outputs['failure-reason']!,
  });
  expect(notified.errors).toEqual([]);
  return JSON.stringify(slack.message('C0DEPLOYS', notified.outputs.ts!));
}

describe('a failed deploy says why', () => {
  test('an app that exits 1 at once: its exit code and error line, rolled back, and Slack says the same', async () => {
    const app = await AppFixture.create('why-exit', { composeExtra: service([]) });
    expect((await app.deploy('v1', ENV)).errors).toEqual([]);
    app.writeCompose(
      'docker-compose.yml',
      service([entrypoint('echo starting shop; /bin/busybox sleep 0.2; echo "Error: connect ECONNREFUSED 10.0.0.5:5432 (user shop, password $$DB_PASSWORD)" >&2; exit 1')]),
    );
    const run = await app.deploy('v2', ENV);
    await expectReported(run, 'web exited with code 1: Error: connect ECONNREFUSED 10.0.0.5:5432 (user shop, password ***)', `${app.name}-web-1 (web) exited with code 1; state: exited, exit code: 1, OOM-killed: no, restarts: 0`);
    expect(run.outputs.status).toBe('rolled-back');
    expect(await app.get('/')).toBe('200 v1');
    // Both lines of its log, with Docker's timestamps; its state as Docker tells it.
    expect(run.stdout).toMatch(/^ {2}log \| \d{4}-\d\d-\d\dT[\d:.]+Z starting shop$/m);
    expect(run.summary).toMatch(new RegExp(`<details open><summary><code>${app.name}-web-1</code> \\(web\\) exited with code 1</summary>`));
    expect(run.summary).toContain('| exit code | 1 |');
    expect(run.summary).toContain('| OOM-killed | no |');
    expect(run.summary).toMatch(/Last 2 log lines:/);
  });

  test("a health check that fails with a message: Docker's last check outputs; failure-log-lines 0 shows no log line", async () => {
    const app = await AppFixture.create('why-unhealthy', {
      composeExtra: service([
        entrypoint('echo "connecting with $$DB_PASSWORD"; exec /bin/busybox httpd -f -p 8080 -h /www'),
        '    healthcheck:',
        '      test: ["CMD", "/bin/busybox", "sh", "-c", "echo db check failed: too many connections; exit 1"]',
        '      interval: 1s',
        '      timeout: 2s',
        '      retries: 2',
      ]),
    });
    const run = await app.deploy('v1', { ...ENV, 'failure-log-lines': '0' });
    await expectReported(run, 'web is unhealthy: db check failed: too many connections', '  check | ');
    expect(run.outputs.status).toBe('failed');
    expect(run.summary).toMatch(/Last health checks:\n\n```text\n\S+ exit 1: db check failed: too many connections\n/);
    expect(run.summary).toContain('| health | unhealthy |');
    expect(run.summary).toContain('No log lines.');
    expect(run.stdout).not.toMatch(/^ {2}log \| /m);
  });

  test('an app killed for running out of memory: OOM-killed, with its memory limit', async () => {
    const app = await AppFixture.create('why-oom', {
      composeExtra: service([
        entrypoint('echo loading the cache; cache=$$(/bin/busybox head -c 300000000 /dev/zero | /bin/busybox tr "\\\\0" a); echo loaded'),
        '    mem_limit: 16m',
        '    memswap_limit: 16m',
      ]),
    });
    const run = await app.deploy('v1', ENV);
    await expectReported(run, 'web was killed for running out of memory (memory limit 16 MiB): loading the cache', 'OOM-killed: yes');
    expect(run.summary).toContain('| OOM-killed | yes |');
  });

  test('an app that never listens: the gate fails on a running container, whose log lines are shown', async () => {
    const app = await AppFixture.create('why-deaf', {
      composeExtra: service([entrypoint('echo waiting for a config file that never comes; exec /bin/busybox sleep 3600'), '    healthcheck:', '      disable: true']),
    });
    const run = await app.deploy('v1', { ...ENV, 'health-url': `http://127.0.0.1:${app.port}/health`, 'health-timeout': '3s', 'health-interval': '500ms' });
    await expectReported(run, new RegExp(`^health gate: http://127\\.0\\.0\\.1:${app.port}/health: connection (refused|reset|closed without a response)`), 'waiting for a config file that never comes');
    expect(run.summary).toMatch(new RegExp(`<details><summary><code>${app.name}-web-1</code> \\(web\\) is running</summary>`));
    expect(run.summary).toContain('waiting for a config file that never comes');
    expect(run.summary).toMatch(/Health gate, last failing responses:\n\n- round \d+: http:/);
  });

  test('a failing pre-deploy hook: the command as written and its error output; nothing else changed', async () => {
    const app = await AppFixture.create('why-hook');
    const hook = 'echo migrating; echo "ERROR: relation users does not exist" >&2; exit 3';
    const run = await app.deploy('v1', { 'pre-deploy': hook });
    await expectReported(run, `Pre-deploy: '${hook}' failed (exit 3): ERROR: relation users does not exist`, '  stderr | ERROR: relation users does not exist');
    expect(run.summary).toContain(`Failed command (Pre-deploy, exit 3):\n\n\`\`\`text\n$ ${hook}\nERROR: relation users does not exist\n\`\`\``);
    expect(run.summary).not.toContain('<details');
    expect(app.containers()).toEqual([]);
  });

  test('a gate that gets HTTP 500: the status and the start of the body, masked; Slack shows it', async () => {
    const app = await AppFixture.create('why-500');
    const run = await app.deploy('v1', { ...ENV, 'health-url': errorUrl, 'health-timeout': '2s', 'health-interval': '500ms' });
    await expectReported(
      run,
      new RegExp(`^health gate: HTTP 500 from ${errorUrl.replace(/\./g, '\\.')} in \\d+ms: \\{"error":"database is down","detail":"FATAL: password authentication failed \\(tried \\*\\*\\*\\)"\\}$`),
      'database is down',
    );
    expect(run.summary).toMatch(new RegExp(`- round \\d+: HTTP 500 from ${errorUrl.replace(/\./g, '\\.')} in \\d+ms: \\{"error":"database is down"`));
  });

  test("a container that stays `starting` until wait-timeout: named as never healthy, with its last log line", async () => {
    const app = await AppFixture.create('why-slow', {
      composeExtra: service([
        entrypoint('echo warming up, this takes 10 minutes; exec /bin/busybox sleep 3600'),
        '    healthcheck:',
        '      test: ["CMD", "/bin/busybox", "false"]',
        '      interval: 1m',
      ]),
    });
    const run = await app.deploy('v1', { ...ENV, 'wait-timeout': '4s' });
    await expectReported(run, 'web never became healthy: warming up, this takes 10 minutes', 'health: starting');
    expect(run.errors[0]).toMatch(/containers not healthy after 4s: container \S+ is starting/);
  });

  test('action-rollback to a release that fails its gate: why, from the release it restored', async () => {
    const app = await AppFixture.create('why-rollback');
    // Release 1 serves 404 on /health; deployed without a gate, it went live anyway.
    expect((await app.deploy('broken')).errors).toEqual([]);
    expect((await app.deploy('v1')).errors).toEqual([]);
    const run = await app.rollback({ to: '1', 'health-url': `http://127.0.0.1:${app.port}/health`, 'health-timeout': '2s', 'health-interval': '500ms' });
    expect(run.outputs).toMatchObject({ 'release-id': '1', healthy: 'false' });
    await expectReported(run, new RegExp(`^health gate: HTTP 404 from http://127\\.0\\.0\\.1:${app.port}/health in \\d+ms`), 'health gate round');
    expect(run.errors).toEqual([expect.stringMatching(/^Rolled back why-rollback to release 1 \(broken\), but it is not healthy: HTTP 404/)]);
    // The restored release's container, read on the host.
    expect(run.summary).toMatch(new RegExp(`<summary><code>${app.name}-web-1</code> \\(web\\) is running</summary>`));
  });

  test('a pull that fails: the pull command as a person would type it, and what the registry said', async () => {
    const app = await AppFixture.create('why-pull');
    const run = await app.deploy('no-such-tag');
    await expectReported(run, /^Pull images: 'docker compose --project-name why-pull .*…' failed \(exit \d+\): .*(manifest unknown|not found)/i, '  stderr | ');
    expect(run.summary).not.toContain('<details');
  });
});
