import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { hostFolder } from './host-user.js';
import { SandboxInfo, SshEndpoint, startSshd, unmountUnder } from './sandbox.js';

/**
 * A fleet of test "servers" made of real parts. Each host is a network namespace of its own
 * (`ip netns`), so it has its own loopback: the same compose file publishing
 * `127.0.0.1:8080:8080` runs on every host at once, and a health check made through a host's
 * SSH connection reaches that host's container only. Each host runs its own dockerd (own
 * data-root, exec-root, socket and address pools) and its own sshd on port 22 of its own
 * address, whose sessions talk to that dockerd.
 *
 * Topology: one bridge in the root namespace (`dkfnet<X>`, 10.213.X.1/24, X picked free at
 * random), one veth per host into its namespace (`eth0`, 10.213.X.N/24, N = host number + 1).
 * The test runner (Node, root namespace) connects to 10.213.X.N:22 directly; the hosts' engines
 * pull from the sandbox's registry at 10.213.X.1:PORT (the registry listens on every address,
 * see startSandbox; the bridge address is local to the root namespace, so no forwarding or NAT
 * is involved and the root namespace's FORWARD policy does not matter).
 *
 * What the hosts share: the file system (deploy paths must differ per host, e.g. under
 * `host.dir`: see `ownHome`), the login (the deploy user) and the sandbox's SSH key.
 */
export interface FleetHost {
  /** 1-based, as in `startFleet`'s `env` option. */
  readonly index: number;
  /** `host1`, `host2`, ... */
  readonly name: string;
  /** The address the runner connects to (sshd listens on port 22 there). */
  readonly address: string;
  /** The host's sshd; replaced (new pid) by `fleet.startSshd(host)`. */
  ssh: SshEndpoint;
  /** `unix://<dir>/docker.sock`, the host's own engine (what SSH sessions get as DOCKER_HOST). */
  readonly dockerHost: string;
  readonly netns: string;
  /** The host's directory: engine data, sshd config/keys/log, dockerd.log. Free for deploy paths. */
  readonly dir: string;
  /** The root-namespace end of the host's veth; `fleet.disconnect(host)` sets it down. */
  readonly veth: string;
  /** Extra session variables (sshd SetEnv) of this host; change them with `fleet.setEnv(host, env)`. */
  env: Readonly<Record<string, string>>;
  dockerdPid: number;
}

export interface FleetOptions {
  /** Extra SSH session variables per host, keyed by 1-based host number: `{ 3: { BREAK_VERSION: 'v2' } }`. */
  readonly env?: Readonly<Record<number, Readonly<Record<string, string>>>>;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A host or its 1-based number. */
export type HostRef = FleetHost | number;

const MAX_HOSTS = 40;

function run(command: string, args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { encoding: 'utf8', timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, env: options.env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (error ? error.message : '') });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function ipQuiet(args: string[]): void {
  spawnSync('ip', args, { stdio: 'ignore' });
}

function alive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (our own child not reaped yet) counts as gone.
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    if (pid) process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && alive(pid)) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) signal(pid, 'SIGKILL');
}

/** pid and its descendants, from /proc (children first). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const child of children.get(p) ?? []) walk(child);
    out.push(p);
  };
  walk(pid);
  return out;
}

function readPid(path: string): number {
  try {
    return Number(readFileSync(path, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** The 10.213.X.0/24 subnets some interface of the root namespace already uses. */
function usedSubnets(): Set<number> {
  const used = new Set<number>();
  const text = execFileSync('ip', ['-o', '-4', 'addr', 'show'], { encoding: 'utf8' }) + execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (const match of text.matchAll(/\b10\.213\.(\d+)\./g)) used.add(Number(match[1]));
  for (const match of execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).matchAll(/^\d+: dkfnet(\d+)[:@]/gm)) used.add(Number(match[1]));
  return used;
}

function bridgeName(subnet: number): string {
  return `dkfnet${subnet}`;
}

/**
 * Picks a free 10.213.X.0/24 at random and claims it by creating its bridge `dkfnet<X>`:
 * creating a link is atomic, so two fleets started at once (jest workers) never share a subnet.
 */
function claimSubnet(): number {
  const used = usedSubnets();
  const free = Array.from({ length: 256 }, (_, i) => i).filter((i) => !used.has(i));
  while (free.length > 0) {
    const [subnet] = free.splice(Math.floor(Math.random() * free.length), 1) as [number];
    if (spawnSync('ip', ['link', 'add', bridgeName(subnet), 'type', 'bridge'], { stdio: 'ignore' }).status === 0) return subnet;
  }
  throw new Error('fleet: no free 10.213.X.0/24 subnet (bridges dkfnet<X> left over? ip link delete them)');
}

