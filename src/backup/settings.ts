import type { RunContext } from '../run-context.js';
import type { LockOptions } from '../release/lock-session.js';
import type { SshSettings } from '../ssh/settings.js';
import type { PostgresUrl } from './postgres-url.js';

/** Everything action-backup was asked to do, parsed and checked before connecting anywhere. */
export type Compression = 'gzip' | 'zstd' | 'none';

/** What produces the backup on the host. */
export type DumpSource =
  | { readonly kind: 'postgres'; readonly database: PostgresUrl; readonly composeService: string | undefined }
  | { readonly kind: 'command'; readonly script: string };

/** `s3://bucket/prefix`, split. `prefix` has no leading or trailing slash and may be ''. */
export interface Destination {
  readonly bucket: string;
  readonly prefix: string;
}

export interface S3Settings {
  /** '' for AWS itself. */
  readonly endpoint: string;
  readonly region: string;
  /** Undefined: the SDK's default chain (environment, OIDC web identity, instance role). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  readonly forcePathStyle: boolean;
  readonly sse: 'AES256' | 'aws:kms' | undefined;
}

export interface RetentionPolicy {
  /** Keep at least the newest `count` valid backups. */
  readonly count: number;
  /** Keep every valid backup younger than `days`. */
  readonly days: number;
}

export interface BackupCommon {
  readonly ssh: SshSettings;
  readonly app: string;
  /** As given: may start with `~/`, resolved against the host's home. '' for the default. */
  readonly deployPath: string;
  readonly destination: Destination;
  readonly s3: S3Settings;
  /** age identity (`AGE-SECRET-KEY-1...`) to read encrypted backups; '' when not given. */
  readonly identity: string;
  /** Run `verifyQuery` after a restore (scratch database for a backup, the target for a restore). */
  readonly verify: boolean;
  readonly verifyQuery: string;
  /** Whether the verify query's result may be printed in logs and the summary: the default query's always; a custom one's only with `show-row-data`. */
  readonly showVerifyResult: boolean;
  /** Print lines of PostgreSQL's error output that can hold row data (DETAIL, CONTEXT; pg-messages.ts). */
  readonly showRowData: boolean;
  /** The host's deploy lock, held while the dump runs and for the whole restore. */
  readonly lock: LockOptions;
  readonly run: RunContext;
}

export interface BackupSettings extends BackupCommon {
  readonly mode: 'backup';
  readonly source: DumpSource;
  readonly compression: Compression;
  /** age recipients (`age1...`); empty: not encrypted. */
  readonly recipients: readonly string[];
  /** The version being deployed, or the run id: the end of the object's name. */
  readonly label: string;
  readonly localCopies: number;
  readonly retention: RetentionPolicy;
}

export interface RestoreSettings extends BackupCommon {
  readonly mode: 'restore';
  /** 'latest' or an object key. */
  readonly from: string;
  readonly to: PostgresUrl;
  /** Run pg_restore inside this compose service's container instead of on the host. */
  readonly composeService: string | undefined;
}

export type ActionSettings = BackupSettings | RestoreSettings;
