import { BackupName, MANIFEST_SUFFIX, manifestKey, parseBackupName } from './naming.js';
import type { RetentionPolicy } from './settings.js';

/**
 * What is in an app's backup folder, and what retention may delete from it. Pure: the
 * listing and the clock come in, a plan goes out.
 *
 * - A backup is an object deploy-kit named AND its manifest. Only backups count towards
 *   `retention-count`, and only a backup can be "the newest valid backup".
 * - An object without its manifest is incomplete: an upload that was cut off, a dump whose
 *   verification failed, or a backup still being written by another run right now. It is
 *   never counted and never restored. It is deleted once it is older than `retention-days`
 *   (and at least a day, so another run's backup in progress is never touched); until then
 *   it is left for inspection. A manifest whose object is gone is treated the same way.
 * - Objects deploy-kit did not name (other files under the prefix) are never touched.
 */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
}

export interface BackupEntry extends BackupName {
  readonly key: string;
  readonly size: number;
}

export interface Catalog {
  /** Valid backups (object and manifest), newest first. */
  readonly backups: readonly BackupEntry[];
  /** Objects without a manifest, newest first. */
  readonly incomplete: readonly BackupEntry[];
  /** Manifests whose object is missing. */
  readonly strayManifests: readonly { readonly key: string; readonly takenAt: Date }[];
}

const lastSegment = (key: string): string => key.slice(key.lastIndexOf('/') + 1);

/** Sorts one folder's listing into backups, incomplete objects and stray manifests. */
export function catalog(objects: readonly ListedObject[]): Catalog {
  const keys = new Set(objects.map((o) => o.key));
  const backups: BackupEntry[] = [];
  const incomplete: BackupEntry[] = [];
  const strayManifests: { key: string; takenAt: Date }[] = [];
  for (const object of objects) {
    if (object.key.endsWith(MANIFEST_SUFFIX)) {
      const objectKey = object.key.slice(0, -MANIFEST_SUFFIX.length);
      const name = parseBackupName(lastSegment(objectKey));
      if (name && !keys.has(objectKey)) strayManifests.push({ key: object.key, takenAt: name.takenAt });
      continue;
    }
    const name = parseBackupName(lastSegment(object.key));
    if (!name) continue;
    const entry: BackupEntry = { ...name, key: object.key, size: object.size };
    (keys.has(manifestKey(object.key)) && object.size > 0 ? backups : incomplete).push(entry);
  }
  const newestFirst = (a: { takenAt: Date; key: string }, b: { takenAt: Date; key: string }) =>
    b.takenAt.getTime() - a.takenAt.getTime() || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0);
  return { backups: backups.sort(newestFirst), incomplete: incomplete.sort(newestFirst), strayManifests };
}

export interface RetentionDecision {
  readonly key: string;
  /** A backup, an incomplete object (no manifest), or a manifest without its object. */
  readonly kind: 'backup' | 'incomplete' | 'stray-manifest';
  /** Every key to delete for this entry (the object and its manifest). Empty when kept. */
  readonly deleteKeys: readonly string[];
  readonly reason: string;
}

export interface RetentionPlan {
  readonly keep: readonly RetentionDecision[];
  readonly delete: readonly RetentionDecision[];
}

const DAY_MS = 86_400_000;

/**
 * Ages come from the time in each backup's name, which is the clock of the runner that made
 * it. `justMade` (the backup this run wrote) is always kept: a runner whose clock is behind
 * names its backup older than ones made before it, and must not delete what it just made.
 */
export function planRetention(listing: Catalog, policy: RetentionPolicy, now: Date, justMade: readonly string[] = []): RetentionPlan {
  const keep: RetentionDecision[] = [];
  const remove: RetentionDecision[] = [];
  const ageDays = (takenAt: Date) => (now.getTime() - takenAt.getTime()) / DAY_MS;
  const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;

  listing.backups.forEach((backup, index) => {
    const age = ageDays(backup.takenAt);
    if (index === 0) {
      keep.push({ key: backup.key, kind: 'backup', deleteKeys: [], reason: 'the newest valid backup' });
    } else if (justMade.includes(backup.key)) {
      keep.push({ key: backup.key, kind: 'backup', deleteKeys: [], reason: 'the backup this run made' });
    } else if (index < policy.count) {
      keep.push({ key: backup.key, kind: 'backup', deleteKeys: [], reason: `one of the newest ${policy.count}` });
    } else if (age < policy.days) {
      keep.push({ key: backup.key, kind: 'backup', deleteKeys: [], reason: `younger than ${days(policy.days)}` });
    } else {
      remove.push({
        key: backup.key,
        kind: 'backup',
        deleteKeys: [backup.key, manifestKey(backup.key)],
        reason: `not among the newest ${policy.count} and ${Math.floor(age)} days old (more than ${days(policy.days)})`,
      });
    }
  });

  const orphanDays = Math.max(policy.days, 1);
  for (const entry of listing.incomplete) {
    const age = ageDays(entry.takenAt);
    if (age < orphanDays) keep.push({ key: entry.key, kind: 'incomplete', deleteKeys: [], reason: `incomplete (no manifest), younger than ${days(orphanDays)}: left for inspection` });
    else remove.push({ key: entry.key, kind: 'incomplete', deleteKeys: [entry.key], reason: `incomplete (no manifest) and ${Math.floor(age)} days old` });
  }
  for (const stray of listing.strayManifests) {
    const age = ageDays(stray.takenAt);
    if (age >= orphanDays) remove.push({ key: stray.key, kind: 'stray-manifest', deleteKeys: [stray.key], reason: `manifest without its object, ${Math.floor(age)} days old` });
  }
  return { keep, delete: remove };
}

/** Local copies on the host (`<stamp>-<label>.<kind>` file names): the ones beyond the newest `keep`. */
export function localCopiesToRemove(fileNames: readonly string[], keep: number): string[] {
  const copies = fileNames
    .map((name) => ({ name, parsed: parseBackupName(name) }))
    .filter((c) => c.parsed !== undefined && c.parsed.compression === 'none' && !c.parsed.encrypted)
    .sort((a, b) => b.parsed!.takenAt.getTime() - a.parsed!.takenAt.getTime() || (a.name < b.name ? 1 : -1));
  return copies.slice(Math.max(keep, 0)).map((c) => c.name);
}

/** How many of `fileNames` are local copies deploy-kit wrote. */
export function countLocalCopies(fileNames: readonly string[]): number {
  return localCopiesToRemove(fileNames, 0).length;
}
