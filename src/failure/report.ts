import type { GateResult } from '../health/types.js';
import type { Suspect } from './suspect.js';
import { escapeHtml, tableCell } from '../util/markdown.js';

/**
 * Why a deploy, rollback or health gate failed, gathered before anything was removed or
 * restored: the command that failed, the containers (or Swarm services) of the failed release,
 * and the health gate's last failing responses. Pure: the words of the log, the summary and
 * the `failure-reason` output, so all three say the same thing.
 */
export interface FailureReport {
  /** The phase it failed in: `Start containers`, `Pre-deploy`. */
  readonly where: string;
  readonly command?: FailedCommand;
  readonly suspects: readonly Suspect[];
  readonly responses: readonly FailedResponse[];
  /** Set when the host could not be asked (the report holds what was known without it). */
  readonly unreadable?: string;
}

/** A command that exited non-zero, as it was typed (a hook's text, Compose's command line). */
export interface FailedCommand {
  readonly command: string;
  /** `exit 3`, `killed by SIGKILL`. */
  readonly exit: string;
  /** The last lines of its error output (its output when it wrote no errors). */
  readonly stderr: readonly string[];
}

/** One failed request of the health gate's last failing rounds. */
export interface FailedResponse {
  readonly round: number;
  readonly url: string;
  readonly status?: number;
  readonly ms?: number;
  readonly error?: string;
  /** The first bytes of the response's body, when one came. */
  readonly body?: string;
}

/** Failing rounds whose responses a report keeps. */
const ROUNDS_KEPT = 3;
/** The longest `failure-reason` (an output, and a line of a Slack message). */
const MAX_REASON = 300;
/** The longest command shown in the reason. */
const COMMAND_IN_REASON = 100;

/** The failed requests of the gate's last failing rounds, oldest first. */
export function failedResponses(gate: GateResult | undefined): FailedResponse[] {
  if (!gate || gate.healthy) return [];
  const failing = gate.rounds.filter((round) => round.results.some((r) => !r.ok)).slice(-ROUNDS_KEPT);
  return failing.flatMap((round) =>
    round.results
      .filter((r) => !r.ok)
      .map((r) => ({
        round: round.n,
        url: r.url,
        ...(r.status === undefined ? {} : { status: r.status }),
        ...(r.ms === undefined ? {} : { ms: r.ms }),
        ...(r.error === undefined ? {} : { error: r.error }),
        ...(r.body === undefined ? {} : { body: r.body }),
      })),
  );
}

/** What Docker puts before a log line's text: its timestamp, and for `docker service logs` the task (`shop_web.1@node1    | `). */
const LOG_PREFIX = /^(\d{4}-\d\d-\d\dT[\d:.]+Z\s+)?([\w.-]+@[\w.-]+\s*\|\s?)?/;

/** The last line of output with text, without Docker's prefix. */
const lastLine = (lines: readonly string[]): string => [...lines].reverse().map((line) => line.replace(LOG_PREFIX, '').trim()).find((text) => text !== '') ?? '';

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' / ').trim();

function clip(text: string, max = MAX_REASON): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A suspect in one line: `web exited with code 1: Error: connect ECONNREFUSED 10.0.0.5:5432`. */
export function describeSuspect(suspect: Suspect): string {
  const checks = suspect.checks[suspect.checks.length - 1]?.replace(/^\S+ exit -?\d+: /, '') ?? '';
  const clue = suspect.clueFromChecks ? checks || lastLine(suspect.logs) : lastLine(suspect.logs) || checks;
  return `${suspect.service || suspect.name} ${suspect.status}${clue ? `: ${clue}` : ''}`;
}

/** A failed response in one line: `HTTP 500 from http://.../health in 4ms: database is down`. */
export function describeResponse(response: FailedResponse): string {
  const what = response.error?.startsWith('HTTP ')
    ? response.error
    : response.status !== undefined
      ? `HTTP ${response.status} from ${response.url}${response.error ? ` (${response.error})` : ''}`
      : `${response.url}: ${response.error ?? 'failed'}`;
  const took = response.ms === undefined ? '' : ` in ${response.ms}ms`;
  const body = response.body?.trim() ? `: ${oneLine(response.body)}` : '';
  return `${what}${took}${body}`;
}

