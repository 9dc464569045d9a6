import type { NotifyStatus } from './status.js';

/** Where the message goes: the Web API with a bot token (post, reply, update), or an incoming webhook (post only). */
export type SlackDestination =
  | { readonly kind: 'api'; readonly token: string; readonly channel: string; readonly apiUrl: string }
  | { readonly kind: 'webhook'; readonly url: string };

/** action-notify's inputs, checked. Empty strings stand for inputs not given. */
export interface NotifySettings {
  readonly destination: SlackDestination;
  readonly status: NotifyStatus;
  readonly app: string;
  readonly environment: string;
  readonly version: string;
  readonly environmentUrl: string;
  /** Update this message in place instead of posting. */
  readonly ts: string;
  /** Reply in this message's thread. */
  readonly threadTs: string;
  readonly mention: string;
  /** Why the deploy failed, in one line (action-deploy's `failure-reason` output); shown on failure and rolled-back. */
  readonly failureReason: string;
  readonly text: string;
  /** '' skips the GitHub lookups (reviewers, approvals). */
  readonly githubToken: string;
  readonly failOnError: boolean;
}
