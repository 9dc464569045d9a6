import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PASSWORD_PRELUDE,
  PgRunner,
  TEE_WRAPPER,
  createDatabase,
  dropDatabase,
  dumpCommand,
  keepCopy,
  onHost,
  openWorkdir,
  partialCopyPath,
  passwordLine,
  pgDumpVersion,
  pgRestore,
  runQuery,
  withLocalCopy,
} from '../../src/backup/commands.js';
import { parsePostgresUrl } from '../../src/backup/postgres-url.js';
import { scratchDatabaseName } from '../../src/backup/restore-database.js';
import { shellLine } from '../../src/shell/quote.js';

const db = parsePostgresUrl('postgres-url', 'postgres://app:s3cret%20pw@db:5432/shop');
const trusted = parsePostgresUrl('postgres-url', 'postgres://app@db:5432/shop');
const project = { variant: 'v2', name: 'shop', directory: '/srv/shop/releases/7', files: ['/srv/shop/releases/7/compose.yml'], envFile: '/srv/shop/releases/7/.env' } as const;
const inCompose: PgRunner = { kind: 'compose', project, service: 'db' };

describe('dump commands', () => {
  test('pg_dump on the host: custom format, URL without the password, password from stdin', () => {
    expect(dumpCommand({ kind: 'postgres', database: db, composeService: undefined }, onHost)).toEqual([
      'sh',
      '-c',
      PASSWORD_PRELUDE,
      'sh',
      'pg_dump',
      '--format=custom',
      '--no-password',
      '--dbname=postgres://app@db:5432/shop',
    ]);
    expect(shellLine(dumpCommand({ kind: 'postgres', database: trusted, composeService: undefined }, onHost)).text).toBe(
      'pg_dump --format=custom --no-password --dbname=postgres://app@db:5432/shop',
    );
  });

  test('pg_dump inside a compose service: exec -T keeps stdin for the password', () => {
    expect(shellLine(dumpCommand({ kind: 'postgres', database: db, composeService: 'db' }, inCompose)).text).toBe(
      'docker compose --project-name shop --project-directory /srv/shop/releases/7 -f /srv/shop/releases/7/compose.yml ' +
        '--env-file /srv/shop/releases/7/.env exec -T db ' +
        `sh -c 'IFS= read -r PGPASSWORD || exit 125; export PGPASSWORD; exec "$@"' sh pg_dump --format=custom --no-password --dbname=postgres://app@db:5432/shop`,
    );
    expect(pgDumpVersion({ ...inCompose, project: { ...project, variant: 'v1' } })[0]).toBe('docker-compose');
    expect(pgDumpVersion(onHost)).toEqual(['pg_dump', '--version']);
  });

  test("a user's command runs as given, through sh -c", () => {
    expect(dumpCommand({ kind: 'command', script: 'mysqldump --single-transaction shop | grep -v "^--"' }, onHost)).toEqual([
      'sh',
      '-c',
      'mysqldump --single-transaction shop | grep -v "^--"',
    ]);
  });

  test('the local-copy wrapper gets the workdir, the copy path and the dump as arguments, never as shell text', () => {
    const command = withLocalCopy('/tmp/deploy-kit-backup.Ab12', '/srv/shop/backups/.20250102T030405Z-v1.pgdump.partial', ['sh', '-c', 'echo hi; exit 3']);
    expect(command).toEqual(['sh', '-c', TEE_WRAPPER, 'deploy-kit-dump', '/tmp/deploy-kit-backup.Ab12', '/srv/shop/backups/.20250102T030405Z-v1.pgdump.partial', 'sh', '-c', 'echo hi; exit 3']);
  });

  test('no command line carries the password', () => {
    const lines = [
      withLocalCopy('/tmp/w', '/b/.x.partial', dumpCommand({ kind: 'postgres', database: db, composeService: 'db' }, inCompose)),
      pgRestore(onHost, db, { clean: true }),
      createDatabase(onHost, db, 'x'),
      dropDatabase(inCompose, db, 'x'),
      runQuery(onHost, db, 'select 1'),
    ].map((c) => shellLine(c).text);
    for (const line of lines) {
      expect(line).not.toContain('s3cret');
      expect(line).not.toContain('PGPASSWORD=');
    }
  });
});

