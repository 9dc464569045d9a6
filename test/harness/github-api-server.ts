import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for api.github.com on 127.0.0.1, answering what deploy-kit's actions use the way
 * GitHub does: an environment's protection rules and a run's approvals (action-notify); a pull
 * request's comments and labels, deployments and their statuses (action-preview). A token can
 * be made to lack permission (403 "Resource not accessible by integration").
 */
export interface GitHubRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string;
  readonly status: number;
}

export type Reviewer = { readonly user: string } | { readonly team: string };

export interface Approval {
  readonly user: string;
  readonly environment: string;
  readonly state?: 'approved' | 'rejected';
  readonly comment?: string;
}

export interface GitHubApiServer {
  /** For GITHUB_API_URL. */
  readonly url: string;
  /** A token that can read everything here. */
  readonly token: string;
  /** A token that may not (like a GITHUB_TOKEN without `actions: read`). */
  readonly deniedToken: string;
  readonly requests: GitHubRequest[];
  /** Makes `environment` of acme/shop require these reviewers. */
  setReviewers(environment: string, reviewers: readonly Reviewer[]): void;
  setApprovals(runId: string, approvals: readonly Approval[]): void;
  setLabels(pr: number, labels: readonly string[]): void;
  /** The comments on a pull request, oldest first. */
  comments(pr: number): readonly { id: number; body: string }[];
  /** The deployments of an environment, oldest first, each with its statuses in order. */
  deployments(environment: string): readonly Deployment[];
  close(): Promise<void>;
}

export interface Deployment {
  readonly id: number;
  readonly ref: string;
  readonly environment: string;
  readonly transient: boolean;
  readonly statuses: { state: string; environmentUrl: string; description: string }[];
}

const OWNER = 'acme';
const REPO = 'shop';
const WEB = 'https://github.com';

