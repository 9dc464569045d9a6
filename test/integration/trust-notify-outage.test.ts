import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type GitHubApiServer, startGitHubApiServer } from '../harness/github-api-server.js';
import { type ActionRun, runAction } from '../harness/run-action.js';
import { freePort } from '../harness/sandbox.js';
import { type SlackApiServer, startSlackApiServer } from '../harness/slack-api-server.js';

// Issue 10, faults: Slack and GitHub down or rate limiting without end. A notification is
// never worth a failed or stalled deploy: action-notify ends with exit 0 and one warning
// (unless 'fail-on-error' asks for a failure), within a bounded time. (Single 429s and
// dropped connections that recover are in notify.test.ts.)

let slack: SlackApiServer;
let github: GitHubApiServer;
/** Accepts connections and never answers. */
let silent: Server;
let silentUrl: string;
let deadUrl: string;

beforeAll(async () => {
  [slack, github] = await Promise.all([startSlackApiServer(), startGitHubApiServer()]);
  silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  deadUrl = `http://127.0.0.1:${await freePort()}`;
});

afterAll(async () => {
  silent?.closeAllConnections();
  await Promise.all([slack?.close(), github?.close(), new Promise((r) => silent?.close(r))]);
});

const warnings = (run: ActionRun) => [...run.stdout.matchAll(/^::warning::(.*)$/gm)].map((m) => m[1]!);

async function notify(inputs: Record<string, string>, githubUrl = github.url): Promise<{ run: ActionRun; seconds: number }> {
  const started = Date.now();
  const run = await runAction(
    'action-notify',
    { 'slack-token': slack.token, channel: '#deploys', 'slack-api-url': slack.apiUrl, 'github-token': github.token, app: 'shop', status: 'success', environment: 'production', ...inputs },
    { env: { GITHUB_API_URL: githubUrl }, timeoutMs: 200_000 },
  );
  return { run, seconds: (Date.now() - started) / 1000 };
}

/** Exit 0, no error, exactly one warning that says what happened, no ts. */
function oneWarning(run: ActionRun, pattern: RegExp): void {
  expect(run.errors).toEqual([]);
  expect(run.code).toBe(0);
  expect(warnings(run)).toEqual([expect.stringMatching(pattern)]);
  expect(warnings(run)[0]).toContain("set 'fail-on-error: true' to fail it");
  expect(run.outputs).toEqual({ ts: '', channel: '' });
}

describe('Slack down or rate limiting forever', () => {
  test('nothing listening: one warning, within seconds', async () => {
    const { run, seconds } = await notify({ 'slack-api-url': `${deadUrl}/api/` });
    oneWarning(run, /Could not reach Slack's Web API at http:\/\/127\.0\.0\.1:\d+\/api\/ \(.*ECONNREFUSED.*\), retries included/);
    console.log(`Slack API on a dead port: gave up after ${seconds.toFixed(1)}s`);
    expect(seconds).toBeLessThan(30);
  });

  test('HTTP 500 to every call: retried a few times, then one warning', async () => {
    const before = slack.callsTo('chat.postMessage').length;
    slack.failNext('chat.postMessage', { kind: 'http', status: 500 }, 1000);
    try {
      const { run, seconds } = await notify({});
      oneWarning(run, /Could not reach Slack's Web API at .* \(HTTP 500\), retries included/);
      const calls = slack.callsTo('chat.postMessage').length - before;
      console.log(`Slack answering 500: ${calls} calls, gave up after ${seconds.toFixed(1)}s`);
      expect(calls).toBeGreaterThan(1);
      expect(calls).toBeLessThanOrEqual(5);
      expect(seconds).toBeLessThan(40);
    } finally {
      slack.clearFaults();
    }
  });

  test('HTTP 429 to every call: the Retry-After waits are bounded, then one warning', async () => {
    const before = slack.callsTo('chat.postMessage').length;
    slack.failNext('chat.postMessage', { kind: 'rate-limit', retryAfterSeconds: 2 }, 1000);
    try {
      const { run, seconds } = await notify({});
      oneWarning(run, /Could not reach Slack's Web API at .* \(still rate limited \(HTTP 429\)\), retries included/);
      const calls = slack.callsTo('chat.postMessage').length - before;
      console.log(`Slack answering 429 (Retry-After 2): ${calls} calls, gave up after ${seconds.toFixed(1)}s`);
      expect(calls).toBeGreaterThan(1);
      expect(seconds).toBeLessThan(40);
    } finally {
      slack.clearFaults();
    }
  });

  test('HTTP 429 asking to wait an hour: not waited for', async () => {
    slack.failNext('chat.postMessage', { kind: 'rate-limit', retryAfterSeconds: 3600 }, 1000);
    try {
      const { run, seconds } = await notify({});
      oneWarning(run, /rate limited \(HTTP 429/);
      console.log(`Slack answering 429 (Retry-After 3600): gave up after ${seconds.toFixed(1)}s`);
      expect(seconds).toBeLessThan(40);
    } finally {
      slack.clearFaults();
    }
  });

  test('a Slack that accepts connections and never answers cannot stall the job', async () => {
    const { run, seconds } = await notify({ 'slack-api-url': `${silentUrl}/api/` });
    oneWarning(run, /Could not reach Slack's Web API at http:\/\/127\.0\.0\.1:\d+\/api\/ \(.*\), retries included/);
    console.log(`Slack API that never answers: gave up after ${seconds.toFixed(1)}s`);
    expect(seconds).toBeLessThan(60);
  }, 200_000);

  test('an incoming webhook on a dead port: one warning', async () => {
    const { run, seconds } = await notify({ 'slack-token': '', channel: '', 'slack-webhook-url': `${deadUrl}/services/T0/B0/xyz` });
    oneWarning(run, /Could not reach the incoming webhook at 127\.0\.0\.1:\d+ \(.*\), retries included/);
    expect(seconds).toBeLessThan(30);
  });

  test("with 'fail-on-error: true' the same outage fails the step with one error line", async () => {
    const { run } = await notify({ 'slack-api-url': `${deadUrl}/api/`, 'fail-on-error': 'true' });
    expect(run.code).toBe(1);
    expect(warnings(run)).toEqual([]);
    expect(run.errors).toEqual([expect.stringMatching(/^Could not reach Slack's Web API at http:\/\/127\.0\.0\.1:\d+\/api\/ \(.*ECONNREFUSED.*\), retries included/)]);
  });
});

describe('GitHub API down', () => {
  test.each([
    ['nothing listening', () => deadUrl],
    ['never answering', () => silentUrl],
  ])('%s: the message is posted without names, no warning, exit 0', async (_name, url) => {
    const before = slack.callsTo('chat.postMessage').length;
    const { run, seconds } = await notify({ status: 'approval-needed' }, url());
    expect(run.code).toBe(0);
    expect(run.errors).toEqual([]);
    expect(warnings(run)).toEqual([]);
    expect(run.stdout).toMatch(/Could not read the required reviewers of environment 'production' \(.*\); the message links to the workflow run instead\./);
    expect(slack.callsTo('chat.postMessage').length).toBe(before + 1);
    expect(run.outputs.ts).toMatch(/^\d+\.\d+$/);
    console.log(`GitHub API ${_name}: notify took ${seconds.toFixed(1)}s`);
    expect(seconds).toBeLessThan(30);
  }, 120_000);
});
