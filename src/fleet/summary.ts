import { formatDuration } from '../inputs/parse.js';
import type { ReleaseSettings } from '../deploy/settings.js';
import type { FleetResult, HostOutcome } from './deploy.js';
import { failureReason, failureSummary } from '../failure/report.js';

const ICON: Record<HostOutcome['status'], string> = { deployed: '✅', failed: '❌', 'rolled-back': '↩️', planned: '📝', 'not started': '⏸️' };

const escape = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The job summary of a deploy to several hosts: the release, then one row per host. Pure. */
export function fleetSummary(settings: Pick<ReleaseSettings, 'app' | 'version'>, result: FleetResult): string {
  const status = result.status === 'planned' ? 'planned' : result.status;
  const lines = [
    `## ${ICON[result.status]} ${settings.app} ${settings.version}: ${status} on ${result.hosts.length} hosts`,
    '',
    '| | |',
    '|---|---|',
    `| Release | ${result.releaseId || '–'} |`,
    `| Hosts at a time | ${result.parallel} |`,
    `| Duration | ${formatDuration(result.durationMs)} |`,
  ];
  if (result.error) lines.push('', `> ${escape(result.error)}`);
  lines.push(
    '',
    '### Hosts',
    '',
    '| Host | Result | Time | Slowest phase | Rolled back |',
    '|---|---|---:|---|---|',
    ...result.hosts.map((h) => {
      const slowest = [...h.phases].sort((a, b) => b.ms - a.ms)[0];
      const phase = slowest ? `${escape(slowest.name)} (${formatDuration(slowest.ms)})` : '–';
      const outcome = h.error ? `${ICON[h.status]} ${h.status}: ${escape(h.error)}` : `${ICON[h.status]} ${h.status}`;
      return `| \`${h.host}\` | ${outcome} | ${h.status === 'not started' ? '–' : formatDuration(h.durationMs)} | ${phase} | ${h.rollback ? escape(h.rollback) : '–'} |`;
    }),
  );
  for (const h of result.hosts) {
    if (h.failure) lines.push('', failureSummary(h.failure, failureReason(h.failure, h.error ?? ''), `### Why it failed on \`${h.host}\``));
  }
  const images = Object.entries(result.images);
  if (images.length > 0) {
    lines.push('', '### Images (the same digests on every host)', '', '| Service | Image (pinned) |', '|---|---|', ...images.map(([s, ref]) => `| ${s} | \`${ref}\` |`));
  }
  if (result.plan.length > 0) lines.push('', '### Plan (dry run, nothing changed)', '', '```', ...result.plan, '```');
  return `${lines.join('\n')}\n`;
}
