import { formatDuration } from '../inputs/parse.js';
import type { PhaseTiming } from '../report.js';
import type { BackupResult } from './backup.js';
import type { RestoreResult } from './restore-database.js';

/** The job summaries of a backup and of a restore, as Markdown. Pure. */
const escape = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** `true: \`2333\``, or without the result when it is withheld (a custom query can return rows). */
function verifiedCell(result: { readonly verified: boolean; readonly verifyResult: string | undefined }): string {
  if (!result.verified) return 'false';
  return result.verifyResult === undefined ? 'true (the result of the custom verify query is withheld)' : `true: \`${escape(result.verifyResult)}\``;
}

function phasesTable(phases: readonly PhaseTiming[]): string[] {
  if (phases.length === 0) return [];
  return ['', '### Phases', '', '| Phase | Time | |', '|---|---:|---|', ...phases.map((p) => `| ${escape(p.name)} | ${formatDuration(p.ms)} | ${p.ok ? 'ok' : 'failed'} |`)];
}

export function backupSummary(app: string, result: BackupResult, phases: readonly PhaseTiming[]): string {
  const m = result.manifest;
  const lines = [
    `## ✅ ${app}: backed up`,
    '',
    '| | |',
    '|---|---|',
    `| Key | \`${result.key}\` |`,
    `| Bytes | ${result.bytes} (dump ${result.dumpBytes}) |`,
    `| SHA-256 | \`${result.sha256}\` |`,
    `| Duration | ${(result.durationMs / 1000).toFixed(1)} s |`,
    `| Verified | ${verifiedCell(result)} |`,
    `| Compression | ${m.compression} |`,
    `| Encryption | ${m.encryption ? `age, ${m.encryption.recipients.length} recipient(s)` : 'none'} |`,
    `| Dump tool | ${escape(m.dumpTool ?? 'user command')} |`,
  ];
  if (result.localCopies) lines.push(`| Local copies | ${result.localCopies.kept} on the host${result.localCopies.removed.length ? `, removed ${result.localCopies.removed.length}` : ''} |`);
  lines.push(`| Retention | ${result.kept} kept, ${result.deleted.length} deleted |`);
  if (result.deleted.length > 0) {
    lines.push('', '### Deleted by retention', '', '| Key | Why |', '|---|---|', ...result.deleted.map((d) => `| \`${d.key}\` | ${escape(d.reason)} |`));
  }
  lines.push(...phasesTable(phases));
  return `${lines.join('\n')}\n`;
}

export function restoreSummary(app: string, result: RestoreResult, phases: readonly PhaseTiming[]): string {
  const lines = [
    `## ✅ ${app}: restored`,
    '',
    '| | |',
    '|---|---|',
    `| Key | \`${result.key}\` |`,
    `| Into | \`${escape(result.target)}\` |`,
    `| Bytes | ${result.bytes} |`,
    `| SHA-256 | \`${result.sha256}\` (matched the manifest) |`,
    `| Duration | ${(result.durationMs / 1000).toFixed(1)} s |`,
    `| Verified | ${verifiedCell(result)} |`,
    `| Backup made | ${result.manifest.createdAt} by ${result.manifest.run} |`,
  ];
  lines.push(...phasesTable(phases));
  return `${lines.join('\n')}\n`;
}

/** A failed run's summary: what was asked, and why it stopped. */
export function failureSummary(app: string, mode: 'backup' | 'restore', message: string, phases: readonly PhaseTiming[]): string {
  return `${[`## ❌ ${app}: ${mode} failed`, '', `> ${escape(message)}`, ...phasesTable(phases)].join('\n')}\n`;
}
