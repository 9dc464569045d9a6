import type { Reporter } from '../report.js';
import { Clock, poll, systemClock } from '../util/poll.js';
import { latencyFailure, percentile } from './latency.js';
import type { ProbeOutcome } from './probe.js';
import type { GateCheck, GateResult, GateRound, GateSettings } from './types.js';
import { describeRound, displayUrl, roundFailure } from './words.js';

/** Requests one URL once; never throws. */
export type Probe = (url: string) => Promise<ProbeOutcome>;

/** A check besides the URLs that every round must pass (the containers of a project); never throws. */
export type RoundCheck = () => Promise<GateCheck>;

export interface RoundDependencies {
  readonly probe: Probe;
  readonly checks?: readonly RoundCheck[];
  readonly reporter: Reporter;
  readonly clock?: Clock;
}

type RoundSettings = Pick<GateSettings, 'urls' | 'successes' | 'intervalMs' | 'timeoutMs' | 'maxLatencyMs'>;

/**
 * The gate's loop: a round every `intervalMs` in which every URL is requested (in parallel)
 * and every check made; healthy after `successes` passing rounds in a row (a failing round
 * starts the count again), unhealthy when `timeoutMs` is spent. A round that starts before
 * the deadline runs to its end, so the gate never takes longer than the budget plus one
 * round. When `maxLatencyMs` is set, the p95 of the passing requests' round trips must be
 * within it.
 */
export async function runRounds(settings: RoundSettings, deps: RoundDependencies): Promise<GateResult> {
  const clock = deps.clock ?? systemClock;
  const started = clock.now();
  const manyUrls = settings.urls.length > 1;
  const rounds: GateRound[] = [];
  const passingMs: number[] = [];
  let streak = 0;
  let lastFailure = '';

  const outcome = await poll<true>(
    async (n) => {
      const atMs = Math.round(clock.now() - started);
      const [results, checks] = await Promise.all([
        Promise.all(settings.urls.map(async (url) => ({ url: displayUrl(url), ...(await deps.probe(url)) }))),
        Promise.all((deps.checks ?? []).map((check) => check())),
      ]);
      const ok = results.every((r) => r.ok) && checks.every((c) => c.ok);
      const round: GateRound = { n, ok, results, atMs, ...(checks.length > 0 ? { checks } : {}) };
      rounds.push(round);
      for (const r of results) if (r.ok && r.ms !== undefined) passingMs.push(r.ms);
      streak = ok ? streak + 1 : 0;
      if (!ok) lastFailure = roundFailure(round, manyUrls);
      deps.reporter.info(describeRound(round, streak, settings.successes));
      return streak >= settings.successes ? { done: true, value: true } : { done: false, reason: lastFailure };
    },
    // An interval of 0 means back to back; poll reads 0 as "no time left".
    { timeoutMs: settings.timeoutMs, intervalMs: Math.max(1, settings.intervalMs), clock },
  );

  const p50Ms = percentile(passingMs, 50);
  const p95Ms = percentile(passingMs, 95);
  const tooSlow = outcome.done ? latencyFailure(p95Ms, settings.maxLatencyMs) : '';
  const healthy = outcome.done && tooSlow === '';
  return {
    healthy,
    attempts: outcome.attempts,
    successes: streak,
    p50Ms,
    p95Ms,
    reason: healthy ? '' : tooSlow || lastFailure,
    elapsedMs: Math.round(clock.now() - started),
    rounds,
  };
}
