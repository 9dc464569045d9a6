import type { Reporter } from '../report.js';
import type { SlackMessage } from './blocks.js';
import type { Lookup } from './github-lookups.js';
import { type MessageFacts, type Person, buildMessage } from './message.js';
import { type NotifyRun, elapsedSince } from './run.js';
import { type Delivery, type SlackSender, SlackDeliveryError } from './sender.js';
import type { NotifySettings } from './settings.js';
import { isOutcome } from './status.js';

/** What notify needs from GitHub; GitHubLookups in production. */
export interface PeopleSource {
  reviewers(environment: string): Promise<Lookup<Person[]>>;
  approvers(environment: string): Promise<Lookup<Person[]>>;
}

export interface NotifyDeps {
  readonly slack: SlackSender;
  /** Absent without a github-token: no names, the message links to the run. */
  readonly github?: PeopleSource;
  readonly reporter: Reporter;
  /** Unix time in milliseconds. */
  readonly now: () => number;
}

export interface NotifyOutcome {
  readonly message: SlackMessage;
  readonly delivery?: Delivery;
  /** Why Slack did not take the message, naming the fix. */
  readonly problem?: string;
  readonly reviewers?: readonly Person[];
  readonly approvedBy?: readonly Person[];
  /** Lookups that came back empty-handed, and why. */
  readonly notes: readonly string[];
}

/** Looks up who approves / approved, builds the message and delivers it. Slack trouble is returned, not thrown. */
export async function notify(settings: NotifySettings, run: NotifyRun, deps: NotifyDeps): Promise<NotifyOutcome> {
  const people = await lookUpPeople(settings, deps);
  const message = buildMessage(messageFacts(settings, run, deps.now(), people));
  const channel = settings.destination.kind === 'api' ? settings.destination.channel : '';
  return deps.reporter.group('Send to Slack', async () => {
    try {
      const delivery = await deps.slack.send({ message, channel, ts: settings.ts, threadTs: settings.threadTs });
      deps.reporter.info(deliveredLine(delivery, settings.threadTs));
      return { message, delivery, ...people };
    } catch (error) {
      if (!(error instanceof SlackDeliveryError)) throw error;
      return { message, problem: error.message, ...people };
    }
  });
}

export function messageFacts(settings: NotifySettings, run: NotifyRun, nowMs: number, people: Pick<NotifyOutcome, 'reviewers' | 'approvedBy'>): MessageFacts {
  const since = settings.ts !== '' ? settings.ts : settings.threadTs;
  return {
    status: settings.status,
    app: settings.app,
    environment: settings.environment,
    version: settings.version,
    environmentUrl: settings.environmentUrl,
    text: settings.text,
    mention: settings.mention,
    failureReason: settings.failureReason,
    actor: run.actor,
    commit: run.commit,
    commitUrl: run.commitUrl,
    runUrl: run.runUrl,
    durationMs: isOutcome(settings.status) ? elapsedSince(since, nowMs) : undefined,
    reviewers: people.reviewers,
    approvedBy: people.approvedBy,
  };
}

export function deliveredLine(delivery: Delivery, threadTs: string): string {
  switch (delivery.how) {
    case 'posted':
      return `Posted message ${delivery.ts} to channel ${delivery.channel}.`;
    case 'replied':
      return `Replied in thread ${threadTs} of channel ${delivery.channel} with message ${delivery.ts}.`;
    case 'updated':
      return `Updated message ${delivery.ts} in channel ${delivery.channel} in place.`;
    case 'webhook':
      return 'Posted through the incoming webhook.';
  }
}

type People = Pick<NotifyOutcome, 'reviewers' | 'approvedBy' | 'notes'>;

async function lookUpPeople(settings: NotifySettings, deps: NotifyDeps): Promise<People> {
  const github = deps.github;
  const wantsReviewers = settings.status === 'approval-needed' && settings.environment !== '';
  const wantsApprovals = settings.status === 'started' || isOutcome(settings.status);
  if (!github || !(wantsReviewers || wantsApprovals)) return { notes: [] };
  return deps.reporter.group('Look up approvals on GitHub', async () => {
    const lookup = wantsReviewers ? await github.reviewers(settings.environment) : await github.approvers(settings.environment);
    if (!lookup.found) {
      deps.reporter.info(lookup.note);
      return { notes: [lookup.note] };
    }
    const names = lookup.value.map((person) => person.name).join(', ') || 'nobody';
    deps.reporter.info(wantsReviewers ? `Can approve: ${names}.` : `Approved by: ${names}.`);
    return wantsReviewers ? { reviewers: lookup.value, notes: [] } : { approvedBy: lookup.value, notes: [] };
  });
}