/**
 * The reason in one line, for the `failure-reason` output and Slack: the failed command, else
 * the first container that is not healthy, else the gate's last failing response, else
 * `fallback` (the error's own message).
 */
export function failureReason(report: FailureReport | undefined, fallback: string): string {
  if (!report) return clip(oneLine(fallback));
  if (report.command) {
    const said = lastLine(report.command.stderr);
    // The command cut short here (the log and the summary show it whole), so its error line fits.
    return clip(`${report.where}: '${clip(oneLine(report.command.command), COMMAND_IN_REASON)}' failed (${report.command.exit})${said ? `: ${said}` : ''}`);
  }
  const suspect = report.suspects.find((s) => s.unhealthy);
  if (suspect) return clip(describeSuspect(suspect));
  const response = report.responses[report.responses.length - 1];
  if (response) return clip(`health gate: ${describeResponse(response)}`);
  return clip(oneLine(fallback));
}

/** Whether the report found anything to show. */
export const hasFindings = (report: FailureReport): boolean => report.command !== undefined || report.suspects.length > 0 || report.responses.length > 0;

/** The report as log lines (the `Why it failed` group). */
export function failureLogLines(report: FailureReport): string[] {
  const lines: string[] = [];
  if (report.command) {
    lines.push(`failed command (${report.where}, ${report.command.exit}): ${report.command.command}`);
    lines.push(...report.command.stderr.map((line) => `  stderr | ${line}`));
  }
  for (const suspect of report.suspects) {
    lines.push(`${suspect.name}${suspect.service ? ` (${suspect.service})` : ''} ${suspect.status}; ${suspect.facts.map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    lines.push(...suspect.checks.map((check) => `  check | ${check}`));
    lines.push(...(suspect.logs.length > 0 ? suspect.logs.map((line) => `  log | ${line}`) : ['  (no log lines)']));
  }
  for (const response of report.responses) lines.push(`health gate round ${response.round}: ${describeResponse(response)}`);
  if (report.unreadable) lines.push(`the host could not be asked for more: ${report.unreadable}`);
  if (lines.length === 0) lines.push('nothing more to show: the error above is all that is known');
  return lines;
}

/** A code fence longer than any run of backticks in the text, so the text cannot end it. */
function fenced(lines: readonly string[]): string[] {
  const longest = Math.max(2, ...lines.map((line) => Math.max(0, ...(line.match(/`+/g) ?? []).map((run) => run.length))));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}text`, ...lines, fence];
}


/** The job summary's `Why it failed` section: the reason, the failed command, a collapsible section per container, the gate's last responses. */
export function failureSummary(report: FailureReport, reason: string, heading = '### Why it failed'): string {
  const lines = [heading, '', `**${tableCell(reason)}**`, ''];
  if (report.command) {
    lines.push(`Failed command (${tableCell(report.where)}, ${report.command.exit}):`, '', ...fenced([`$ ${report.command.command}`, ...report.command.stderr]), '');
  }
  for (const suspect of report.suspects) {
    lines.push(
      `<details${suspect.unhealthy ? ' open' : ''}><summary><code>${escapeHtml(suspect.name)}</code>${suspect.service ? ` (${escapeHtml(suspect.service)})` : ''} ${escapeHtml(suspect.status)}</summary>`,
      '',
      '| | |',
      '|---|---|',
      ...suspect.facts.map(([name, value]) => `| ${tableCell(name)} | ${tableCell(value)} |`),
      '',
    );
    if (suspect.checks.length > 0) lines.push('Last health checks:', '', ...fenced(suspect.checks), '');
    const n = suspect.logs.length;
    lines.push(n === 0 ? 'No log lines.' : n === 1 ? 'Last log line:' : `Last ${n} log lines:`, '');
    if (suspect.logs.length > 0) lines.push(...fenced(suspect.logs), '');
    lines.push('</details>', '');
  }
  if (report.responses.length > 0) {
    lines.push('Health gate, last failing responses:', '', ...report.responses.map((r) => `- round ${r.round}: ${tableCell(describeResponse(r))}`), '');
  }
  if (report.unreadable) lines.push(`The host could not be asked for more: ${tableCell(report.unreadable)}`, '');
  return `${lines.join('\n').trimEnd()}\n`;
}
