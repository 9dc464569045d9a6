import { describe, expect, test } from '@jest/globals';
import { approvers, requiredReviewers } from '../../src/notify/approvals.js';
import { lookupNote } from '../../src/notify/github-lookups.js';
import { elapsedSince } from '../../src/notify/run.js';

describe('requiredReviewers', () => {
  test('reads users and teams of the required_reviewers rule, skipping other rules', () => {
    const environment = {
      protection_rules: [
        { type: 'wait_timer' },
        {
          type: 'required_reviewers',
          reviewers: [
            { type: 'User', reviewer: { login: 'alice', html_url: 'https://github.com/alice' } },
            { type: 'Team', reviewer: { slug: 'sre', html_url: 'https://github.com/orgs/acme/teams/sre' } },
            { type: 'User', reviewer: { login: 'alice', html_url: 'https://github.com/alice' } },
          ],
        },
        { type: 'branch_policy' },
      ],
    };
    expect(requiredReviewers(environment, 'acme')).toEqual([
      { name: '@alice', url: 'https://github.com/alice' },
      { name: '@acme/sre', url: 'https://github.com/orgs/acme/teams/sre' },
    ]);
  });

  test('an environment without protection rules has no reviewers', () => {
    expect(requiredReviewers({}, 'acme')).toEqual([]);
  });
});

describe('approvers', () => {
  const reviews = [
    { state: 'approved', user: { login: 'bob', html_url: 'https://github.com/bob' }, environments: [{ name: 'production' }] },
    { state: 'rejected', user: { login: 'dave', html_url: 'https://github.com/dave' }, environments: [{ name: 'production' }] },
    { state: 'approved', user: { login: 'carol', html_url: 'https://github.com/carol' }, environments: [{ name: 'staging' }] },
  ];

  test('who approved the given environment (case-insensitive), not who rejected', () => {
    expect(approvers(reviews, 'Production')).toEqual([{ name: '@bob', url: 'https://github.com/bob' }]);
  });

  test('every approval when no environment is given', () => {
    expect(approvers(reviews, '').map((person) => person.name)).toEqual(['@bob', '@carol']);
  });
});

describe('lookupNote', () => {
  test('a token without permission: says what was not read, that a link stands in, and which permission helps', () => {
    const denied = Object.assign(new Error('Resource not accessible by integration - https://docs.github.com/rest'), { status: 403 });
    expect(lookupNote("the required reviewers of environment 'production'", denied)).toBe(
      "Could not read the required reviewers of environment 'production' (HTTP 403: Resource not accessible by integration - https://docs.github.com/rest); " +
        "the message links to the workflow run instead. To show names, give the job 'permissions: actions: read' " +
        "(or pass a 'github-token' that can read the repository's environments and runs).",
    );
  });

  test('anything else: the reason, and the link', () => {
    expect(lookupNote('the approvals of run 7', new Error('fetch failed'))).toBe('Could not read the approvals of run 7 (fetch failed); the message links to the workflow run instead.');
  });
});

describe('elapsedSince', () => {
  test("a Slack ts is the time the message was posted: the deploy's duration", () => {
    expect(elapsedSince('1700000000.000100', 1_700_000_125_000)).toBeCloseTo(124_999.9, 0);
  });

  test('unknown when there is no ts, or it is in the future or older than a week', () => {
    expect(elapsedSince('', 1_700_000_000_000)).toBeUndefined();
    expect(elapsedSince('1700000100.000000', 1_700_000_000_000)).toBeUndefined();
    expect(elapsedSince('1600000000.000000', 1_700_000_000_000)).toBeUndefined();
  });
});
