import { formatDuration } from '../inputs/parse.js';
import type { PhaseTiming } from '../report.js';
import type { DeployResult } from './result.js';
import type { ComposeDeploySettings, SwarmDeploySettings } from './settings.js';
import { failureReason, failureSummary } from '../failure/report.js';

const ICON: Record<DeployResult['status'], string> = { deployed: '✅', failed: '❌', 'rolled-back': '↩️', planned: '📝' };

const escape = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The job summary of a deploy, as Markdown. Pure. */
export function deploySummary(settings: Pick<ComposeDeploySettings | SwarmDeploySettings, 'app' | 'version' | 'ssh'>, result: DeployResult, phases: readonly PhaseTiming[]): string {
  const lines = [
    `## ${ICON[result.status]} ${settings.app} ${settings.version}: ${result.status}`,
    '',
    `| | |`,
    `|---|---|`,
    `| Host | \`${settings.ssh.host}\` |`,
    `| Release | ${result.releaseId || '–'} |`,
    `| Previous release | ${result.previousReleaseId ?? '– (first release)'} |`,
    `| Duration | ${formatDuration(result.durationMs)} |`,
  ];
  if (result.strategy && result.strategy !== 'recreate') {
    const overlap = result.overlapMs !== undefined ? `; old and new ran side by side for ${formatDuration(result.overlapMs)}` : '';
    lines.push(`| Strategy | ${result.strategy}${overlap} |`);
  }
  if (result.gate) {
    const g = result.gate;
    lines.push(`| Health gate | ${g.healthy ? 'passed' : 'failed'}: ${g.successes} passing round(s) of ${g.attempts}${g.p95Ms !== undefined ? `, p95 ${Math.round(g.p95Ms)}ms` : ''}${g.reason ? `, last: ${escape(g.reason)}` : ''} |`);
  }
  if (result.error) lines.push('', `> ${escape(result.error)}`);
  if (result.failure) lines.push('', failureSummary(result.failure, failureReason(result.failure, result.error ?? '')));
  const images = Object.entries(result.images);
  if (images.length > 0) {
    lines.push('', '### Images', '', '| Service | Image (pinned) |', '|---|---|', ...images.map(([s, ref]) => `| ${s} | \`${ref}\` |`));
  }
  if (phases.length > 0) {
    lines.push('', '### Phases', '', '| Phase | Time | |', '|---|---:|---|', ...phases.map((p) => `| ${escape(p.name)} | ${formatDuration(p.ms)} | ${p.ok ? 'ok' : 'failed'} |`));
  }
  if (result.plan.length > 0) lines.push('', '### Plan (dry run, nothing changed)', '', '```', ...result.plan, '```');
  return `${lines.join('\n')}\n`;
}
