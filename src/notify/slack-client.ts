import { ErrorCode, type Logger, LogLevel, type RetryOptions, WebClient } from '@slack/web-api';
import { errorMessage } from '../errors.js';
import type { Reporter } from '../report.js';
import { type Delivery, type SlackPost, type SlackSender, SlackDeliveryError } from './sender.js';
import { apiRefusal, apiUnreachable } from './slack-problems.js';

/**
 * Retries of the official client: a network error or an HTTP 5xx is tried again after about
 * 1s, 2s, 4s (randomised, at most 3 retries, none started after 30s). Each request may take
 * 10s, so a Slack that is down or never answers costs a deploy job at most about 45s.
 */
export const SLACK_RETRY: RetryOptions = { retries: 3, factor: 2, minTimeout: 1000, maxTimeout: 8000, randomize: true, maxRetryTime: 30_000 };

const REQUEST_TIMEOUT_MS = 10_000;
/**
 * An HTTP 429 is waited out here, not by the client (which would sleep for any Retry-After,
 * an hour included): up to 3 more tries, each waiting a Retry-After of at most 30s. A longer
 * one is not waited for: a notification is not worth a stalled deploy.
 */
const RATE_LIMIT_TRIES = 4;
const LONGEST_RETRY_AFTER_S = 30;

/** chat.postMessage / chat.update through `WebClient`, for a bot token. */
export class SlackWebApi implements SlackSender {
  private readonly client: WebClient;

  constructor(
    token: string,
    private readonly apiUrl: string,
    private readonly reporter: Reporter,
    retryConfig: RetryOptions = SLACK_RETRY,
  ) {
    this.client = new WebClient(token, {
      slackApiUrl: apiUrl,
      retryConfig,
      timeout: REQUEST_TIMEOUT_MS,
      rejectRateLimitedCalls: true,
      logger: slackLogger(reporter),
    });
  }

  async send(post: SlackPost): Promise<Delivery> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.sendOnce(post);
      } catch (error) {
        const retryAfter = rateLimitedFor(error);
        if (retryAfter === undefined || retryAfter > LONGEST_RETRY_AFTER_S || attempt >= RATE_LIMIT_TRIES) throw new SlackDeliveryError(this.explain(error, post));
        this.reporter.info(`Slack client: API Call failed due to rate limiting. Will retry in ${retryAfter} seconds.`);
        await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      }
    }
  }

  private async sendOnce(post: SlackPost): Promise<Delivery> {
    const { text, blocks, attachments } = post.message;
    const content = { channel: post.channel, text, blocks: [...blocks], attachments: [...attachments] };
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
    const retryAfter = rateLimitedFor(error);
    if (retryAfter !== undefined) {
      return apiUnreachable(this.apiUrl, retryAfter > LONGEST_RETRY_AFTER_S ? `rate limited (HTTP 429) for ${retryAfter}s, longer than deploy-kit waits` : 'still rate limited (HTTP 429)');
    }
    if (coded.code === ErrorCode.HTTPError) return apiUnreachable(this.apiUrl, `HTTP ${String(coded.statusCode)}`);
    if (coded.code === ErrorCode.RequestError) return apiUnreachable(this.apiUrl, errorMessage(coded.original ?? error));
    const message = errorMessage(error);
    if (/rate limit/i.test(message)) return apiUnreachable(this.apiUrl, 'still rate limited (HTTP 429)');
    return apiUnreachable(this.apiUrl, message);
  }
}

/** The Retry-After (seconds) of a rate-limited call, or undefined for any other error. */
function rateLimitedFor(error: unknown): number | undefined {
  const coded = error as { code?: unknown; retryAfter?: unknown } | null;
  return coded?.code === ErrorCode.RateLimitedError && typeof coded.retryAfter === 'number' ? coded.retryAfter : undefined;
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
