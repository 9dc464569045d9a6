// Also loaded by jest through require() (globalSetup), outside moduleNameMapper: hence the extensionless imports.
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, openSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOY_USER, DOCKER_GROUP, ensureHostUser, hostFolder, traversable } from './host-user';
import { LatencyRelay } from './latency-relay';
import { Pass, WAN_ONE_WAY_MS, currentPass, passSuffix } from './pass';

/**
 * A sandbox "host" on loopback made of real parts: a Docker engine (dockerd), a Docker
 * registry, and OpenSSH sshd instances (PAM on) whose sessions talk to that engine, logged
 * into as the non-root `deploy` user (see host-user.ts). Test images are built FROM scratch
 * with busybox and pushed to the registry. Everything lives in one temp dir and is stopped by
 * pid. Used by the test suite's globalSetup, `npm run demo` and `npm run bench`.
 */
export interface SshEndpoint {
  /** What a client connects to: the sshd itself, or the latency relay in front of it. */
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** sshd's pid (killing it drops the host, relay or not). */
  readonly pid: number;
  /** The known_hosts line for `host`:`port`. */
  readonly knownHosts: string;
  readonly fingerprint: string;
  readonly configPath: string;
  readonly logPath: string;
  /** Where sshd itself listens, when a relay is in front of it. */
  readonly sshdPort?: number;
  /** One-way latency the relay adds, in ms (the `wan` pass). */
  readonly latencyMs?: number;
}

export interface SandboxInfo {
  readonly dir: string;
  readonly dockerHost: string;
  readonly registry: string;
  readonly privateKey: string;
  readonly publicKey: string;
  /** The host as the current pass sees it (see pass.ts); `passes` holds each pass's endpoint. */
  readonly ssh: SshEndpoint;
  readonly passes?: Partial<Record<Pass, SshEndpoint>>;
  /** Where deploy paths go: `<dir>/hosts`, owned by the deploy user. */
  readonly hostsDir: string;
  readonly pids: { readonly dockerd: number; readonly registry: number };
  /**
   * The demo app's repository in the registry; tags: v1, v2, v3 (healthy), broken (/health 404), crash (exits), plain (no HEALTHCHECK).
   * A container whose environment has BREAK_VERSION=<its tag> (or a comma list naming it) serves /health as 404.
   */
  readonly appImage: string;
}

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? '/bin/busybox';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000, logPath?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = logPath && existsSync(logPath) ? `\n${readFileSync(logPath, 'utf8').slice(-2000)}` : '';
  throw new Error(`sandbox: ${what} did not start within ${timeoutMs}ms${log}`);
}

