import type { RunContext } from '../run-context.js';

/** Reads who and what started this run from the runner's environment (GITHUB_*). */
export function runContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const server = env.GITHUB_SERVER_URL ?? 'https://github.com';
  const runUrl = env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : 'local';
  return { actor: env.GITHUB_ACTOR ?? env.USER ?? 'unknown', commit: env.GITHUB_SHA ?? '', runUrl };
}

/** The repository's name as a valid app name: `Acme/My.Web-App` -> `my-web-app`. */
export function defaultAppName(env: NodeJS.ProcessEnv = process.env): string {
  const repo = (env.GITHUB_REPOSITORY ?? '').split('/')[1] ?? '';
  return repo
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 63);
}
