import { Octokit } from '@octokit/rest';
import { errorMessage } from '../errors.js';
import type { Reporter } from '../report.js';
import { commentMarker } from './comment.js';

export interface GitHubTarget {
  readonly token: string;
  /** `owner/repo`. */
  readonly repository: string;
  /** GITHUB_API_URL. */
  readonly apiUrl: string;
}

/** The GitHub environment of a pull request's preview, where its deployments are recorded. */
export const previewEnvironment = (pr: number): string => `preview/pr-${pr}`;

/**
 * What a preview tells GitHub: the pull request's one comment, and deployments in its
 * `preview/pr-<n>` environment (active with the URL, then inactive on close), which GitHub
 * shows on the pull request's page. GitHub being unreachable or a token without permission
 * costs the notice, not the preview: each call warns and goes on.
 */
export class PreviewGitHub {
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;

  constructor(
    target: GitHubTarget,
    private readonly reporter: Reporter,
  ) {
    const quiet = (message: string) => reporter.debug(message);
    this.octokit = new Octokit({
      auth: target.token,
      baseUrl: target.apiUrl.replace(/\/+$/, ''),
      userAgent: 'deploy-kit-preview',
      request: { timeout: 15_000 },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
    [this.owner = '', this.repo = ''] = target.repository.split('/');
  }

  /** Writes the preview's comment on pull request `pr`: the one it wrote before, edited, or a new one. */
  async comment(pr: number, name: string, body: string): Promise<void> {
    await this.attempt(`the comment on pull request #${pr}`, async () => {
      const marker = commentMarker(name);
      const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, { owner: this.owner, repo: this.repo, issue_number: pr, per_page: 100 });
      const mine = comments.find((c) => c.body?.startsWith(marker));
      if (mine) await this.octokit.rest.issues.updateComment({ owner: this.owner, repo: this.repo, comment_id: mine.id, body });
      else await this.octokit.rest.issues.createComment({ owner: this.owner, repo: this.repo, issue_number: pr, body });
      this.reporter.info(`${mine ? 'updated' : 'wrote'} the preview comment on pull request #${pr}`);
    });
  }

  /** Records a deployment of `ref` in the preview's environment and its outcome; `success` marks the earlier ones inactive. */
  async deployment(pr: number, ref: string, outcome: { state: 'success' | 'failure'; url: string; logUrl: string; description: string }): Promise<void> {
    await this.attempt(`the deployment of pull request #${pr}`, async () => {
      const created = await this.octokit.rest.repos.createDeployment({
        owner: this.owner,
        repo: this.repo,
        ref,
        environment: previewEnvironment(pr),
        transient_environment: true,
        production_environment: false,
        auto_merge: false,
        required_contexts: [],
        description: outcome.description.slice(0, 140),
      });
      if (!('id' in created.data)) throw new Error(`GitHub did not create the deployment: ${created.data.message ?? 'no id'}`);
      await this.octokit.rest.repos.createDeploymentStatus({
        owner: this.owner,
        repo: this.repo,
        deployment_id: created.data.id,
        state: outcome.state,
        ...(outcome.state === 'success' ? { environment_url: outcome.url } : {}),
        ...(outcome.logUrl === 'local' ? {} : { log_url: outcome.logUrl }),
        description: outcome.description.slice(0, 140),
        auto_inactive: true,
      });
      this.reporter.info(`deployment ${created.data.id} in environment ${previewEnvironment(pr)}: ${outcome.state}`);
    });
  }

  /** Marks every deployment of the preview's environment inactive (the pull request page then shows it gone). */
  async deactivate(pr: number, logUrl: string): Promise<void> {
    await this.attempt(`the deployments of pull request #${pr}`, async () => {
      const deployments = await this.octokit.paginate(this.octokit.rest.repos.listDeployments, { owner: this.owner, repo: this.repo, environment: previewEnvironment(pr), per_page: 100 });
      for (const deployment of deployments) {
        await this.octokit.rest.repos.createDeploymentStatus({
          owner: this.owner,
          repo: this.repo,
          deployment_id: deployment.id,
          state: 'inactive',
          ...(logUrl === 'local' ? {} : { log_url: logUrl }),
          description: 'preview removed',
        });
      }
      this.reporter.info(`marked ${deployments.length} deployment(s) in environment ${previewEnvironment(pr)} inactive`);
    });
  }

  /** Whether pull request `pr` carries `label` (a fork's preview waits for a maintainer's label). */
  async hasLabel(pr: number, label: string): Promise<boolean> {
    const labels = await this.octokit.paginate(this.octokit.rest.issues.listLabelsOnIssue, { owner: this.owner, repo: this.repo, issue_number: pr, per_page: 100 });
    return labels.some((l) => l.name === label);
  }

  private async attempt(what: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.reporter.warning(`Could not update ${what} on GitHub (the preview itself is not affected): ${errorMessage(error)}`);
    }
  }
}
