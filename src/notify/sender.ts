import type { SlackMessage } from './blocks.js';

/** One message to deliver: a new post, a thread reply (threadTs) or an update in place (ts). */
export interface SlackPost {
  readonly message: SlackMessage;
  readonly channel: string;
  readonly ts: string;
  readonly threadTs: string;
}

/** Where the message landed. Incoming webhooks answer neither ts nor channel. */
export interface Delivery {
  readonly how: 'posted' | 'replied' | 'updated' | 'webhook';
  readonly ts: string;
  readonly channel: string;
}

/** A way to Slack: the Web API with a bot token, or an incoming webhook. */
export interface SlackSender {
  /** Resolves with the delivery, or rejects with a SlackDeliveryError whose message names the fix. */
  send(post: SlackPost): Promise<Delivery>;
}

/** Slack refused the message or could not be reached (after retries): never a bug of ours. */
export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
}
