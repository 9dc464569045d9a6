import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { hostFolder } from './host-user.js';
import { freePort } from './sandbox.js';

/**
 * A real Caddy (Debian's package) on loopback, run as a host runs it: from a Caddyfile that
 * serves the host's own site and imports the previews' route folder, which the deploy user
 * owns. The deploy user reloads it with `caddy reload --config <Caddyfile>` through the admin
 * endpoint the Caddyfile names (a port of its own here, localhost:2019 on a host).
 */
export class CaddyProxy {
  private constructor(
    readonly dir: string,
    /** The port every site listens on (a host's would be 80/443). */
    readonly port: number,
    readonly routes: string,
    private readonly process: ChildProcess,
  ) {}

  get config(): string {
    return join(this.dir, 'Caddyfile');
  }

  /** The preview domain for action-preview: previews answer at pr-<n>.<domain>, on this proxy's port. */
  get domain(): string {
    return `preview.test:${this.port}`;
  }

  static async start(parent: string, name: string): Promise<CaddyProxy> {
    mkdirSync(parent, { recursive: true });
    const dir = mkdtempSync(join(parent, `caddy-${name}-`));
    chmodSync(dir, 0o755);
    const routes = hostFolder(join(dir, 'routes'));
    const [port, admin] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, 'Caddyfile'),
      [
        '{',
        `\tadmin localhost:${admin}`,
        '\tauto_https off',
        `\tstorage file_system ${join(dir, 'data')}`,
        '}',
        '',
        '# The host\'s own site, which no preview may change.',
        `http://www.shop.test:${port} {`,
        '\trespond "the shop itself"',
        '}',
        '',
        `import ${routes}/*.caddy`,
        '',
      ].join('\n'),
      { mode: 0o644 },
    );
    const log = openSync(join(dir, 'caddy.log'), 'a');
    const child = spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], {
      stdio: ['ignore', log, log],
      env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') },
    });
    const proxy = new CaddyProxy(dir, port, routes, child);
    for (let i = 0; i < 100; i++) {
      if ((await proxy.get('www.shop.test', '/')).startsWith('200')) return proxy;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`Caddy did not start: ${execFileSync('tail', ['-5', join(dir, 'caddy.log')], { encoding: 'utf8' })}`);
  }

  /** What the proxy answers for `host` (a name it serves) on `path`: `200 body`, or the error in words. */
  async get(host: string, path = '/'): Promise<string> {
    return new Promise((resolve) => {
      const request = httpGet({ host: '127.0.0.1', port: this.port, path, headers: { host: `${host}:${this.port}` }, timeout: 3000 }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(`${response.statusCode} ${body.trim()}`));
      });
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', (error) => resolve(`error ${error.message}`));
    });
  }

  stop(): void {
    this.process.kill('SIGTERM');
  }
}
