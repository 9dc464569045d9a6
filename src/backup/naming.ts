import { invalid } from '../inputs/parse.js';
import type { Compression, Destination } from './settings.js';

/**
 * How backups are named, so that a plain listing sorts them by time:
 *
 *   <prefix>/<app>/<UTC timestamp>-<version or run>.<kind>[.gz|.zst][.age]
 *   <prefix>/<app>/<...same...>.manifest.json      written only once the object is complete
 *
 * e.g. `db/shop/20250102T030405Z-v1.4.2.pgdump.gz.age`. The timestamp in the name is when the
 * backup started, and is what retention goes by (not the store's LastModified, which a copy
 * between buckets resets). Pure.
 */
export type DumpKind = 'pgdump' | 'dump';

export interface BackupName {
  /** `20250102T030405Z` */
  readonly stamp: string;
  readonly takenAt: Date;
  readonly label: string;
  readonly kind: DumpKind;
  readonly compression: Compression;
  readonly encrypted: boolean;
}

export const MANIFEST_SUFFIX = '.manifest.json';

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const NAME = /^(\d{8}T\d{6}Z)-([A-Za-z0-9_][A-Za-z0-9_.-]*)\.(pgdump|dump)(\.gz|\.zst)?(\.age)?$/;

/** `s3://bucket/prefix/path` -> bucket and prefix (no leading or trailing slash). */
export function parseDestination(raw: string): Destination {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(raw);
  const prefix = (match?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (!match || prefix.split('/').some((seg) => seg === '.' || seg === '..') || /\/\//.test(prefix)) {
    throw invalid('destination', "must look like 's3://bucket' or 's3://bucket/prefix' (a valid bucket name, then an optional path)", raw);
  }
  return { bucket: match[1]!, prefix };
}

/** The folder of one app's backups: `<prefix>/<app>`. */
export function backupFolder(destination: Destination, app: string): string {
  return destination.prefix === '' ? app : `${destination.prefix}/${app}`;
}

export function formatStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

export function parseStamp(stamp: string): Date | undefined {
  const m = STAMP.exec(stamp);
  if (!m) return undefined;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  return formatStamp(date) === stamp ? date : undefined;
}

export function extension(kind: DumpKind, compression: Compression, encrypted: boolean): string {
  return [kind, compression === 'gzip' ? 'gz' : compression === 'zstd' ? 'zst' : undefined, encrypted ? 'age' : undefined].filter(Boolean).join('.');
}

/** The file name of a dump as pg_dump or the command wrote it: what a local copy on the host is called. */
export function dumpFileName(stamp: string, label: string, kind: DumpKind): string {
  return `${stamp}-${label}.${kind}`;
}

export function objectKey(folder: string, name: Omit<BackupName, 'takenAt'>): string {
  return `${folder}/${name.stamp}-${name.label}.${extension(name.kind, name.compression, name.encrypted)}`;
}

export function manifestKey(key: string): string {
  return `${key}${MANIFEST_SUFFIX}`;
}

/** Reads a backup object's name (the last segment of its key); undefined when deploy-kit did not name it. */
export function parseBackupName(name: string): BackupName | undefined {
  const m = NAME.exec(name);
  const takenAt = m ? parseStamp(m[1]!) : undefined;
  if (!m || !takenAt) return undefined;
  return {
    stamp: m[1]!,
    takenAt,
    label: m[2]!,
    kind: m[3] as DumpKind,
    compression: m[4] === '.gz' ? 'gzip' : m[4] === '.zst' ? 'zstd' : 'none',
    encrypted: m[5] === '.age',
  };
}
