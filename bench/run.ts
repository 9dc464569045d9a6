// `npm run bench`: what users feel, each figure against a baseline measured in the same run,
// on a sandbox host of real parts (sshd, Docker engine, registry, PostgreSQL, S3 endpoint).
// `--quick` runs every figure once on small sizes (the test suite runs it so it cannot rot).
// `--out DIR` writes results.json and RESULTS.md there (default: bench/).
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { ActionRun, NODE, ROOT, runAction } from '../test/harness/run-action.js';
import { startPostgres } from '../test/harness/postgres.js';
import { startS3 } from '../test/harness/s3.js';
import { LatencyRelay } from '../test/harness/latency-relay.js';
import { WAN_ONE_WAY_MS } from '../test/harness/pass.js';
import { SandboxInfo, SshEndpoint, freePort, startSandbox, stopSandbox } from '../test/harness/sandbox.js';
import { Figure, figure, markdown, median } from './figures.js';
import { startFleet, stopFleet } from '../test/harness/fleet.js';

const quick = process.argv.includes('--quick');
const outIndex = process.argv.indexOf('--out');
const OUT = outIndex === -1 ? join(ROOT, 'bench') : process.argv[outIndex + 1]!;
const RUNS = quick ? 1 : 5;
const onlyIndex = process.argv.indexOf('--only');
const ONLY = onlyIndex === -1 ? undefined : process.argv[onlyIndex + 1]!.split(',');
const execFileAsync = promisify(execFile);

/** The sandbox host's Compose (v2), which the baseline script runs too. */
const COMPOSE_COMMAND = 'docker compose';
const ACTIONS = ['action-deploy', 'action-healthgate', 'action-rollback', 'action-backup', 'action-notify'];

interface App {
  name: string;
  port: number;
  workspace: string;
  deployPath: string;
}

async function makeApp(sandbox: SandboxInfo, name: string): Promise<App> {
  const port = await freePort();
  const workspace = join(sandbox.dir, 'bench', name);
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'docker-compose.yml'), `services:\n  web:\n    image: ${sandbox.appImage}:\${VERSION}\n    init: true\n    ports: ["127.0.0.1:${port}:8080"]\n`);
  return { name, port, workspace, deployPath: join(sandbox.hostsDir, name) };
}

const sshInputs = (s: SandboxInfo, app: App, endpoint: SshEndpoint = s.ssh) => ({
  host: endpoint.host,
  port: String(endpoint.port),
  username: endpoint.username,
  'private-key': s.privateKey,
  'known-hosts': endpoint.knownHosts,
  app: app.name,
  'deploy-path': app.deployPath,
});

/** Runs an action and notes when each stdout line arrived (ms, on performance.now()). */
async function timedRun(action: string, inputs: Record<string, string>, cwd: string): Promise<{ run: ActionRun; ms: number; lines: { at: number; text: string }[] }> {
  const lines: { at: number; text: string }[] = [];
  const started = performance.now();
  const run = await runAction(action, inputs, { cwd, onStdout: (chunk) => chunk.split('\n').forEach((text) => lines.push({ at: performance.now(), text })) });
  const ms = performance.now() - started;
  if (run.code !== 0 && !inputs.version?.startsWith('broken')) throw new Error(`${action} failed: ${run.errors.join(' ')}`);
  return { run, ms, lines };
}

/** Polls a URL every 20 ms and records when it answered what. */
function watch(url: string): { stop(): { at: number; status: number; body: string }[] } {
  const seen: { at: number; status: number; body: string }[] = [];
  let on = true;
  void (async () => {
    while (on) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(500) });
        seen.push({ at: performance.now(), status: response.status, body: (await response.text()).trim() });
      } catch {
        seen.push({ at: performance.now(), status: 0, body: '' });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { stop: () => ((on = false), seen) };
}

const accepted = (endpoint: SshEndpoint) => (readFileSync(endpoint.logPath, 'utf8').match(/Accepted publickey/g) ?? []).length;

/** What a deploy and the baseline script each cost, in seconds and (behind the relay) in connections and round trips. */
interface Costs {
  readonly seconds: number[];
  readonly connections: number[];
  readonly turns: number[];
}

