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

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
