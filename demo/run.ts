// `npm run demo`: the whole deploy story on this machine, with real parts on loopback.
// A sandbox host (sshd, Docker engine, registry, PostgreSQL with sample data, an S3 endpoint,
// a Slack API sink), and the committed action bundles run as the GitHub runner runs them.
// Its last chapter: two pull requests become previews behind a real Caddy, and one closes.
// `npm run demo -- --keep` leaves the sandbox running to poke at.
import { appendFileSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionRun, ROOT, runAction } from '../test/harness/run-action.js';
import { PostgresCluster, startPostgres } from '../test/harness/postgres.js';
import { S3Fixture, startS3 } from '../test/harness/s3.js';
import { SandboxInfo, docker, freePort, startSandbox, stopSandbox } from '../test/harness/sandbox.js';
import { SlackApiServer, startSlackApiServer } from '../test/harness/slack-api-server.js';
import { CaddyProxy } from '../test/harness/caddy.js';
import { hostFolder } from '../test/harness/host-user.js';
import { Expectation, StepRecord, describeSlackMessage, keyLines, printTable } from './story.js';

const keep = process.argv.includes('--keep');
const OUT = join(ROOT, 'demo', 'out');
const SUMMARY = join(OUT, 'job-summaries.md');

interface World {
  sandbox: SandboxInfo;
  postgres: PostgresCluster;
  s3: S3Fixture;
  slack: SlackApiServer;
  caddy: CaddyProxy;
  port: number;
  workspace: string;
  deployPath: string;
}

const parts: { stop(): Promise<void> }[] = [];
let stopping = false;

async function cleanUp(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const part of parts.reverse()) await part.stop().catch(() => undefined);
}

process.on('SIGINT', () => {
  console.log('\ninterrupted: stopping the sandbox');
  void cleanUp().then(() => process.exit(130));
});