function startDetached(command: string, args: string[], logPath: string): ChildProcess {
  const log = openSync(logPath, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  closeSync(log);
  return child;
}

export function docker(info: Pick<SandboxInfo, 'dockerHost'>, args: string[], input?: string): string {
  return execFileSync('docker', args, {
    env: { ...process.env, DOCKER_HOST: info.dockerHost, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' },
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Where and how an sshd listens; every field is optional and the defaults are the sandbox's loopback sshd. */
export interface SshdOptions {
  /** The login (default: the `deploy` user); the user is created when missing. */
  readonly user?: string;
  /** The login's shell when the user is created or differs (default bash). */
  readonly shell?: string;
  /** A host with Compose v1 only: sshd runs in a mount namespace where no Compose v2 plugin is installed. Default: the `compose-v1` pass. */
  readonly composeV1Only?: boolean;
  /** One-way latency of a relay put in front of sshd, in ms; 0 for none. Default: WAN_ONE_WAY_MS in the `wan` pass. */
  readonly latencyMs?: number;
  /** The type of the sshd's only host key; default `ed25519`. */
  readonly hostKeyType?: 'ed25519' | 'rsa' | 'ecdsa';
  /** `ListenAddress` and the endpoint's `host`; default `127.0.0.1`. */
  readonly listenAddress?: string;
  /** Default: a free loopback port. Port 22 gives a known_hosts line without brackets, as ssh-keyscan prints it. */
  readonly port?: number;
  /** Run sshd inside this network namespace (`ip netns exec NETNS sshd ...`). */
  readonly netns?: string;
  /** More variables for every session, after DOCKER_HOST and DOCKER_CLI_HINTS (sshd's `SetEnv`). */
  readonly env?: Readonly<Record<string, string>>;
}

function setEnvWord(name: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /["\\\n\r]/.test(value)) throw new Error(`sshd SetEnv cannot carry ${name}=${JSON.stringify(value)}`);
  return /[\s#']/.test(value) || value === '' ? `"${name}=${value}"` : `${name}=${value}`;
}

/** Where Docker's CLI looks for plugins (the Compose v2 plugin among them), as far as they exist here. */
const PLUGIN_DIRS = ['/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins'];

/**
 * The Docker CLI a distribution ships (Debian's and Ubuntu's docker.io: /usr/bin/docker), when
 * another one shadows it on PATH here (/usr/local/bin/docker, which no distribution ships).
 * Hosts run the distribution's: its `docker stack deploy` and its output formats are what
 * users have.
 */
function shadowedDistroCli(): { distro: string; shadow: string } | undefined {
  const distro = '/usr/bin/docker';
  const shadow = '/usr/local/bin/docker';
  if (!existsSync(distro) || !existsSync(shadow)) return undefined;
  return spawnSync('dpkg', ['-S', distro], { stdio: 'ignore' }).status === 0 ? { distro, shadow } : undefined;
}

/** The version of the Docker CLI the sandbox's hosts run (`20.10.24+dfsg1`): the distribution's where one is shadowed. */
export function hostDockerCliVersion(): string {
  const out = execFileSync(shadowedDistroCli()?.distro ?? 'docker', ['--version'], { encoding: 'utf8' });
  return /version (\S+?),/.exec(out)?.[1] ?? out.trim();
}

/**
 * The command that starts sshd in a private mount namespace shaped like the host a pass wants:
 * the distribution's Docker CLI in place of one that shadows it, and, for a host with Compose v1
 * only, every CLI plugin folder an empty one, so that `docker compose` does not exist for its
 * sessions, as on a host where the plugin was never installed.
 */
function inHostNamespace(dir: string, command: string[], composeV1Only: boolean, hostsDir: string): string[] {
  const binds: [string, string][] = [];
  const cli = shadowedDistroCli();
  if (cli) binds.push([cli.distro, cli.shadow]);
  if (composeV1Only) {
    const empty = join(dir, 'no-cli-plugins');
    mkdirSync(empty, { recursive: true });
    for (const plugins of PLUGIN_DIRS.filter((d) => existsSync(d))) binds.push([empty, plugins]);
  }
  if (binds.length === 0) return command;
  // What a test mounts under the hosts folder later (a small tmpfs for a full disk) must reach
  // sshd's sessions as it would on one host: the folder is a shared mount, and sshd's namespace
  // its slave (the binds above stay private to sshd).
  shareMounts(hostsDir);
  const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do mount --bind "$1" "$2" || exit 1; shift 2; n=$((n-1)); done; exec "$@"';
  return ['unshare', '--mount', '--propagation', 'slave', 'sh', '-c', script, 'sh', String(binds.length), ...binds.flat(), ...command];
}

/** Unmounts every mount point at or under `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => point !== undefined && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) spawnSync('umount', ['-l', point], { stdio: 'ignore' });
}

/** Makes `dir` a shared mount point (bound onto itself once), so that mounts made under it later propagate to its slaves. */
function shareMounts(dir: string): void {
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === dir);
  if (!mounted) execFileSync('mount', ['--bind', dir, dir]);
  execFileSync('mount', ['--make-shared', dir]);
}

/** A relay in this process, in front of an sshd; closed when the process ends or by `closeRelays`. */
const relays: LatencyRelay[] = [];

export async function closeRelays(): Promise<void> {
  await Promise.all(relays.splice(0).map((r) => r.close()));
}

/** The endpoint as a client behind a latency relay sees it: the relay's port, the same host key. */
export async function behindRelay(endpoint: SshEndpoint, oneWayMs: number): Promise<SshEndpoint> {
  const relay = await LatencyRelay.start({ host: endpoint.host, port: endpoint.port }, oneWayMs);
  relays.push(relay);
  const [, type, key] = endpoint.knownHosts.split(' ');
  return { ...endpoint, port: relay.port, knownHosts: `[127.0.0.1]:${relay.port} ${type} ${key}`, host: '127.0.0.1', sshdPort: endpoint.port, latencyMs: oneWayMs };
}

/** Starts an sshd whose sessions use the sandbox's Docker engine. Several can run at once (many hosts). */
export async function startSshd(dir: string, publicKey: string, dockerHost: string, name = 'sshd', options: SshdOptions = {}): Promise<SshEndpoint> {
  const pass = currentPass();
  const user = ensureHostUser(options.user ?? DEPLOY_USER, options.shell);
  // Named per pass: a test file runs in several passes at once, in one sandbox folder, and two
  // sshds sharing a pid file lose it when one of them exits.
  const home = join(dir, `${name}${passSuffix(pass)}`);
  mkdirSync(home, { recursive: true });
  traversable(dir);
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = join(home, 'host_key');
  const keyType = options.hostKeyType ?? 'ed25519';
  if (!existsSync(hostKey)) execFileSync('ssh-keygen', ['-q', '-t', keyType, ...(keyType === 'rsa' ? ['-b', '3072'] : []), '-N', '', '-f', hostKey]);
  // Read by sshd as the logging-in user (hence 0644 and a traversable sandbox folder).
  writeFileSync(join(home, 'authorized_keys'), `${publicKey}\n`, { mode: 0o644 });
  const listenAddress = options.listenAddress ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const configPath = join(home, 'sshd_config');
  const logPath = join(home, 'sshd.log');
  const pidFile = join(home, 'sshd.pid');
  writeFileSync(
    configPath,
    [
      `Port ${port}`,
      `ListenAddress ${listenAddress}`,
      `HostKey ${hostKey}`,
      `PidFile ${pidFile}`,
      `AuthorizedKeysFile ${join(home, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      // As on Debian's and Ubuntu's own sshd: sessions go through PAM (limits, environment, loginuid).
      'UsePAM yes',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'LogLevel VERBOSE',
      'MaxSessions 50',
      'MaxStartups 50:30:100',
      ['SetEnv', setEnvWord('DOCKER_HOST', dockerHost), 'DOCKER_CLI_HINTS=false', ...Object.entries(options.env ?? {}).map(([k, v]) => setEnvWord(k, v))].join(' '),
      'Subsystem sftp internal-sftp',
      '',
    ].join('\n'),
  );
  rmSync(pidFile, { force: true });
  let sshd = ['/usr/sbin/sshd', '-f', configPath, '-E', logPath];
  sshd = inHostNamespace(home, sshd, options.composeV1Only ?? pass === 'compose-v1', hostFolder(join(dir, 'hosts')));
  if (options.netns) sshd = ['ip', 'netns', 'exec', options.netns, ...sshd];
  startDetached(sshd[0]!, sshd.slice(1), logPath);
  await waitFor('sshd', () => existsSync(pidFile), 10_000, logPath);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const [type, key] = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`], { encoding: 'utf8' }).split(/\s+/)[1]!;
  const knownHost = port === 22 ? listenAddress : `[${listenAddress}]:${port}`;
  const endpoint: SshEndpoint = { host: listenAddress, port, username: user.name, pid, knownHosts: `${knownHost} ${type} ${key}`, fingerprint, configPath, logPath };
  const latencyMs = options.latencyMs ?? (pass === 'wan' ? WAN_ONE_WAY_MS : 0);
  return latencyMs > 0 ? behindRelay(endpoint, latencyMs) : endpoint;
}

/**
 * The start command of a serving variant: busybox httpd under a shell that stops it the way
 * a web app shuts down on SIGTERM: it stops accepting connections, gives the requests in
 * flight a moment to finish, then exits. (httpd alone dies at once, and the requests its
 * forked children were answering are cut when the container's last process goes, which no
 * stop_grace_period can help.) When the container's BREAK_VERSION names the image's own tag
 * (one tag, or several separated by commas), /www/health is removed first, so /health
 * answers 404 while the process is up: one host's new version can be made to fail its health
 * gate. Without BREAK_VERSION the app serves exactly as it always did.
 */
function breakableStart(tag: string): string {
  return [
    `case ",$BREAK_VERSION," in *,${tag},*) /bin/busybox rm -f /www/health;; esac`,
    '/bin/busybox httpd -f -p 8080 -h /www & httpd=$!',
    "trap 'kill $httpd; /bin/busybox sleep 0.5; exit 0' TERM",
    'wait $httpd',
  ].join('; ');
}

/** Builds the demo app image variants FROM scratch with busybox and pushes them to the registry. */
export function buildAppImages(info: Pick<SandboxInfo, 'dockerHost' | 'dir'>, repository: string): void {
  const variants: Record<string, { health: boolean; crash?: boolean; healthcheck?: boolean }> = {
    v1: { health: true },
    v2: { health: true },
    v3: { health: true },
    broken: { health: false },
    crash: { health: true, crash: true },
    plain: { health: true, healthcheck: false },
  };
  for (const [tag, variant] of Object.entries(variants)) {
    const context = join(info.dir, 'images', tag);
    mkdirSync(join(context, 'www'), { recursive: true });
    copyFileSync(BUSYBOX, join(context, 'busybox'));
    writeFileSync(join(context, 'www', 'index.html'), `${tag}\n`);
    if (variant.health) writeFileSync(join(context, 'www', 'health'), 'ok\n');
    // The container's own HEALTHCHECK asks for the index page (the process answers), while
    // /health is the app's deeper check that the health gate asks for: `broken` passes the
    // first and fails the second, like an app that starts but cannot reach its database.
    const lines = [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'COPY www /www',
      variant.healthcheck === false ? '' : 'HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD ["/bin/busybox","wget","-q","-O","/dev/null","http://127.0.0.1:8080/index.html"]',
      variant.crash ? 'ENTRYPOINT ["/bin/busybox","sh","-c","echo starting; exit 3"]' : `ENTRYPOINT ["/bin/busybox","sh","-c",${JSON.stringify(breakableStart(tag))}]`,
    ];
    writeFileSync(join(context, 'Dockerfile'), `${lines.filter(Boolean).join('\n')}\n`);
    docker(info, ['build', '-q', '-t', `${repository}:${tag}`, context]);
    docker(info, ['push', '-q', `${repository}:${tag}`]);
  }
}

/**
 * Removes Docker's `br-*` network bridges left in the kernel by engines that died without
 * cleaning up. Only when no dockerd runs at all, so no bridge can still be in use; left
 * alone, they use up the address pools every new engine draws its networks from.
 */
/**
 * Removes the network devices an engine that is gone left behind: its networks' bridges, and
 * the VXLAN devices of a swarm's overlay networks (a stale `vx-001001-*` makes the next swarm's
 * ingress fail with "subnet sandbox join failed"). Only when no dockerd runs: then none is in use.
 */
function removeOrphanBridges(): void {
  if (spawnSync('pgrep', ['-x', 'dockerd']).status === 0) return;
  const devices = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\d+: (br-[0-9a-f]{12}|vx-[0-9a-f]{6}-[0-9a-z]+)[:@]/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  for (const device of devices) spawnSync('ip', ['link', 'delete', device]);
}

export async function startSandbox(dir = mkdtempSync(join(tmpdir(), 'deploy-kit-sandbox-'))): Promise<SandboxInfo> {
  mkdirSync(dir, { recursive: true });
  traversable(dir);
  ensureHostUser(DEPLOY_USER);
  removeOrphanBridges();
  const dockerSock = join(dir, 'docker.sock');
  const dockerHost = `unix://${dockerSock}`;
  const dockerLog = join(dir, 'dockerd.log');
  startDetached(
    'dockerd',
    // Every compose project gets a network of its own: the default pools hold 31 (15 /16s and
    // 16 /20s), fewer than a suite's apps; 10.96.0.0/12 in /24s holds 4096.
    ['--host', dockerHost, '--group', DOCKER_GROUP, '--data-root', join(dir, 'docker-data'), '--exec-root', join(dir, 'docker-exec'), '--pidfile', join(dir, 'dockerd.pid'), '--default-address-pool', 'base=10.96.0.0/12,size=24'],
    dockerLog,
  );
  const registryPort = await freePort();
  // Clients here use 127.0.0.1:PORT; the registry listens on every address so that the engines
  // of fleet hosts (test/harness/fleet.ts, each in a network namespace of its own) can pull too.
  const registry = `127.0.0.1:${registryPort}`;
  const registryConfig = join(dir, 'registry.yml');
  writeFileSync(registryConfig, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'registry')}\n  delete:\n    enabled: true\nhttp:\n  addr: 0.0.0.0:${registryPort}\n`);
  const registryProcess = startDetached('docker-registry', ['serve', registryConfig], join(dir, 'registry.log'));
  await waitFor('dockerd', () => docker({ dockerHost }, ['version', '--format', '{{.Server.Version}}']).trim() !== '', 30_000, dockerLog);
  await waitFor('registry', async () => (await fetch(`http://${registry}/v2/`)).ok, 10_000);

  const keyPath = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy-kit-tests', '-f', keyPath]);
  const publicKey = readFileSync(`${keyPath}.pub`, 'utf8').trim();
  const ssh = await startSshd(dir, publicKey, dockerHost, 'sshd', { composeV1Only: false, latencyMs: 0 });
  const pids = { dockerd: Number(readFileSync(join(dir, 'dockerd.pid'), 'utf8')), registry: registryProcess.pid ?? 0 };
  const appImage = `${registry}/demo-app`;
  const hostsDir = hostFolder(join(dir, 'hosts'));
  const info: SandboxInfo = { dir, dockerHost, registry, privateKey: readFileSync(keyPath, 'utf8'), publicKey, ssh, passes: { default: ssh }, hostsDir, pids, appImage };
  buildAppImages(info, appImage);
  writeFileSync(join(dir, 'sandbox.json'), JSON.stringify(info, null, 2));
  return info;
}

function kill(pid: number, signal: NodeJS.Signals = 'SIGTERM'): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && kill(pid, 0 as unknown as NodeJS.Signals)) await new Promise((r) => setTimeout(r, 100));
  kill(pid, 'SIGKILL');
}

/** Stops every container, the engine, the registry and all sshd instances started in `dir`, by pid. */
export async function stopSandbox(info: SandboxInfo, keepDir = false): Promise<void> {
  try {
    const ids = docker(info, ['ps', '-aq']).split('\n').filter(Boolean);
    if (ids.length > 0) docker(info, ['rm', '-f', ...ids]);
    // dockerd leaves its networks' bridges on the host when it stops; removed here, they do
    // not use up the address pools other engines on the machine draw from. A swarm is left
    // first, so the engine takes down its overlay networks (and their VXLAN devices) itself.
    spawnSync('docker', ['swarm', 'leave', '--force'], { env: { ...process.env, DOCKER_HOST: info.dockerHost }, stdio: 'ignore' });
    docker(info, ['network', 'prune', '--force']);
  } catch {
    // the engine may already be gone
  }
  for (const pidFile of execFileSync('sh', ['-c', 'ls "$1"/*/sshd.pid 2>/dev/null || true', 'sh', info.dir], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    kill(Number(readFileSync(pidFile, 'utf8')));
  }
  kill(info.pids.registry);
  kill(info.pids.dockerd);
  await waitGone(info.pids.dockerd, 15_000);
  if (!keepDir) {
    // Whatever is still mounted under the sandbox: the engine's namespaces and layers, the shared hosts folder.
    unmountUnder(info.dir);
    spawnSync('rm', ['-rf', info.dir], { stdio: 'ignore' });
  }
}

/**
 * Gives the sandbox the host of `pass` (see pass.ts) besides its default one: an sshd without
 * the Compose v2 plugin, or a latency relay in front of the default sshd (the relay lives in
 * this process). Saved in sandbox.json for the test workers.
 */
export async function addPass(info: SandboxInfo, pass: Pass): Promise<SandboxInfo> {
  if (info.passes?.[pass]) return info;
  const endpoint =
    pass === 'compose-v1'
      ? await startSshd(info.dir, info.publicKey, info.dockerHost, 'sshd-compose-v1', { composeV1Only: true, latencyMs: 0 })
      : await behindRelay(info.passes?.default ?? info.ssh, WAN_ONE_WAY_MS);
  const updated: SandboxInfo = { ...info, passes: { ...info.passes, [pass]: endpoint } };
  writeFileSync(join(info.dir, 'sandbox.json'), JSON.stringify(updated, null, 2));
  return updated;
}

/** The sandbox the test run's globalSetup started, with `ssh` the host of the current pass. */
export function currentSandbox(): SandboxInfo {
  const path = process.env.DEPLOY_KIT_SANDBOX;
  if (!path) throw new Error('No sandbox: run integration tests through jest (its globalSetup starts one).');
  const info = JSON.parse(readFileSync(path, 'utf8')) as SandboxInfo;
  const pass = currentPass();
  const ssh = info.passes?.[pass];
  if (!ssh) throw new Error(`The sandbox has no host for the '${pass}' pass (globalSetup adds it for the project that asks).`);
  return { ...info, ssh };
}
