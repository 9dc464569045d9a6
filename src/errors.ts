import type { FailureReport } from './failure/report.js';

/**
 * A mistake the user can fix (an input, a host's setup): reported as one line, without a
 * stack trace. Anything else that escapes is a bug in deploy-kit and is shown with its stack.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Something on the host or a service refused: the deploy stops, the message says why. */
export class OperationError extends Error {
  override readonly name: string = 'OperationError';
}

/**
 * The SSH connection to a host went away (dropped, killed, timed out): nothing more can reach
 * that host in this run, so recovery there is not attempted. Thrown where the loss is seen
 * (src/ssh/connection.ts), and told apart by its class, never by its message.
 */
export class ConnectionLostError extends OperationError {
  override readonly name: string = 'ConnectionLostError';
}

/**
 * A command on the host exited non-zero (or was killed): what ran, as a person would type it
 * (a hook's text, Compose's command line), how it ended, and the last lines of its error
 * output, for a failure report. Its message is the one-line story.
 */
export class CommandFailedError extends OperationError {
  override readonly name: string = 'CommandFailedError';

  constructor(
    message: string,
    readonly command: string,
    /** `exit 3`, `killed by SIGKILL`. */
    readonly exit: string,
    readonly stderrTail: readonly string[],
  ) {
    super(message);
  }
}

/** A run that failed with a failure report (src/failure/): the actions put it in the summary and `failure-reason`. */
export class ReportedFailure extends OperationError {
  override readonly name: string = 'ReportedFailure';

  constructor(
    message: string,
    readonly failure: FailureReport,
  ) {
    super(message);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
