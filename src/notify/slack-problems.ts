/**
 * Turns what Slack says when it refuses a message into one line that names the fix.
 * Pure: the clients classify their errors and hand the codes in.
 */
export interface RefusalContext {
  readonly method: string;
  readonly channel: string;
  readonly ts: string;
  /** missing_scope: the scope Slack says is needed. */
  readonly needed?: string;
}

const TOKEN_CODES = ['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'not_allowed_token_type'];
const UPDATE_CODES = ['message_not_found', 'cant_update_message', 'edit_window_closed'];
const LAYOUT_CODES = ['invalid_blocks', 'invalid_attachments', 'invalid_arguments', 'msg_too_long', 'no_text', 'invalid_blocks_format', 'too_many_attachments'];
const RATE_CODES = ['ratelimited', 'rate_limited'];

/** An `ok: false` answer of chat.postMessage / chat.update. */
export function apiRefusal(code: string, context: RefusalContext): string {
  return `Slack refused ${context.method} with '${code}': ${apiFix(code, context)}.`;
}

function apiFix(code: string, { method, channel, ts, needed }: RefusalContext): string {
  if (code === 'channel_not_found') {
    return `Slack cannot find channel '${channel}'. Set 'channel' to the channel's id (like C0123456789; updates need the id, which the posting step outputs as 'channel'), and invite the app to a private channel first`;
  }
  if (code === 'not_in_channel') return `the app is not a member of '${channel}': invite it (/invite @your-app in the channel) or give the app the chat:write.public scope`;
  if (TOKEN_CODES.includes(code)) return `check the 'slack-token' secret: it must be the Bot User OAuth Token (xoxb-...) of an app installed in this workspace`;
  if (code === 'missing_scope') return `the app lacks the ${needed ? `'${needed}'` : 'chat:write'} scope: add it under OAuth & Permissions and reinstall the app`;
  if (UPDATE_CODES.includes(code)) {
    return `message '${ts}' in '${channel}' cannot be updated: pass as 'ts' and 'channel' the outputs of the step that posted it, with the same app's token`;
  }
  if (code === 'is_archived') return `channel '${channel}' is archived: unarchive it or choose another 'channel'`;
  if (code === 'restricted_action' || code === 'ekm_access_denied') return `a workspace setting stops the app from posting in '${channel}': ask a Slack admin`;
  if (LAYOUT_CODES.includes(code)) return `Slack did not accept the message's layout: check 'text', 'mention' and that 'environment-url' is a full https:// URL`;
  if (RATE_CODES.includes(code)) return 'the app is posting too often: try again later';
  return `see https://docs.slack.dev/reference/methods/${method}#errors`;
}

/** Slack's Web API kept answering HTTP 429, 5xx or could not be reached, after the retries. */
export function apiUnreachable(apiUrl: string, detail: string): string {
  return `Could not reach Slack's Web API at ${apiUrl} (${detail}), retries included: check 'slack-api-url' and the runner's network, or retry later.`;
}

/** An incoming webhook answered with an error status; Slack puts a code like `no_service` in the body. */
export function webhookRefusal(status: number, code: string): string {
  const what = `Slack refused the incoming webhook post (HTTP ${status}${code ? ` ${code}` : ''})`;
  if (status === 404 || status === 403 || code === 'invalid_token' || code === 'no_service' || code === 'no_team') {
    if (code === 'action_prohibited') return `${what}: a Slack admin restricted posting to the webhook's channel.`;
    return `${what}: the webhook was removed or the URL is wrong; create a new incoming webhook and update the 'slack-webhook-url' secret.`;
  }
  if (status === 410 || code === 'channel_is_archived') return `${what}: the webhook's channel is archived; unarchive it or create a webhook for another channel.`;
  if (status === 400) return `${what}: Slack did not accept the message's layout; check 'text', 'mention' and that 'environment-url' is a full https:// URL.`;
  if (status === 429) return `${what}: the webhook is posting too often; try again later.`;
  return `${what}, retries included: Slack may be having trouble; try again later.`;
}

export function webhookUnreachable(host: string, detail: string): string {
  return `Could not reach the incoming webhook at ${host} (${detail}), retries included: check 'slack-webhook-url' and the runner's network.`;
}
