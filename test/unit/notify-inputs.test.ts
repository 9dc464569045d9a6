import { describe, expect, test } from '@jest/globals';
import { readNotifyInputs } from '../../action-notify/src/inputs.js';
import { buildMessage } from '../../src/notify/message.js';
import type { NotifyOutcome } from '../../src/notify/notify.js';
import { notifySummary } from '../../src/notify/summary.js';

const TOKEN = 'xoxb-1111-2222-secret';
const HOOK = 'https://hooks.slack.com/services/T000/B000/hooksecret1234';

function read(inputs: Record<string, string>, env: NodeJS.ProcessEnv = { GITHUB_REPOSITORY: 'acme/Shop.Web' }) {
  const masked: string[] = [];
  const settings = readNotifyInputs((name) => inputs[name] ?? '', (secret) => masked.push(secret), env);
  return { settings, masked };
}

describe('readNotifyInputs', () => {
  test('a bot token and a channel; defaults for the rest', () => {
    const { settings, masked } = read({ 'slack-token': TOKEN, channel: '#deploys', status: 'started', 'github-token': 'ghs_abc' });
    expect(settings).toEqual({
      destination: { kind: 'api', token: TOKEN, channel: '#deploys', apiUrl: 'https://slack.com/api/' },
      status: 'started',
      app: 'shop-web',
      environment: '',
      version: '',
      environmentUrl: '',
      ts: '',
      threadTs: '',
      mention: '',
      failureReason: '',
      text: '',
      githubToken: 'ghs_abc',
      failOnError: false,
    });
    expect(masked).toEqual([TOKEN, 'ghs_abc']);
  });

  test('a webhook URL is masked whole and by its secret path', () => {
    const { settings, masked } = read({ 'slack-webhook-url': HOOK, status: 'success' });
    expect(settings.destination).toEqual({ kind: 'webhook', url: HOOK });
    expect(masked).toEqual([HOOK, '/services/T000/B000/hooksecret1234']);
  });

  test.each([
    [{ status: 'success' }, "Input 'slack-token' (a bot token, with 'channel') or 'slack-webhook-url' (an incoming webhook) is required"],
    [{ 'slack-token': TOKEN, 'slack-webhook-url': HOOK, status: 'success' }, "Inputs 'slack-token' and 'slack-webhook-url' are alternatives"],
    [{ 'slack-token': TOKEN, status: 'success' }, "Input 'channel' is required with 'slack-token'"],
    [{ 'slack-token': TOKEN, channel: 'C1' }, "Input 'status' is required."],
    [{ 'slack-token': TOKEN, channel: 'C1', status: 'ok' }, "Input 'status' must be one of started, success, failure, rolled-back, approval-needed, info; got 'ok'."],
    [{ 'slack-token': TOKEN, channel: 'C1', status: 'info', ts: 'yesterday' }, "Input 'ts' must be a Slack message timestamp like '1700000000.123456'"],
    [{ 'slack-webhook-url': HOOK, status: 'info', ts: '1700000000.000100' }, "Input 'ts' needs 'slack-token': incoming webhooks cannot update messages."],
    [{ 'slack-token': TOKEN, channel: 'C1', status: 'info', 'environment-url': 'shop.example.com' }, "Input 'environment-url' must be a full http:// or https:// URL; got 'shop.example.com'."],
    [{ 'slack-token': TOKEN, channel: 'C1', status: 'info', 'fail-on-error': 'maybe' }, "Input 'fail-on-error' must be true or false; got 'maybe'."],
    [{ 'slack-token': TOKEN, channel: 'C1', status: 'info', version: '1.0\n2.0' }, "Input 'version' must be one line"],
  ])('%j fails: %s', (inputs, message) => {
    expect(() => read(inputs)).toThrow(message);
  });

  test('an unusable webhook URL is refused without showing it', () => {
    expect(() => read({ 'slack-webhook-url': 'hooks.slack.com/services/T0/B0/hooksecret', status: 'info' })).toThrow(
      new Error("Input 'slack-webhook-url' must be the incoming webhook's full URL (https://hooks.slack.com/services/...)."),
    );
  });
});

describe('notifySummary', () => {
  const settings = read({ 'slack-token': TOKEN, channel: '#deploys', status: 'failure', environment: 'production', version: '1.4.2', mention: '@here' }).settings;
  const message = buildMessage({ ...settings, actor: 'octocat', commit: '', commitUrl: '', runUrl: '' });

  test('what was posted where, and its fallback text shown as text', () => {
    const outcome: NotifyOutcome = { message, delivery: { how: 'posted', ts: '1700000000.000100', channel: 'C0DEPLOYS' }, notes: [] };
    expect(notifySummary(settings, outcome)).toBe(
      [
        '### ❌ Slack notification: shop-web 1.4.2 -&gt; production',
        '',
        'Posted a new message to channel `C0DEPLOYS`: ts `1700000000.000100` (pass the `ts` and `channel` outputs to a later step to update it).',
        '',
        '> &lt;!here&gt; ❌ Deploy of shop-web 1.4.2 to production failed.',
        '',
      ].join('\n'),
    );
  });

  test('why nothing was delivered, and lookups that came back empty', () => {
    const outcome: NotifyOutcome = { message, problem: "Slack refused chat.postMessage with 'is_archived': ...", notes: ['Could not read the approvals of run 7 (fetch failed).'] };
    expect(notifySummary(settings, outcome)).toContain("⚠️ Not delivered. Slack refused chat.postMessage with 'is_archived': ...");
    expect(notifySummary(settings, outcome)).toContain('ℹ️ Could not read the approvals of run 7 (fetch failed).');
  });
});
