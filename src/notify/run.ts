import { runContext } from '../github/context.js';
import type { GitHubRun } from './github-lookups.js';

/** The workflow run a notification is about, read from the runner's GITHUB_* variables. */
export interface NotifyRun extends GitHubRun {
  readonly actor: string;
  readonly commit: string;
  /** '' when the commit cannot be linked. */
  readonly commitUrl: string;
  /** '' outside GitHub Actions. */
  readonly runUrl: string;
}

export function notifyRun(env: NodeJS.ProcessEnv = process.env): NotifyRun {
  const context = runContext(env);
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  const repository = env.GITHUB_REPOSITORY ?? '';
  return {
    repository,
    runId: env.GITHUB_RUN_ID ?? '',
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    actor: context.actor,
    commit: context.commit,
    commitUrl: repository !== '' && context.commit !== '' ? `${server}/${repository}/commit/${context.commit}` : '',
    runUrl: context.runUrl === 'local' ? '' : context.runUrl,
  };
}

const A_WEEK_MS = 7 * 24 * 3_600_000;

/**
 * How long since the message being updated (or replied to) was posted: a Slack ts is the
 * Unix time it was posted, so `started` -> `success` measures the deploy without any state.
 */
export function elapsedSince(ts: string, nowMs: number): number | undefined {
  if (!/^\d+\.\d+$/.test(ts)) return undefined;
  const elapsed = nowMs - Number(ts) * 1000;
  return elapsed >= 0 && elapsed < A_WEEK_MS ? elapsed : undefined;
}
