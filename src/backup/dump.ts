import type { Readable } from 'node:stream';
import { OperationError } from '../errors.js';
import { formatDuration } from '../inputs/parse.js';
import type { Reporter } from '../report.js';
import type { RemoteStream } from '../ssh/connection.js';
import { describeTarget } from '../ssh/settings.js';
import { EndGate, Meter, chain, compressor, encryptStream } from './codec.js';
import { PgRunner, dumpCommand, onHost, openWorkdir, partialCopyPath, passwordLine, pgDumpVersion, prepareCopiesDir, withLocalCopy } from './commands.js';
import { BackupHost, pgRunner } from './host.js';
import { pgOutput } from './pg-messages.js';
import { lastLines } from './restore-database.js';
import type { BackupSettings } from './settings.js';
import { BackupStore } from './storage.js';

/** The dump: read on the host, streamed into the bucket; what it stored and what it left on the host. */

export interface Uploaded {
  readonly bytes: number;
  readonly sha256: string;
  readonly dumpBytes: number;
  readonly stderr: string;
  readonly dumpTool: string | null;
  readonly runner: PgRunner | undefined;
}

/** What the dump left on the host: removed at the end whatever happened, unless kept as the local copy. */
export interface HostLeftovers {
  work?: string;
  partial?: string;
}

const PROGRESS_EVERY_MS = 30_000;

export interface DumpPlan {
  readonly key: string;
  readonly fileName: string;
  readonly store: BackupStore;
  readonly left: HostLeftovers;
}

/** Everything that reads the database on the host: where pg_dump runs, its version, the dump itself. */
export async function dumpOnHost(session: BackupHost, settings: BackupSettings, plan: DumpPlan, reporter: Reporter): Promise<Uploaded> {
  const runner = settings.source.kind === 'postgres' ? await pgRunner(session, settings.source.composeService) : undefined;
  const dumpTool = runner ? (await session.host.run(pgDumpVersion(runner))).stdout.trim() : null;
  if (settings.localCopies > 0) {
    const work = (await session.host.run(openWorkdir())).stdout.trim();
    if (!work.startsWith('/')) throw new OperationError(`Could not create a private temp dir on ${describeTarget(session.host.target)} (mktemp -d printed '${work}').`);
    plan.left.work = work;
    await session.host.run(prepareCopiesDir(session.layout.backups));
    plan.left.partial = partialCopyPath(session.layout.backups, plan.fileName);
  }
  const uploaded = await reporter.group(`Dump and upload ${plan.key}`, () => dumpAndUpload(session, settings, runner, plan, reporter));
  if (uploaded.stderr.trim()) reporter.info(`the dump's messages: ${lastLines(uploaded.stderr, 5)}`);
  return { ...uploaded, dumpTool, runner };
}

/**
 * The dump streams: host stdout -> meter -> end gate (the dump's exit status) -> compression
 * -> encryption -> meter (sha256) -> multipart upload. The gate holds back the end of the
 * stream until the dump exited 0, so the upload of a failed dump is never completed. The upload
 * reads only as fast as the store takes the parts, and the SSH channel's window passes that
 * back to the dump on the host. The database password goes in on the dump's own stdin.
 */
async function dumpAndUpload(session: BackupHost, settings: BackupSettings, runner: PgRunner | undefined, plan: DumpPlan, reporter: Reporter): Promise<Omit<Uploaded, 'dumpTool' | 'runner'>> {
  const { host } = session;
  const postgres = settings.source.kind === 'postgres' ? settings.source.database : undefined;
  const what = postgres ? 'pg_dump' : "the backup 'command'";
  const dump = dumpCommand(settings.source, runner ?? onHost);
  const command = plan.left.work && plan.left.partial ? withLocalCopy(plan.left.work, plan.left.partial, dump) : dump;
  const password = postgres ? passwordLine(postgres) : undefined;
  const remote: RemoteStream = await host.stream(command, password === undefined ? {} : { stdin: password });
  const stderr = new TextTail(8192);
  remote.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
  // What the dump printed on stderr, as it may be shown (PostgreSQL's can hold row data; a user's command is theirs).
  const messages = () => (postgres ? pgOutput(stderr.text(), settings.showRowData) : stderr.text());

  let dumpFailure: Error | undefined;
  let streamFailure: Error | undefined;
  const fail = (error: Error) => {
    streamFailure ??= error;
  };
  const dumped = new Meter();
  const gate = new EndGate(async () => {
    const exit = await remote.exit;
    if (exit.code === 0 && dumped.bytes > 0) return;
    const detail = lastLines(messages());
    dumpFailure = new OperationError(
      exit.code === 0
        ? `${what} printed nothing on ${describeTarget(host.target)}, so there is nothing to back up${detail !== '(no output)' ? `: ${detail}` : ''}. No backup was stored.`
        : exit.code === null
          ? `${what} did not finish on ${describeTarget(host.target)} (${exit.signal ?? 'no exit status'}) after ${dumped.bytes} bytes: ${detail}. No backup was stored.`
          : `${what} failed on ${describeTarget(host.target)} (exit ${exit.code}) after printing ${dumped.bytes} bytes: ${detail}. No backup was stored.`,
    );
    throw dumpFailure;
  });
  // pg_dump's custom format is compressed by pg_dump already (see compressor).
  const compress = compressor(settings.compression, postgres !== undefined);
  let body: Readable = chain([remote.stdout, dumped, gate, ...(compress ? [compress] : [])], fail);
  if (settings.recipients.length > 0) body = await encryptStream(body, settings.recipients);
  const stored = new Meter();
  body = chain([body, stored], fail);

  const progress = setInterval(() => reporter.info(`... ${formatBytes(dumped.bytes)} dumped, ${formatBytes(stored.bytes)} uploaded`), PROGRESS_EVERY_MS);
  const uploadStarted = performance.now();
  try {
    await plan.store.upload(plan.key, body);
  } catch (error) {
    remote.stdout.destroy();
    throw dumpFailure ?? (error instanceof OperationError ? error : streamFailure ?? error);
  } finally {
    clearInterval(progress);
  }
  if (dumpFailure) throw dumpFailure;
  const seconds = (performance.now() - uploadStarted) / 1000;
  reporter.info(`${formatBytes(dumped.bytes)} dumped, ${formatBytes(stored.bytes)} stored (${settings.compression}${settings.recipients.length ? ', age' : ''}) in ${formatDuration(seconds * 1000)}`);
  return { bytes: stored.bytes, sha256: stored.digest(), dumpBytes: dumped.bytes, stderr: messages() };
}

/** Keeps the last `max` characters of a stream of text. */
class TextTail {
  private value = '';
  constructor(private readonly max: number) {}
  add(chunk: Buffer): void {
    this.value = (this.value + chunk.toString('utf8')).slice(-this.max);
  }
  text(): string {
    return this.value;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
