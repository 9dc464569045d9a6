// How the demo tells its story: which of an action's log lines matter, how a Slack message
// reads, and the closing table. Pure formatting; demo/run.ts does the I/O.
import type { ActionRun } from '../test/harness/run-action.js';
import type { StoredMessage } from '../test/harness/slack-api-server.js';

export type Expectation = (run: ActionRun, serving: string) => string | undefined | Promise<string | undefined>;

export interface StepRecord {
  readonly title: string;
  readonly ms: number;
  readonly ok: boolean;
  readonly result: string;
  readonly serving: string;
}

/** The lines a person wants from an action's log: phases, what happened in them, warnings, errors. */
export function keyLines(stdout: string): string[] {
  const lines: string[] = [];
  for (const line of stdout.split('\n')) {
    if (line.startsWith('::group::')) lines.push(`▸ ${line.slice('::group::'.length)}`);
    else if (line.startsWith('::error::')) lines.push(`✘ ${decode(line.slice('::error::'.length))}`);
    else if (line.startsWith('::warning::')) lines.push(`! ${decode(line.slice('::warning::'.length))}`);
    else if (line.startsWith('::') || line.trim() === '') continue;
    else lines.push(`    ${line}`);
  }
  return lines;
}

const decode = (text: string): string => text.replace(/%0A/g, ' / ').replace(/%0D/g, '').replace(/%25/g, '%');

/** A Slack message as a person would read it: its fallback text and the visible field texts. */
export function describeSlackMessage(message: StoredMessage): string {
  return `"${(message.text ?? '').replace(/\s+/g, ' ').trim()}"`;
}

export function printTable(records: readonly StepRecord[], totalMs: number): void {
  const width = Math.max(...records.map((r) => r.title.length), 4);
  console.log(`\n${'Step'.padEnd(width)}  Result  Time    Serving`);
  console.log(`${'-'.repeat(width)}  ------  ------  -------`);
  for (const r of records) {
    console.log(`${r.title.padEnd(width)}  ${(r.ok ? 'ok' : 'FAILED').padEnd(6)}  ${`${(r.ms / 1000).toFixed(1)}s`.padEnd(6)}  ${r.serving}`);
    if (!r.ok) console.log(`${' '.repeat(width)}  -> ${r.result}`);
  }
  const failed = records.filter((r) => !r.ok).length;
  console.log(`\n${failed === 0 ? 'Every step behaved as the story says' : `${failed} step(s) did not behave as the story says`}; ${(totalMs / 1000).toFixed(0)}s in all.`);
}
