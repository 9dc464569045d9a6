import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SandboxInfo, docker, freePort } from './sandbox.js';

export const HAPROXY = '/usr/sbin/haproxy';
const IMAGE = 'deploy-kit-test/haproxy:local';

/**
 * A real HAProxy (Debian's 2.6) that finds an app's containers by itself, the way a rolling
 * deploy expects: it runs as a container on the app's compose network, asks Docker's DNS
 * (127.0.0.11) for the service name every second (`server-template ... resolvers`), and checks
 * each replica's `/health` every 500 ms. Connection failures are retried on another replica.
 * The image is built FROM scratch with the host's binary and the libraries `ldd` names.
 * Published on a loopback port; stopped by its container id.
 */
export class HaproxyProxy {
  private constructor(
    private readonly sandbox: Pick<SandboxInfo, 'dockerHost'>,
    readonly container: string,
    readonly port: number,
  ) {}

  static async start(sandbox: Pick<SandboxInfo, 'dockerHost' | 'dir'>, network: string, service: string, servicePort = 8080): Promise<HaproxyProxy> {
    buildImage(sandbox);
    const dir = mkdtempSync(join(sandbox.dir, 'haproxy-'));
    writeFileSync(
      join(dir, 'haproxy.cfg'),
      [
        'global',
        '  log stdout format raw local0 info',
        'defaults',
        '  mode http',
        '  log global',
        // One line per request (with its retries and how it ended), read by failedRequests().
        '  option httplog',
        // A replica that just stopped leaves its address in the DNS answer for up to 1 s: a
        // connection to it fails fast and is retried on another replica.
        '  timeout connect 250ms',
        '  timeout client 30s',
        '  timeout server 30s',
        '  retries 3',
        '  option redispatch 1',
        '  retry-on all-retryable-errors',
        'resolvers docker',
        '  nameserver dns 127.0.0.11:53',
        '  hold valid 1s',
        '  hold obsolete 0s',
        '  timeout resolve 1s',
        '  timeout retry 1s',
        'frontend web',
        '  bind :8080',
        '  default_backend app',
        'backend app',
        '  balance roundrobin',
        '  option httpchk GET /health',
        '  default-server inter 500ms fall 2 rise 2 check resolvers docker init-addr none resolve-prefer ipv4',
        `  server-template ${service} 10 ${service}:${servicePort}`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const container = docker(sandbox, [
      'run', '--detach', '--network', network, '--publish', `127.0.0.1:${port}:8080`,
      '--volume', `${dir}/haproxy.cfg:/etc/haproxy/haproxy.cfg:ro`, '--label', 'deploy-kit-test=haproxy', IMAGE,
    ]).trim();
    const proxy = new HaproxyProxy(sandbox, container, port);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      if (ok) return proxy;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`haproxy did not serve within 15s:\n${proxy.logs()}`);
  }

  /**
   * HAProxy's log lines of the requests since `since` that the servers failed: a 5xx status,
   * or a termination state that puts it on the server side (`S...` or `s...`; for example
   * `SC--` with `+3`: the connection and its 3 retries failed). They say why a client got an
   * error.
   */
  failedRequests(since: Date): string[] {
    const log = execFileSync('docker', ['logs', '--since', since.toISOString(), this.container], {
      encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, DOCKER_HOST: this.sandbox.dockerHost }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    return log.split('\n').filter((line) => {
      const request = / (\d{3}) \d+ \S+ \S+ (\S{4}) \d+\/\d+\/\d+\/\d+\/\+?\d+ /.exec(line);
      return request !== null && (request[1]!.startsWith('5') || /^[Ss]/.test(request[2]!));
    });
  }

  logs(): string {
    try {
      return execFileSync('docker', ['logs', '--tail', '40', this.container], { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: this.sandbox.dockerHost }, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      return (error as Error).message;
    }
  }

  stop(): void {
    try {
      docker(this.sandbox, ['rm', '--force', this.container]);
    } catch {
      // the engine may already be gone
    }
  }
}

/** `FROM scratch` + /usr/sbin/haproxy + every library ldd lists, once per engine. */
function buildImage(sandbox: Pick<SandboxInfo, 'dockerHost' | 'dir'>): void {
  try {
    docker(sandbox, ['image', 'inspect', IMAGE]);
    return;
  } catch {
    // not built yet
  }
  if (!existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: apt-get install haproxy (scripts/setup.sh installs it)`);
  const context = mkdtempSync(join(sandbox.dir, 'haproxy-image-'));
  const files = [HAPROXY, ...execFileSync('ldd', [HAPROXY], { encoding: 'utf8' }).match(/\/\S+/g)!];
  for (const file of files) {
    mkdirSync(join(context, 'rootfs', dirname(file)), { recursive: true });
    copyFileSync(file, join(context, 'rootfs', file));
  }
  mkdirSync(join(context, 'rootfs', 'etc', 'haproxy'), { recursive: true });
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY rootfs /\nENTRYPOINT ["/usr/sbin/haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]\n');
  docker(sandbox, ['build', '-q', '-t', IMAGE, context]);
}
