import { CommandFailedError, errorMessage } from '../errors.js';
import type { GateResult } from '../health/types.js';
import type { Reporter } from '../report.js';
import type { RemoteHost } from '../ssh/connection.js';
import { ContainerScope, describeContainers, parseContainerSuspects } from './containers.js';
import { FailureReport, failedResponses, failureLogLines } from './report.js';
import { Suspect, suspectsWorthShowing } from './suspect.js';
import { describeServices, parseServiceSuspects } from './swarm.js';

/** What is known where a run failed; the host is asked for the rest. */
export interface FailureContext {
  /** The phase it failed in. */
  readonly where: string;
  readonly error: unknown;
  /** The failed release's containers, once any were started. */
  readonly containers?: ContainerScope | undefined;
  readonly gate?: GateResult | undefined;
  /** `failure-log-lines`: how many of each container's last log lines to read (0: none). */
  readonly logLines: number;
  /** Reads the suspects another way (a Swarm stack's services) instead of `containers`. */
  readonly readSuspects?: () => Promise<Suspect[]>;
}

/** Reads the containers in scope on the host: Docker's state of each and its last log lines. */
export async function readContainerSuspects(host: Pick<RemoteHost, 'run'>, scope: ContainerScope, logLines: number): Promise<Suspect[]> {
  const line = describeContainers(scope, logLines);
  return parseContainerSuspects((await host.run(line)).stdout, line.sections);
}

/** Reads a Swarm stack's services on the host: their failed tasks and last log lines. */
export async function readServiceSuspects(host: Pick<RemoteHost, 'run'>, stack: string, logLines: number): Promise<Suspect[]> {
  const line = describeServices(stack, logLines);
  return parseServiceSuspects((await host.run(line)).stdout, line.sections, stack);
}

/**
 * Gathers a failure report before anything is removed or restored, and tells it in a log group
 * of its own. Never throws: what the host cannot tell is said in the report.
 */
export function diagnoseFailure(host: Pick<RemoteHost, 'run'> | undefined, context: FailureContext, reporter: Reporter): Promise<FailureReport> {
  return reporter.group('Why it failed', async () => {
    const report = await readFailure(host, context);
    for (const line of failureLogLines(report)) reporter.info(line);
    return report;
  });
}

async function readFailure(host: Pick<RemoteHost, 'run'> | undefined, context: FailureContext): Promise<FailureReport> {
  const { error } = context;
  const command = error instanceof CommandFailedError ? { command: error.command, exit: error.exit, stderr: error.stderrTail } : undefined;
  let suspects: Suspect[] = [];
  let unreadable: string | undefined;
  const read = context.readSuspects ?? (context.containers && host ? () => readContainerSuspects(host, context.containers!, context.logLines) : undefined);
  if (read) {
    try {
      suspects = suspectsWorthShowing(await read());
    } catch (failure) {
      unreadable = errorMessage(failure);
    }
  }
  return { where: context.where, ...(command ? { command } : {}), suspects, responses: failedResponses(context.gate), ...(unreadable ? { unreadable } : {}) };
}
