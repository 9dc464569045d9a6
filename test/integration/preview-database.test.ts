import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { POSTGRES_MAJOR, PostgresCluster, startPostgres } from '../harness/postgres.js';
import { PreviewFixture } from '../harness/preview-fixture.js';
import { runAction } from '../harness/run-action.js';
import { S3Fixture, s3Inputs, startS3 } from '../harness/s3.js';
import { docker } from '../harness/sandbox.js';

// A preview's own database, restored from production's newest backup (made by action-backup
// into s3rver) and scrubbed, on a real PostgreSQL; dropped when the pull request closes.

let previews: PreviewFixture;
let pg: PostgresCluster;
let s3: S3Fixture;
const PASSWORD = 'shop-db-password';

const psql = (url: string, sql: string): string => {
  try {
    return execFileSync(`/usr/lib/postgresql/${POSTGRES_MAJOR}/bin/psql`, ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    return `error ${String((error as { stderr?: string }).stderr ?? error).trim()}`;
  }
};

const withDatabase = (extra: Record<string, string> = {}) => ({
  database: 'restore',
  'database-url': pg.url('postgres'),
  'database-from': 'shopdb',
  'database-scrub': 'scrub.sql',
  'backup-destination': 's3://backups/db',
  ...s3Inputs(s3),
  ...extra,
});

/** The DATABASE_URL the preview's current release was given. */
const previewUrl = (pr: number): string => /^DATABASE_URL=(.*)$/m.exec(readFileSync(join(previews.previewsPath, `shopdb-pr-${pr}`, 'current', '.env'), 'utf8'))?.[1]?.replace(/^'|'$/g, '') ?? '';
const exists = (name: string) => pg.sql('postgres', `select (select count(*) from pg_database where datname = '${name}') + (select count(*) from pg_roles where rolname = '${name}')`);

beforeAll(async () => {
  [previews, pg, s3] = await Promise.all([PreviewFixture.start('shopdb', '21100-21199'), startPostgres(), startS3()]);
  pg.createAppDatabase('shop', PASSWORD);
  pg.sql('shop', "set role shop; create table customers (id serial primary key, email text not null); insert into customers (email) values ('ann@real.example'), ('bob@real.example'), ('cy@real.example');");
  writeFileSync(join(previews.workspace, 'scrub.sql'), "update customers set email = 'customer' || id || '@example.invalid';\n");
  writeFileSync(join(previews.workspace, 'bad-scrub.sql'), 'update no_such_table set x = 1;\n');
  const ssh = previews.sandbox.ssh;
  const made = await runAction('action-backup', {
    host: ssh.host,
    port: String(ssh.port),
    username: ssh.username,
    'private-key': previews.sandbox.privateKey,
    'known-hosts': ssh.knownHosts,
    app: 'shopdb',
    'deploy-path': join(previews.sandbox.hostsDir, 'backup-shopdb'),
    'postgres-url': pg.url('shop', 'shop', PASSWORD),
    destination: 's3://backups/db',
    ...s3Inputs(s3),
  });
  expect(made.errors).toEqual([]);
});

afterAll(async () => {
  await previews?.stop();
  await pg?.stop();
  await s3?.stop();
});

test('a preview gets its own database, restored from the newest backup and scrubbed, with a role that cannot read production', async () => {
  const run = await previews.open(21, 'v1', withDatabase());
  expect(run.errors).toEqual([]);
  expect(run.outputs.status).toBe('live');
  expect(await previews.at(21)).toBe('200 v1');

  const url = previewUrl(21);
  expect(url).toMatch(new RegExp(`^postgres://shopdb_pr_21:[0-9a-f]{48}@127\\.0\\.0\\.1:${pg.port}/shopdb_pr_21$`));
  // The data is production's, the personal data is gone.
  expect(psql(url, 'select count(*) from customers')).toBe('3');
  expect(psql(url, "select string_agg(email, ',' order by id) from customers")).toBe('customer1@example.invalid,customer2@example.invalid,customer3@example.invalid');
  expect(pg.sql('shop', 'select count(*) from customers where email like \'%@real.example\'')).toBe('3');
  // Its role owns its database and nothing of production's.
  expect(psql(url.replace(/\/shopdb_pr_21$/, '/shop'), 'select count(*) from customers')).toMatch(/permission denied/);
  // The password never reaches the log, the outputs or the summary.
  const password = /:([0-9a-f]{48})@/.exec(url)![1]!;
  expect(run.everything).not.toContain(password);
  expect(run.stdout).toMatch(/restored db\/shopdb\/\S+ into shopdb_pr_21; its sha256 matched the manifest/);

  // A push keeps the database as the preview left it: it is not restored again.
  expect(psql(url, "insert into customers (email) values ('new@example.invalid')")).toBe('');
  const again = await previews.open(21, 'v2', withDatabase());
  expect(again.outputs.status).toBe('live');
  expect(previewUrl(21)).toBe(url);
  expect(psql(url, 'select count(*) from customers')).toBe('4');

  const closed = await previews.run('close', 21, { 'database-url': pg.url('postgres') });
  expect(closed.errors).toEqual([]);
  expect(exists('shopdb_pr_21')).toBe('0');
  expect(closed.stdout).toContain('dropped database shopdb_pr_21 and its role');
});

test('a scrub that fails drops the restored database: the preview fails and no unscrubbed data stays', async () => {
  const run = await previews.open(22, 'v1', withDatabase({ 'database-scrub': 'bad-scrub.sql' }));
  expect(run.code).toBe(1);
  expect(run.outputs.status).toBe('failed');
  expect(run.outputs['failure-reason']).toMatch(/^the scrub SQL \(bad-scrub\.sql\) failed on .*relation "no_such_table" does not exist.*The database shopdb_pr_22 was dropped: nothing of it stays\.$/);
  expect(exists('shopdb_pr_22')).toBe('0');
  expect(docker(previews.sandbox, ['ps', '--all', '--quiet', '--filter', 'label=com.docker.compose.project=shopdb-pr-22']).trim()).toBe('');
  expect(previews.github.comments(22)[0]?.body).toMatch(/### Preview failed[\s\S]*the scrub SQL/);
  expect(existsSync(join(previews.caddy.routes, 'shopdb-pr-22.caddy'))).toBe(false);
});

test('database: empty gives a preview a new, empty database of its own, dropped on close', async () => {
  const run = await previews.open(23, 'v1', { database: 'empty', 'database-url': pg.url('postgres') });
  expect(run.errors).toEqual([]);
  const url = previewUrl(23);
  expect(url).toMatch(/^postgres:\/\/shopdb_pr_23:[0-9a-f]{48}@/);
  expect(psql(url, "select count(*) from information_schema.tables where table_schema = 'public'")).toBe('0');
  expect(psql(url, 'create table t (x int); select count(*) from t')).toBe('0');
  await previews.run('close', 23, { 'database-url': pg.url('postgres') });
  expect(exists('shopdb_pr_23')).toBe('0');
});
