import { type Block, type SlackMessage, escape, fields, header, link, linkButton, section } from './blocks.js';
import { type NotifyStatus, STATUS_LOOK, wantsMention } from './status.js';

/** Someone on GitHub, shown as `@login` (a user) or `@org/team` (a team), linked to their page. */
export interface Person {
  readonly name: string;
  readonly url: string;
}

/** Everything a deploy message says; built by the action from its inputs, the run and GitHub. */
export interface MessageFacts {
  readonly status: NotifyStatus;
  readonly app: string;
  readonly environment: string;
  readonly version: string;
  readonly environmentUrl: string;
  /** Replaces the generated sentence when not empty (Slack mrkdwn, used as given). */
  readonly text: string;
  /** Added on failure and rolled-back. */
  readonly mention: string;
  /** Why the deploy failed (action-deploy's `failure-reason`); shown under the run link on failure and rolled-back. */
  readonly failureReason?: string;
  readonly actor: string;
  readonly commit: string;
  /** '' when the commit cannot be linked. */
  readonly commitUrl: string;
  /** '' outside GitHub Actions. */
  readonly runUrl: string;
  readonly durationMs?: number;
  /** approval-needed: who can approve; undefined when unknown, and the message links to the run page instead. */
  readonly reviewers?: readonly Person[];
  /** Who approved this run's deployment; not shown when empty. */
  readonly approvedBy?: readonly Person[];
}

/**
 * Builds the Block Kit message: a header and one sentence on top, then a colour bar (by
 * status) holding the facts as fields and link buttons. `text` is the plain fallback.
 */
export function buildMessage(facts: MessageFacts): SlackMessage {
  const look = STATUS_LOOK[facts.status];
  const mention = wantsMention(facts.status) ? slackMention(facts.mention) : '';
  const sentence = facts.text !== '' ? facts.text : describe(facts, MRKDWN);
  const plain = facts.text !== '' ? facts.text : describe(facts, PLAIN) + reviewersSentence(facts) + whySentence(facts);
  const more = details(facts);
  return {
    text: joined([mention, `${look.emoji} ${plain}`]),
    blocks: [header(`${look.emoji} ${title(facts)}`), section(joined([mention, sentence]))],
    attachments: more.length === 0 ? [] : [{ color: look.color, blocks: more }],
  };
}

/** `app version -> environment`, leaving out what is not known. */
export function title(facts: Pick<MessageFacts, 'app' | 'version' | 'environment'>): string {
  const what = joined([facts.app, facts.version]);
  if (facts.environment === '') return what === '' ? 'deploy' : what;
  return what === '' ? facts.environment : `${what} -> ${facts.environment}`;
}

/** `@here`, `@channel` and `@everyone` only notify anyone in Slack's own syntax. */
export function slackMention(raw: string): string {
  return raw
    .split(/[\s,]+/)
    .filter((part) => part !== '')
    .map((part) => BROADCASTS[part.toLowerCase()] ?? part)
    .join(' ');
}

const BROADCASTS: Readonly<Record<string, string>> = { '@here': '<!here>', '@channel': '<!channel>', '@everyone': '<!everyone>' };

/** 45000 -> '45s', 125000 -> '2m 5s', 3720000 -> '1h 2m'. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return seconds % 60 === 0 ? `${seconds / 60}m` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  const minutes = Math.floor((seconds % 3600) / 60);
  return minutes === 0 ? `${Math.floor(seconds / 3600)}h` : `${Math.floor(seconds / 3600)}h ${minutes}m`;
}

interface Style {
  strong(text: string): string;
  code(text: string): string;
}

const MRKDWN: Style = { strong: (text) => `*${escape(text)}*`, code: (text) => `\`${escape(text)}\`` };
const PLAIN: Style = { strong: (text) => text, code: (text) => text };

function describe(facts: MessageFacts, style: Style): string {
  const app = facts.app === '' ? '' : style.strong(facts.app);
  const subject = joined([app, facts.version === '' ? '' : style.code(facts.version)]) || 'The app';
  const env = style.strong(facts.environment);
  const to = facts.environment === '' ? '' : ` to ${env}`;
  const on = facts.environment === '' ? '' : ` on ${env}`;
  switch (facts.status) {
    case 'started':
      return `Deploying ${subject}${to}.`;
    case 'success':
      return `Deployed ${subject}${to}.`;
    case 'failure':
      return `Deploy of ${subject}${to} failed.`;
    case 'rolled-back':
      return `${subject}${on} was rolled back.`;
    case 'approval-needed':
      return `${subject} is waiting for approval to deploy${to}.`;
    case 'info':
      return `${subject}${on}.`;
  }
}

/** The failure reason, shown on failure and rolled-back only. */
function shownReason(facts: MessageFacts): string {
  return wantsMention(facts.status) ? (facts.failureReason ?? '') : '';
}

function whySentence(facts: MessageFacts): string {
  const reason = shownReason(facts);
  return reason === '' ? '' : ` Why: ${reason}`;
}

function reviewersSentence(facts: MessageFacts): string {
  if (facts.status !== 'approval-needed' || !facts.reviewers?.length) return '';
  return ` Can approve: ${facts.reviewers.map((person) => person.name).join(', ')}.`;
}

function details(facts: MessageFacts): Block[] {
  const pairs: [string, string][] = [];
  if (facts.environment !== '') pairs.push(['Environment', escape(facts.environment)]);
  if (facts.version !== '') pairs.push(['Version', `\`${escape(facts.version)}\``]);
  if (facts.commit !== '') {
    const short = facts.commit.slice(0, 7);
    pairs.push(['Commit', facts.commitUrl === '' ? `\`${escape(short)}\`` : link(facts.commitUrl, short)]);
  }
  if (facts.actor !== '') pairs.push(['Actor', escape(facts.actor)]);
  if (facts.durationMs !== undefined) pairs.push(['Duration', formatElapsed(facts.durationMs)]);
  if (facts.approvedBy?.length) pairs.push(['Approved by', people(facts.approvedBy)]);
  if (facts.status === 'approval-needed') pairs.push(['Can approve', canApprove(facts)]);

  const buttons = [];
  if (facts.runUrl !== '') {
    buttons.push(
      facts.status === 'approval-needed'
        ? linkButton('review-deployment', 'Review deployment', facts.runUrl, 'primary')
        : linkButton('workflow-run', 'Workflow run', facts.runUrl),
    );
  }
  if (facts.environmentUrl !== '') buttons.push(linkButton('environment-url', 'Open app', facts.environmentUrl));

  const blocks: Block[] = [];
  if (pairs.length > 0) blocks.push(fields(pairs));
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  const reason = shownReason(facts);
  // In a preformatted block; a run of backticks in the text would end it early.
  if (reason !== '') blocks.push(section(`*Why it failed*\n\`\`\`${escape(reason).replace(/`{3,}/g, "'''")}\`\`\``));
  return blocks;
}

function canApprove(facts: MessageFacts): string {
  if (facts.reviewers?.length) return people(facts.reviewers);
  return facts.runUrl === '' ? 'see the workflow run' : link(facts.runUrl, 'See the workflow run');
}

function people(list: readonly Person[]): string {
  return list.map((person) => (person.url === '' ? escape(person.name) : link(person.url, person.name))).join(', ');
}

function joined(parts: readonly string[]): string {
  return parts.filter((part) => part !== '').join(' ');
}
