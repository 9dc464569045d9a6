import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * The accounts deploy-kit logs in as on the sandbox hosts, set up the way the docs tell users
 * to: a user of its own with a home from /etc/skel (Debian's default .bashrc and .profile),
 * a member of the group that owns the Docker socket (`docker`, as the docker.io package makes
 * it; dockerd gives its socket to that group). Root stays one tested case of its own.
 */
export interface HostUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/** The login the sandbox hosts use by default. */
export const DEPLOY_USER = 'deploy';

/** Users with a login shell that is not bash, for the tests of non-POSIX and non-bash shells. */
export const SHELL_USERS = { zsh: 'deploy-zsh', fish: 'deploy-fish' } as const;

export const DOCKER_GROUP = 'docker';

function which(command: string): string {
  const found = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error(`host-user: ${command} is not installed (bash scripts/setup.sh installs it)`);
  return found;
}

function lookup(name: string): HostUser | undefined {
  const entry = spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout.trim();
  if (!entry) return undefined;
  const [, , uid, gid, , home, shell] = entry.split(':');
  return { name, uid: Number(uid), gid: Number(gid), home: home!, shell: shell! };
}

/**
 * The user `name`, created when missing (login shell `shell`, a command name or path, bash by
 * default) and put in the docker group; an existing user gets `shell` only when one is given.
 * Idempotent: concurrent callers (jest workers) may race `useradd`, so a failed add is followed
 * by a lookup.
 */
export function ensureHostUser(name: string, shell?: string): HostUser {
  if (name === 'root') return lookup('root')!;
  const shellPath = shell === undefined ? (lookup(name)?.shell ?? which('bash')) : shell.startsWith('/') ? shell : which(shell);
  spawnSync('groupadd', ['-f', DOCKER_GROUP], { stdio: 'ignore' });
  let user = lookup(name);
  if (!user) {
    spawnSync('useradd', ['--create-home', '--shell', shellPath, '--groups', DOCKER_GROUP, name], { stdio: 'ignore' });
    user = lookup(name);
    if (!user) throw new Error(`host-user: could not create the user ${name}`);
  }
  if (user.shell !== shellPath) {
    execFileSync('usermod', ['--shell', shellPath, name]);
    user = { ...user, shell: shellPath };
  }
  const groups = spawnSync('id', ['-nG', name], { encoding: 'utf8' }).stdout.trim().split(/\s+/);
  if (!groups.includes(DOCKER_GROUP)) execFileSync('usermod', ['--append', '--groups', DOCKER_GROUP, name]);
  return user;
}

/**
 * A folder on a sandbox host that the user owns, as a deploy path under /srv or a home would be
 * (created with its parents; the parents stay root's, as on a real host).
 */
export function hostFolder(path: string, user: HostUser = ensureHostUser(DEPLOY_USER)): string {
  mkdirSync(path, { recursive: true });
  chownSync(path, user.uid, user.gid);
  return path;
}

/** Lets other users pass through a root-owned folder (0711) without listing it: the sandbox's temp dir. */
export function traversable(path: string): void {
  chmodSync(path, 0o711);
}

/**
 * Lets `user` run `command` (an absolute path, any arguments) as root without a password, the
 * way the docs tell users to allow `sudo nginx -s reload` (a drop-in under /etc/sudoers.d,
 * checked with visudo before it is put in place).
 */
export function allowSudo(user: string, command: string): void {
  const name = `deploy-kit-${user}-${command.split('/').pop()}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const path = `/etc/sudoers.d/${name}`;
  const rule = `${user} ALL=(root) NOPASSWD: ${command}\n`;
  if (existsSync(path) && readFileSync(path, 'utf8') === rule) return;
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, rule, { mode: 0o440 });
  execFileSync('visudo', ['-c', '-q', '-f', temp]);
  renameSync(temp, path);
}
