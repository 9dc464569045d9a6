import { formatDuration } from '../inputs/parse.js';
import type { PhaseTiming } from '../report.js';
import type { RollbackResult, RollbackSettings } from './rollback.js';

/** The job summary of a rollback, as Markdown. Pure. */
export function rollbackSummary(settings: Pick<RollbackSettings, 'app' | 'ssh' | 'reason'>, result: RollbackResult, phases: readonly PhaseTiming[]): string {
  const gate = result.restore.gate;
  return [
    `## ↩️ ${settings.app}: rolled back to release ${result.releaseId} (${result.version})`,
    '',
    '| | |',
    '|---|---|',
    `| Host | \`${settings.ssh.host}\` |`,
    `| Active release | ${result.releaseId} (${result.version}) |`,
    `| Rolled back from | ${result.rolledBackFrom} |`,
    `| Reason | ${settings.reason || '–'} |`,
    `| Healthy | ${result.healthy ? 'yes' : 'no'}${gate ? ` (gate: ${gate.successes} passing rounds of ${gate.attempts}${gate.reason ? `, ${gate.reason}` : ''})` : ''} |`,
    '',
    '| Phase | Time |',
    '|---|---:|',
    ...phases.map((p) => `| ${p.name} | ${formatDuration(p.ms)} |`),
    '',
  ].join('\n');
}