describe('restore and verify commands', () => {
  test('pg_restore: one transaction, stop at the first error, no owners or privileges', () => {
    expect(pgRestore(onHost, trusted, { clean: true })).toEqual([
      'pg_restore',
      '--single-transaction',
      '--exit-on-error',
      '--no-owner',
      '--no-privileges',
      '--clean',
      '--if-exists',
      '--no-password',
      '--dbname=postgres://app@db:5432/shop',
    ]);
    expect(pgRestore(onHost, trusted, { clean: false })).not.toContain('--clean');
  });

  test('scratch databases: created and dropped through the source database, queried unaligned', () => {
    expect(shellLine(createDatabase(onHost, trusted, 'shop_verify_abc123')).text).toBe('createdb --no-password --maintenance-db=postgres://app@db:5432/shop shop_verify_abc123');
    expect(shellLine(dropDatabase(onHost, trusted, 'shop_verify_abc123')).text).toBe(
      'dropdb --if-exists --force --no-password --maintenance-db=postgres://app@db:5432/shop shop_verify_abc123',
    );
    expect(shellLine(runQuery(onHost, trusted, "select count(*) from t where a = 'x'")).text).toBe(
      "psql --no-psqlrc --no-align --tuples-only --set=ON_ERROR_STOP=1 --no-password --dbname=postgres://app@db:5432/shop '--command=select count(*) from t where a = '\\''x'\\'''",
    );
    expect(scratchDatabaseName('shop', 'abc123')).toBe('shop_verify_abc123');
    expect(scratchDatabaseName('my-app.db'.padEnd(70, 'x'), 'abc123')).toHaveLength(40 + '_verify_abc123'.length);
  });

  test('workdir, local copies', () => {
    expect(openWorkdir().text).toBe(`umask 077 && d=$(mktemp -d "\${TMPDIR:-/tmp}/deploy-kit-backup.XXXXXXXX") && printf '%s\\n' "$d"`);
    expect(partialCopyPath('/srv/shop/backups', '20250102T030405Z-v1.pgdump')).toBe('/srv/shop/backups/.20250102T030405Z-v1.pgdump.partial');
    expect(keepCopy('/b/.x.partial', '/b/x')).toEqual(['mv', '-f', '--', '/b/.x.partial', '/b/x']);
  });
});

// The wrapper is POSIX sh written in deploy-kit's source; run it for real in /bin/sh.
describe('the dump and its local-copy wrapper, in a real sh', () => {
  const dirs: string[] = [];
  const work = () => {
    dirs.push(mkdtempSync(join(tmpdir(), 'dump-wrapper-')));
    return dirs[dirs.length - 1]!;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const runWrapper = (dir: string, copy: string, dump: string[], input?: string) => spawnSync('sh', withLocalCopy(dir, copy, dump).slice(1), { encoding: 'buffer', input: input === undefined ? undefined : Buffer.from(input) });

  test('a dump that fails after printing bytes: the wrapper exits with its status', () => {
    const dir = work();
    const failing = ['sh', '-c', 'printf partial-output; exit 7'];
    const teed = runWrapper(dir, join(dir, 'copy'), failing);
    expect([teed.status, teed.stdout.toString(), readFileSync(join(dir, 'copy'), 'utf8')]).toEqual([7, 'partial-output', 'partial-output']);
  });

  test('a good dump goes to stdout and to the local copy (mode 0600), byte for byte', () => {
    const dir = work();
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    writeFileSync(join(dir, 'in'), bytes);
    const result = runWrapper(dir, join(dir, 'copy'), ['cat', join(dir, 'in')]);
    expect(result.status).toBe(0);
    expect(result.stdout.equals(bytes)).toBe(true);
    expect(readFileSync(join(dir, 'copy')).equals(bytes)).toBe(true);
    expect((statSync(join(dir, 'copy')).mode & 0o777).toString(8)).toBe('600');
  });

  test('a local copy that cannot be written is noted, and the stream still completes', () => {
    const dir = work();
    const result = runWrapper(dir, join(dir, 'no-such-dir', 'copy'), ['printf', 'data']);
    expect([result.status, result.stdout.toString()]).toEqual([0, 'data']);
    expect(execFileSync('sh', ['-c', 'ls "$1"', 'sh', dir], { encoding: 'utf8' })).toContain('copy-failed');
  });

  test("the password arrives as the first line of the dump's own stdin, with or without the local-copy wrapper", async () => {
    const password = "p@ss w0rd'$(id)";
    const withPassword = parsePostgresUrl('postgres-url', `postgres://app:${encodeURIComponent(password)}@db/shop`);
    const dump = ['sh', '-c', PASSWORD_PRELUDE, 'sh', 'sh', '-c', 'printf "%s|" "$PGPASSWORD"; cat'];
    const direct = spawnSync(dump[0]!, dump.slice(1), { input: passwordLine(withPassword), encoding: 'utf8' });
    expect([direct.status, direct.stdout]).toEqual([0, `${password}|`]);
    const dir = work();
    const teed = runWrapper(dir, join(dir, 'copy'), dump, passwordLine(withPassword));
    expect([teed.status, teed.stdout.toString()]).toEqual([0, `${password}|`]);
    expect(readFileSync(join(dir, 'copy'), 'utf8')).toBe(`${password}|`);
  });
});
