import { Octokit } from '@octokit/rest';
import { errorMessage } from '../errors.js';
import type { Reporter } from '../report.js';
import { approvers, requiredReviewers } from './approvals.js';
import type { Person } from './message.js';

/** A lookup that may come back empty-handed: then the message links to the run page instead. */
export type Lookup<T> = { readonly found: true; readonly value: T } | { readonly found: false; readonly note: string };

export interface GitHubRun {
  /** `owner/repo`. */
  readonly repository: string;
  readonly runId: string;
  /** GITHUB_API_URL: https://api.github.com, or a GitHub Enterprise Server's /api/v3. */
  readonly apiUrl: string;
}

const TIMEOUT_MS = 15_000;

/**
 * Reads an environment's required reviewers and a run's approvals with the job's token.
 * Never throws: a token without permission, or GitHub being away, only loses the names.
 */
export class GitHubLookups {
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;

  constructor(
    token: string,
    private readonly run: GitHubRun,
    reporter: Reporter,
  ) {
    const quiet = (message: string) => reporter.debug(message);
    this.octokit = new Octokit({
      auth: token,
      baseUrl: run.apiUrl.replace(/\/+$/, ''),
      userAgent: 'deploy-kit-notify',
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    [this.owner = '', this.repo = ''] = run.repository.split('/');
  }

  /** Who may approve a deployment to `environment` (its required reviewers). */
  async reviewers(environment: string): Promise<Lookup<Person[]>> {
    return this.lookup(`the required reviewers of environment '${environment}'`, async () => {
      const { data } = await this.octokit.rest.repos.getEnvironment({
        owner: this.owner,
        repo: this.repo,
        environment_name: environment,
        request: { signal: AbortSignal.timeout(TIMEOUT_MS) },
      });
      return requiredReviewers(data, this.owner);
    });
  }

  /** Who approved this run's deployment to `environment` ('' for any environment). */
  async approvers(environment: string): Promise<Lookup<Person[]>> {
    return this.lookup(`the approvals of run ${this.run.runId}`, async () => {
      const { data } = await this.octokit.rest.actions.getReviewsForRun({
        owner: this.owner,
        repo: this.repo,
        run_id: Number(this.run.runId),
        request: { signal: AbortSignal.timeout(TIMEOUT_MS) },
      });
      return approvers(data, environment);
    });
  }

  private async lookup(what: string, read: () => Promise<Person[]>): Promise<Lookup<Person[]>> {
    try {
      return { found: true, value: await read() };
    } catch (error) {
      return { found: false, note: lookupNote(what, error) };
    }
  }
}

/** Why a lookup came back empty, and what would make it work. */
export function lookupNote(what: string, error: unknown): string {
  const status = (error as { status?: unknown } | null)?.status;
  if (status === 401 || status === 403 || status === 404) {
    return (
      `Could not read ${what} (HTTP ${status}: ${firstLine(errorMessage(error))}); the message links to the workflow run instead. ` +
      `To show names, give the job 'permissions: actions: read' (or pass a 'github-token' that can read the repository's environments and runs).`
    );
  }
  return `Could not read ${what} (${firstLine(errorMessage(error))}); the message links to the workflow run instead.`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 200);
}
