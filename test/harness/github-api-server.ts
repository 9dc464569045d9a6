import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for api.github.com on 127.0.0.1, answering the two endpoints action-notify reads
 * the way GitHub does: an environment's protection rules, and a run's approvals. A token can
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
  close(): Promise<void>;
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
  let base = '';

  function route(method: string, path: string, authorization: string): { status: number; body: unknown } {
    const given = authorization.replace(/^(token|bearer)\s+/i, '');
    if (given === '') return { status: 401, body: { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest', status: '401' } };
    if (given !== token && given !== deniedToken) return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
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
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      const authorization = request.headers.authorization ?? '';
      const { status, body } = route(request.method ?? 'GET', path, authorization);
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
