import { errorMessage } from '../errors.js';
import type { Reporter } from '../report.js';
import { type Clock, retry } from '../util/poll.js';
import { type Delivery, type SlackPost, type SlackSender, SlackDeliveryError } from './sender.js';
import { webhookRefusal, webhookUnreachable } from './slack-problems.js';

const TRIES = 4;
const FIRST_DELAY_MS = 1000;
const TIMEOUT_MS = 30_000;
/** A Retry-After longer than this is not waited for: a deploy should not hang on a notification. */
const LONGEST_RETRY_AFTER_MS = 60_000;

/** Posts to a Slack incoming webhook (post only: webhooks cannot update messages and answer no ts). */
export class SlackWebhook implements SlackSender {
  constructor(
    private readonly url: string,
    private readonly reporter: Reporter,
    private readonly clock?: Clock,
  ) {}

  async send(post: SlackPost): Promise<Delivery> {
    const { text, blocks, attachments } = post.message;
    const body = JSON.stringify({ text, blocks, attachments, ...(post.threadTs === '' ? {} : { thread_ts: post.threadTs }), unfurl_links: false });
    let attempt = 0;
    try {
      await retry(
        async () => {
          attempt += 1;
          try {
            await this.postOnce(body);
          } catch (error) {
            if (attempt < TRIES && retryable(error)) this.reporter.info(`Incoming webhook attempt ${attempt} failed (${describe(error)}); retrying.`);
            throw error;
          }
        },
        { tries: TRIES, firstDelayMs: FIRST_DELAY_MS, retryable, delayFor, ...(this.clock ? { clock: this.clock } : {}) },
      );
    } catch (error) {
      if (error instanceof WebhookHttpError) throw new SlackDeliveryError(webhookRefusal(error.status, error.code));
      throw new SlackDeliveryError(webhookUnreachable(new URL(this.url).host, describe(error)));
    }
    return { how: 'webhook', ts: '', channel: '' };
  }

  private async postOnce(body: string): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const answer = (await response.text()).trim();
    if (response.ok) return;
    const retryAfter = response.headers.get('retry-after') ?? '';
    const retryAfterMs = /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
    throw new WebhookHttpError(response.status, /^[a-z_]{1,64}$/.test(answer) ? answer : '', retryAfterMs);
  }
}

class WebhookHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ''}`);
  }
}

function retryable(error: unknown): boolean {
  if (!(error instanceof WebhookHttpError)) return true;
  if (error.status === 429) return (error.retryAfterMs ?? 0) <= LONGEST_RETRY_AFTER_MS;
  return error.status >= 500;
}

function delayFor(error: unknown): number | undefined {
  return error instanceof WebhookHttpError && error.status === 429 ? (error.retryAfterMs ?? FIRST_DELAY_MS) : undefined;
}

/** fetch hides the reason of a network failure in `cause`. */
function describe(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof Error ? `${errorMessage(error)}: ${cause.message}` : errorMessage(error);
}