async function setUp(): Promise<World> {
  console.log('Starting the sandbox host: Docker engine, registry, sshd, PostgreSQL, S3 endpoint, Slack API sink...');
  const sandbox = await startSandbox();
  parts.push({ stop: () => stopSandbox(sandbox) });
  // In this story v3 is the bad release: it starts, but its /health answers 404.
  docker(sandbox, ['tag', `${sandbox.appImage}:broken`, `${sandbox.appImage}:v3`]);
  docker(sandbox, ['push', '-q', `${sandbox.appImage}:v3`]);
  const postgres = await startPostgres();
  parts.push({ stop: () => postgres.stop() });
  postgres.createAppDatabase('shop', 'shop-db-password');
  postgres.sql('shop', "set role shop; create table orders (id serial primary key, item text, amount numeric); insert into orders (item, amount) select 'item ' || g, g * 1.5 from generate_series(1, 5000) g;");
  const s3 = await startS3();
  parts.push({ stop: () => s3.stop() });
  const slack = await startSlackApiServer();
  parts.push({ stop: () => slack.close() });
  const caddy = await CaddyProxy.start(sandbox.dir, 'demo');
  parts.push({ stop: async () => caddy.stop() });
  const port = await freePort();
  const workspace = join(sandbox.dir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  writeFileSync(
    join(workspace, 'docker-compose.yml'),
    `services:\n  web:\n    image: ${sandbox.appImage}:\${VERSION}\n    init: true\n    ports: ["127.0.0.1:${port}:8080"]\n`,
  );
  // A preview publishes no port of its own: Caddy reaches it on one deploy-kit picks.
  writeFileSync(join(workspace, 'docker-compose.preview.yml'), `services:\n  web:\n    image: ${sandbox.appImage}:\${VERSION}\n    init: true\n`);
  hostFolder(join(sandbox.hostsDir, 'previews'));
  console.log(`ready: ssh ${sandbox.ssh.username}@127.0.0.1 -p ${sandbox.ssh.port}, registry ${sandbox.registry}, PostgreSQL :${postgres.port}, S3 ${s3.endpoint}\n`);
  return { sandbox, postgres, s3, slack, caddy, port, workspace, deployPath: join(sandbox.hostsDir, 'shop') };
}

function sshInputs(w: World): Record<string, string> {
  return {
    host: '127.0.0.1',
    port: String(w.sandbox.ssh.port),
    username: w.sandbox.ssh.username,
    'private-key': w.sandbox.privateKey,
    'known-hosts': w.sandbox.ssh.knownHosts,
    app: 'shop',
    'deploy-path': w.deployPath,
  };
}

const gate = (w: World) => ({
  'health-url': `http://127.0.0.1:${w.port}/health`,
  'health-successes': '3',
  'health-interval': '500ms',
  'health-timeout': '6s',
  'wait-timeout': '30s',
});

async function serving(w: World): Promise<string> {
  try {
    return (await (await fetch(`http://127.0.0.1:${w.port}/`, { signal: AbortSignal.timeout(2000) })).text()).trim();
  } catch {
    return 'nothing';
  }
}

const records: StepRecord[] = [];

async function step(title: string, action: string, inputs: Record<string, string>, expect: Expectation, w: World): Promise<ActionRun> {
  console.log(`\n━━ ${title}`);
  const started = performance.now();
  const run = await runAction(action, inputs, { cwd: w.workspace });
  for (const line of keyLines(run.stdout)) console.log(`   ${line}`);
  const outputs = Object.entries(run.outputs).filter(([, v]) => v !== '');
  if (outputs.length > 0) console.log(`   outputs: ${outputs.map(([k, v]) => `${k}=${v.length > 80 ? `${v.slice(0, 77)}...` : v}`).join('  ')}`);
  const problem = await expect(run, await serving(w));
  const record = { title, ms: performance.now() - started, ok: problem === undefined, result: problem ?? 'as the story says', serving: await serving(w) };
  records.push(record);
  console.log(`   ${record.ok ? '✔' : '✘'} ${record.result}; the app serves: ${record.serving}`);
  appendFileSync(SUMMARY, `\n<!-- ${title} -->\n${run.summary}\n`);
  return run;
}

/** Posts (or, given the first post's ts and channel id, updates) the deploy's Slack message. */
async function notify(w: World, status: string, version: string, posted?: { ts: string; channel: string }): Promise<{ ts: string; channel: string }> {
  const ts = posted?.ts ?? '';
  const run = await runAction(
    'action-notify',
    { 'slack-token': w.slack.token, 'slack-api-url': w.slack.apiUrl, channel: posted?.channel ?? 'deploys', status, app: 'shop', environment: 'demo', version, ts, 'environment-url': `http://127.0.0.1:${w.port}/`, 'github-token': '' },
    { cwd: w.workspace },
  );
  const message = w.slack.message(run.outputs.channel ?? '', run.outputs.ts ?? '');
  console.log(`   slack ${ts ? 'updated' : 'posted'}: ${message ? describeSlackMessage(message) : `(nothing: ${run.errors.join(' ') || 'no message'})`}`);
  return { ts: run.outputs.ts ?? '', channel: run.outputs.channel ?? '' };
}

async function story(w: World): Promise<void> {
  const ssh = sshInputs(w);
  const deployed = (status: string, version: string): Expectation => (run, now) =>
    run.outputs.status !== status ? `expected status ${status}, got ${run.outputs.status || 'none'}: ${run.errors.join(' ')}` : now !== version ? `expected ${version} to be served, got ${now}` : undefined;

  let message = await notify(w, 'started', 'v1');
  await step('1. Deploy v1 (health gate passes)', 'action-deploy', { ...ssh, ...gate(w), version: 'v1', env: 'DATABASE_URL=' + w.postgres.url('shop', 'shop', 'shop-db-password') }, deployed('deployed', 'v1'), w);
  await notify(w, 'success', 'v1', message);

  await step(
    '2. Back up the database, and verify the backup restores',
    'action-backup',
    {
      ...ssh,
      'postgres-url': w.postgres.url('shop', 'shop', 'shop-db-password'),
      destination: `s3://${w.s3.bucket}/demo`,
      's3-endpoint': w.s3.endpoint,
      's3-access-key-id': w.s3.accessKeyId,
      's3-secret-access-key': w.s3.secretAccessKey,
      's3-force-path-style': 'true',
      version: 'v1',
      verify: 'true',
      'verify-query': 'select count(*) from orders',
    },
    (run) => (run.outputs.verified !== 'true' ? `expected a verified backup: ${run.errors.join(' ')}` : undefined),
    w,
  );

  message = await notify(w, 'started', 'v2');
  await step('3. Deploy v2', 'action-deploy', { ...ssh, ...gate(w), version: 'v2' }, deployed('deployed', 'v2'), w);
  await notify(w, 'success', 'v2', message);

  message = await notify(w, 'started', 'v3');
  await step('4. Deploy v3, which is broken: the gate fails and v2 comes back by itself', 'action-deploy', { ...ssh, ...gate(w), version: 'v3' }, deployed('rolled-back', 'v2'), w);
  await notify(w, 'rolled-back', 'v3', message);

  await step(
    '5. Roll back by hand to v1 with action-rollback',
    'action-rollback',
    { ...ssh, to: 'v1', reason: 'demo: back to the first release', 'health-url': `http://127.0.0.1:${w.port}/health` },
    (run, now) => (run.outputs.healthy !== 'true' || now !== 'v1' ? `expected v1 healthy, got ${now}: ${run.errors.join(' ')}` : undefined),
    w,
  );

  await previews(w);
}

/** The last chapter: pull requests #7 and #8 become previews at their own names through Caddy; #7 closes and is gone. */
async function previews(w: World): Promise<void> {
  const ssh = sshInputs(w);
  const connection = { host: ssh.host!, port: ssh.port!, username: ssh.username!, 'private-key': ssh['private-key']!, 'known-hosts': ssh['known-hosts']! };
  const inputs = (command: string, pr: number, version = '') => ({
    ...connection,
    command,
    app: 'shop',
    'pr-number': String(pr),
    version,
    'previews-path': join(w.sandbox.hostsDir, 'previews'),
    'compose-file': 'docker-compose.preview.yml',
    'preview-domain': w.caddy.domain,
    'preview-scheme': 'http',
    'caddy-config': w.caddy.config,
    'caddy-routes': w.caddy.routes,
    'web-port': '8080',
    'health-path': '/health',
    'github-token': '',
  });
  const answers = (pr: number) => w.caddy.get(`pr-${pr}.preview.test`);
  const live = (pr: number, version: string) => async (run: ActionRun) =>
    run.outputs.status !== 'live' ? `expected a live preview: ${run.errors.join(' ')}` : (await answers(pr)) !== `200 ${version}` ? `expected pr-${pr} to answer ${version}, got ${await answers(pr)}` : undefined;
  await step('6. Pull request #7 gets a preview at its own name', 'action-preview', inputs('open', 7, 'v2'), live(7, 'v2'), w);
  await step('7. Pull request #8 gets another, with its own version', 'action-preview', inputs('open', 8, 'v1'), live(8, 'v1'), w);
  console.log(`   through Caddy: pr-7 answers "${await answers(7)}", pr-8 answers "${await answers(8)}"`);
  await step('8. Pull request #7 closes: its preview disappears, #8 stays', 'action-preview', inputs('close', 7), async (run) => {
    const [seven, eight] = [await answers(7), await answers(8)];
    return run.outputs.status !== 'removed' ? `expected removed: ${run.errors.join(' ')}` : /v\d/.test(seven) ? `pr-7 still answers ${seven}` : eight !== '200 v1' ? `pr-8 answers ${eight}` : undefined;
  }, w);
  // Caddy answers a name it has no site for with an empty 200.
  console.log(`   through Caddy: pr-7 ${(await answers(7)) === '200 ' ? 'has no site any more' : `answers "${await answers(7)}"`}, pr-8 answers "${await answers(8)}"`);
}

async function main(): Promise<number> {
  mkdirSync(OUT, { recursive: true });
  writeFileSync(SUMMARY, '# deploy-kit demo: job summaries\n');
  const started = performance.now();
  const w = await setUp();
  try {
    await story(w);
  } catch (error) {
    records.push({ title: 'the story stopped', ms: 0, ok: false, result: (error as Error).message, serving: await serving(w) });
  }
  console.log(`\n━━ Final state on the host (${w.deployPath})`);
  console.log(`   the app serves: ${await serving(w)}`);
  console.log(`   current -> ${readlinkSync(join(w.deployPath, 'current'))}`);
  console.log('   ledger.jsonl:');
  for (const line of readFileSync(join(w.deployPath, 'ledger.jsonl'), 'utf8').trim().split('\n')) {
    const e = JSON.parse(line) as { release: string; event: string; version?: string; reason?: string };
    console.log(`     release ${e.release} ${e.event.padEnd(11)} ${e.version ?? ''}${e.reason ? `  (${e.reason.length > 90 ? `${e.reason.slice(0, 87)}...` : e.reason})` : ''}`);
  }
  console.log(`   containers: ${docker(w.sandbox, ['ps', '--format', '{{.Names}} {{.Status}}']).trim()}`);
  printTable(records, performance.now() - started);
  console.log(`\nJob summaries of every step: ${SUMMARY}`);
  if (keep) {
    // `npm run demo` runs in a network namespace of its own (scripts/own-network.sh): its loopback is the sandbox's.
    console.log(`\nThe sandbox stays up (--keep), in the demo's network namespace. Enter it, then reach the host:`);
    console.log(`  nsenter --net=/proc/${w.sandbox.pids.dockerd}/ns/net bash`);
    console.log(`  ssh -i ${join(w.sandbox.dir, 'id_ed25519')} -p ${w.sandbox.ssh.port} -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no ${w.sandbox.ssh.username}@127.0.0.1`);
    console.log(`  app: http://127.0.0.1:${w.port}/    releases: ${w.deployPath}    DOCKER_HOST=${w.sandbox.dockerHost}`);
    console.log(`Stop it by killing the pids in ${join(w.sandbox.dir, 'sandbox.json')} (dockerd ${w.sandbox.pids.dockerd}, registry ${w.sandbox.pids.registry}).`);
  } else {
    await cleanUp();
  }
  return records.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error: Error) => {
    console.error(`demo failed: ${error.stack ?? error.message}`);
    await cleanUp();
    process.exit(1);
  },
);
