import * as core from '@actions/core';
import { ConfigurationError, OperationError } from '../errors.js';
import type { InputSource } from '../inputs/parse.js';
import { maskedForms } from '../inputs/secrets.js';
import type { Reporter } from '../report.js';

/**
 * The edge to the GitHub runner: the only module of the shared library that imports
 * @actions/core. Actions read inputs, mask secrets, log, set outputs and write the job
 * summary through it.
 */
export const readInput: InputSource = (name) => core.getInput(name);

/** Masks a secret in everything the runner logs, in the forms src/inputs/secrets.ts decides. */
export function maskSecret(value: string): void {
  for (const form of maskedForms(value)) core.setSecret(form);
}

export const coreReporter: Reporter = {
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  debug: (message) => core.debug(message),
  group: (title, fn) => core.group(title, fn),
};

export function setOutputs(outputs: Readonly<Record<string, string | number | boolean | undefined>>): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value === undefined ? '' : String(value));
}

export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(markdown, true).write();
}

/**
 * Runs an action's body and turns what escapes into one `::error::` line: a user's
 * mistake or a refusal by the host as its message, anything else (a bug) with its stack.
 */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof ConfigurationError || error instanceof OperationError) {
      core.setFailed(error.message);
    } else {
      core.setFailed(error instanceof Error ? (error.stack ?? error.message) : String(error));
    }
  }
}