/**
 * action-deploy against bench/baseline-deploy.sh, alternating, on the same host, login and
 * Compose: directly on loopback, or through `relay` (then the relay counts the round trips
 * each makes).
 */
async function deployOverhead(s: SandboxInfo, endpoint: SshEndpoint, relay: LatencyRelay | undefined, label: string): Promise<{ ours: Costs; theirs: Costs }> {
  const app = await makeApp(s, `overhead${label}`);
  const base = await makeApp(s, `baseline${label}`);
  const known = join(s.dir, 'bench', `known_hosts${label}`);
  writeFileSync(known, `${endpoint.knownHosts}\n`);
  const keyFile = join(s.dir, 'id_ed25519');
  const ours: Costs = { seconds: [], connections: [], turns: [] };
  const theirs: Costs = { seconds: [], connections: [], turns: [] };
  const measured = async (into: Costs, count: boolean, work: () => Promise<unknown>): Promise<void> => {
    relay?.reset();
    const before = accepted(endpoint);
    const started = performance.now();
    await work();
    if (!count) return;
    into.seconds.push((performance.now() - started) / 1000);
    into.connections.push(accepted(endpoint) - before);
    if (relay) into.turns.push(relay.read().turns);
  };
  for (let i = 0; i < RUNS + 1; i += 1) {
    const version = i % 2 === 0 ? 'v1' : 'v2';
    // The first round of each warms the image cache on the host; it is not counted.
    await measured(ours, i > 0, () => timedRun('action-deploy', { ...sshInputs(s, app, endpoint), version, 'keep-releases': '3' }, app.workspace));
    // Asynchronous: the relay runs in this process and must go on relaying meanwhile.
    await measured(theirs, i > 0, () =>
      execFileAsync(join(ROOT, 'bench', 'baseline-deploy.sh'), [], {
        env: {
          ...process.env,
          KEY: keyFile,
          HOST: endpoint.host,
          PORT: String(endpoint.port),
          KNOWN_HOSTS: known,
          SSH_USER: endpoint.username,
          COMPOSE: COMPOSE_COMMAND,
          DIR: base.deployPath,
          COMPOSE_FILE: join(base.workspace, 'docker-compose.yml'),
          VERSION: version,
          APP: base.name,
          URL: `http://127.0.0.1:${base.port}/`,
        },
      }),
    );
  }
  return { ours, theirs };
}

/** The deploy figures: on loopback, and through a relay that adds 25 ms each way. */
async function deployFigures(s: SandboxInfo): Promise<Figure[]> {
  const local = await deployOverhead(s, s.ssh, undefined, '');
  const relay = await LatencyRelay.start({ host: s.ssh.host, port: s.ssh.port }, WAN_ONE_WAY_MS);
  try {
    const wan = await deployOverhead(s, { ...s.ssh, port: relay.port, knownHosts: s.ssh.knownHosts.replace(/^\S+/, `[127.0.0.1]:${relay.port}`) }, relay, '-wan');
    const how = `action-deploy (recreate, no gate) from process start to exit, against bench/baseline-deploy.sh (write compose file, pull, up -d, poll until 200 over plain ssh), alternating, both as the ${s.ssh.username} user with ${COMPOSE_COMMAND}`;
    const trips = (c: Costs) => `${median(c.connections)} connection(s) and ${median(c.turns)} round trips`;
    return [
      figure('deploy-overhead', 's', local.ours.seconds, 'median ratio <= 1.3', (_m, r) => r !== null && r <= 1.3, local.theirs.seconds, `${how}, on loopback.`),
      figure('deploy-overhead-wan', 's', wan.ours.seconds, 'median ratio <= 1.3', (_m, r) => r !== null && r <= 1.3, wan.theirs.seconds,
        `${how}, both through the same relay that holds every chunk ${WAN_ONE_WAY_MS} ms each way (a ${2 * WAN_ONE_WAY_MS} ms round trip). Counted at the relay, a deploy made ${trips(wan.ours)}; the baseline ${trips(wan.theirs)} (a round trip: the client sending after it received).`),
      figure('ssh-connections', 'connections per deploy', local.ours.connections, '1', (m) => m === 1, undefined, "counted from sshd's 'Accepted publickey' log lines"),
    ];
  } finally {
    await relay.close();
  }
}

