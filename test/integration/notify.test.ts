import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { type GitHubApiServer, startGitHubApiServer } from '../harness/github-api-server.js';
import { type ActionRun, runAction } from '../harness/run-action.js';
import { type SlackApiServer, startSlackApiServer } from '../harness/slack-api-server.js';

/**
 * action-notify's committed bundle, run like the runner runs it, with the real WebClient and
 * Octokit talking to local stand-ins for Slack and GitHub.
 */
let slack: SlackApiServer;
let github: GitHubApiServer;

const RUN_URL = 'https://github.com/acme/shop/actions/runs/4242';
const COMMIT_URL = 'https://github.com/acme/shop/commit/0123456789abcdef0123456789abcdef01234567';

beforeAll(async () => {
  [slack, github] = await Promise.all([startSlackApiServer(), startGitHubApiServer()]);
  github.setReviewers('production', [{ user: 'alice' }, { team: 'sre' }]);
  github.setApprovals('4242', [
    { user: 'bob', environment: 'production', comment: 'ship it' },
    { user: 'carol', environment: 'staging' },
  ]);
});

afterEach(() => slack.clearFaults());

afterAll(async () => {
  await Promise.all([slack?.close(), github?.close()]);
});

function notify(inputs: Record<string, string>): Promise<ActionRun> {
  return runAction(
    'action-notify',
    { 'slack-api-url': slack.apiUrl, 'github-token': github.token, app: 'shop', ...inputs },
    { env: { GITHUB_API_URL: github.url }, timeoutMs: 60_000 },
  );
}

const viaToken = (extra: Record<string, string>) => ({ 'slack-token': slack.token, channel: '#deploys', ...extra });

interface Sent {
  text: string;
  blocks: { type: string; text?: { text: string } }[];
  attachments: { color: string; blocks: { type: string; fields?: { text: string }[]; elements?: { action_id: string; url: string; text: { text: string }; style?: string }[] }[] }[];
}

/** The message as the last request of `method` carried it. */
function lastSent(method: string): Sent {
  const call = slack.callsTo(method).at(-1);
  if (!call) throw new Error(`no ${method} call`);
  return call.params as unknown as Sent;
}

const fieldTexts = (message: Sent) => message.attachments[0]!.blocks.find((b) => b.type === 'section')?.fields?.map((f) => f.text) ?? [];
const buttons = (message: Sent) => message.attachments[0]!.blocks.find((b) => b.type === 'actions')?.elements ?? [];
const warnings = (run: ActionRun) => [...run.stdout.matchAll(/^::warning::(.*)$/gm)].map((m) => m[1]!);

