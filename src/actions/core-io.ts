import * as core from '@actions/core';
import { ConfigurationError, OperationError } from '../errors.js';
import type { InputSource } from '../inputs/parse.js';
import { MaskList, maskedForms } from '../inputs/secrets.js';
import type { Reporter } from '../report.js';

/**
 * The edge to the GitHub runner: the only module of the shared library that imports
 * @actions/core. Actions read inputs, mask secrets, log, set outputs and write the job
 * summary through it.
 */
export const readInput: InputSource = (name) => core.getInput(name);

/** Every form of every secret masked in this run. */
const masked = new MaskList();

/**
 * Masks a secret, in the forms src/inputs/secrets.ts decides: the runner masks them in its log,
 * and everything this module writes (log lines, outputs, the job summary, the error line) has
 * them replaced before it is written, since text from the host (a container's logs, a health
 * endpoint's body) may carry them, and outputs and summaries leave the runner's log.
 */
export function maskSecret(value: string): void {
  for (const form of maskedForms(value)) {
    core.setSecret(form);
    masked.add(form);
  }
}

/** Text with every masked secret replaced by `***`. */
export const redact = (text: string): string => masked.redact(text);

export const coreReporter: Reporter = {
  info: (message) => core.info(redact(message)),
  warning: (message) => core.warning(redact(message)),
  debug: (message) => core.debug(redact(message)),
  group: (title, fn) => core.group(redact(title), fn),
};

export function setOutputs(outputs: Readonly<Record<string, string | number | boolean | undefined>>): void {
  for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value === undefined ? '' : redact(String(value)));
}

export async function writeSummary(markdown: string): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  await core.summary.addRaw(redact(markdown), true).write();
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
      core.setFailed(redact(error.message));
    } else {
      core.setFailed(redact(error instanceof Error ? (error.stack ?? error.message) : String(error)));
    }
  }
}