export async function startGitHubApiServer(): Promise<GitHubApiServer> {
  const token = 'ghs_reader0000000000000000000000000000';
  const deniedToken = 'ghs_noactionsread000000000000000000000';
  const requests: GitHubRequest[] = [];
  const environments = new Map<string, readonly Reviewer[]>();
  const approvals = new Map<string, readonly Approval[]>();
  const comments = new Map<number, { id: number; body: string }[]>();
  const labels = new Map<number, readonly string[]>();
  const deployments: Deployment[] = [];
  let nextId = 1000;
  let base = '';

  /** The pull request and deployment endpoints action-preview writes to; undefined for other paths. */
  function previewRoute(method: string, path: string, query: URLSearchParams, body: Record<string, unknown>): { status: number; body: unknown } | undefined {
    const repo = `/repos/${OWNER}/${REPO}`;
    const issueComments = new RegExp(`^${repo}/issues/(\\d+)/comments$`).exec(path);
    const comment = new RegExp(`^${repo}/issues/comments/(\\d+)$`).exec(path);
    const issueLabels = new RegExp(`^${repo}/issues/(\\d+)/labels$`).exec(path);
    const statuses = new RegExp(`^${repo}/deployments/(\\d+)/statuses$`).exec(path);
    const commentJson = (c: { id: number; body: string }) => ({ id: c.id, body: c.body, user: userJson('github-actions[bot]', base), html_url: `${WEB}/${OWNER}/${REPO}/pull/0#issuecomment-${c.id}` });
    if (issueComments && method === 'GET') return { status: 200, body: (comments.get(Number(issueComments[1])) ?? []).map(commentJson) };
    if (issueComments && method === 'POST') {
      const list = comments.get(Number(issueComments[1])) ?? [];
      const created = { id: nextId++, body: String(body.body ?? '') };
      comments.set(Number(issueComments[1]), [...list, created]);
      return { status: 201, body: commentJson(created) };
    }
    if (comment && method === 'PATCH') {
      const found = [...comments.values()].flat().find((c) => c.id === Number(comment[1]));
      if (!found) return notFound();
      found.body = String(body.body ?? '');
      return { status: 200, body: commentJson(found) };
    }
    if (issueLabels && method === 'GET') return { status: 200, body: (labels.get(Number(issueLabels[1])) ?? []).map((name, i) => ({ id: i + 1, name, color: 'ededed' })) };
    if (path === `${repo}/deployments` && method === 'POST') {
      const created: Deployment = { id: nextId++, ref: String(body.ref ?? ''), environment: String(body.environment ?? 'production'), transient: body.transient_environment === true, statuses: [] };
      if (created.ref === '') return { status: 422, body: { message: 'Invalid request.\n\n"ref" wasn\'t supplied.', status: '422' } };
      deployments.push(created);
      return { status: 201, body: { id: created.id, ref: created.ref, environment: created.environment, transient_environment: created.transient } };
    }
    if (path === `${repo}/deployments` && method === 'GET') {
      const environment = query.get('environment');
      return { status: 200, body: deployments.filter((d) => environment === null || d.environment === environment).reverse().map((d) => ({ id: d.id, ref: d.ref, environment: d.environment })) };
    }
    if (statuses && method === 'POST') {
      const deployment = deployments.find((d) => d.id === Number(statuses[1]));
      if (!deployment) return notFound();
      const state = String(body.state ?? '');
      deployment.statuses.push({ state, environmentUrl: String(body.environment_url ?? ''), description: String(body.description ?? '') });
      // GitHub marks the environment's earlier deployments inactive when a new one succeeds with auto_inactive.
      if (state === 'success' && body.auto_inactive !== false) {
        for (const other of deployments) {
          const last = other.statuses.at(-1)?.state;
          if (other !== deployment && other.environment === deployment.environment && last === 'success') other.statuses.push({ state: 'inactive', environmentUrl: '', description: 'auto' });
        }
      }
      return { status: 201, body: { id: nextId++, state } };
    }
    return undefined;
  }

  function route(method: string, path: string, authorization: string, query: URLSearchParams = new URLSearchParams(), body: Record<string, unknown> = {}): { status: number; body: unknown } {
    const given = authorization.replace(/^(token|bearer)\s+/i, '');
    if (given === '') return { status: 401, body: { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest', status: '401' } };
    if (given !== token && given !== deniedToken) return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
    if (given === token) {
      const answer = previewRoute(method, path, query, body);
      if (answer) return answer;
    }
    const environment = new RegExp(`^/repos/${OWNER}/${REPO}/environments/([^/]+)$`).exec(path);
    const runApprovals = new RegExp(`^/repos/${OWNER}/${REPO}/actions/runs/(\\d+)/approvals$`).exec(path);
    if (method !== 'GET' || (!environment && !runApprovals)) return notFound();
    if (given === deniedToken) {
      return { status: 403, body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' } };
    }
    if (environment) {
      const name = decodeURIComponent(environment[1]!);
      const reviewers = environments.get(name);
      return reviewers ? { status: 200, body: environmentJson(name, reviewers, base) } : notFound();
    }
    return { status: 200, body: (approvals.get(runApprovals![1]!) ?? []).map((approval) => approvalJson(approval, base)) };
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://x');
      const path = url.pathname;
      const authorization = request.headers.authorization ?? '';
      let sent: Record<string, unknown> = {};
      try {
        sent = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        sent = {};
      }
      const { status, body } = route(request.method ?? 'GET', path, authorization, url.searchParams, sent);
      requests.push({ method: request.method ?? 'GET', path, authorization, status });
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-request-id': `REQ${requests.length}` }).end(JSON.stringify(body));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    token,
    deniedToken,
    requests,
    setReviewers: (environment, reviewers) => environments.set(environment, reviewers),
    setApprovals: (runId, list) => approvals.set(runId, list),
    setLabels: (pr, list) => labels.set(pr, list),
    comments: (pr) => comments.get(pr) ?? [],
    deployments: (environment) => deployments.filter((d) => d.environment === environment),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function notFound(): { status: number; body: unknown } {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' } };
}

function userJson(login: string, api: string) {
  return { login, id: login.length * 1000, node_id: `U_${login}`, type: 'User', site_admin: false, url: `${api}/users/${login}`, html_url: `${WEB}/${login}` };
}

function environmentJson(name: string, reviewers: readonly Reviewer[], api: string) {
  return {
    id: 161088068,
    node_id: 'EN_kwDOGxyz',
    name,
    url: `${api}/repos/${OWNER}/${REPO}/environments/${encodeURIComponent(name)}`,
    html_url: `${WEB}/${OWNER}/${REPO}/deployments/activity_log?environments_filter=${encodeURIComponent(name)}`,
    created_at: '2025-01-10T09:00:00Z',
    updated_at: '2025-01-10T09:00:00Z',
    can_admins_bypass: true,
    protection_rules: [
      { id: 3736, node_id: 'GA_wait', type: 'wait_timer', wait_timer: 0 },
      {
        id: 3755,
        node_id: 'GA_reviewers',
        prevent_self_review: false,
        type: 'required_reviewers',
        reviewers: reviewers.map((reviewer) =>
          'user' in reviewer
            ? { type: 'User', reviewer: userJson(reviewer.user, api) }
            : {
                type: 'Team',
                reviewer: { id: 1, node_id: `T_${reviewer.team}`, name: reviewer.team.toUpperCase(), slug: reviewer.team, html_url: `${WEB}/orgs/${OWNER}/teams/${reviewer.team}` },
              },
        ),
      },
      { id: 3756, node_id: 'GA_branch', type: 'branch_policy' },
    ],
    deployment_branch_policy: { protected_branches: true, custom_branch_policies: false },
  };
}

function approvalJson(approval: Approval, api: string) {
  return {
    environments: [
      {
        id: 161088068,
        node_id: 'EN_kwDOGxyz',
        name: approval.environment,
        url: `${api}/repos/${OWNER}/${REPO}/environments/${approval.environment}`,
        html_url: `${WEB}/${OWNER}/${REPO}/deployments/activity_log?environments_filter=${approval.environment}`,
        created_at: '2025-01-10T09:00:00Z',
        updated_at: '2025-01-10T09:00:00Z',
      },
    ],
    state: approval.state ?? 'approved',
    comment: approval.comment ?? '',
    user: userJson(approval.user, api),
  };
}
