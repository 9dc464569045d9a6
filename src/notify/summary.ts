import { title } from './message.js';
import type { NotifyOutcome } from './notify.js';
import type { Person } from './message.js';
import type { NotifySettings } from './settings.js';
import { STATUS_LOOK } from './status.js';
import { escapeHtml } from '../util/markdown.js';

/** The job summary: what was posted where (or why not), the fallback text, and who approves / approved. */
export function notifySummary(settings: NotifySettings, outcome: NotifyOutcome): string {
  const lines = [`### ${STATUS_LOOK[settings.status].emoji} Slack notification: ${escapeHtml(title(settings))}`, ''];
  lines.push(outcome.delivery ? delivered(outcome, settings) : `⚠️ Not delivered. ${escapeHtml(outcome.problem ?? '')}`);
  lines.push('', `> ${escapeHtml(outcome.message.text)}`);
  if (outcome.reviewers?.length) lines.push('', `Can approve: ${names(outcome.reviewers)}`);
  if (outcome.approvedBy?.length) lines.push('', `Approved by: ${names(outcome.approvedBy)}`);
  for (const note of outcome.notes) lines.push('', `ℹ️ ${escapeHtml(note)}`);
  return `${lines.join('\n')}\n`;
}

function delivered(outcome: NotifyOutcome, settings: NotifySettings): string {
  const delivery = outcome.delivery!;
  const where = `channel \`${delivery.channel}\``;
  switch (delivery.how) {
    case 'posted':
      return `Posted a new message to ${where}: ts \`${delivery.ts}\` (pass the \`ts\` and \`channel\` outputs to a later step to update it).`;
    case 'replied':
      return `Replied in thread \`${settings.threadTs}\` of ${where}: ts \`${delivery.ts}\`.`;
    case 'updated':
      return `Updated message \`${delivery.ts}\` in ${where} in place.`;
    case 'webhook':
      return 'Posted through the incoming webhook (webhook messages cannot be updated later).';
  }
}

function names(people: readonly Person[]): string {
  return people.map((person) => (person.url === '' ? escapeHtml(person.name) : `[${escapeHtml(person.name)}](${person.url})`)).join(', ');
}

