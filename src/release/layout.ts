/**
 * Where an app's things live on the host, under its deploy path:
 *
 *   <root>/releases/<id>/   compose files, .env (0600), deploy-kit.images.yml, release.json
 *   <root>/current          symlink to releases/<id>, switched atomically
 *   <root>/ledger.jsonl     one JSON event per line: the audit trail of every release
 *   <root>/.lock/           the deploy lock (owner.json, heartbeat)
 *   <root>/backups/         local backup copies
 */
export interface AppLayout {
  readonly root: string;
  readonly releases: string;
  readonly current: string;
  readonly ledger: string;
  readonly lock: string;
  readonly backups: string;
  release(id: string): ReleaseLayout;
}

export interface ReleaseLayout {
  readonly dir: string;
  readonly envFile: string;
  readonly recordFile: string;
  readonly imagesFile: string;
  file(name: string): string;
}

export const IMAGES_FILE = 'deploy-kit.images.yml';

export function appLayout(root: string): AppLayout {
  const trimmed = root.replace(/\/+$/, '') || '/';
  const join = (...parts: string[]) => [trimmed, ...parts].join('/');
  return {
    root: trimmed,
    releases: join('releases'),
    current: join('current'),
    ledger: join('ledger.jsonl'),
    lock: join('.lock'),
    backups: join('backups'),
    release(id: string): ReleaseLayout {
      const dir = join('releases', id);
      return {
        dir,
        envFile: `${dir}/.env`,
        recordFile: `${dir}/release.json`,
        imagesFile: `${dir}/${IMAGES_FILE}`,
        file: (name: string) => `${dir}/${name}`,
      };
    },
  };
}

/** Resolves a deploy path as the host's shell would: `~/x` and relative paths are under the user's home. */
export function resolveDeployPath(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return `${home}/${path.slice(2)}`;
  if (path.startsWith('/')) return path;
  return `${home}/${path}`;
}
