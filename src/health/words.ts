import { redactUrl } from '../inputs/secrets.js';
import type { GateCheck, GateRound } from './types.js';

/**
 * How the gate's findings read in the log, the summary and `reason`. Pure functions over
 * round results, so that all three say the same thing in the same words.
 */
export type UrlResult = GateRound['results'][number];

/** A URL as shown to people: its password, a token as user name and query values (already masked in logs) replaced by `***`. */
export function displayUrl(url: string): string {
  return redactUrl(url) ?? url;
}

/** `HTTP 404 from http://...` names its URL already; other failures do not. */
function namesUrl(result: UrlResult): boolean {
  return result.status !== undefined && result.error === `HTTP ${result.status} from ${result.url}`;
}

/** A result in a cell of its URL's column: `200 in 12ms`, `HTTP 404 in 3ms`, `timeout after 5s`. */
export function describeResult(result: UrlResult): string {
  const took = result.ms === undefined ? '' : ` in ${result.ms}ms`;
  if (result.ok) return `${result.status}${took}`;
  if (namesUrl(result)) return `HTTP ${result.status}${took}`;
  return result.error ?? 'failed';
}

/** A result on a line of its own, naming its URL. */
export function describeResultWithUrl(result: UrlResult): string {
  if (result.ok) return `${result.url} ${describeResult(result)}`;
  if (namesUrl(result)) return `${result.error}${result.ms === undefined ? '' : ` in ${result.ms}ms`}`;
  return `${result.url}: ${describeResult(result)}`;
}

/** The failure of a round in words: the first URL or check that failed. '' when it passed. */
export function roundFailure(round: GateRound, manyUrls: boolean): string {
  const failed = round.results.find((r) => !r.ok);
  if (failed) return !manyUrls || namesUrl(failed) ? (failed.error ?? 'failed') : `${failed.error ?? 'failed'} (${failed.url})`;
  const check = round.checks?.find((c: GateCheck) => !c.ok);
  return check ? check.detail : '';
}

/** One log line per round: `round 2: FAIL (0/3 in a row): HTTP 404 from http://... in 3ms`. */
export function describeRound(round: GateRound, streak: number, needed: number): string {
  const parts = [...round.results.map(describeResultWithUrl), ...(round.checks ?? []).map((c) => `${c.name}: ${c.detail}`)];
  return `round ${round.n}: ${round.ok ? 'pass' : 'FAIL'} (${streak}/${needed} in a row): ${parts.join('; ')}`;
}
