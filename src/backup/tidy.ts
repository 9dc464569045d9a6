import { errorMessage } from '../errors.js';
import type { Reporter } from '../report.js';
import { keepCopy, listCopies, localCopyStatus, removeFiles } from './commands.js';
import { BackupHost } from './host.js';
import { RetentionDecision, catalog, countLocalCopies, localCopiesToRemove, planRetention } from './retention.js';
import type { BackupSettings } from './settings.js';
import { BackupStore } from './storage.js';

/**
 * After a backup is complete (its manifest written): the local copy kept on the host and
 * retention in the bucket. A failure here is a warning, never a failed backup.
 */

export async function keepLocalCopy(session: BackupHost, work: string, partial: string, fileName: string, keep: number, reporter: Reporter): Promise<{ kept: number; removed: string[] }> {
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

export async function applyRetention(store: BackupStore, folder: string, settings: BackupSettings, now: Date, justMade: string, reporter: Reporter): Promise<{ deleted: RetentionDecision[]; kept: number }> {
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
