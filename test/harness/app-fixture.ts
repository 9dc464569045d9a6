import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionRun, runAction } from './run-action.js';
import { ensureHostUser, hostFolder } from './host-user.js';
import { passSuffix } from './pass.js';
import { SandboxInfo, SshEndpoint, currentSandbox, docker, freePort } from './sandbox.js';

/** The name of the user with this uid on the (shared) host, or the uid when it has none. */
export function userName(uid: number): string {
  const entry = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.split(':')[2] === String(uid));
  return entry?.split(':')[0] ?? String(uid);
}

/** Compose projects this test file started on the sandbox's engine (see removeFileProjects). */
const fileProjects = new Set<string>();

/** Has the project's containers removed when the test file ends (test/harness/after-file.ts). */
export function removeWhenFileEnds(project: string): void {
  fileProjects.add(project);
}

/**
 * Removes the containers (and their anonymous volumes) and the networks of every project this
 * test file started. Left running, every finished file's containers would keep running their 1 s
 * HEALTHCHECKs for the rest of the suite: 30 containers were about 25 `runc exec` a second,
 * and the load that made later files' containers miss their own checks.
 */
export function removeFileProjects(info: Pick<SandboxInfo, 'dockerHost'>): void {
  if (fileProjects.size === 0) return;
  const ids = docker(info, ['ps', '--all', '--filter', 'label=com.docker.compose.project', '--format', '{{.ID}} {{.Label "com.docker.compose.project"}}'])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
    .filter(([, project]) => project !== undefined && fileProjects.has(project))
    .map(([id]) => id!);
  if (ids.length > 0) docker(info, ['rm', '--force', '--volumes', ...ids]);
  // Each project's network takes one of the engine's address pools until it is removed.
  const networks = docker(info, ['network', 'ls', '--filter', 'label=com.docker.compose.project', '--format', '{{.ID}} {{.Label "com.docker.compose.project"}}'])
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
    .filter(([, project]) => project !== undefined && fileProjects.has(project))
    .map(([id]) => id!);
  if (networks.length > 0) {
    // A test's own proxy may have joined a project's network (HAProxy on rolling's): it goes too.
    const attached = networks.flatMap((network) => docker(info, ['ps', '--all', '--quiet', '--filter', `network=${network}`]).split('\n').filter(Boolean));
    if (attached.length > 0) docker(info, ['rm', '--force', ...new Set(attached)]);
    docker(info, ['network', 'rm', ...networks]);
  }
  fileProjects.clear();
}

/**
 * One app deployed into the sandbox: a workspace with its compose file, a published port
 * and a deploy path of its own (owned by the deploy user), plus what a user would look at on
 * the host afterwards. In a second pass (pass.ts) its name carries the pass's suffix, so both
 * passes can deploy the same test's app to the one engine at once.
 */
export class AppFixture {
  readonly workspace: string;
  readonly deployPath: string;

  private constructor(
    readonly sandbox: SandboxInfo,
    readonly name: string,
    readonly port: number,
    /** The host's sshd the app is deployed through (default: the sandbox's, for the current pass). */
    readonly endpoint: SshEndpoint = sandbox.ssh,
  ) {
    this.workspace = join(sandbox.dir, 'workspaces', name);
    this.deployPath = join(sandbox.hostsDir, name);
    mkdirSync(this.workspace, { recursive: true });
  }

  static async create(name: string, options: { composeExtra?: string; endpoint?: SshEndpoint } = {}): Promise<AppFixture> {
    const sandbox = currentSandbox();
    const app = new AppFixture(sandbox, `${name}${passSuffix()}`, await freePort(), options.endpoint);
    // Its projects: the app's own and, with blue-green, one per colour.
    for (const project of [app.name, `${app.name}-blue`, `${app.name}-green`]) removeWhenFileEnds(project);
    // Another login than the deploy user gets its deploy path made for it, as an admin would.
    if (app.endpoint.username !== sandbox.ssh.username) hostFolder(app.deployPath, ensureHostUser(app.endpoint.username));
    app.writeCompose('docker-compose.yml', options.composeExtra ?? '');
    return app;
  }

