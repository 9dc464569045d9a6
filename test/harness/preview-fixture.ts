import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeWhenFileEnds } from './app-fixture.js';
import { CaddyProxy } from './caddy.js';
import { GitHubApiServer, startGitHubApiServer } from './github-api-server.js';
import { hostFolder } from './host-user.js';
import { ActionRun, runAction } from './run-action.js';
import { SandboxInfo, currentSandbox } from './sandbox.js';

/**
 * The previews of one app on the sandbox host, as action-preview's committed bundle makes them:
 * a workspace with its compose files, a previews folder of its own, a real Caddy that imports the
 * route folder, and the local GitHub API server the pull request's comment and deployments go to.
 */
export class PreviewFixture {
  private constructor(
    readonly sandbox: SandboxInfo,
    readonly app: string,
    readonly workspace: string,
    readonly previewsPath: string,
    readonly caddy: CaddyProxy,
    readonly github: GitHubApiServer,
    /** The loopback ports its previews take (`port-range`): test files that run at once keep apart. */
    readonly portRange: string,
  ) {}

  static async start(app: string, portRange: string): Promise<PreviewFixture> {
    const sandbox = currentSandbox();
    const workspace = join(sandbox.dir, 'workspaces', `preview-${app}`);
    mkdirSync(workspace, { recursive: true });
    const previewsPath = hostFolder(join(sandbox.hostsDir, `previews-${app}`));
    for (let pr = 1; pr <= 30; pr++) removeWhenFileEnds(`${app}-pr-${pr}`);
    const [caddy, github] = await Promise.all([CaddyProxy.start(sandbox.dir, app), startGitHubApiServer()]);
    const fixture = new PreviewFixture(sandbox, app, workspace, previewsPath, caddy, github, portRange);
    fixture.compose('docker-compose.yml');
    return fixture;
  }

  /** The app's compose file: the sandbox's app image (serving its version at /, /health), and `extra` lines. */
  compose(file: string, extra = ''): void {
    writeFileSync(
      join(this.workspace, file),
      ['services:', '  web:', `    image: ${this.sandbox.appImage}:\${VERSION}`, '    init: true', '    environment:', '      BREAK_VERSION: ${BREAK_VERSION:-none}', extra].join('\n'),
    );
  }

  run(command: 'open' | 'close' | 'cleanup', pr: number | undefined, extra: Record<string, string> = {}): Promise<ActionRun> {
    const ssh = this.sandbox.ssh;
    const inputs: Record<string, string> = {
      command,
      host: ssh.host,
      port: String(ssh.port),
      username: ssh.username,
      'private-key': this.sandbox.privateKey,
      'known-hosts': ssh.knownHosts,
      app: this.app,
      'previews-path': this.previewsPath,
      'caddy-config': this.caddy.config,
      'caddy-routes': this.caddy.routes,
      'preview-domain': this.caddy.domain,
      'preview-scheme': 'http',
      'web-port': '8080',
      'health-path': '/health',
      'github-token': this.github.token,
      'max-previews': '10',
      'port-range': this.portRange,
      'wait-timeout': '40s',
      ...(pr === undefined ? {} : { 'pr-number': String(pr), sha: `${String(pr).repeat(7)}abcdef`.slice(0, 40) }),
      ...extra,
    };
    return runAction('action-preview', inputs, {
      cwd: this.workspace,
      env: { GITHUB_API_URL: this.github.url, GITHUB_REPOSITORY: 'acme/shop', GITHUB_RUN_ID: '77', GITHUB_SERVER_URL: 'https://github.com' },
    });
  }

  open(pr: number, version: string, extra: Record<string, string> = {}): Promise<ActionRun> {
    return this.run('open', pr, { version, ...extra });
  }

  /** What the preview of `pr` answers through Caddy. */
  at(pr: number): Promise<string> {
    return this.caddy.get(`pr-${pr}.preview.test`, '/');
  }

  async stop(): Promise<void> {
    this.caddy.stop();
    await this.github.close();
  }
}