describe('action-notify posts to Slack through the Web API', () => {
  test('posts `started`, then updates the same message to `success`', async () => {
    const started = await notify(viaToken({ status: 'started', environment: 'production', version: '1.4.2', 'environment-url': 'https://shop.example.com' }));
    expect(started.errors).toEqual([]);
    expect(started.code).toBe(0);
    expect(started.outputs.ts).toMatch(/^\d+\.\d{6}$/);
    expect(started.outputs.channel).toBe('C0DEPLOYS'); // the id, not the '#deploys' it was given
    expect(lastSent('chat.postMessage').blocks[0]!.text!.text).toBe('🚀 shop 1.4.2 -> production');

    const done = await notify(viaToken({ status: 'success', environment: 'production', version: '1.4.2', ts: started.outputs.ts!, channel: started.outputs.channel! }));
    expect(done.errors).toEqual([]);
    expect(done.outputs).toMatchObject({ ts: started.outputs.ts, channel: 'C0DEPLOYS' });
    expect(slack.callsTo('chat.update').at(-1)!.params).toMatchObject({ channel: 'C0DEPLOYS', ts: started.outputs.ts });
    const shown = slack.message('C0DEPLOYS', started.outputs.ts!)!;
    expect(shown.edits).toBe(1);
    expect(shown.text).toBe('✅ Deployed shop 1.4.2 to production.');
    expect(fieldTexts(lastSent('chat.update'))).toContainEqual(expect.stringMatching(/^\*Duration\*\n\d+s$/));
    expect(done.summary).toContain(`Updated message \`${started.outputs.ts}\` in channel \`C0DEPLOYS\` in place.`);
  });

  test('the token is masked and appears nowhere else in what the runner keeps', async () => {
    const run = await notify(viaToken({ status: 'info', text: 'Cache warmed.' }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`::add-mask::${slack.token}`);
    expect(run.stdout).toContain(`::add-mask::${github.token}`);
    const kept = run.everything.replace(/^::add-mask::.*$/gm, '');
    expect(kept).not.toContain(slack.token);
    expect(kept).not.toContain(github.token);
    expect(slack.callsTo('chat.postMessage').at(-1)!.authorization).toBe(`Bearer ${slack.token}`);
  });

  test('replies in the thread of an earlier message', async () => {
    const parent = await notify(viaToken({ status: 'started', environment: 'staging', version: '2.0.0' }));
    const reply = await notify(viaToken({ status: 'info', environment: 'staging', version: '2.0.0', 'thread-ts': parent.outputs.ts!, text: 'Migrations ran in 14s.' }));
    expect(reply.errors).toEqual([]);
    expect(reply.outputs.ts).not.toBe(parent.outputs.ts);
    expect(slack.message('C0DEPLOYS', reply.outputs.ts!)).toMatchObject({ threadTs: parent.outputs.ts, text: 'ℹ️ Migrations ran in 14s.' });
    expect(slack.message('C0DEPLOYS', parent.outputs.ts!)!.edits).toBe(0);
    expect(reply.summary).toContain(`Replied in thread \`${parent.outputs.ts}\``);
  });

  test('a failure carries the mention, the facts, links and a plain-text fallback', async () => {
    const run = await notify(viaToken({ status: 'failure', environment: 'production', version: '1.4.2', 'environment-url': 'https://shop.example.com', mention: '@here <!subteam^S0SRE>' }));
    expect(run.code).toBe(0);
    const sent = lastSent('chat.postMessage');
    expect(sent.text).toBe('<!here> <!subteam^S0SRE> ❌ Deploy of shop 1.4.2 to production failed.');
    expect(sent.blocks).toEqual([
      { type: 'header', text: { type: 'plain_text', text: '❌ shop 1.4.2 -> production', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: '<!here> <!subteam^S0SRE> Deploy of *shop* `1.4.2` to *production* failed.' } },
    ]);
    expect(sent.attachments[0]!.color).toBe('#E01E5A');
    expect(fieldTexts(sent)).toEqual([
      '*Environment*\nproduction',
      '*Version*\n`1.4.2`',
      `*Commit*\n<${COMMIT_URL}|0123456>`,
      '*Actor*\noctocat',
      '*Approved by*\n<https://github.com/bob|@bob>',
    ]);
    expect(buttons(sent).map((b) => [b.text.text, b.url])).toEqual([
      ['Workflow run', RUN_URL],
      ['Open app', 'https://shop.example.com'],
    ]);
  });

  test('waits out an HTTP 429 for its Retry-After, then posts', async () => {
    const before = slack.callsTo('chat.postMessage').length;
    slack.failNext('chat.postMessage', { kind: 'rate-limit', retryAfterSeconds: 2 });
    const run = await notify(viaToken({ status: 'started', environment: 'staging' }));
    expect(run.code).toBe(0);
    expect(warnings(run)).toEqual([]);
    const [limited, retried] = slack.callsTo('chat.postMessage').slice(before);
    expect([limited?.status, retried?.status]).toEqual([429, 200]);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(2000);
    expect(run.stdout).toContain('Will retry in 2 seconds');
    expect(slack.message('C0DEPLOYS', run.outputs.ts!)).toBeDefined();
  });

  test('retries a dropped connection, then posts', async () => {
    const before = slack.callsTo('chat.postMessage').length;
    slack.failNext('chat.postMessage', { kind: 'drop' }, 2);
    const run = await notify(viaToken({ status: 'started', environment: 'staging' }));
    expect(run.code).toBe(0);
    expect(warnings(run)).toEqual([]);
    expect(slack.callsTo('chat.postMessage').slice(before).map((call) => call.status)).toEqual([0, 0, 200]);
    expect(run.outputs.ts).toMatch(/^\d+\.\d+$/);
  });
});

describe('Slack trouble does not fail the deploy unless asked to', () => {
  test.each([
    ['channel_not_found', { channel: '#nowhere' }, "Set 'channel' to the channel's id"],
    ['not_in_channel', { channel: '#ops-private' }, 'invite it (/invite @your-app in the channel)'],
    ['invalid_auth', { 'slack-token': 'xoxb-revoked' }, "check the 'slack-token' secret"],
  ])('%s becomes one warning naming the fix, and the step succeeds', async (code, inputs, fix) => {
    const run = await notify(viaToken({ status: 'success', environment: 'production', ...inputs }));
    expect(run.code).toBe(0);
    expect(run.errors).toEqual([]);
    const [warning, ...more] = warnings(run);
    expect(more).toEqual([]);
    expect(warning).toContain(`Slack refused chat.postMessage with '${code}'`);
    expect(warning).toContain(fix);
    expect(warning).toContain("set 'fail-on-error: true' to fail it");
    expect(run.outputs).toEqual({ ts: '', channel: '' });
    expect(run.summary).toContain('⚠️ Not delivered.');
  });

  test('with fail-on-error the step fails with the same explanation', async () => {
    const run = await notify(viaToken({ status: 'success', channel: '#nowhere', 'fail-on-error': 'true' }));
    expect(run.code).not.toBe(0);
    expect(warnings(run)).toEqual([]);
    expect(run.errors).toEqual([expect.stringContaining("Slack refused chat.postMessage with 'channel_not_found': Slack cannot find channel '#nowhere'.")]);
  });

  test('updating a message Slack does not have names the ts and channel to pass', async () => {
    const run = await notify(viaToken({ status: 'success', channel: 'C0DEPLOYS', ts: '1700000000.999999' }));
    expect(run.code).toBe(0);
    expect(warnings(run)).toEqual([expect.stringContaining("Slack refused chat.update with 'message_not_found'")]);
    expect(run.outputs).toEqual({ ts: '1700000000.999999', channel: 'C0DEPLOYS' });
  });

  test('a mistaken input fails the step, naming the input and what was expected', async () => {
    const before = slack.calls.length;
    const run = await notify(viaToken({ status: 'done' }));
    expect(run.code).not.toBe(0);
    expect(run.errors).toEqual(["Input 'status' must be one of started, success, failure, rolled-back, approval-needed, info; got 'done'."]);
    expect(slack.calls.length).toBe(before);
  });
});

describe('action-notify posts through an incoming webhook', () => {
  test('posts the message, masks the URL and has no ts to give', async () => {
    const before = slack.webhookPosts.length;
    const run = await notify({ 'slack-webhook-url': slack.webhookUrl, status: 'rolled-back', environment: 'production', version: '1.4.2', mention: '@channel' });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    const [posted, ...more] = slack.webhookPosts.slice(before) as unknown as Sent[];
    expect(more).toEqual([]);
    expect(posted!.text).toBe('<!channel> ↩️ shop 1.4.2 on production was rolled back.');
    expect(posted!.blocks[0]!.text!.text).toBe('↩️ shop 1.4.2 -> production');
    expect(run.outputs).toEqual({ ts: '', channel: '' });
    expect(run.summary).toContain('Posted through the incoming webhook');
    expect(run.stdout).toContain(`::add-mask::${slack.webhookUrl}`);
    expect(run.everything.replace(/^::add-mask::.*$/gm, '')).not.toContain('hooksecret');
  });

  test('a removed webhook is one warning naming the fix', async () => {
    slack.failNext('webhook', { kind: 'error', error: 'no_service' });
    const run = await notify({ 'slack-webhook-url': slack.webhookUrl, status: 'success' });
    expect(run.code).toBe(0);
    expect(warnings(run)).toEqual([expect.stringContaining("HTTP 404 no_service): the webhook was removed or the URL is wrong; create a new incoming webhook and update the 'slack-webhook-url' secret.")]);
  });

  test('waits out an HTTP 429 for its Retry-After', async () => {
    const before = slack.callsTo('webhook').length;
    slack.failNext('webhook', { kind: 'rate-limit', retryAfterSeconds: 1 });
    const run = await notify({ 'slack-webhook-url': slack.webhookUrl, status: 'success' });
    expect(warnings(run)).toEqual([]);
    const [limited, retried] = slack.callsTo('webhook').slice(before);
    expect([limited?.status, retried?.status]).toEqual([429, 200]);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(1000);
  });
});

describe('approvals: who can approve, who approved', () => {
  test('approval-needed names the required reviewers and links to the review', async () => {
    const run = await notify(viaToken({ status: 'approval-needed', environment: 'production', version: '1.4.2' }));
    expect(run.code).toBe(0);
    expect(github.requests.at(-1)).toMatchObject({ path: '/repos/acme/shop/environments/production', status: 200, authorization: `token ${github.token}` });
    const sent = lastSent('chat.postMessage');
    expect(sent.text).toBe('⏳ shop 1.4.2 is waiting for approval to deploy to production. Can approve: @alice, @acme/sre.');
    expect(fieldTexts(sent)).toContain('*Can approve*\n<https://github.com/alice|@alice>, <https://github.com/orgs/acme/teams/sre|@acme/sre>');
    expect(buttons(sent)).toEqual([{ type: 'button', action_id: 'review-deployment', text: { type: 'plain_text', text: 'Review deployment' }, url: RUN_URL, style: 'primary' }]);
    expect(run.summary).toContain('Can approve: [@alice](https://github.com/alice), [@acme/sre](https://github.com/orgs/acme/teams/sre)');
  });

  test('after approval, the message says who approved this environment', async () => {
    const run = await notify(viaToken({ status: 'started', environment: 'production', version: '1.4.2' }));
    expect(github.requests.at(-1)).toMatchObject({ path: '/repos/acme/shop/actions/runs/4242/approvals', status: 200 });
    expect(fieldTexts(lastSent('chat.postMessage'))).toContain('*Approved by*\n<https://github.com/bob|@bob>');
    expect(run.summary).toContain('Approved by: [@bob](https://github.com/bob)');
  });

  test('a token without permission degrades to a link to the run, not a failure', async () => {
    const run = await notify(viaToken({ status: 'approval-needed', environment: 'production', 'github-token': github.deniedToken }));
    expect(run.code).toBe(0);
    expect(run.errors).toEqual([]);
    expect(warnings(run)).toEqual([]);
    expect(github.requests.at(-1)).toMatchObject({ path: '/repos/acme/shop/environments/production', status: 403 });
    const sent = lastSent('chat.postMessage');
    expect(sent.text).toBe('⏳ shop is waiting for approval to deploy to production.');
    expect(fieldTexts(sent)).toContain(`*Can approve*\n<${RUN_URL}|See the workflow run>`);
    expect(buttons(sent).map((b) => b.url)).toEqual([RUN_URL]);
    expect(run.stdout).toContain("HTTP 403: Resource not accessible by integration");
    expect(run.stdout).toContain("give the job 'permissions: actions: read'");
  });

  test('without a github-token nothing is asked of GitHub', async () => {
    const before = github.requests.length;
    const run = await notify(viaToken({ status: 'approval-needed', environment: 'production', 'github-token': '' }));
    expect(run.code).toBe(0);
    expect(github.requests.length).toBe(before);
    expect(fieldTexts(lastSent('chat.postMessage'))).toContain(`*Can approve*\n<${RUN_URL}|See the workflow run>`);
  });
});
