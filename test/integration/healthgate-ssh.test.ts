import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runAction } from '../harness/run-action.js';
import { SandboxInfo, currentSandbox, docker, freePort } from '../harness/sandbox.js';

// action-healthgate's committed bundle through the sandbox's real sshd: requests tunnelled
// over the SSH connection (port forwarding from the host), and the containers of a compose
// project judged by `docker inspect` on the host, against the sandbox's Docker engine.

/** The process (`name pid`) that owns the local end of a TCP connection from `port` on 127.0.0.1 (`ss` from iproute2). */
function ownerOfPort(port: number): { name: string; pid: number } {
  const line = execFileSync('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' });
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(line);
  return match ? { name: match[1]!, pid: Number(match[2]) } : { name: `unknown (${line.trim()})`, pid: 0 };
}

describe('action-healthgate through the SSH host', () => {
  let sandbox: SandboxInfo;
  let server: http.Server;
  let serverPort: number;
  /** Which process opened each connection to the test server. */
  const callers: { name: string; pid: number }[] = [];
  const containers: string[] = [];

  const sshInputs = () => ({
    host: sandbox.ssh.host,
    port: String(sandbox.ssh.port),
    username: sandbox.ssh.username,
    'private-key': sandbox.privateKey,
    'known-hosts': sandbox.ssh.knownHosts,
  });

  /** Starts a container labelled as a compose project's, as Compose would. */
  function runContainer(project: string, tag: string, args: string[] = []): string {
    const name = `${project}-web-1`;
    containers.push(name);
    docker(sandbox, ['rm', '-f', name]);
    docker(sandbox, ['run', '-d', '--init', '--name', name, '--label', `com.docker.compose.project=${project}`, '--label', 'com.docker.compose.service=web', ...args, `${sandbox.appImage}:${tag}`]);
    return name;
  }

  /** Waits until `docker inspect` shows the container as `<status> <health>` matching `wanted`. */
  async function waitForState(name: string, wanted: RegExp): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const state = docker(sandbox, ['inspect', '--format', '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}', name]).trim();
      if (wanted.test(state)) return;
      if (Date.now() > deadline) throw new Error(`${name} is '${state}', not ${String(wanted)}, after 30s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  beforeAll(async () => {
    sandbox = currentSandbox();
    server = http.createServer((req, res) => {
      callers.push(ownerOfPort(req.socket.remotePort!));
      res.writeHead(req.url === '/health' ? 200 : 404).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    serverPort = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    if (containers.length > 0) docker(sandbox, ['rm', '-f', ...containers]);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test("with the SSH inputs, the URL is the host's loopback: every request arrives from sshd, over one connection", async () => {
    callers.length = 0;
    const run = await runAction('action-healthgate', { ...sshInputs(), url: `http://127.0.0.1:${serverPort}/health`, successes: '3', interval: '100ms' });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ healthy: 'true', attempts: '3', successes: '3', reason: '' });
    // sshd runs one process per SSH connection: all three requests came through the same one.
    expect(callers.map((c) => c.name)).toEqual(['sshd', 'sshd', 'sshd']);
    expect(new Set(callers.map((c) => c.pid)).size).toBe(1);
    expect(run.stdout).toContain(`checking http://127.0.0.1:${serverPort}/health through an SSH tunnel to ${sandbox.ssh.username}@127.0.0.1:${sandbox.ssh.port}`);
    expect(run.everything).not.toContain(sandbox.privateKey.split('\n')[1]!);

    // Without the SSH inputs the same URL is asked for from the runner itself.
    callers.length = 0;
    const direct = await runAction('action-healthgate', { url: `http://127.0.0.1:${serverPort}/health`, successes: '1' });
    expect(direct.outputs.healthy).toBe('true');
    expect(callers).toHaveLength(1);
    expect(callers[0]!.name).not.toBe('sshd');
  });

  test('a port nothing listens on, on the host: connection refused', async () => {
    const port = await freePort();
    const run = await runAction('action-healthgate', { ...sshInputs(), url: `http://127.0.0.1:${port}/health`, timeout: '500ms', interval: '100ms' });
    expect(run.code).toBe(1);
    expect(run.outputs).toMatchObject({ healthy: 'false', reason: 'connection refused' });
    expect(run.errors[0]).toMatch(/^Health gate failed: connection refused; 0\/3 passing rounds in a row/);
  });

  test('containers: waits for a starting container to be healthy, and asks the app through the tunnel', async () => {
    const port = await freePort();
    const name = runContainer('hg-good', 'v1', ['-p', `127.0.0.1:${port}:8080`]);
    const run = await runAction('action-healthgate', {
      ...sshInputs(),
      url: `http://127.0.0.1:${port}/health`,
      containers: 'hg-good',
      'expect-body': '^ok',
      successes: '2',
      interval: '500ms',
      timeout: '40s',
    });
    expect(run.errors).toEqual([]);
    expect(run.outputs).toMatchObject({ healthy: 'true', successes: '2', reason: '' });
    expect(run.stdout).toMatch(new RegExp(`^round \\d+: pass \\(2/2 in a row\\): http://127.0.0.1:${port}/health 200 in \\d+ms; containers of hg-good: ${name} healthy$`, 'm'));
    expect(run.summary).toContain('| containers of hg-good |');
  }, 60_000);

  test('containers: an unhealthy container, a crashed one, or none at all fails the gate with it named', async () => {
    const sick = runContainer('hg-sick', 'v1', ['--health-cmd', '/bin/busybox false', '--health-interval', '1s', '--health-retries', '1']);
    const crashed = runContainer('hg-crash', 'crash');
    await waitForState(sick, /^running unhealthy$/);
    await waitForState(crashed, /^exited/);
    const gate = (project: string) =>
      runAction('action-healthgate', { ...sshInputs(), url: `http://127.0.0.1:${serverPort}/health`, containers: project, interval: '200ms', timeout: '1s', fail: 'false' });
    const [sickRun, crashedRun, noneRun] = await Promise.all([gate('hg-sick'), gate('hg-crash'), gate('hg-none')]);
    expect(sickRun.outputs).toMatchObject({ healthy: 'false', successes: '0', reason: `container ${sick} unhealthy` });
    expect(crashedRun.outputs).toMatchObject({ healthy: 'false', reason: `container ${crashed} exited with code 3` });
    expect(noneRun.outputs).toMatchObject({ healthy: 'false', reason: 'no containers of compose project hg-none on the host' });
    // Why, with each container's own words: its health check's output, its exit code and last log line.
    expect(sickRun.outputs['failure-reason']).toMatch(/^web is unhealthy/);
    expect(sickRun.summary).toMatch(/Last health checks:/);
    expect(crashedRun.outputs['failure-reason']).toBe('web exited with code 3: starting');
    expect(crashedRun.summary).toContain('starting');
    expect(sickRun.stdout).toMatch(new RegExp(`^round 1: FAIL \\(0/3 in a row\\): http://127.0.0.1:${serverPort}/health 200 in \\d+ms; containers of hg-sick: container ${sick} unhealthy$`, 'm'));
  }, 60_000);
});
