import { formatDuration } from '../inputs/parse.js';
import type { GateResult, GateSettings } from './types.js';
import { describeResult, displayUrl } from './words.js';
import { tableCell } from '../util/markdown.js';

/** Rounds shown in full in the summary; beyond this, the first and the last ones. */
const MAX_ROWS = 40;
const HEAD_ROWS = 10;

/** The gate's result in one line, after "Health gate ": `passed: 3/3 rounds in a row, ...` or `failed: HTTP 404 from ...; 0/3 rounds in a row, ...`. */
export function describeVerdict(settings: Pick<GateSettings, 'successes'>, result: GateResult): string {
  const rounds = `${result.successes}/${settings.successes} passing rounds in a row, ${result.attempts} round${result.attempts === 1 ? '' : 's'} in ${formatDuration(result.elapsedMs)}`;
  const latency = result.p95Ms === undefined ? '' : `, p50 ${result.p50Ms}ms, p95 ${result.p95Ms}ms`;
  return result.healthy ? `passed: ${rounds}${latency}` : `failed: ${result.reason}; ${rounds}${latency}`;
}

/** The action outputs of a gate result (`p50-ms`/`p95-ms` empty when no request passed). */
export function gateOutputs(result: GateResult): Record<string, string> {
  return {
    healthy: String(result.healthy),
    attempts: String(result.attempts),
    successes: String(result.successes),
    'p50-ms': result.p50Ms === undefined ? '' : String(result.p50Ms),
    'p95-ms': result.p95Ms === undefined ? '' : String(result.p95Ms),
    reason: result.reason,
  };
}


/** The job summary: the verdict, then a table of rounds with a column per URL and per check. */
export function gateSummary(settings: Pick<GateSettings, 'urls' | 'successes' | 'maxLatencyMs'>, result: GateResult): string {
  const lines: string[] = [];
  lines.push(`### Health gate: ${result.healthy ? '✅ healthy' : '❌ unhealthy'}`, '');
  lines.push(tableCell(`Health gate ${describeVerdict(settings, result)}`), '');
  if (settings.maxLatencyMs !== undefined) lines.push(`Latency limit: p95 at most ${settings.maxLatencyMs}ms.`, '');

  const checkNames = [...new Set(result.rounds.flatMap((r) => (r.checks ?? []).map((c) => c.name)))];
  const header = ['Round', 'Started', 'Result', ...settings.urls.map((u) => tableCell(displayUrl(u))), ...checkNames.map(tableCell)];
  lines.push(`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`);

  const rows = result.rounds.map((round) => {
    const byUrl = new Map(round.results.map((r) => [r.url, r]));
    const urlCells = settings.urls.map((u) => {
      const r = byUrl.get(displayUrl(u));
      return r ? `${r.ok ? '' : '❌ '}${tableCell(describeResult(r))}` : '';
    });
    const checkCells = checkNames.map((name) => {
      const c = round.checks?.find((x) => x.name === name);
      return c ? `${c.ok ? '' : '❌ '}${tableCell(c.detail)}` : '';
    });
    const started = round.atMs === undefined ? '' : formatDuration(round.atMs);
    return `| ${[String(round.n), started, round.ok ? 'pass' : 'fail', ...urlCells, ...checkCells].join(' | ')} |`;
  });
  if (rows.length <= MAX_ROWS) {
    lines.push(...rows);
  } else {
    const tail = MAX_ROWS - HEAD_ROWS;
    const skipped = rows.length - MAX_ROWS;
    lines.push(...rows.slice(0, HEAD_ROWS), `| … | | ${skipped} more rounds | ${header.slice(3).map(() => '').join(' | ')} |`, ...rows.slice(-tail));
  }
  return `${lines.join('\n')}\n`;
}
