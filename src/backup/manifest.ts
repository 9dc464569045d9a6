import { OperationError } from '../errors.js';
import type { Compression } from './settings.js';

/**
 * The small JSON file beside each backup object. It is written only after the object's upload
 * completed (and, with `verify`, after the object was restored and queried), so its presence
 * is what makes an object a backup. Restores read the sha256 and the codecs from it. Pure.
 */
export const MANIFEST_FORMAT = 'deploy-kit-backup/1';

export type ManifestSource =
  | { readonly kind: 'postgres'; readonly via: 'host' | 'compose'; readonly service?: string; readonly database: string }
  | { readonly kind: 'command'; readonly program: string };

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly key: string;
  readonly app: string;
  readonly label: string;
  /** When the dump started (the timestamp in the key), ISO 8601 UTC. */
  readonly createdAt: string;
  /** Size of the stored object. */
  readonly bytes: number;
  /** SHA-256 of the stored object (after compression and encryption), hex. */
  readonly sha256: string;
  /** Size of the dump as the tool printed it, before compression. */
  readonly dumpBytes: number;
  readonly durationSeconds: number;
  readonly source: ManifestSource;
  readonly host: string;
  readonly compression: Compression;
  readonly encryption: { readonly scheme: 'age'; readonly recipients: readonly string[] } | null;
  /** `pg_dump --version` on the host or in the container; null for a user command. */
  readonly dumpTool: string | null;
  readonly verified: { readonly query: string; readonly result: string } | null;
  /** The workflow run that made it. */
  readonly run: string;
}

export function formatManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function parseManifest(key: string, text: string): Manifest {
  let value: Partial<Manifest>;
  try {
    value = JSON.parse(text) as Partial<Manifest>;
  } catch {
    throw new OperationError(`The manifest ${key} is not JSON; the backup cannot be trusted.`);
  }
  const problems: string[] = [];
  if (value.format !== MANIFEST_FORMAT) problems.push(`format '${String(value.format)}' (expected ${MANIFEST_FORMAT})`);
  if (typeof value.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(value.sha256)) problems.push('no sha256');
  if (typeof value.bytes !== 'number' || !Number.isSafeInteger(value.bytes) || value.bytes <= 0) problems.push('no size');
  if (value.compression !== 'gzip' && value.compression !== 'zstd' && value.compression !== 'none') problems.push('no compression');
  if (value.encryption !== null && value.encryption?.scheme !== 'age') problems.push('unknown encryption');
  if (typeof value.source !== 'object' || value.source === null) problems.push('no source');
  if (problems.length > 0) throw new OperationError(`The manifest ${key} is not one deploy-kit wrote: ${problems.join(', ')}.`);
  return value as Manifest;
}
