import type { GateResult } from '../health/types.js';

/** One host's gate result, named. */
export interface HostGate {
  readonly host: string;
  readonly result: GateResult;
}

/**
 * The verdict over several hosts: healthy only when every host is. The result stands for the
 * first unhealthy host (its reason names it), or, when all pass, for the slowest one (the
 * highest p95), so the outputs describe the worst host. Pure.
 */
export function combineGates(gates: readonly HostGate[]): GateResult {
  const unhealthy = gates.find((g) => !g.result.healthy);
  const worst = unhealthy ?? [...gates].sort((a, b) => (b.result.p95Ms ?? 0) - (a.result.p95Ms ?? 0))[0]!;
  const failing = gates.filter((g) => !g.result.healthy).map((g) => g.host);
  return {
    ...worst.result,
    healthy: unhealthy === undefined,
    reason: unhealthy ? `${failing.length} of ${gates.length} hosts unhealthy (${failing.join(', ')}); ${unhealthy.host}: ${unhealthy.result.reason}` : '',
    elapsedMs: Math.max(...gates.map((g) => g.result.elapsedMs)),
  };
}
