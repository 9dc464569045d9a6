import { randomBytes } from 'node:crypto';
import { ConfigurationError, OperationError, errorMessage } from '../errors.js';
import type { Reporter } from '../report.js';
import type { CommandObserver, RemoteHost } from '../ssh/connection.js';
import { describeTarget } from '../ssh/settings.js';
import { ChecksumGuard, chain, decompressor, decryptStream } from './codec.js';
import { PgRunner, createDatabase, dropDatabase, passwordLine, pgRestore, runQuery } from './commands.js';
import { openBackupHost, pgRunner, takeDeployLock } from './host.js';
import { Manifest, parseManifest } from './manifest.js';
import { backupFolder, manifestKey } from './naming.js';
import { ROW_DATA_HINT, pgOutput } from './pg-messages.js';
import { PostgresUrl, describeDatabase, withDatabase } from './postgres-url.js';
import { runWithInput } from './remote-input.js';
import { catalog } from './retention.js';
import type { Destination, RestoreSettings } from './settings.js';
import { BackupStore } from './storage.js';

/**
 * Restoring a stored backup into a database: the one path behind `mode: restore` and
 * `verify: true`. The object streams from the store through a checksum guard (the manifest's
 * sha256 must match before the end of the stream is let through), age decryption and
 * decompression, over SSH into pg_restore on the host, which restores it in one transaction.
 */
export interface StoredBackup {
  readonly key: string;
  readonly manifest: Manifest;
}

export interface RestoreContext {
  readonly host: RemoteHost;
  readonly runner: PgRunner;
  readonly store: BackupStore;
  /**
   * age identity; '' when not given. Given, it is also a demand: only an encrypted object is
   * restored (the store's word that a backup is plaintext is not taken).
   */
  readonly identity: string;
  /** Print PostgreSQL's error lines that can hold row data (pg-messages.ts). */
  readonly showRowData: boolean;
}

/** What the log and the summary say instead of a custom verify query's result. */
export const withheldResult = `passed (its result is withheld: it can hold row data; ${ROW_DATA_HINT})`;

const ROLLED_BACK = 'pg_restore runs in a single transaction, so nothing of this restore was kept.';

export async function restoreObject(ctx: RestoreContext, backup: StoredBackup, target: PostgresUrl, options: { clean: boolean }): Promise<void> {
  const { key, manifest } = backup;
  if (manifest.encryption && ctx.identity === '') {
    throw new ConfigurationError(`${key} is encrypted with age; give the private key in 'encryption-identity' to restore or verify it.`);
  }
  if (!manifest.encryption && ctx.identity !== '') {
    // Backups made for this identity are encrypted; a plaintext one in their place was put there by someone else.
    throw new OperationError(
      `${key} is not encrypted (its manifest says 'encryption: null'), but 'encryption-identity' was given, so only an age-encrypted backup is restored. ` +
        `Nothing was changed. If this backup is meant to be plaintext, restore it without 'encryption-identity'.`,
    );
  }
  const object = await ctx.store.read(key);
  if (object.bytes >= 0 && object.bytes !== manifest.bytes) {
    object.body.destroy();
    throw new OperationError(`${ctx.store.describe(key)} is ${object.bytes} bytes, but its manifest says ${manifest.bytes}. It was not restored.`);
  }
  let failure: Error | undefined;
  const fail = (what: string) => (error: Error) => {
    failure ??= error instanceof OperationError || error instanceof ConfigurationError ? error : new OperationError(`${what} ${ctx.store.describe(key)} failed: ${errorMessage(error)}.`);
  };
  let data = chain([object.body, new ChecksumGuard(manifest, ctx.store.describe(key))], fail('Reading'));
  if (manifest.encryption) data = await decryptStream(data, ctx.identity);
  const decompress = decompressor(manifest.compression);
  if (decompress) data = chain([data, decompress], fail(`Decompressing (${manifest.compression})`));

  const { result, inputError } = await runWithInput(ctx.host, pgRestore(ctx.runner, target, options), passwordLine(target), data);
  const cause = failure ?? inputError;
  if (cause) {
    const reason = cause instanceof OperationError || cause instanceof ConfigurationError ? cause.message : `Reading ${ctx.store.describe(key)} failed: ${errorMessage(cause)}.`;
    throw new OperationError(`${reason} ${ROLLED_BACK}`);
  }
  if (result.code !== 0) {
    throw new OperationError(
      `pg_restore into ${describeDatabase(target)} failed on ${describeTarget(ctx.host.target)} (exit ${result.code}): ${lastLines(pgOutput(result.stderr || result.stdout, ctx.showRowData))}. ${ROLLED_BACK}`,
    );
  }
}

/** Runs the verify query; its output, trimmed. */
export async function queryDatabase(ctx: RestoreContext, db: PostgresUrl, query: string): Promise<string> {
  const input = passwordLine(db);
  const result = await ctx.host.run(runQuery(ctx.runner, db, query), { allowFailure: true, ...(input ? { stdin: input } : {}) });
  if (result.code !== 0) {
    throw new OperationError(`The verify query failed on ${describeDatabase(db)} (exit ${result.code}): ${lastLines(pgOutput(result.stderr || result.stdout, ctx.showRowData))}. Check 'verify-query'.`);
  }
  return result.stdout.trim();
}

/** `shop_verify_3f2a9c`: a scratch database next to `database`, at most 63 characters. */
export function scratchDatabaseName(database: string, suffix = randomBytes(3).toString('hex')): string {
  return `${database.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40)}_verify_${suffix}`;
}

