import { ComposeProject } from '../compose/cli.js';
import { ContainerView, ContainersVerdict, inspectContainers, judgeContainers, parseContainers, probesGivenUp } from '../compose/containers.js';
import type { GateResult } from '../health/types.js';
import { formatDuration } from '../inputs/parse.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { poll } from '../util/poll.js';
import { Command, ShellLine, constant, shellLine } from '../shell/quote.js';
import { startContainers } from './commands.js';

export interface ContainersOutcome {
  readonly ok: boolean;
  readonly reason: string;
  readonly containers: readonly ContainerView[];
}

/** A recorded release put back: its containers, and its health check when there is one. */
export interface RestoreOutcome extends ContainersOutcome {
  readonly gate: GateResult | undefined;
  /** Containers up and, when a gate is configured, the gate passed. */
  readonly healthy: boolean;
}

/** How long a container without a HEALTHCHECK must run without restarting to count as up. */
export const STABLE_SECONDS = 3;

/** How long one poll may wait on the host for a HEALTHCHECK still `starting` to decide. */
const SETTLE_SECONDS = 2;

export interface WaitOptions {
  /** Runs first, in the round trip of the first look at the containers (`up`: its output goes to stderr). */
  readonly start?: Command | ShellLine;
  /**
   * Run a `starting` container's HEALTHCHECK command right away instead of waiting for Docker
   * to (see inspectContainers). Not where a proxy routes by Docker's health status (rolling):
   * it must see the new containers healthy before the old ones go.
   */
  readonly probe?: boolean;
}

/** Polls a project's containers until all are healthy (or running and stable), or `timeoutMs` passes. */
export async function waitForContainers(host: RemoteHost, projectName: string, timeoutMs: number, reporter: Reporter, options: WaitOptions = {}): Promise<ContainersOutcome> {
  let last: readonly ContainerView[] = [];
  let lastReason = '';
  const givenUp = new Set<string>();
  let start = options.start;
  const outcome = await poll<ContainersVerdict>(
    async () => {
      const look = inspectContainers(projectName, { settleSeconds: SETTLE_SECONDS, probe: options.probe, givenUp: [...givenUp] });
      // A failed `up` fails the step with its own error output, as it would on its own.
      const first = start && shellLine(start);
      const { stdout } = await host.run(first ? constant(`{ ${first.text}; } >&2 && { ${look.text}; }`) : look, first ? { label: first.label ?? first.text } : {});
      start = undefined;
      for (const id of probesGivenUp(stdout)) givenUp.add(id);
      const verdict = judgeContainers(parseContainers(stdout), STABLE_SECONDS);
      last = verdict.containers;
      if (verdict.kind !== 'waiting') return { done: true, value: verdict };
      if (verdict.reason !== lastReason) reporter.info(`waiting: ${verdict.reason}`);
      lastReason = verdict.reason;
      return { done: false, reason: verdict.reason };
    },
    // Each poll is one exec over the open connection; a short interval keeps the gate from
    // waiting on us after Docker has marked the containers healthy.
    { timeoutMs, intervalMs: 250 },
  );
  if (outcome.done && outcome.value.kind === 'ready') {
    reporter.info(`containers up: ${last.map((c) => `${c.name} (${c.probed ? 'healthy: its HEALTHCHECK passed when run at once' : (c.health ?? c.state)})`).join(', ')}`);
    return { ok: true, reason: '', containers: last };
  }
  const reason = outcome.done && outcome.value.kind === 'failed' ? outcome.value.reason : `containers not healthy after ${formatDuration(timeoutMs)}: ${lastReason}`;
  return { ok: false, reason, containers: last };
}

/** `up -d --remove-orphans` for a release's project, then waits for its containers (the first look in the same round trip). */
export async function startAndWait(host: RemoteHost, project: ComposeProject, timeoutMs: number, reporter: Reporter, options: WaitOptions = {}): Promise<ContainersOutcome> {
  return waitForContainers(host, project.name, timeoutMs, reporter, { ...options, start: startContainers(project) });
}
