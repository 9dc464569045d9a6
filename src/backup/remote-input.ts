import { Readable } from 'node:stream';
import type { Command, ShellLine } from '../shell/quote.js';
import type { ExecResult, RemoteHost } from '../ssh/connection.js';

/**
 * Runs a command on the host with a stream as its standard input (a backup going into
 * pg_restore), optionally preceded by one line (the password, for the `PASSWORD_PRELUDE`).
 *
 * `data` failing (network, checksum, decryption) must not leave the remote command waiting
 * for more input: the error is kept and the input simply ends early, so pg_restore sees a
 * truncated archive, fails, and its single transaction rolls back. The caller reports the
 * kept error as the cause.
 */
export interface InputRun {
  readonly result: ExecResult;
  /** Why `data` stopped before its end, if it did. */
  readonly inputError: Error | undefined;
}

export async function runWithInput(host: RemoteHost, command: Command | ShellLine, firstLine: string | undefined, data: Readable): Promise<InputRun> {
  let inputError: Error | undefined;
  const input = Readable.from(
    (async function* feed() {
      if (firstLine !== undefined) yield Buffer.from(firstLine);
      try {
        for await (const chunk of data) yield chunk as Buffer;
      } catch (error) {
        inputError = error instanceof Error ? error : new Error(String(error));
      }
    })(),
    { objectMode: false },
  );
  try {
    const result = await host.run(command, { stdin: input, allowFailure: true });
    return { result, inputError };
  } finally {
    input.destroy();
    data.destroy();
  }
}
