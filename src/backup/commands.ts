import { ComposeProject, compose } from '../compose/cli.js';
import { Command, ShellLine, constant, quote, userScript } from '../shell/quote.js';
import type { PostgresUrl } from './postgres-url.js';
import type { DumpSource } from './settings.js';

/**
 * Builders for the commands action-backup runs on the host. They return argv arrays (or
 * shell lines built only from deploy-kit's own text plus `quote`); RemoteHost runs them.
 *
 * Passwords never appear in a command line (`ps` on the host shows every argv): a database
 * URL goes into argv without its password, and the password reaches the tool as the first
 * line of its standard input, read into PGPASSWORD by a small `sh` prelude that then execs
 * the tool with the rest of stdin (which pg_restore reads the archive from). An SSH channel is
 * two-way, so the dump gets its password the same way while its stdout streams back.
 */

/** Reads the first line of stdin into PGPASSWORD, then runs "$@" with the rest of stdin. */
export const PASSWORD_PRELUDE = 'IFS= read -r PGPASSWORD || exit 125; export PGPASSWORD; exec "$@"';

/** Where PostgreSQL's tools run: the host's own, or those in a compose service's container. */
export type PgRunner = { readonly kind: 'host' } | { readonly kind: 'compose'; readonly project: ComposeProject; readonly service: string };

export const onHost: PgRunner = { kind: 'host' };

/** A PostgreSQL tool for `db`: taking the password from stdin's first line when the URL has one. */
export function pgTool(runner: PgRunner, db: PostgresUrl, command: Command): Command {
  const withPassword = db.password === '' ? command : ['sh', '-c', PASSWORD_PRELUDE, 'sh', ...command];
  return inRunner(runner, withPassword);
}

function inRunner(runner: PgRunner, command: Command): Command {
  return runner.kind === 'host' ? command : compose(runner.project, 'exec', '-T', runner.service, ...command);
}

/** What `run(...)` sends on stdin to a `pgTool` command that runs to completion. */
export const passwordLine = (db: PostgresUrl): string | undefined => (db.password === '' ? undefined : `${db.password}\n`);

export const pgDumpVersion = (runner: PgRunner): Command => inRunner(runner, ['pg_dump', '--version']);

/** The command whose stdout is the backup. */
export function dumpCommand(source: DumpSource, runner: PgRunner): Command {
  if (source.kind === 'command') return userScript(source.script);
  return pgTool(runner, source.database, ['pg_dump', '--format=custom', '--no-password', `--dbname=${source.database.url}`]);
}

/** A private temp dir (0700) on the host for one run's local copy bookkeeping. Prints the dir's path. */
export const openWorkdir = (): ShellLine =>
  constant(`umask 077 && d=$(mktemp -d "\${TMPDIR:-/tmp}/deploy-kit-backup.XXXXXXXX") && printf '%s\\n' "$d"`);

export const removeWorkdir = (dir: string): Command => ['rm', '-rf', '--', dir];

/**
 * Runs the dump (`"$@"`, which keeps the channel's stdin) with its stdout going both to the
 * SSH channel and to `copy` on the host (one dump, two destinations, via `tee`). The wrapper
 * exits with the dump's own exit status (kept in `<dir>/status`, as POSIX sh has no
 * pipefail), so a dump that fails after printing bytes fails the backup. A failed write of the
 * local copy is noted in `<dir>/copy-failed` without failing the stream.
 */
export const TEE_WRAPPER = [
  'umask 077; dir=$1 copy=$2; shift 2',
  '{ "$@"; echo $? > "$dir/status"; } | tee -- "$copy" || : > "$dir/copy-failed"',
  'exit "$(cat "$dir/status" 2>/dev/null || echo 125)"',
].join('; ');

export function withLocalCopy(dir: string, copy: string, dump: Command): Command {
  return ['sh', '-c', TEE_WRAPPER, 'deploy-kit-dump', dir, copy, ...dump];
}

/** Prints `ok` or `failed`: whether the wrapper could write the local copy. */
export const localCopyStatus = (dir: string): ShellLine =>
  constant(`if [ -e ${quote(`${dir}/copy-failed`)} ]; then echo failed; else echo ok; fi`);

/**
 * Restores a custom-format archive read from stdin, in one transaction: if the stream is cut
 * short or anything fails, nothing of it stays. `clean` first drops the objects the archive
 * holds (restoring over an existing database). Owners and privileges are not restored: the
 * objects belong to the URL's user, as on a fresh server where the original roles may not exist.
 */
export function pgRestore(runner: PgRunner, db: PostgresUrl, options: { clean: boolean }): Command {
  return pgTool(runner, db, [
    'pg_restore',
    '--single-transaction',
    '--exit-on-error',
    '--no-owner',
    '--no-privileges',
    ...(options.clean ? ['--clean', '--if-exists'] : []),
    '--no-password',
    `--dbname=${db.url}`,
  ]);
}

/** Creates database `name` on `db`'s server (connecting to `db` to do so). */
export const createDatabase = (runner: PgRunner, db: PostgresUrl, name: string): Command =>
  pgTool(runner, db, ['createdb', '--no-password', `--maintenance-db=${db.url}`, name]);

/** Drops database `name` on `db`'s server, disconnecting whoever is still in it. */
export const dropDatabase = (runner: PgRunner, db: PostgresUrl, name: string): Command =>
  pgTool(runner, db, ['dropdb', '--if-exists', '--force', '--no-password', `--maintenance-db=${db.url}`, name]);

/** Runs one query and prints its result unaligned, without headers. */
export const runQuery = (runner: PgRunner, db: PostgresUrl, query: string): Command =>
  pgTool(runner, db, ['psql', '--no-psqlrc', '--no-align', '--tuples-only', '--set=ON_ERROR_STOP=1', '--no-password', `--dbname=${db.url}`, `--command=${query}`]);

/** Local copies: `<deploy-path>/backups/`, private to the SSH user. */
export const prepareCopiesDir = (dir: string): Command => ['mkdir', '-p', '-m', '0700', '--', dir];

/** Where the wrapper writes a local copy while it streams; renamed to its final name only once the backup succeeded. */
export const partialCopyPath = (dir: string, fileName: string): string => `${dir}/.${fileName}.partial`;

export const keepCopy = (partial: string, final: string): Command => ['mv', '-f', '--', partial, final];

export const listCopies = (dir: string): Command => ['ls', '-1', '--', dir];

export const removeFiles = (paths: readonly string[]): Command => ['rm', '-f', '--', ...paths];
