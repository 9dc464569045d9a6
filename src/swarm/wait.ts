import { formatDuration } from '../inputs/parse.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { poll } from '../util/poll.js';
import { inspectStack } from './commands.js';
import { StackService, StackVerdict, judgeStack, parseStack } from './converge.js';

export interface ConvergeOutcome {
  readonly ok: boolean;
  readonly reason: string;
  readonly services: readonly StackService[];
}

/**
 * Swarm clears a service's update status when `docker stack deploy` updates it and sets
 * `updating` once its orchestrator picks the update up, a moment later; the first look
 * waits that moment out, so the old tasks are not mistaken for the new ones.
 */
const SETTLE_MS = 1500;

/** Polls the stack until every service converged on its current spec, one failed, or `timeoutMs` passed. */
export async function waitForStack(
  host: RemoteHost,
  stack: string,
  expected: readonly string[],
  timeoutMs: number,
  reporter: Reporter,
  goal: 'update' | 'rollback' = 'update',
): Promise<ConvergeOutcome> {
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  let last: readonly StackService[] = [];
  let lastReason = '';
  /** Why Swarm started rolling back, which its final status no longer says. */
  let cause = '';
  const outcome = await poll<StackVerdict>(
    async () => {
      const inspect = inspectStack(stack);
      const verdict = judgeStack(parseStack(stack, inspect.sections.read((await host.run(inspect)).stdout)), expected, goal);
      last = verdict.services;
      if (goal === 'update') cause = verdict.services.find((s) => s.update?.state === 'rollback_started')?.update?.message || cause;
      if (verdict.kind !== 'waiting') return { done: true, value: verdict };
      if (verdict.reason !== lastReason) reporter.info(`waiting: ${verdict.reason}`);
      lastReason = verdict.reason;
      return { done: false, reason: verdict.reason };
    },
    { timeoutMs, intervalMs: 1000 },
  );
  if (outcome.done && outcome.value.kind === 'ready') {
    reporter.info(`services converged: ${last.map((s) => `${s.name} ${s.running}/${s.desired}${s.update ? ` (update ${s.update.state})` : ''}`).join(', ')}`);
    return { ok: true, reason: '', services: last };
  }
  const failed = outcome.done && outcome.value.kind === 'failed' ? outcome.value.reason : undefined;
  const reason = failed
    ? `${failed}${cause && !failed.includes(cause) ? `, after: ${cause}` : ''}`
    : `services not converged after ${formatDuration(timeoutMs)}: ${lastReason}`;
  return { ok: false, reason, services: last };
}
