import { ErrorCode, type Logger, LogLevel, type RetryOptions, WebClient } from '@slack/web-api';
import { errorMessage } from '../errors.js';
import type { Reporter } from '../report.js';
import { type Delivery, type SlackPost, type SlackSender, SlackDeliveryError } from './sender.js';
import { apiRefusal, apiUnreachable } from './slack-problems.js';

/**
 * Retries of the official client: a network error or an HTTP 5xx is tried again after about
 * 1s, 2s, 4s (randomised, at most 3 retries within 2 minutes). An HTTP 429 waits its
 * Retry-After first (the client pauses its queue for it), and counts as one of the retries.
 */
export const SLACK_RETRY: RetryOptions = { retries: 3, factor: 2, minTimeout: 1000, maxTimeout: 8000, randomize: true, maxRetryTime: 120_000 };

const REQUEST_TIMEOUT_MS = 30_000;

/** chat.postMessage / chat.update through `WebClient`, for a bot token. */
export class SlackWebApi implements SlackSender {
  private readonly client: WebClient;

  constructor(
    token: string,
    private readonly apiUrl: string,
    reporter: Reporter,
    retryConfig: RetryOptions = SLACK_RETRY,
  ) {
    this.client = new WebClient(token, {
      slackApiUrl: apiUrl,
      retryConfig,
      timeout: REQUEST_TIMEOUT_MS,
      rejectRateLimitedCalls: false,
      logger: slackLogger(reporter),
    });
  }

  async send(post: SlackPost): Promise<Delivery> {
    const { text, blocks, attachments } = post.message;
    const content = { channel: post.channel, text, blocks: [...blocks], attachments: [...attachments] };
    try {
      if (post.ts !== '') {
        const result = await this.client.chat.update({ ...content, ts: post.ts });
        return { how: 'updated', ts: result.ts ?? post.ts, channel: result.channel ?? post.channel };
      }
      const result = await this.client.chat.postMessage({
        ...content,
        ...(post.threadTs === '' ? {} : { thread_ts: post.threadTs }),
        unfurl_links: false,
        unfurl_media: false,
      });
      return { how: post.threadTs === '' ? 'posted' : 'replied', ts: result.ts ?? '', channel: result.channel ?? post.channel };
    } catch (error) {
      throw new SlackDeliveryError(this.explain(error, post));
    }
  }

  private explain(error: unknown, post: SlackPost): string {
    const coded = error as { code?: unknown; data?: { error?: unknown; needed?: unknown }; statusCode?: unknown; original?: unknown };
    if (coded.code === ErrorCode.PlatformError && typeof coded.data?.error === 'string') {
      return apiRefusal(coded.data.error, {
        method: post.ts === '' ? 'chat.postMessage' : 'chat.update',
        channel: post.channel,
        ts: post.ts,
        ...(typeof coded.data.needed === 'string' ? { needed: coded.data.needed } : {}),
      });
    }
    if (coded.code === ErrorCode.HTTPError) return apiUnreachable(this.apiUrl, `HTTP ${String(coded.statusCode)}`);
    if (coded.code === ErrorCode.RequestError) return apiUnreachable(this.apiUrl, errorMessage(coded.original ?? error));
    const message = errorMessage(error);
    if (/rate limit/i.test(message)) return apiUnreachable(this.apiUrl, 'still rate limited (HTTP 429)');
    return apiUnreachable(this.apiUrl, message);
  }
}

/** The client's own log lines go to the step's log; its warnings are not the step's warnings. */
function slackLogger(reporter: Reporter): Logger {
  const line = (parts: unknown[]) => `Slack client: ${parts.map((part) => (typeof part === 'string' ? part : errorMessage(part))).join(' ')}`;
  let level = LogLevel.INFO;
  return {
    debug: (...parts: unknown[]) => reporter.debug(line(parts)),
    info: (...parts: unknown[]) => reporter.info(line(parts)),
    warn: (...parts: unknown[]) => reporter.info(line(parts)),
    error: (...parts: unknown[]) => reporter.info(line(parts)),
    setLevel: (next: LogLevel) => (level = next),
    getLevel: () => level,
    setName: () => undefined,
  };
}