  writeCompose(file: string, extra: string): void {
    writeFileSync(
      join(this.workspace, file),
      [
        'services:',
        '  web:',
        `    image: ${this.sandbox.appImage}:\${VERSION}`,
        '    init: true',
        `    ports: ["127.0.0.1:${this.port}:8080"]`,
        extra,
      ].join('\n'),
    );
  }

  sshInputs(endpoint: SshEndpoint = this.endpoint): Record<string, string> {
    return {
      host: endpoint.host,
      port: String(endpoint.port),
      username: endpoint.username,
      'private-key': this.sandbox.privateKey,
      'known-hosts': endpoint.knownHosts,
    };
  }

  inputs(version: string, extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.sshInputs(), app: this.name, version, 'deploy-path': this.deployPath, 'wait-timeout': '40s', ...extra };
  }

  deploy(version: string, extra: Record<string, string> = {}, env: Record<string, string> = {}): Promise<ActionRun> {
    return runAction('action-deploy', this.inputs(version, extra), { cwd: this.workspace, env });
  }

  rollback(extra: Record<string, string> = {}): Promise<ActionRun> {
    return runAction('action-rollback', { ...this.sshInputs(), app: this.name, 'deploy-path': this.deployPath, 'wait-timeout': '40s', ...extra }, { cwd: this.workspace });
  }

  /** What the app answers on `path`, or the error in words. */
  async get(path = '/'): Promise<string> {
    try {
      const response = await fetch(`http://127.0.0.1:${this.port}${path}`, { signal: AbortSignal.timeout(3000) });
      return `${response.status} ${(await response.text()).trim()}`;
    } catch (error) {
      return `error ${(error as Error).message}`;
    }
  }

  current(): string | undefined {
    const link = join(this.deployPath, 'current');
    return existsSync(link) ? readlinkSync(link) : undefined;
  }

  releases(): string[] {
    const dir = join(this.deployPath, 'releases');
    return existsSync(dir) ? readdirSync(dir).sort((a, b) => Number(a) - Number(b)) : [];
  }

  /** Ledger events as `release:event` strings, in order. */
  ledger(): string[] {
    const file = join(this.deployPath, 'ledger.jsonl');
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { release: string; event: string })
      .map((e) => `${e.release}:${e.event}`);
  }

  record(id: string): Record<string, unknown> {
    return JSON.parse(readFileSync(join(this.deployPath, 'releases', id, 'release.json'), 'utf8')) as Record<string, unknown>;
  }

  fileMode(path: string): string {
    return (statSync(join(this.deployPath, path)).mode & 0o777).toString(8);
  }

  /** `user mode` of a path under the deploy path (the link itself for a symlink), as `ls -l` would tell. */
  ownership(path: string): string {
    const stat = lstatSync(join(this.deployPath, path));
    return `${userName(stat.uid)} ${(stat.mode & 0o777).toString(8)}`;
  }

  /** `name state image` of the app's containers, the image as the container was created from it. */
  containers(): string[] {
    const ids = docker(this.sandbox, ['ps', '-aq', '--filter', `label=com.docker.compose.project=${this.name}`]).trim().split('\n').filter(Boolean);
    if (ids.length === 0) return [];
    return docker(this.sandbox, ['inspect', '--format', '{{slice .Name 1}} {{.State.Status}} {{.Config.Image}}', ...ids]).trim().split('\n').sort();
  }

  /** A snapshot of everything deploy-kit keeps on the host for this app, to prove nothing changed. */
  hostSnapshot(): string {
    if (!existsSync(this.deployPath)) return '(no deploy path)';
    return execFileSync('sh', ['-c', 'cd "$1" && find . -mindepth 1 -path ./.lock -prune -o -print | sort | xargs -r ls -ld --time-style=+%s.%N 2>/dev/null', 'sh', this.deployPath], {
      encoding: 'utf8',
    });
  }
}