function startup(): Figure[] {
  const figures: Figure[] = [];
  for (const action of ACTIONS) {
    const samples: number[] = [];
    for (let i = 0; i < Math.max(RUNS, 3); i += 1) {
      const started = performance.now();
      const child = spawnSync(NODE, ['-e', `const t=process.hrtime.bigint();import(${JSON.stringify(join(ROOT, action, 'dist', 'index.js'))});process.stdout.write=((w)=>(c,...a)=>{if(!globalThis.__f){globalThis.__f=1;require('fs').writeSync(2,'FIRST '+Number(process.hrtime.bigint()-t)/1e6+'\\n')}return w.call(process.stdout,c,...a)})(process.stdout.write.bind(process.stdout))`], {
        env: { PATH: process.env.PATH, GITHUB_OUTPUT: '/dev/null', GITHUB_STEP_SUMMARY: '/dev/null' },
        encoding: 'utf8',
      });
      const first = /FIRST ([\d.]+)/.exec(child.stderr)?.[1];
      samples.push(first ? Number(first) : performance.now() - started);
    }
    const size = statSync(join(ROOT, action, 'dist', 'index.js')).size;
    figures.push(figure(`startup-${action}`, 'ms', samples, '<= 300 ms to the first log line', (m) => m <= 300, undefined, `bundle ${(size / 1024 / 1024).toFixed(2)} MiB; time from loading dist/index.js to its first stdout write (node ${process.versions.node} start-up itself not included)`));
  }
  return figures;
}

async function recoverAndGate(s: SandboxInfo): Promise<{ recover: Figure; gate: Figure }> {
  const app = await makeApp(s, 'recover');
  const interval = 1000;
  const successes = 3;
  const gate = { 'health-url': `http://127.0.0.1:${app.port}/health`, 'health-successes': String(successes), 'health-interval': `${interval}ms`, 'health-timeout': '8s' };
  const recoverSamples: number[] = [];
  const gateSamples: number[] = [];
  await timedRun('action-deploy', { ...sshInputs(s, app), ...gate, version: 'v1' }, app.workspace);
  for (let i = 0; i < RUNS; i += 1) {
    // Gate latency: from the new version answering /health to the gate's last passing round.
    const version = i % 2 === 0 ? 'v2' : 'v1';
    const probe = watch(`http://127.0.0.1:${app.port}/`);
    const good = await timedRun('action-deploy', { ...sshInputs(s, app), ...gate, version }, app.workspace);
    const seen = probe.stop();
    const healthyAt = seen.find((p) => p.status === 200 && p.body === version && p.at > good.lines[0]!.at && seen.some((q) => q.at < p.at && q.body !== version))?.at;
    const passedAt = good.lines.find((l) => l.text.includes(`(${successes}/${successes} in a row)`))?.at;
    if (healthyAt !== undefined && passedAt !== undefined) gateSamples.push((passedAt - healthyAt) / 1000);

    // Time to recover: from the gate declaring the bad release failed to the previous one answering 200.
    const health = watch(`http://127.0.0.1:${app.port}/health`);
    const bad = await timedRun('action-deploy', { ...sshInputs(s, app), ...gate, version: 'broken' }, app.workspace);
    const answers = health.stop();
    const failedAt = bad.lines.find((l) => /^release \d+ failed: /.test(l.text))?.at;
    const backAt = failedAt === undefined ? undefined : answers.find((a) => a.at > failedAt && a.status === 200)?.at;
    if (failedAt !== undefined && backAt !== undefined) recoverSamples.push((backAt - failedAt) / 1000);
  }
  const limit = (interval * (successes - 1)) / 1000 + 0.5;
  return {
    recover: figure('recover', 's', recoverSamples, '<= 3 s', (m) => m <= 3, undefined, 'auto-rollback on loopback, images cached: from the failed-gate log line to /health answering 200 again'),
    gate: figure('gate-latency', 's', gateSamples, `<= interval x (successes - 1) + 0.5 s = ${limit} s`, (m) => m <= limit, undefined, `interval ${interval} ms, successes ${successes}; from the new version first answering to the gate passing (includes waiting for Docker to mark the container healthy)`),
  };
}

