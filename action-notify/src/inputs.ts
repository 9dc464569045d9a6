import { maskSecret, readInput } from '../../src/actions/core-io.js';
import { ConfigurationError } from '../../src/errors.js';
import { defaultAppName } from '../../src/github/context.js';
import { type InputSource, invalid, oneOf, parseBoolean, required } from '../../src/inputs/parse.js';
import type { NotifySettings, SlackDestination } from '../../src/notify/settings.js';
import { STATUSES } from '../../src/notify/status.js';

type Masker = (secret: string) => void;

const SLACK_TS = /^\d{1,12}\.\d{1,9}$/;
const SECTION_TEXT_MAX = 3000;
/** `failure-reason` fits one Slack section with its heading. */
const REASON_MAX = 2000;

/** The only place action-notify reads its inputs: all of them, checked, before anything is sent. */
export function readNotifyInputs(input: InputSource = readInput, mask: Masker = maskSecret, env: NodeJS.ProcessEnv = process.env): NotifySettings {
  const destination = readDestination(input, mask);
  const ts = slackTs('ts', input('ts'));
  if (ts !== '' && destination.kind === 'webhook') {
    throw new ConfigurationError("Input 'ts' needs 'slack-token': incoming webhooks cannot update messages. Post with a bot token to update the message later.");
  }
  const githubToken = input('github-token');
  if (githubToken !== '') mask(githubToken);
  const text = input('text');
  if (text.length > SECTION_TEXT_MAX) throw invalid('text', `must be at most ${SECTION_TEXT_MAX} characters (Slack's limit for a message section)`);
  return {
    destination,
    status: oneOf('status', required('status', input('status')), STATUSES, 'info'),
    app: oneLine('app', input('app')) || defaultAppName(env),
    environment: oneLine('environment', input('environment')),
    version: oneLine('version', input('version')),
    environmentUrl: webUrl('environment-url', input('environment-url')),
    ts,
    threadTs: slackTs('thread-ts', input('thread-ts')),
    mention: oneLine('mention', input('mention')),
    failureReason: foldedLine('failure-reason', input('failure-reason')),
    text,
    githubToken,
    failOnError: parseBoolean('fail-on-error', input('fail-on-error')),
  };
}

function readDestination(input: InputSource, mask: Masker): SlackDestination {
  const token = input('slack-token');
  const webhook = input('slack-webhook-url');
  if (token !== '') mask(token);
  if (webhook !== '') maskWebhook(webhook, mask);
  if (token !== '' && webhook !== '') {
    throw new ConfigurationError("Inputs 'slack-token' and 'slack-webhook-url' are alternatives: give one of them, not both.");
  }
  if (token === '' && webhook === '') {
    throw new ConfigurationError(
      "Input 'slack-token' (a bot token, with 'channel') or 'slack-webhook-url' (an incoming webhook) is required; if you passed a secret, check that it is set and available to this workflow.",
    );
  }
  if (webhook !== '') {
    // The URL is a secret: errors never show it.
    if (!isWebUrl(webhook)) throw invalid('slack-webhook-url', "must be the incoming webhook's full URL (https://hooks.slack.com/services/...)");
    return { kind: 'webhook', url: webhook };
  }
  if (!/^\S+$/.test(token)) throw invalid('slack-token', 'must be one token (xoxb-...) without spaces or line breaks');
  const channel = input('channel');
  if (channel === '') throw new ConfigurationError("Input 'channel' is required with 'slack-token': a channel id like C0123456789 (or a name like #deploys).");
  if (!/^\S{1,80}$/.test(channel)) throw invalid('channel', 'must be a channel id like C0123456789 or a name like #deploys', channel);
  return { kind: 'api', token, channel, apiUrl: webUrl('slack-api-url', input('slack-api-url')) || 'https://slack.com/api/' };
}

/** The whole URL, and its secret path on its own in case something prints only that. */
function maskWebhook(url: string, mask: Masker): void {
  mask(url);
  const path = isWebUrl(url) ? new URL(url).pathname : '';
  if (path.length >= 8) mask(path);
}

function slackTs(name: string, raw: string): string {
  if (raw !== '' && !SLACK_TS.test(raw)) throw invalid(name, "must be a Slack message timestamp like '1700000000.123456' (the 'ts' output of the step that posted it)", raw);
  return raw;
}

/** Free text shown on one line: its line breaks become ` / `; at most REASON_MAX characters. */
function foldedLine(name: string, raw: string): string {
  const line = raw.trim().replace(/\s*[\r\n]+\s*/g, ' / ');
  if (line.length > REASON_MAX) throw invalid(name, `must be at most ${REASON_MAX} characters`);
  return line;
}

function oneLine(name: string, raw: string): string {
  if (/[\r\n]/.test(raw)) throw invalid(name, 'must be one line', raw);
  if (raw.length > 200) throw invalid(name, 'must be at most 200 characters', raw);
  return raw;
}

function webUrl(name: string, raw: string): string {
  if (raw !== '' && !isWebUrl(raw)) throw invalid(name, 'must be a full http:// or https:// URL', raw);
  return raw;
}

function isWebUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (url.protocol === 'https:' || url.protocol === 'http:') && !/\s/.test(raw);
  } catch {
    return false;
  }
}
