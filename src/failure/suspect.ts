/**
 * One thing a failure report looks at: a container of the failed release, or a Swarm service
 * whose tasks failed. What Docker says of it, its health check's or tasks' last words, and the
 * last lines of its logs.
 */
export interface Suspect {
  /** The container (`shop-web-1`) or service (`shop_web`). */
  readonly name: string;
  /** The compose service it runs (`web`). */
  readonly service: string;
  /** Docker does not call it healthy: stopped, restarting, OOM-killed, unhealthy, or its tasks failed. */
  readonly unhealthy: boolean;
  /** What is wrong in a few words, after its service's name: `exited with code 1`, `is unhealthy`, `is running`. */
  readonly status: string;
  /** Docker's facts as (name, value) pairs: state, exit code, OOM-killed, restarts, health. */
  readonly facts: readonly (readonly [string, string])[];
  /** Whether the reason's clue is the last check output (a failing HEALTHCHECK, a task's error) rather than the last log line. */
  readonly clueFromChecks: boolean;
  /** The last outputs of its HEALTHCHECK, or its failed tasks' errors, oldest first. */
  readonly checks: readonly string[];
  /** The last lines of its logs, with Docker's timestamps. */
  readonly logs: readonly string[];
}

/** The suspects a report shows: those Docker does not call healthy, or all when none is (a gate failed on running containers). */
export function suspectsWorthShowing(suspects: readonly Suspect[]): Suspect[] {
  const unhealthy = suspects.filter((s) => s.unhealthy);
  return unhealthy.length > 0 ? unhealthy : [...suspects];
}