export class Fleet {
  readonly hosts: FleetHost[] = [];
  /** ms startFleet took. */
  startMs = 0;
  private stopped = false;

  constructor(
    readonly sandbox: SandboxInfo,
    /** 4 random hex digits; part of the names of the fleet's veths (`dkf<id>h<N>`), namespaces (`dkf-<id>-h<N>`) and directory. */
    readonly id: string,
    readonly dir: string,
    /** Root-namespace bridge `dkfnet<X>` (X of 10.213.X.0/24). */
    readonly bridge: string,
    /** The bridge's address (10.213.X.1): the root namespace as the hosts see it. */
    readonly gateway: string,
    /** The sandbox registry as the hosts reach it: `10.213.X.1:PORT` (an insecure registry of every host engine). */
    readonly registry: string,
    /** The demo app's repository as the hosts pull it: `10.213.X.1:PORT/demo-app` (tags as SandboxInfo.appImage). */
    readonly image: string,
  ) {}

  host(ref: HostRef): FleetHost {
    const host = typeof ref === 'number' ? this.hosts[ref - 1] : ref;
    if (!host) throw new Error(`fleet: no host ${String(ref)} (hosts 1..${this.hosts.length})`);
    return host;
  }

  /** The docker CLI against the host's engine (from the root namespace, over its unix socket). Throws on failure like sandbox.docker. */
  docker(ref: HostRef, args: string[], input?: string): string {
    return execFileSync('docker', args, {
      env: { ...process.env, DOCKER_HOST: this.host(ref).dockerHost, DOCKER_BUILDKIT: '0', DOCKER_CLI_HINTS: 'false' },
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Runs a command inside the host's network namespace (`ip netns exec`), e.g. `['busybox', 'wget', ...]`. */
  exec(ref: HostRef, command: string[], timeoutMs = 30_000): Promise<CommandResult> {
    return run('ip', ['netns', 'exec', this.host(ref).netns, ...command], { timeoutMs });
  }

  /**
   * What http://127.0.0.1:<port><path> answers INSIDE the host (its own loopback), as
   * `"<status> <body trimmed>"` like AppFixture.get, or `error <message>`.
   */
  async get(ref: HostRef, path = '/', port = 8080): Promise<string> {
    const script =
      'fetch(process.argv[1],{signal:AbortSignal.timeout(3000)}).then(async r=>console.log(r.status+" "+(await r.text()).trim()),e=>console.log("error "+(e.cause?.message??e.message)))';
    const result = await this.exec(ref, [process.execPath, '-e', script, `http://127.0.0.1:${port}${path}`], 10_000);
    return result.stdout.trim() || `error ${result.stderr.trim()}`;
  }

  /** Where ssh finds the host's key: a known_hosts file holding `host.ssh.knownHosts`. */
  knownHostsFile(ref: HostRef): string {
    const host = this.host(ref);
    const file = join(host.dir, 'known_hosts');
    writeFileSync(file, `${host.ssh.knownHosts}\n`);
    return file;
  }

  /** The sandbox's private key as a file (0600), for the ssh CLI. */
  privateKeyFile(): string {
    const file = join(this.dir, 'id_ed25519');
    if (!existsSync(file)) writeFileSync(file, this.sandbox.privateKey, { mode: 0o600 });
    return file;
  }

  /** `ssh` CLI arguments up to (not including) the remote command, strict host key checking on. */
  sshArgs(ref: HostRef): string[] {
    const host = this.host(ref);
    return [
      '-i', this.privateKeyFile(),
      '-o', 'IdentitiesOnly=yes',
      '-o', 'BatchMode=yes',
      '-o', `UserKnownHostsFile=${this.knownHostsFile(host)}`,
      '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'ConnectTimeout=5',
      '-p', String(host.ssh.port),
      `${host.ssh.username}@${host.address}`,
    ];
  }

  /** Runs `command` on the host through its sshd (the ssh CLI, from the root namespace). */
  ssh(ref: HostRef, command: string, timeoutMs = 60_000): Promise<CommandResult> {
    return run('ssh', [...this.sshArgs(ref), command], { timeoutMs });
  }

  /** SIGTERM to the host's listening sshd: new connections are refused; sessions already open go on. */
  async stopSshd(ref: HostRef): Promise<void> {
    const host = this.host(ref);
    signal(host.ssh.pid, 'SIGTERM');
    await waitGone(host.ssh.pid, 5000);
  }

  /** SIGKILL to the host's sshd and every session under it: the host drops off mid-command. */
  async killSshd(ref: HostRef): Promise<void> {
    const host = this.host(ref);
    if (!alive(host.ssh.pid)) return;
    for (const pid of descendants(host.ssh.pid)) signal(pid, 'SIGKILL');
    await waitGone(host.ssh.pid, 5000);
  }

  /** Starts the host's sshd again: same address, port and host key (so the same known_hosts line). */
  async startSshd(ref: HostRef): Promise<SshEndpoint> {
    const host = this.host(ref);
    if (alive(host.ssh.pid)) return host.ssh;
    host.ssh = await startSshd(host.dir, this.sandbox.publicKey, host.dockerHost, 'sshd', { listenAddress: host.address, port: 22, netns: host.netns, env: host.env });
    return host.ssh;
  }

  /** Replaces the host's extra session variables (restarts its sshd; open sessions keep theirs). */
  async setEnv(ref: HostRef, env: Readonly<Record<string, string>>): Promise<void> {
    const host = this.host(ref);
    await this.stopSshd(host);
    host.env = { ...env };
    await this.startSshd(host);
  }

  /**
   * Gives the host's login a home of its own (its sessions get HOME=<host dir>/home, owned by the
   * deploy user): the hosts share this machine's file system, not their default deploy paths.
   */
  async ownHome(ref: HostRef): Promise<string> {
    const host = this.host(ref);
    const home = hostFolder(join(host.dir, 'home'));
    await this.setEnv(host, { ...host.env, HOME: home });
    return home;
  }

  /** Sets the host's link down: connections to it time out (rather than being refused). */
  disconnect(ref: HostRef): void {
    ip(['link', 'set', this.host(ref).veth, 'down']);
  }

  /** Undoes disconnect. */
  reconnect(ref: HostRef): void {
    ip(['link', 'set', this.host(ref).veth, 'up']);
  }

  /** Stops everything (see stopFleet). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.allSettled(this.hosts.map((host) => this.stopHost(host)));
    ipQuiet(['link', 'delete', this.bridge]);
    unmountUnder(this.dir);
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // a mount still busy: the sandbox's own cleanup removes its directory
    }
  }

  private async stopHost(host: FleetHost): Promise<void> {
    if (alive(host.dockerdPid)) {
      const env = { ...process.env, DOCKER_HOST: host.dockerHost };
      const ids = (await run('docker', ['ps', '-aq'], { env, timeoutMs: 20_000 })).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) await run('docker', ['rm', '-f', ...ids], { env, timeoutMs: 60_000 });
      await run('docker', ['network', 'prune', '--force'], { env, timeoutMs: 20_000 });
    }
    // sshd and its sessions, by the pid file too (a restarted sshd the object may not know of).
    for (const pid of new Set([host.ssh.pid, readPid(join(dirname(host.ssh.configPath), 'sshd.pid'))])) {
      if (alive(pid)) for (const p of descendants(pid)) signal(p, 'SIGTERM');
    }
    const dockerd = host.dockerdPid || readPid(join(host.dir, 'dockerd.pid'));
    signal(dockerd, 'SIGTERM');
    await waitGone(dockerd, 15_000);
    // Whatever else still runs in the namespace was started there by this fleet (containerd,
    // shims, sessions): gone too, so the namespace and its mounts go away.
    if (existsSync(`/run/netns/${host.netns}`)) {
      const left = spawnSync('ip', ['netns', 'pids', host.netns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean).map(Number) ?? [];
      for (const pid of left) signal(pid, 'SIGKILL');
      for (const pid of left) await waitGone(pid, 2000);
      ipQuiet(['netns', 'delete', host.netns]);
    }
    ipQuiet(['link', 'delete', host.veth]);
  }
}

function startDockerd(host: FleetHost, registry: string): void {
  const log = openSync(join(host.dir, 'dockerd.log'), 'a');
  // nsenter --net, not `ip netns exec`: the latter remounts /sys, which hides the cgroup
  // hierarchies under /sys/fs/cgroup and dockerd then refuses to start ("Devices cgroup isn't
  // mounted"). So the engine shares the root mount namespace (its mounts are visible, and
  // swept on stop) and only the network is the host's own.
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${host.netns}`,
      'dockerd',
      '--host', host.dockerHost,
      '--data-root', join(host.dir, 'data'),
      '--exec-root', join(host.dir, 'exec'),
      '--pidfile', join(host.dir, 'dockerd.pid'),
      // Distinct per host: 10.214.N.1/24 for docker0, 10.(215+N).0.0/16 for compose networks.
      '--bip', `10.214.${host.index}.1/24`,
      '--default-address-pool', `base=10.${215 + host.index}.0.0/16,size=24`,
      '--insecure-registry', registry,
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  closeSync(log);
  // nsenter execs dockerd in place: the child's pid is dockerd's.
  host.dockerdPid = child.pid ?? 0;
}

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, logPath?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = logPath && existsSync(logPath) ? `\n${readFileSync(logPath, 'utf8').slice(-2000)}` : '';
  throw new Error(`fleet: ${what} was not ready within ${timeoutMs}ms${log}`);
}

/**
 * Starts `count` hosts (in parallel) next to the sandbox and returns when each host's dockerd
 * answers and its sshd listens. On failure everything already started is stopped again.
 * `options.env` adds SSH session variables per host (1-based), e.g. `{ 3: { BREAK_VERSION: 'v2' } }`:
 * passed to containers (`environment: [BREAK_VERSION]` in compose, `-e BREAK_VERSION` for docker
 * run), the demo app then fails /health on that host when it runs that version.
 */
export async function startFleet(sandbox: SandboxInfo, count: number, options: FleetOptions = {}): Promise<Fleet> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new Error(`fleet: 1..${MAX_HOSTS} hosts, not ${count}`);
  const started = Date.now();
  const id = randomBytes(2).toString('hex');
  const subnet = claimSubnet();
  const gateway = `10.213.${subnet}.1`;
  const registryPort = sandbox.registry.split(':').pop()!;
  const registry = `${gateway}:${registryPort}`;
  const dir = join(sandbox.dir, `fleet-${id}`);
  const fleet = new Fleet(sandbox, id, dir, bridgeName(subnet), gateway, registry, sandbox.appImage.replace(sandbox.registry, registry));
  try {
    mkdirSync(dir, { recursive: true });
    ip(['addr', 'add', `${gateway}/24`, 'dev', fleet.bridge]);
    ip(['link', 'set', fleet.bridge, 'up']);
    for (let index = 1; index <= count; index += 1) {
      const hostDir = join(dir, `host${index}`);
      mkdirSync(hostDir, { recursive: true });
      const host: FleetHost = {
        index,
        name: `host${index}`,
        address: `10.213.${subnet}.${index + 1}`,
        ssh: { host: '', port: 22, username: '', pid: 0, knownHosts: '', fingerprint: '', configPath: '', logPath: '' },
        dockerHost: `unix://${join(hostDir, 'docker.sock')}`,
        netns: `dkf-${id}-h${index}`,
        dir: hostDir,
        veth: `dkf${id}h${index}`,
        env: { ...(options.env?.[index] ?? {}) },
        dockerdPid: 0,
      };
      fleet.hosts.push(host);
      ip(['netns', 'add', host.netns]);
      ip(['link', 'add', host.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.netns]);
      ip(['link', 'set', host.veth, 'master', fleet.bridge, 'up']);
      ip(['-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
      ip(['-n', host.netns, 'link', 'set', 'eth0', 'up']);
      ip(['-n', host.netns, 'link', 'set', 'lo', 'up']);
      writeFileSync(join(dir, 'fleet.json'), JSON.stringify({ id, bridge: fleet.bridge, gateway, hosts: fleet.hosts.map((h) => ({ name: h.name, netns: h.netns, veth: h.veth })) }, null, 2));
    }
    // The registry must answer on the bridge address (it listens on 0.0.0.0 since startSandbox does so).
    await waitUntil(`the registry at ${registry}`, async () => (await fetch(`http://${registry}/v2/`, { signal: AbortSignal.timeout(2000) })).ok, 5000);
    for (const host of fleet.hosts) startDockerd(host, registry);
    // allSettled: on a failure, nothing is still starting when stop() runs.
    const results = await Promise.allSettled(
      fleet.hosts.map(async (host) => {
        await fleet.startSshd(host);
        const env = { ...process.env, DOCKER_HOST: host.dockerHost };
        await waitUntil(
          `dockerd of ${host.name}`,
          async () => alive(host.dockerdPid) && (await run('docker', ['version', '--format', '{{.Server.Version}}'], { env, timeoutMs: 5000 })).stdout.trim() !== '',
          30_000,
          join(host.dir, 'dockerd.log'),
        );
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    writeFileSync(join(dir, 'fleet.json'), JSON.stringify({ id, bridge: fleet.bridge, gateway, registry, image: fleet.image, hosts: fleet.hosts }, null, 2));
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  fleet.startMs = Date.now() - started;
  return fleet;
}

/**
 * Stops every host's containers, dockerd and sshd (by pid) and deletes the namespaces, veths,
 * the bridge and the fleet's directory. Safe to call twice.
 */
export async function stopFleet(fleet: Fleet | undefined): Promise<void> {
  await fleet?.stop();
}
