/**
 * A mistake the user can fix (an input, a host's setup): reported as one line, without a
 * stack trace. Anything else that escapes is a bug in deploy-kit and is shown with its stack.
 */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** Something on the host or a service refused: the deploy stops, the message says why. */
export class OperationError extends Error {
  override readonly name = 'OperationError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
