import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { SandboxInfo, docker, freePort } from './sandbox.js';

/**
 * A throwaway PostgreSQL cluster on 127.0.0.1, of the newest major version installed
 * (15 on Debian 12, 17 on Debian 13, 14 and 16 on Ubuntu 22.04 and 24.04): initdb and pg_ctl
 * run as user postgres in a temp dir owned by postgres. TCP connections need a password
 * (scram-sha-256), so tests prove that passwords reach the tools; the harness itself talks to
 * the cluster over its private Unix socket. Stopped with pg_ctl (and by pid if that fails).
 */
export const POSTGRES_MAJOR = newestPostgres();
const BIN = `/usr/lib/postgresql/${POSTGRES_MAJOR}/bin`;

function newestPostgres(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb'))) : [];
  if (majors.length === 0) throw new Error('postgres harness: no PostgreSQL server in /usr/lib/postgresql (bash scripts/setup.sh installs it)');
  return majors.sort((a, b) => Number(b) - Number(a))[0]!;
}

export interface PostgresCluster {
  readonly dir: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly pid: number;
  /** A URL for `user` (password included) to `database` over TCP. */
  url(database: string, user?: string, password?: string): string;
  /** Runs SQL as the superuser over the socket; returns psql's unaligned, tuples-only output. */
  sql(database: string, sql: string): string;
  /** Creates a login role with a password that owns a new database of the same name. */
  createAppDatabase(name: string, password: string): void;
  stop(): Promise<void>;
}

function asPostgres(command: string, args: string[], input?: string): string {
  const run = userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  return execFileSync(run[0] as string, run[1] as string[], { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], cwd: '/' });
}

export async function startPostgres(): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-kit-pg-'));
  chmodSync(dir, 0o700);
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const superPassword = 'super-secret-pw';
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  asPostgres(`${BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);

  const sql = (database: string, text: string): string =>
    asPostgres(`${BIN}/psql`, ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', database, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1'], text).trim();

  return {
    dir,
    host: '127.0.0.1',
    port,
    pid,
    url: (database, user = 'postgres', password = superPassword) => `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    sql,
    createAppDatabase(name, password) {
      sql('postgres', `create role "${name}" login createdb password '${password.replace(/'/g, "''")}'; create database "${name}" owner "${name}";`);
    },
    async stop() {
      try {
        asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', '-t', '20', 'stop']);
      } catch {
        try {
          process.kill(pid, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresIds(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('postgres harness: there is no user postgres (apt-get install postgresql)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const CLIENT_TOOLS = ['pg_dump', 'pg_restore', 'psql', 'createdb', 'dropdb'];

/**
 * Builds and pushes `<registry>/pgtools:<major>`: a FROM-scratch image (no image can be pulled here)
 * with busybox as its shell and this machine's real PostgreSQL client tools plus the shared
 * libraries they link, the way a database service's image carries pg_dump. It only sleeps;
 * with `network_mode: host` its tools reach the cluster on 127.0.0.1.
 */
export function buildPgToolsImage(sandbox: Pick<SandboxInfo, 'dockerHost' | 'dir' | 'registry'>): string {
  const image = `${sandbox.registry}/pgtools:${POSTGRES_MAJOR}`;
  // A build folder of its own: the passes of one run may build this image at the same time.
  mkdirSync(join(sandbox.dir, 'images'), { recursive: true });
  const context = mkdtempSync(join(sandbox.dir, 'images', 'pgtools-'));
  const root = join(context, 'rootfs');
  const place = (from: string, to = from) => {
    mkdirSync(dirname(join(root, to)), { recursive: true });
    copyFileSync(from, join(root, to));
  };
  const libraries = new Set<string>();
  for (const tool of CLIENT_TOOLS) {
    place(`${BIN}/${tool}`, `/usr/local/bin/${tool}`);
    for (const line of execFileSync('ldd', [`${BIN}/${tool}`], { encoding: 'utf8' }).split('\n')) {
      const path = /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)/.exec(line)?.[1];
      if (path) libraries.add(path);
    }
  }
  for (const library of libraries) place(library);
  place(['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p))!, '/bin/busybox');
  symlinkSync('busybox', join(root, 'bin', 'sh'));
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/bin\nENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]\n');
  docker(sandbox, ['build', '-q', '-t', image, context]);
  docker(sandbox, ['push', '-q', image]);
  return image;
}
