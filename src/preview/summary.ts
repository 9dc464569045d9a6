import { failureSummary } from '../failure/report.js';
import type { PhaseTiming } from '../report.js';
import { tableCell } from '../util/markdown.js';
import type { PreviewOutcome } from './preview.js';
import type { PreviewSettings } from './settings.js';

/** The job summary of one action-preview run. */
export function previewSummary(settings: PreviewSettings, outcome: PreviewOutcome, phases: readonly PhaseTiming[]): string {
  const pr = settings.pr;
  const title =
    settings.command === 'cleanup'
      ? `## Preview cleanup: ${outcome.removed.length} removed`
      : outcome.status === 'live'
        ? `## ✅ Preview of #${pr!.pr} is live: ${pr!.url}`
        : outcome.status === 'failed'
          ? `## ❌ Preview of #${pr!.pr} failed`
          : `## Preview of #${pr!.pr} removed`;
  const lines = [title, ''];
  if (pr && settings.command === 'open') {
    lines.push('| | |', '|---|---|');
    lines.push(`| Preview | ${tableCell(pr.name)} |`, `| URL | ${tableCell(pr.url)} |`, `| Version | \`${tableCell(pr.open!.release.version)}\` |`);
    if (outcome.deploy) lines.push(`| Release | ${outcome.deploy.releaseId} (${outcome.deploy.status}) |`);
    if (outcome.gate) lines.push(`| Health gate | ${tableCell(outcome.gate)} |`);
    lines.push('');
  }
  if (outcome.status === 'failed' && outcome.deploy?.failure) lines.push(failureSummary(outcome.deploy.failure, outcome.reason), '');
  else if (outcome.status === 'failed') lines.push(`Why: ${tableCell(outcome.reason)}`, '');
  if (outcome.removed.length > 0) {
    lines.push('### Removed', '', '| Preview | Pull request | Why |', '|---|---|---|');
    for (const r of outcome.removed) lines.push(`| ${tableCell(r.name)} | #${r.pr} | ${tableCell(r.why)} |`);
    lines.push('');
  }
  if (phases.length > 0) {
    lines.push('| Phase | Time |', '|---|---|');
    for (const phase of phases) lines.push(`| ${tableCell(phase.name)}${phase.ok ? '' : ' ❌'} | ${(phase.ms / 1000).toFixed(1)}s |`);
  }
  return `${lines.join('\n')}\n`;
}