/** Samples a process's peak RSS (VmHWM) until it exits. */
function peakRss(pid: number): () => number {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kb);
    } catch {
      // exited
    }
  }, 50);
  return () => (clearInterval(timer), peak / 1024);
}

/** Debian's awscli (v2.9): the `aws` on PATH here may be another one (pyenv's). */
const AWS_CLI = '/usr/bin/aws';

/** One timed run: seconds from start to exit, and the peak RSS (MB) of the process that holds the data on the runner's side. */
interface BackupRun {
  readonly seconds: number;
  readonly rssMb: number;
}

/** Resolves when `child` has exited with 0 ('exit', not 'close': a pipe handed on to the next process stays open here). */
async function exited(child: ReturnType<typeof spawn>, what: string): Promise<void> {
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`${what} exited with ${code}`);
}

/** action-backup, as the runner starts it (node dist/index.js, no flags), backing up `url` over SSH into s3rver. */
async function actionBackup(s: SandboxInfo, app: App, s3: Awaited<ReturnType<typeof startS3>>, url: string): Promise<BackupRun> {
  const inputs: Record<string, string> = {
    ...sshInputs(s, app),
    'postgres-url': url,
    destination: `s3://${s3.bucket}/bench`,
    's3-endpoint': s3.endpoint,
    's3-access-key-id': s3.accessKeyId,
    's3-secret-access-key': s3.secretAccessKey,
    's3-force-path-style': 'true',
    'retention-count': '1',
    'retention-days': '0',
  };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const started = performance.now();
  const child = spawn(NODE, [join(ROOT, 'action-backup', 'dist', 'index.js')], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_OUTPUT: '/dev/null', GITHUB_STEP_SUMMARY: '/dev/null', GITHUB_REPOSITORY: 'acme/bench', GITHUB_RUN_ID: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  const peak = peakRss(child.pid!);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`action-backup failed: ${log.split('\n').filter((l) => l.startsWith('::error')).join(' ')}`);
  return { seconds: (performance.now() - started) / 1000, rssMb: peak() };
}

