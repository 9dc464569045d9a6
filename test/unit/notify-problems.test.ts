import { describe, expect, test } from '@jest/globals';
import { apiRefusal, webhookRefusal } from '../../src/notify/slack-problems.js';

const context = { method: 'chat.postMessage', channel: '#deploys', ts: '' };

describe('apiRefusal: one line naming the fix', () => {
  test.each([
    [
      'channel_not_found',
      "Slack refused chat.postMessage with 'channel_not_found': Slack cannot find channel '#deploys'. Set 'channel' to the channel's id (like C0123456789; updates need the id, which the posting step outputs as 'channel'), and invite the app to a private channel first.",
    ],
    [
      'not_in_channel',
      "Slack refused chat.postMessage with 'not_in_channel': the app is not a member of '#deploys': invite it (/invite @your-app in the channel) or give the app the chat:write.public scope.",
    ],
    [
      'invalid_auth',
      "Slack refused chat.postMessage with 'invalid_auth': check the 'slack-token' secret: it must be the Bot User OAuth Token (xoxb-...) of an app installed in this workspace.",
    ],
    [
      'token_revoked',
      "Slack refused chat.postMessage with 'token_revoked': check the 'slack-token' secret: it must be the Bot User OAuth Token (xoxb-...) of an app installed in this workspace.",
    ],
    ['is_archived', "Slack refused chat.postMessage with 'is_archived': channel '#deploys' is archived: unarchive it or choose another 'channel'."],
    ['fatal_error', "Slack refused chat.postMessage with 'fatal_error': see https://docs.slack.dev/reference/methods/chat.postMessage#errors."],
  ])('%s', (code, line) => {
    expect(apiRefusal(code, context)).toBe(line);
  });

  test('missing_scope names the scope Slack asked for', () => {
    expect(apiRefusal('missing_scope', { ...context, needed: 'chat:write' })).toBe(
      "Slack refused chat.postMessage with 'missing_scope': the app lacks the 'chat:write' scope: add it under OAuth & Permissions and reinstall the app.",
    );
  });

  test('an update of a message Slack does not have says which outputs to pass', () => {
    expect(apiRefusal('message_not_found', { method: 'chat.update', channel: 'C0DEPLOYS', ts: '1700000000.000100' })).toBe(
      "Slack refused chat.update with 'message_not_found': message '1700000000.000100' in 'C0DEPLOYS' cannot be updated: pass as 'ts' and 'channel' the outputs of the step that posted it, with the same app's token.",
    );
  });
});

describe('webhookRefusal', () => {
  test.each([
    [404, 'no_service', "Slack refused the incoming webhook post (HTTP 404 no_service): the webhook was removed or the URL is wrong; create a new incoming webhook and update the 'slack-webhook-url' secret."],
    [403, 'action_prohibited', "Slack refused the incoming webhook post (HTTP 403 action_prohibited): a Slack admin restricted posting to the webhook's channel."],
    [410, 'channel_is_archived', "Slack refused the incoming webhook post (HTTP 410 channel_is_archived): the webhook's channel is archived; unarchive it or create a webhook for another channel."],
    [400, 'invalid_blocks', "Slack refused the incoming webhook post (HTTP 400 invalid_blocks): Slack did not accept the message's layout; check 'text', 'mention' and that 'environment-url' is a full https:// URL."],
    [503, '', 'Slack refused the incoming webhook post (HTTP 503), retries included: Slack may be having trouble; try again later.'],
  ])('HTTP %d %s', (status, code, line) => {
    expect(webhookRefusal(status, code)).toBe(line);
  });
});
