import { formatDuration } from '../inputs/parse.js';
import type { PhaseTiming } from '../report.js';
import type { FleetRollbackResult } from '../fleet/rollback.js';
import type { RollbackResult, RollbackSettings } from './rollback.js';
import { FailureReport, failureReason, failureSummary } from '../failure/report.js';

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
    ...(result.failure ? [failureSummary(result.failure, failureReason(result.failure, result.restore.gate?.reason || result.restore.reason))] : []),
  ].join('\n');
}

/** The job summary of a rollback that failed with a failure report (the release it restored did not come up). Pure. */
export function failedRollbackSummary(settings: Pick<RollbackSettings, 'app' | 'to'>, message: string, failure: FailureReport): string {
  return [`## ❌ ${settings.app}: rollback to ${settings.to} FAILED`, '', `> ${message.replace(/\|/g, '\\|').replace(/\n/g, ' ')}`, '', failureSummary(failure, failureReason(failure, message))].join('\n');
}

/** The job summary of a rollback of several hosts: one row per host. Pure. */
export function fleetRollbackSummary(settings: Pick<RollbackSettings, 'app' | 'reason' | 'to'>, result: FleetRollbackResult): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `## ${result.ok ? '↩️' : '❌'} ${settings.app}: rollback to ${settings.to} on ${result.hosts.length} hosts${result.ok ? '' : ' FAILED'}`,
    '',
    ...(result.error ? [`> ${cell(result.error)}`, ''] : []),
    `Reason: ${settings.reason ? cell(settings.reason) : '–'}`,
    '',
    '| Host | Active release | Rolled back from | Healthy | Problem |',
    '|---|---|---|---|---|',
    ...result.hosts.map((h) =>
      h.result
        ? `| \`${h.host}\` | ${h.result.releaseId} (${cell(h.result.version)}) | ${h.result.rolledBackFrom} | ${h.result.healthy ? 'yes' : 'no'} | ${h.error ? cell(h.error) : '–'} |`
        : `| \`${h.host}\` | – | – | – | ${h.error ? cell(h.error) : 'not rolled back (stopped after a failure)'} |`,
    ),
    '',
    ...result.hosts.flatMap((h) => (h.failure ? [failureSummary(h.failure, failureReason(h.failure, h.error ?? ''), `### Why it failed on \`${h.host}\``)] : [])),
  ].join('\n');
}
