import type { Readable } from 'node:stream';
import { OperationError, errorMessage } from '../errors.js';
import { formatDuration } from '../inputs/parse.js';
import type { Reporter } from '../report.js';
import type { CommandObserver, RemoteStream } from '../ssh/connection.js';
import { describeTarget } from '../ssh/settings.js';
import { EndGate, Meter, chain, compressor, encryptStream, requireCodec } from './codec.js';
import {
  PgRunner,
  dumpCommand,
  keepCopy,
  listCopies,
  localCopyStatus,
  onHost,
  openWorkdir,
  partialCopyPath,
  passwordLine,
  pgDumpVersion,
  prepareCopiesDir,
  removeFiles,
  removeWorkdir,
  withLocalCopy,
} from './commands.js';
import { BackupHost, openBackupHost, pgRunner, takeDeployLock } from './host.js';
import { Manifest, MANIFEST_FORMAT, ManifestSource, formatManifest } from './manifest.js';
import { DumpKind, backupFolder, dumpFileName, formatStamp, manifestKey, objectKey } from './naming.js';
import { pgOutput } from './pg-messages.js';
import { lastLines, verifyInScratch, withheldResult } from './restore-database.js';
import { RetentionDecision, catalog, countLocalCopies, localCopiesToRemove, planRetention } from './retention.js';
import type { BackupSettings } from './settings.js';
import { BackupStore } from './storage.js';

/**
 * One backup, start to end:
 *   check the bucket (credentials, endpoint) -> connect -> take the host's deploy lock -> dump on
 *   the host, streamed through compression, encryption and hashing into a multipart upload ->
 *   release the lock -> [verify: restore the stored object into a scratch database and query
 *   it] -> manifest -> local copies -> retention.
 * Anything that fails before the manifest leaves no backup behind and deletes nothing.
 */
export interface BackupResult {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly dumpBytes: number;
  readonly durationMs: number;
  readonly verified: boolean;
  /** The verify query's result as it may be shown; undefined when withheld (a custom query without `show-row-data`). */
  readonly verifyResult: string | undefined;
  readonly deleted: readonly RetentionDecision[];
  readonly kept: number;
  readonly localCopies: { readonly kept: number; readonly removed: readonly string[] } | undefined;
  readonly manifest: Manifest;
}

export interface BackupDependencies {
  readonly reporter: Reporter;
  readonly observe?: CommandObserver;
  readonly now?: () => Date;
}

interface Uploaded {
  readonly bytes: number;
  readonly sha256: string;
  readonly dumpBytes: number;
  readonly stderr: string;
  readonly dumpTool: string | null;
  readonly runner: PgRunner | undefined;
}

/** What the dump left on the host: removed at the end whatever happened, unless kept as the local copy. */
interface HostLeftovers {
  work?: string;
  partial?: string;
}

const PROGRESS_EVERY_MS = 30_000;

export async function runBackup(settings: BackupSettings, deps: BackupDependencies): Promise<BackupResult> {
  const started = performance.now();
  const { reporter } = deps;
  const startedAt = (deps.now ?? (() => new Date()))();
  requireCodec(settings.compression); // zstd on an old Node: say so before touching anything
  const store = new BackupStore(settings.s3, settings.destination);
  const folder = backupFolder(settings.destination, settings.app);
  try {
    await reporter.group(`Check ${store.describe(`${folder}/`)}`, async () => {
      const listing = catalog(await store.list(folder));
      const newest = listing.backups[0];
      reporter.info(`${listing.backups.length} backup(s) there${newest ? `, the newest ${newest.key}` : ''}${listing.incomplete.length ? `; ${listing.incomplete.length} incomplete` : ''}`);
    });
    const session = await openBackupHost(settings.ssh, settings.app, settings.deployPath, reporter, deps.observe);
    const left: HostLeftovers = {};
    try {
      const kind: DumpKind = settings.source.kind === 'postgres' ? 'pgdump' : 'dump';
      const name = { stamp: formatStamp(startedAt), label: settings.label, kind, compression: settings.compression, encrypted: settings.recipients.length > 0 };
      const key = objectKey(folder, name);
      const fileName = dumpFileName(name.stamp, name.label, kind);

      const lock = await takeDeployLock(session, settings, 'backup', reporter);
      let uploaded: Uploaded;
      try {
        uploaded = await dumpOnHost(session, settings, { key, fileName, store, left }, reporter);
      } finally {
        await lock.release();
      }
      const manifest: Manifest = {
        format: MANIFEST_FORMAT,
        key,
        app: settings.app,
        label: settings.label,
        createdAt: startedAt.toISOString(),
        bytes: uploaded.bytes,
        sha256: uploaded.sha256,
        dumpBytes: uploaded.dumpBytes,
        durationSeconds: 0,
        source: manifestSource(settings),
        host: settings.ssh.host,
        compression: settings.compression,
        encryption: name.encrypted ? { scheme: 'age', recipients: settings.recipients } : null,
        dumpTool: uploaded.dumpTool,
        verified: null,
        run: settings.run.runUrl,
      };

      let verifyResult: string | undefined;
      if (settings.verify && settings.source.kind === 'postgres' && uploaded.runner) {
        const source = settings.source.database;
        const runner = uploaded.runner;
        verifyResult = await reporter.group('Verify: restore into a scratch database', async () => {
          try {
            // The identity reads back what this run encrypted; an unencrypted backup needs none.
            const ctx = { host: session.host, runner, store, identity: name.encrypted ? settings.identity : '', showRowData: settings.showRowData };
            const result = await verifyInScratch(ctx, { key, manifest }, source, settings.verifyQuery, reporter);
            reporter.info(`verify-query: ${settings.showVerifyResult ? result : withheldResult}`);
            return result;
          } catch (error) {
            throw new OperationError(
              `The backup did not verify: ${errorMessage(error)} It was uploaded to ${store.describe(key)} but has no manifest, so it is not counted as a backup ` +
                `(retention removes it after ${Math.max(settings.retention.days, 1)} days).`,
            );
          }
        });
      }

      const durationMs = performance.now() - started;
      const final: Manifest = {
        ...manifest,
        durationSeconds: Number((durationMs / 1000).toFixed(1)),
        verified: verifyResult === undefined ? null : { query: settings.verifyQuery, result: verifyResult },
      };
      await reporter.group('Write the manifest', async () => {
        await store.putText(manifestKey(key), formatManifest(final), 'application/json');
        reporter.info(`${manifestKey(key)}: ${final.bytes} bytes, sha256 ${final.sha256}`);
      });

      // The backup is complete: what follows tidies up, and a failure there is a warning, not a failed backup.
      let localCopies: BackupResult['localCopies'];
      if (left.partial && left.work) {
        const [work, copy] = [left.work, left.partial];
        localCopies = await reporter.group('Local copies', () =>
          keepLocalCopy(session, work, copy, fileName, settings.localCopies, reporter).catch((error: Error) => {
            reporter.warning(`Could not keep the local copy on the host: ${error.message}. The backup in the bucket is complete.`);
            return undefined;
          }),
        );
        if (localCopies) left.partial = undefined; // else the finally below removes what is left of it
      }
      const retention = await reporter.group('Retention', () =>
        applyRetention(store, folder, settings, startedAt, key, reporter).catch((error: Error) => {
          reporter.warning(`Retention was skipped: ${error.message}. The new backup is complete; older ones are deleted on the next run.`);
          return { deleted: [], kept: 0 };
        }),
      );
      return {
        key,
        bytes: final.bytes,
        sha256: final.sha256,
        dumpBytes: final.dumpBytes,
        durationMs: performance.now() - started,
        verified: verifyResult !== undefined,
        verifyResult: settings.showVerifyResult ? verifyResult : undefined,
        deleted: retention.deleted,
        kept: retention.kept,
        localCopies,
        manifest: final,
      };
    } finally {
      if (left.partial) await session.host.run(removeFiles([left.partial]), { allowFailure: true }).catch(() => undefined);
      if (left.work) await session.host.run(removeWorkdir(left.work), { allowFailure: true }).catch(() => undefined);
      await session.host.close();
    }
  } finally {
    store.close();
  }
}

