import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEPLOY_USER, allowSudo, ensureHostUser, hostFolder } from './host-user.js';
import { freePort } from './sandbox.js';

export const NGINX = '/usr/sbin/nginx';

/**
 * A real nginx (Debian's) on loopback with its own prefix, config, pid and ports in a temp
 * dir: a reverse proxy in front of one upstream, read from `upstream.conf`. It runs as root,
 * as a host's nginx does; the deploy user reloads it with `sudo nginx` (a sudoers rule for
 * /usr/sbin/nginx, as docs/zero-downtime.md tells users to add). Stopped by pid.
 */
export class NginxProxy {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  /**
   * With `include`, the config is the one the built-in blue-green switch expects:
   * `upstream app { include FILE; }`, FILE holding `server HOST:PORT;` lines (written with
   * `upstream` first when it does not exist yet); the switch rewrites it and reloads nginx.
   */
  static async start(parent: string, name: string, upstream: string, options: { include?: string } = {}): Promise<NginxProxy> {
    mkdirSync(parent, { recursive: true });
    const dir = mkdtempSync(join(parent, `nginx-${name}-`));
    // Readable by the deploy user: its switch commands read the pid file and write upstream.conf.
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'logs'));
    allowSudo(DEPLOY_USER, NGINX);
    const proxy = new NginxProxy(dir, await freePort());
    if (options.include) {
      hostFolder(dirname(options.include));
      if (!existsSync(options.include)) writeFileSync(options.include, `server ${upstream};\n`);
      writeFileSync(proxy.upstreamFile, `upstream app { include ${options.include}; }\n`);
    } else {
      proxy.writeUpstream(upstream);
    }
    writeFileSync(
      proxy.config,
      [
        'worker_processes 1;',
        `pid ${join(dir, 'nginx.pid')};`,
        `error_log ${join(dir, 'logs', 'error.log')} warn;`,
        'events { worker_connections 1024; }',
        'http {',
        '  access_log off;',
        ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, `${t}_temp`)};`),
        `  include ${proxy.upstreamFile};`,
        `  server { listen 127.0.0.1:${proxy.port}; location / { proxy_pass http://app; } }`,
        '}',
        '',
      ].join('\n'),
    );
    execFileSync(NGINX, ['-p', dir, '-c', proxy.config]);
    return proxy;
  }

  get config(): string {
    return join(this.dir, 'nginx.conf');
  }

  get upstreamFile(): string {
    return join(this.dir, 'upstream.conf');
  }

  /** Writes the upstream file, which the deploy user's switch-command rewrites (so it owns it). */
  writeUpstream(address: string): void {
    writeFileSync(this.upstreamFile, `upstream app { server ${address}; }\n`);
    const { uid, gid } = ensureHostUser(DEPLOY_USER);
    chownSync(this.upstreamFile, uid, gid);
  }

  /**
   * The switch-command a blue-green deploy runs on the host to point this proxy at the new
   * colour. It returns once the workers that knew the old upstream have finished their
   * requests and exited (at most 10 s), so the old colour is not stopped under them. The
   * workers run as nobody, so the deploy user looks in /proc (`kill -0` would say EPERM).
   */
  get switchCommand(): string {
    const pid = join(this.dir, 'nginx.pid');
    return [
      `old=$(ps -o pid= --ppid "$(cat ${pid})")`,
      `printf 'upstream app { server %s; }\\n' "$DEPLOY_KIT_ADDRESS" > ${this.upstreamFile}`,
      `sudo -n ${NGINX} -p ${this.dir} -c ${this.config} -s reload`,
      'for i in $(seq 100); do alive=; for p in $old; do [ -d "/proc/$p" ] && alive=1; done; [ -z "$alive" ] && break; sleep 0.1; done',
    ].join(' && ');
  }

  /** What the built-in switch runs to reload this nginx (`nginx-reload-command`). */
  get reloadCommand(): string {
    return `sudo -n ${NGINX} -p ${this.dir} -c ${this.config} -s reload`;
  }

  upstream(): string {
    return readFileSync(this.upstreamFile, 'utf8').trim();
  }

  stop(): void {
    const pidFile = join(this.dir, 'nginx.pid');
    if (!existsSync(pidFile)) return;
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGQUIT');
    } catch {
      // already gone
    }
  }
}