/** What a user would otherwise script: `pg_dump -Fc | gzip | aws s3 cp - s3://...` against the same endpoint; the RSS is the aws CLI's. */
async function awsPipeline(s3: Awaited<ReturnType<typeof startS3>>, url: string): Promise<BackupRun> {
  const started = performance.now();
  const dump = spawn('pg_dump', ['-Fc', `--dbname=${url}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const gzip = spawn('gzip', [], { stdio: [dump.stdout!, 'pipe', 'inherit'] });
  const aws = spawn(AWS_CLI, ['--endpoint-url', s3.endpoint, 's3', 'cp', '-', `s3://${s3.bucket}/bench-aws/dump.pgdump.gz`], {
    stdio: [gzip.stdout!, 'ignore', 'inherit'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1' },
  });
  // The children have their own copies of the pipes between them.
  dump.stdout!.destroy();
  gzip.stdout!.destroy();
  const peak = peakRss(aws.pid!);
  await Promise.all([exited(dump, 'pg_dump'), exited(gzip, 'gzip'), exited(aws, 'aws s3 cp')]);
  return { seconds: (performance.now() - started) / 1000, rssMb: peak() };
}

/**
 * action-backup against `pg_dump -Fc | gzip | aws s3 cp -` (Debian's awscli) at two database
 * sizes, runs alternating: throughput (database MB per second, start to exit) and peak RSS of
 * the runner-side process (the action; the aws CLI).
 */
async function backup(s: SandboxInfo): Promise<Figure[]> {
  const postgres = await startPostgres();
  const s3 = await startS3();
  try {
    const sizes = quick ? [4, 8] : [1000, 5000];
    const runs = quick ? 1 : 3;
    const app = await makeApp(s, 'backup');
    const measured: Record<number, { bytes: number; ours: BackupRun[]; theirs: BackupRun[] }> = {};
    for (const mb of sizes) {
      const db = `bench${mb}`;
      postgres.createAppDatabase(db, 'bench-password');
      // Rows of ~1 KiB with random hex, so compression has real work to do.
      const rows = mb * 1024;
      postgres.sql(db, `set role ${db}; create table blob (id int, payload text); insert into blob select g, (select string_agg(md5(random()::text || g::text || n::text), '') from generate_series(1, 32) n) from generate_series(1, ${rows}) g;`);
      const bytes = Number(postgres.sql(db, 'select pg_database_size(current_database())'));
      const url = postgres.url(db, db, 'bench-password');
      const result = { bytes, ours: [] as BackupRun[], theirs: [] as BackupRun[] };
      for (let i = 0; i < runs; i += 1) {
        result.ours.push(await actionBackup(s, app, s3, url));
        result.theirs.push(await awsPipeline(s3, url));
      }
      measured[mb] = result;
      postgres.sql('postgres', `drop database ${db}`);
    }
    const [small, large] = sizes as [number, number];
    const mbps = (size: number, r: BackupRun[]) => r.map((run) => measured[size]!.bytes / 1024 / 1024 / run.seconds);
    const rss = (size: number, r: 'ours' | 'theirs') => measured[size]![r].map((run) => run.rssMb);
    const ourRss = { small: median(rss(small, 'ours')), large: median(rss(large, 'ours')) };
    const theirRss = { small: median(rss(small, 'theirs')), large: median(rss(large, 'theirs')) };
    const what = 'pg_dump -Fc over ssh, gzip framing, sha256, 8 MiB parts into s3rver; baseline: pg_dump -Fc | gzip | aws s3 cp - (Debian awscli 2.9) into the same s3rver';
    return [
      figure('backup-throughput', 'MB/s', mbps(small, measured[small]!.ours), 'ratio >= 0.9', (_m, r) => r !== null && r >= 0.9, mbps(small, measured[small]!.theirs),
        `database of ${small} MB (pg_database_size), from start to exit; ${what}`),
      figure('backup-throughput-5gb', 'MB/s', mbps(large, measured[large]!.ours), 'ratio >= 0.9', (_m, r) => r !== null && r >= 0.9, mbps(large, measured[large]!.theirs),
        `database of ${large} MB; as above`),
      figure('backup-rss', 'MB', rss(large, 'ours'), `below the aws CLI's, and at most 1.1x the ${small} MB figure`, (m, r) => r !== null && r < 1 && m <= ourRss.small * 1.1, rss(large, 'theirs'),
        `peak RSS (VmHWM) at ${large} MB; the action: ${ourRss.small.toFixed(0)} MB at ${small} MB, ${ourRss.large.toFixed(0)} MB at ${large} MB (${((ourRss.large / ourRss.small - 1) * 100).toFixed(1)}%); ` +
          `the aws CLI: ${theirRss.small.toFixed(0)} MB at ${small} MB, ${theirRss.large.toFixed(0)} MB at ${large} MB`),
    ];
  } finally {
    await s3.stop();
    await postgres.stop();
  }
}

/** CPU time the whole machine has spent busy so far (all cores, from /proc/stat), in seconds. */
function busyCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields;
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

/** The same deploy to one host and to a fleet of N (parallel N): how much slower the fleet is. */
async function fleetDeploy(s: SandboxInfo): Promise<Figure> {
  const count = quick ? 2 : 8;
  const fleet = await startFleet(s, count);
  try {
    for (const host of fleet.hosts) await fleet.ownHome(host);
    const workspace = join(fleet.dir, 'bench');
    mkdirSync(workspace, { recursive: true });
    writeFileSync(join(workspace, 'docker-compose.yml'), `services:\n  web:\n    image: ${fleet.image}:\${VERSION}\n    init: true\n    ports: ["127.0.0.1:\${PORT}:8080"]\n`);
    const inputs = (hosts: typeof fleet.hosts, app: string, version: string) => ({
      env: `PORT=${app === 'alone' ? 8081 : 8080}`,
      host: hosts.map((h) => h.address).join(','),
      username: hosts[0]!.ssh.username,
      'private-key': s.privateKey,
      'known-hosts': hosts.map((h) => h.ssh.knownHosts).join('\n'),
      app,
      version,
      parallel: String(hosts.length),
      'keep-releases': '3',
    });
    const one: number[] = [];
    const all: number[] = [];
    const cpuAll: number[] = [];
    for (let i = 0; i < RUNS + 1; i += 1) {
      const version = i % 2 === 0 ? 'v1' : 'v2';
      const single = await timedRun('action-deploy', inputs(fleet.hosts.slice(0, 1), 'alone', version), workspace);
      const busy = busyCpuSeconds();
      const many = await timedRun('action-deploy', inputs(fleet.hosts, 'fleet', version), workspace);
      const manyCpu = busyCpuSeconds() - busy;
      // The first round pulls the images onto every host; it is not counted.
      if (i > 0) {
        one.push(single.ms / 1000);
        all.push(many.ms / 1000);
        cpuAll.push(manyCpu);
      }
    }
    // Every "host" here shares this machine's cores: the fleet cannot finish before the CPU
    // work of all its hosts is done, whatever the parallelism.
    const cores = cpus().length;
    const floor = median(cpuAll) / cores;
    return figure('fleet', 's', all, '<= 1.5x the single-host time', (_m, r) => r !== null && r <= 1.5, one,
      `action-deploy (recreate, no gate) to ${count} hosts with parallel ${count}, against the same deploy to one of them; each host is a network namespace with its own dockerd and sshd, all on this ${cores}-core machine. ` +
        `The ${count}-host deploy keeps this machine's CPUs busy for ${median(cpuAll).toFixed(1)} CPU-s (runner, ${count} sshd, ${count} dockerd, ${count * 2 + 1} Compose start-ups: pull and up on each host, and config on the first), so it cannot take less than ${floor.toFixed(1)} s on ${cores} cores: ${(floor / median(one)).toFixed(2)}x the single-host time is the floor here, ${((floor / median(all)) * 100).toFixed(0)}% of the measured time`);
  } finally {
    await stopFleet(fleet);
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const started = performance.now();
  console.log(`deploy-kit bench (${quick ? 'quick' : 'full'}): starting the sandbox...`);
  const sandbox = await startSandbox();
  const figures: Figure[] = [];
  try {
    // Each group of figures; `--only fleet,backup` measures just those and keeps the rest of results.json.
    const groups: Record<string, () => Promise<Figure[]>> = {
      overhead: () => deployFigures(sandbox),
      startup: async () => startup(),
      recover: async () => {
        const { recover, gate } = await recoverAndGate(sandbox);
        return [recover, gate];
      },
      backup: () => backup(sandbox),
      fleet: async () => [await fleetDeploy(sandbox)],
    };
    for (const [name, measure] of Object.entries(groups)) {
      if (ONLY && !ONLY.includes(name)) continue;
      const t = performance.now();
      figures.push(...(await measure()));
      console.log(`  ${name}: ${((performance.now() - t) / 1000).toFixed(1)}s`);
    }
  } finally {
    await stopSandbox(sandbox);
  }
  if (ONLY) {
    // Figures not measured this time keep their last value, in the committed order.
    const previous = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8')) as { figures: Figure[] };
    const fresh = new Map(figures.map((f) => [f.name, f]));
    const merged = previous.figures.map((f) => fresh.get(f.name) ?? f);
    figures.splice(0, figures.length, ...merged, ...figures.filter((f) => !previous.figures.some((p) => p.name === f.name)));
  }
  // The actions run on NODE (the runner's Node 24), whatever runs this script.
  const node = execFileSync(NODE, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), kernel: release(), node };
  writeFileSync(join(OUT, 'results.json'), `${JSON.stringify({ machine, mode: quick ? 'quick' : 'full', figures }, null, 2)}\n`);
  writeFileSync(join(OUT, 'RESULTS.md'), markdown(machine, figures, quick ? 'quick (one run each, small sizes)' : `full (${RUNS} runs per figure)`));
  console.log(markdown(machine, figures, quick ? 'quick' : 'full'));
  console.log(`wrote ${join(OUT, 'results.json')} and RESULTS.md in ${((performance.now() - started) / 1000).toFixed(0)}s`);
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