interface DumpPlan {
  readonly key: string;
  readonly fileName: string;
  readonly store: BackupStore;
  readonly left: HostLeftovers;
}

/** Everything that reads the database on the host: where pg_dump runs, its version, the dump itself. */
async function dumpOnHost(session: BackupHost, settings: BackupSettings, plan: DumpPlan, reporter: Reporter): Promise<Uploaded> {
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

function manifestSource(settings: BackupSettings): ManifestSource {
  const source = settings.source;
  if (source.kind === 'command') return { kind: 'command', program: source.script.trim().split(/\s+/)[0] ?? '' };
  const { database } = source.database;
  return source.composeService ? { kind: 'postgres', via: 'compose', service: source.composeService, database } : { kind: 'postgres', via: 'host', database };
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

async function keepLocalCopy(session: BackupHost, work: string, partial: string, fileName: string, keep: number, reporter: Reporter): Promise<{ kept: number; removed: string[] }> {
  const { host, layout } = session;
  if ((await host.run(localCopyStatus(work))).stdout.trim() !== 'ok') {
    await host.run(removeFiles([partial]), { allowFailure: true });
    reporter.warning(`Could not write the local copy under ${layout.backups} (disk full?); the backup in the bucket is complete.`);
    return { kept: 0, removed: [] };
  }
  await host.run(keepCopy(partial, `${layout.backups}/${fileName}`));
  const names = (await host.run(listCopies(layout.backups))).stdout.split('\n').filter(Boolean);
  const removed = localCopiesToRemove(names, keep);
  if (removed.length > 0) await host.run(removeFiles(removed.map((name) => `${layout.backups}/${name}`)));
  reporter.info(`kept ${layout.backups}/${fileName}${removed.length ? `; removed ${removed.join(', ')} (keeping the newest ${keep})` : ''}`);
  return { kept: countLocalCopies(names) - removed.length, removed };
}

async function applyRetention(store: BackupStore, folder: string, settings: BackupSettings, now: Date, justMade: string, reporter: Reporter): Promise<{ deleted: RetentionDecision[]; kept: number }> {
  const plan = planRetention(catalog(await store.list(folder)), settings.retention, now, [justMade]);
  const kept = plan.keep.filter((k) => k.kind === 'backup').length;
  reporter.info(`policy: keep the newest ${settings.retention.count} and everything younger than ${settings.retention.days} days; ${kept} backup(s) kept`);
  if (plan.delete.length === 0) {
    reporter.info('nothing to delete');
    return { deleted: [], kept };
  }
  let failed: { key: string; reason: string }[];
  try {
    failed = await store.delete(plan.delete.flatMap((d) => d.deleteKeys));
  } catch (error) {
    reporter.warning(`Retention could not delete old backups (the new backup is complete): ${errorMessage(error)}`);
    return { deleted: [], kept };
  }
  const failedKeys = new Set(failed.map((f) => f.key));
  const deleted = plan.delete.filter((d) => !d.deleteKeys.some((key) => failedKeys.has(key)));
  for (const d of deleted) reporter.info(`deleted ${d.key}: ${d.reason}`);
  for (const f of failed) reporter.warning(`Could not delete ${f.key}: ${f.reason}`);
  return { deleted, kept };
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