/**
 * Restores the backup into a scratch database created next to `source`, runs the query, and
 * drops the scratch database again whatever happened. Returns the query's result.
 */
export async function verifyInScratch(ctx: RestoreContext, backup: StoredBackup, source: PostgresUrl, query: string, reporter: Reporter): Promise<string> {
  const name = scratchDatabaseName(source.database);
  const scratch = withDatabase(source, name);
  const input = passwordLine(source);
  const created = await ctx.host.run(createDatabase(ctx.runner, source, name), { allowFailure: true, ...(input ? { stdin: input } : {}) });
  if (created.code !== 0) {
    throw new OperationError(
      `Cannot create the scratch database ${name} to verify the backup (exit ${created.code}): ${lastLines(pgOutput(created.stderr, ctx.showRowData))}. ` +
        `The user of 'postgres-url' needs the CREATEDB privilege for 'verify: true'.`,
    );
  }
  reporter.info(`created scratch database ${name}`);
  try {
    await restoreObject(ctx, backup, scratch, { clean: false });
    reporter.info(`restored ${backup.key} into ${name}`);
    return await queryDatabase(ctx, scratch, query);
  } finally {
    const dropped = await ctx.host
      .run(dropDatabase(ctx.runner, source, name), { allowFailure: true, ...(input ? { stdin: input } : {}) })
      .catch((error: Error) => ({ code: -1, stderr: error.message, stdout: '' }));
    if (dropped.code === 0) reporter.info(`dropped scratch database ${name}`);
    else reporter.warning(`Could not drop the scratch database ${name} on ${describeDatabase(source)}: ${lastLines(pgOutput(dropped.stderr, ctx.showRowData))}. Drop it by hand.`);
  }
}

/** Reads and checks the manifest of `key`. */
export async function loadBackup(store: BackupStore, key: string): Promise<StoredBackup> {
  const text = await store.getText(manifestKey(key));
  if (text === undefined) {
    throw new OperationError(`${store.describe(key)} has no manifest, so it is not a complete backup (its upload was cut off, or its verification failed). Choose another in 'restore-from'.`);
  }
  return { key, manifest: parseManifest(manifestKey(key), text) };
}

export interface RestoreResult {
  readonly key: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly durationMs: number;
  readonly target: string;
  readonly verified: boolean;
  /** The verify query's result as it may be shown; undefined when withheld (a custom query without `show-row-data`). */
  readonly verifyResult: string | undefined;
  readonly manifest: Manifest;
}

export async function runRestore(settings: RestoreSettings, deps: { reporter: Reporter; observe?: CommandObserver }): Promise<RestoreResult> {
  const started = performance.now();
  const { reporter } = deps;
  const store = new BackupStore(settings.s3, settings.destination);
  try {
    const backup = await reporter.group('Find the backup', () => findBackup(store, settings.destination, settings.app, settings.from, reporter));
    const session = await openBackupHost(settings.ssh, settings.app, settings.deployPath, reporter, deps.observe);
    try {
      // A restore replaces the app's data: never in the middle of a deploy, and no deploy in the middle of it.
      const lock = await takeDeployLock(session, settings, `restore of ${backup.key}`, reporter);
      try {
        const ctx: RestoreContext = {
          host: session.host,
          runner: await pgRunner(session, settings.composeService),
          store,
          identity: settings.identity,
          showRowData: settings.showRowData,
        };
        await reporter.group(`Restore into ${describeDatabase(settings.to)}`, async () => {
          await restoreObject(ctx, backup, settings.to, { clean: true });
          reporter.info(`restored ${backup.key}; its sha256 matched the manifest`);
        });
        let verifyResult: string | undefined;
        if (settings.verify) {
          verifyResult = await reporter.group('Verify', async () => {
            const result = await queryDatabase(ctx, settings.to, settings.verifyQuery);
            reporter.info(`verify-query: ${settings.showVerifyResult ? result : withheldResult}`);
            return result;
          });
        }
        return {
          key: backup.key,
          bytes: backup.manifest.bytes,
          sha256: backup.manifest.sha256,
          durationMs: performance.now() - started,
          target: describeDatabase(settings.to),
          verified: verifyResult !== undefined,
          verifyResult: settings.showVerifyResult ? verifyResult : undefined,
          manifest: backup.manifest,
        };
      } finally {
        await lock.release();
      }
    } finally {
      await session.host.close();
    }
  } finally {
    store.close();
  }
}

/** The backup `from` names ('latest': the newest complete backup of `app`), its manifest read and checked: only a pg_dump can be restored. */
export async function findBackup(store: BackupStore, destination: Destination, app: string, from: string, reporter: Reporter): Promise<StoredBackup> {
  let key = from;
  if (key === 'latest') {
    const folder = backupFolder(destination, app);
    const newest = catalog(await store.list(folder)).backups[0];
    if (!newest) throw new OperationError(`There is no complete backup of ${app} in ${store.describe(`${folder}/`)} to restore.`);
    key = newest.key;
  }
  const found = await loadBackup(store, key);
  if (found.manifest.source.kind !== 'postgres') {
    throw new OperationError(`${key} was made by a 'command', not pg_dump; restore it by hand (download it, then ${found.manifest.encryption ? 'age -d, ' : ''}decompress).`);
  }
  reporter.info(`${key}: ${found.manifest.bytes} bytes, sha256 ${found.manifest.sha256}, made ${found.manifest.createdAt} by ${found.manifest.run}`);
  return found;
}

export function lastLines(text: string, count = 3): string {
  const lines = text.trim().split('\n').filter((line) => line.trim() !== '');
  return lines.length === 0 ? '(no output)' : lines.slice(-count).join(' / ');
}
