import { randomBytes } from 'node:crypto';
import { dropDatabase, onHost, passwordLine, pgTool } from '../backup/commands.js';
import { pgOutput } from '../backup/pg-messages.js';
import { PostgresUrl, describeDatabase, withDatabase } from '../backup/postgres-url.js';
import { findBackup, lastLines, restoreObject } from '../backup/restore-database.js';
import type { Destination, S3Settings } from '../backup/settings.js';
import { BackupStore } from '../backup/storage.js';
import { OperationError } from '../errors.js';
import type { Reporter } from '../report.js';
import type { RemoteHost } from '../ssh/connection.js';

/**
 * A preview's own PostgreSQL database and role, on the server `database-url` reaches from the
 * host: the database `<app>_pr_<n>`, owned by a login role of the same name whose password is
 * made here, kept in a 0600 file in the preview's folder and given to the preview as
 * DATABASE_URL. The role owns nothing else: it cannot read production's tables. Empty, or
 * restored (as that role) from the newest backup of another app through action-backup's restore
 * path (the stream checked against the manifest's sha256), then scrubbed by the user's SQL in
 * one transaction; a scrub that fails drops the database, so unscrubbed data never stays.
 */
export interface PreviewDatabaseSettings {
  /** A role that may create roles and databases, as the host reaches the server (masked). */
  readonly admin: PostgresUrl;
  /** `host[:port]` the preview's containers reach the server at; '' for the admin URL's. */
  readonly appHost: string;
  /** `open` only: empty, or restored from a backup. */
  readonly source?: { readonly kind: 'empty' } | { readonly kind: 'restore'; readonly app: string; readonly destination: Destination; readonly s3: S3Settings; readonly identity: string };
  /** SQL run after the restore, in one transaction (`database-scrub`'s content); '' for none. */
  readonly scrubSql: string;
  readonly scrubFile: string;
}

/** What the preview is given, and what close needs. */
export interface PreviewDatabase {
  readonly name: string;
  readonly url: string;
}

const ident = (name: string): string => {
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`Not a preview database name: ${name}`);
  return `"${name}"`;
};

export class PreviewDatabases {
  constructor(
    private readonly host: RemoteHost,
    private readonly settings: PreviewDatabaseSettings,
    private readonly reporter: Reporter,
    private readonly mask: (secret: string) => void,
  ) {}

  /** The preview's database: made (and filled) on its first deploy, read back on the next ones. */
  async ensure(name: string, passwordFile: string, exists: boolean): Promise<PreviewDatabase> {
    if (exists) {
      const password = (await this.host.run(['cat', passwordFile])).stdout.trim();
      this.mask(password);
      return { name, url: this.appUrl(name, password) };
    }
    if ((await this.sql(this.settings.admin, `SELECT 1 FROM pg_database WHERE datname = '${name}' UNION ALL SELECT 1 FROM pg_roles WHERE rolname = '${name}';`)).trim() !== '') {
      throw new OperationError(
        `A database or role named ${name} already exists on ${describeDatabase(this.settings.admin)} and is not this preview's (the preview has no record of it); a preview never takes over one. Nothing was changed.`,
      );
    }
    const password = randomBytes(24).toString('hex');
    this.mask(password);
    await this.host.writeFile(passwordFile, `${password}\n`, 0o600);
    await this.sql(
      this.settings.admin,
      [
        `CREATE ROLE ${ident(name)} LOGIN PASSWORD '${password}';`,
        `GRANT ${ident(name)} TO CURRENT_USER;`,
        `CREATE DATABASE ${ident(name)} OWNER ${ident(name)};`,
        `REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC;`,
      ].join('\n'),
    );
    this.reporter.info(`created database ${name}, owned by its own role ${name}`);
    const own = { ...withDatabase(this.settings.admin, name), user: name, password, url: roleUrl(withDatabase(this.settings.admin, name).url, name) };
    try {
      if (this.settings.source?.kind === 'restore') await this.restore(own, this.settings.source);
      if (this.settings.scrubSql !== '') {
        await this.sql(own, this.settings.scrubSql, { singleTransaction: true, what: `the scrub SQL (${this.settings.scrubFile})` });
        this.reporter.info(`ran ${this.settings.scrubFile} in ${name}`);
      }
    } catch (error) {
      await this.drop(name);
      throw new OperationError(`${(error as Error).message} The database ${name} was dropped: nothing of it stays.`);
    }
    return { name, url: this.appUrl(name, password) };
  }

  /** Drops the database (disconnecting the preview) and its role. */
  async drop(name: string): Promise<void> {
    const input = passwordLine(this.settings.admin);
    const dropped = await this.host.run(dropDatabase(onHost, this.settings.admin, name), { allowFailure: true, ...(input ? { stdin: input } : {}) });
    if (dropped.code !== 0) throw new OperationError(`Could not drop the database ${name} (exit ${dropped.code}): ${lastLines(pgOutput(dropped.stderr, false))}.`);
    await this.sql(this.settings.admin, `DROP ROLE IF EXISTS ${ident(name)};`);
    this.reporter.info(`dropped database ${name} and its role`);
  }

  private async restore(own: PostgresUrl, source: { app: string; destination: Destination; s3: S3Settings; identity: string }): Promise<void> {
    const store = new BackupStore(source.s3, source.destination);
    try {
      const backup = await findBackup(store, source.destination, source.app, 'latest', this.reporter);
      await restoreObject({ host: this.host, runner: onHost, store, identity: source.identity, showRowData: false }, backup, own, { clean: false });
      this.reporter.info(`restored ${backup.key} into ${own.database}; its sha256 matched the manifest`);
    } finally {
      store.close();
    }
  }

  /** Runs SQL read from standard input (after the password line), so no value of it is on a command line. */
  private async sql(db: PostgresUrl, sql: string, options: { singleTransaction?: boolean; what?: string } = {}): Promise<string> {
    const command = pgTool(onHost, db, [
      'psql',
      '--no-psqlrc',
      '--quiet',
      '--no-align',
      '--tuples-only',
      '--set=ON_ERROR_STOP=1',
      ...(options.singleTransaction ? ['--single-transaction'] : []),
      '--no-password',
      `--dbname=${db.url}`,
    ]);
    const result = await this.host.run(command, { allowFailure: true, stdin: `${passwordLine(db) ?? ''}${sql}\n` });
    if (result.code !== 0) {
      throw new OperationError(`${options.what ?? 'SQL'} failed on ${describeDatabase(db)} (exit ${result.code}): ${lastLines(pgOutput(result.stderr || result.stdout, false))}.`);
    }
    return result.stdout;
  }

  private appUrl(name: string, password: string): string {
    const admin = this.settings.admin;
    const host = this.settings.appHost || `${admin.host.includes(':') ? `[${admin.host}]` : admin.host}${admin.port === undefined ? '' : `:${admin.port}`}`;
    return `postgres://${name}:${password}@${host}/${name}`;
  }
}

/** The same URL with another user (no password: that travels on stdin). */
function roleUrl(url: string, user: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  return parsed.toString();
}
