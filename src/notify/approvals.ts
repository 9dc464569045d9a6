import type { Person } from './message.js';

/**
 * Reads who may approve and who approved out of GitHub's REST answers (the few fields used,
 * so the real Octokit types and test fixtures both fit).
 */
export interface AccountJson {
  readonly login?: string;
  readonly slug?: string;
  readonly html_url?: string;
}

export interface EnvironmentJson {
  readonly protection_rules?: readonly {
    readonly type?: string;
    readonly reviewers?: readonly { readonly type?: string; readonly reviewer?: AccountJson | null }[];
  }[];
}

export interface ReviewJson {
  readonly state?: string;
  readonly user?: AccountJson | null;
  readonly environments?: readonly { readonly name?: string }[];
}

/** GET /repos/{owner}/{repo}/environments/{name}: the required reviewers, users as `@login`, teams as `@owner/slug`. */
export function requiredReviewers(environment: EnvironmentJson, owner: string): Person[] {
  const people: Person[] = [];
  for (const rule of environment.protection_rules ?? []) {
    if (rule.type !== 'required_reviewers') continue;
    for (const { type, reviewer } of rule.reviewers ?? []) {
      if (type === 'Team' && reviewer?.slug) people.push({ name: `@${owner}/${reviewer.slug}`, url: reviewer.html_url ?? '' });
      else if (reviewer?.login) people.push({ name: `@${reviewer.login}`, url: reviewer.html_url ?? '' });
    }
  }
  return unique(people);
}

/** GET /repos/{owner}/{repo}/actions/runs/{id}/approvals: who approved, for `environment` when given. */
export function approvers(reviews: readonly ReviewJson[], environment: string): Person[] {
  const wanted = environment.toLowerCase();
  const people = reviews
    .filter((review) => review.state === 'approved' && review.user?.login)
    .filter((review) => wanted === '' || (review.environments ?? []).some((env) => env.name?.toLowerCase() === wanted))
    .map((review) => ({ name: `@${review.user!.login!}`, url: review.user!.html_url ?? '' }));
  return unique(people);
}

function unique(people: readonly Person[]): Person[] {
  return people.filter((person, index) => people.findIndex((other) => other.name === person.name) === index);
}
