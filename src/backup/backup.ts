import { OperationError, errorMessage } from '../errors.js';
import type { Reporter } from '../report.js';
import type { CommandObserver } from '../ssh/connection.js';
import { requireCodec } from './codec.js';
import { removeFiles, removeWorkdir } from './commands.js';
import { DumpPlan, HostLeftovers, Uploaded, dumpOnHost } from './dump.js';
import { BackupHost, openBackupHost, takeDeployLock } from './host.js';
import { Manifest, MANIFEST_FORMAT, ManifestSource, formatManifest } from './manifest.js';
import { DumpKind, backupFolder, dumpFileName, formatStamp, manifestKey, objectKey } from './naming.js';
import { verifyInScratch, withheldResult } from './restore-database.js';
import { RetentionDecision, catalog } from './retention.js';
import type { BackupSettings } from './settings.js';
import { BackupStore } from './storage.js';
import { applyRetention, keepLocalCopy } from './tidy.js';

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

export async function runBackup(settings: BackupSettings, deps: BackupDependencies): Promise<BackupResult> {
  const started = performance.now();
  const { reporter } = deps;
  const startedAt = (deps.now ?? (() => new Date()))();
  requireCodec(settings.compression); // zstd on an old Node: say so before touching anything
  const store = new BackupStore(settings.s3, settings.destination);
  const folder = backupFolder(settings.destination, settings.app);
  try {
    await reporter.group(`Check ${store.describe(`${folder}/`)}`, () => checkBucket(store, folder, reporter));
    const session = await openBackupHost(settings.ssh, settings.app, settings.deployPath, reporter, deps.observe);
    const left: HostLeftovers = {};
    try {
      const kind: DumpKind = settings.source.kind === 'postgres' ? 'pgdump' : 'dump';
      const name = { stamp: formatStamp(startedAt), label: settings.label, kind, compression: settings.compression, encrypted: settings.recipients.length > 0 };
      const plan: DumpPlan = { key: objectKey(folder, name), fileName: dumpFileName(name.stamp, name.label, kind), store, left };

      const lock = await takeDeployLock(session, settings, 'backup', reporter);
      const uploaded = await dumpOnHost(session, settings, plan, reporter).finally(() => lock.release());
      const manifest = firstManifest(settings, plan.key, startedAt, uploaded);
      const verifyResult = await verify(session, settings, store, uploaded, manifest, reporter);
      const durationMs = performance.now() - started;
      const final: Manifest = {
        ...manifest,
        durationSeconds: Number((durationMs / 1000).toFixed(1)),
        verified: verifyResult === undefined ? null : { query: settings.verifyQuery, result: verifyResult },
      };
      await reporter.group('Write the manifest', async () => {
        await store.putText(manifestKey(plan.key), formatManifest(final), 'application/json');
        reporter.info(`${manifestKey(plan.key)}: ${final.bytes} bytes, sha256 ${final.sha256}`);
      });

      // The backup is complete: what follows tidies up, and a failure there is a warning, not a failed backup.
      const localCopies = await keepTheLocalCopy(session, settings, plan, reporter);
      const retention = await reporter.group('Retention', () =>
        applyRetention(store, folder, settings, startedAt, plan.key, reporter).catch((error: Error) => {
          reporter.warning(`Retention was skipped: ${error.message}. The new backup is complete; older ones are deleted on the next run.`);
          return { deleted: [], kept: 0 };
        }),
      );
      return {
        key: plan.key,
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

/** Lists the backup folder before anything else: wrong credentials or endpoint fail here, before the host is touched. */
async function checkBucket(store: BackupStore, folder: string, reporter: Reporter): Promise<void> {
  const listing = catalog(await store.list(folder));
  const newest = listing.backups[0];
  reporter.info(`${listing.backups.length} backup(s) there${newest ? `, the newest ${newest.key}` : ''}${listing.incomplete.length ? `; ${listing.incomplete.length} incomplete` : ''}`);
}

/** The manifest as the upload leaves it; the duration and the verify result are added once known. */
function firstManifest(settings: BackupSettings, key: string, startedAt: Date, uploaded: Uploaded): Manifest {
  return {
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
    encryption: settings.recipients.length > 0 ? { scheme: 'age', recipients: settings.recipients } : null,
    dumpTool: uploaded.dumpTool,
    verified: null,
    run: settings.run.runUrl,
  };
}

function manifestSource(settings: BackupSettings): ManifestSource {
  const source = settings.source;
  if (source.kind === 'command') return { kind: 'command', program: source.script.trim().split(/\s+/)[0] ?? '' };
  const { database } = source.database;
  return source.composeService ? { kind: 'postgres', via: 'compose', service: source.composeService, database } : { kind: 'postgres', via: 'host', database };
}

/**
 * With `verify` (PostgreSQL): the stored object restored into a scratch database and queried.
 * Returns the query's result, or undefined when not verified. A failure fails the backup: the
 * object stays in the bucket without a manifest, so it does not count as a backup.
 */
async function verify(session: BackupHost, settings: BackupSettings, store: BackupStore, uploaded: Uploaded, manifest: Manifest, reporter: Reporter): Promise<string | undefined> {
  if (!settings.verify || settings.source.kind !== 'postgres' || !uploaded.runner) return undefined;
  const source = settings.source.database;
  const runner = uploaded.runner;
  return reporter.group('Verify: restore into a scratch database', async () => {
    try {
      // The identity reads back what this run encrypted; an unencrypted backup needs none.
      const ctx = { host: session.host, runner, store, identity: manifest.encryption ? settings.identity : '', showRowData: settings.showRowData };
      const result = await verifyInScratch(ctx, { key: manifest.key, manifest }, source, settings.verifyQuery, reporter);
      reporter.info(`verify-query: ${settings.showVerifyResult ? result : withheldResult}`);
      return result;
    } catch (error) {
      throw new OperationError(
        `The backup did not verify: ${errorMessage(error)} It was uploaded to ${store.describe(manifest.key)} but has no manifest, so it is not counted as a backup ` +
          `(retention removes it after ${Math.max(settings.retention.days, 1)} days).`,
      );
    }
  });
}

/** With `local-copies`: the copy the dump wrote beside the upload is kept on the host (a failure is a warning). */
async function keepTheLocalCopy(session: BackupHost, settings: BackupSettings, plan: DumpPlan, reporter: Reporter): Promise<BackupResult['localCopies']> {
  const { left } = plan;
  if (!left.partial || !left.work) return undefined;
  const [work, copy] = [left.work, left.partial];
  const localCopies = await reporter.group('Local copies', () =>
    keepLocalCopy(session, work, copy, plan.fileName, settings.localCopies, reporter).catch((error: Error) => {
      reporter.warning(`Could not keep the local copy on the host: ${error.message}. The backup in the bucket is complete.`);
      return undefined;
    }),
  );
  if (localCopies) left.partial = undefined; // else runBackup's finally removes what is left of it
  return localCopies;
}
