import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3rverClient } from '../harness/s3.js';
import { AppFixture } from '../harness/app-fixture.js';
import { runAction } from '../harness/run-action.js';
import { freePort } from '../harness/sandbox.js';

// Issue 10, faults: the S3 store goes away while action-backup streams a dump into it. The
// store (s3rver) runs in a process of its own so that it can be frozen (SIGSTOP) and then
// killed mid-upload; a new s3rver on the same directory afterwards shows what the bucket kept.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const S3RVER = createRequire(import.meta.url).resolve('s3rver');

let dir: string;
let server: ChildProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'deploy-kit-s3down-'));
  writeFileSync(
    join(dir, 'serve.cjs'),
    `const S3rver = require(${JSON.stringify(S3RVER)});\n` +
      `new S3rver({ address: '127.0.0.1', port: Number(process.argv[2]), directory: process.argv[3], silent: true, configureBuckets: [{ name: 'backups' }] })` +
      `.run().then(() => console.log('ready'));\n`,
  );
});

afterAll(() => {
  stopServer();
  rmSync(dir, { recursive: true, force: true });
});

function stopServer(): void {
  if (!server?.pid || server.exitCode !== null || server.signalCode !== null) return;
  process.kill(server.pid, 'SIGCONT');
  process.kill(server.pid, 'SIGKILL');
}

async function startServer(port: number): Promise<{ endpoint: string; client: S3Client }> {
  server = spawn(process.execPath, [join(dir, 'serve.cjs'), String(port), join(dir, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server!.stdout!.once('data', () => resolve());
    server!.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return { endpoint, client: s3rverClient(endpoint) };
}

async function keys(client: S3Client, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: 'backups', Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

test('S3 frozen, then killed, mid-upload: a clear error, no manifest, nothing deleted, nothing left on the host', async () => {
  const app = await AppFixture.create('s3down');
  const port = await freePort();
  const first = await startServer(port);
  const { endpoint } = first;
  let { client } = first;
  // Old backups that a successful run (retention-count 1, retention-days 0) would delete.
  const folder = `db/${app.name}`;
  const seeded = ['20240101T000000Z-old', '20240201T000000Z-older'].flatMap((name) => [`${folder}/${name}.dump.gz`, `${folder}/${name}.dump.gz.manifest.json`]);
  for (const key of seeded) await client.send(new PutObjectCommand({ Bucket: 'backups', Key: key, Body: key.endsWith('.json') ? '{}' : 'x' }));
  client.destroy();

  const workDirs = () => execFileSync('sh', ['-c', 'ls -d "${TMPDIR:-/tmp}"/deploy-kit-backup.* 2>/dev/null || true'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const workDirsBefore = new Set(workDirs());
  let seen = '';
  let froze: Promise<void> | undefined;
  const started = Date.now();
  const run = await runAction(
    'action-backup',
    {
      ...app.sshInputs(),
      app: app.name,
      'deploy-path': app.deployPath,
      // 400 MB that does not compress: several seconds of upload.
      command: 'head -c 400000000 /dev/urandom',
      destination: 's3://backups/db',
      's3-endpoint': endpoint,
      's3-access-key-id': 'S3RVER',
      's3-secret-access-key': 'S3RVER',
      's3-force-path-style': 'true',
      'retention-count': '1',
      'retention-days': '0',
    },
    {
      timeoutMs: 170_000,
      onStdout: (chunk) => {
        seen += chunk;
        if (froze || !seen.includes('::group::Dump and upload')) return;
        froze = (async () => {
          await sleep(1500);
          process.kill(server!.pid!, 'SIGSTOP');
          await sleep(3000);
          stopServer();
        })();
      },
    },
  );
  await froze;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`S3 down mid-upload: the backup failed after ${seconds}s with: ${run.errors.join(' | ')}`);

  expect(run.code).toBe(1);
  expect(run.errors).toHaveLength(1);
  expect(run.errors[0]).toMatch(/^(Cannot reach the S3 endpoint for s3:\/\/backups\/db\/s3down\/\S+ at http:\/\/127\.0\.0\.1:\d+ \(E[A-Z]+\)\. Check 's3-endpoint' and that the store is up\.|S3 could not upload s3:\/\/backups\/db\/s3down\/\S+)/);
  expect(run.stdout).not.toContain('::group::Write the manifest');
  expect(run.stdout).not.toContain('::group::Retention');
  expect(run.outputs.key ?? '').toBe('');

  // The store back up: the old backups are all there, and no new manifest.
  ({ client } = await startServer(port));
  try {
    const after = await keys(client, `${folder}/`);
    expect(after.filter((k) => k.endsWith('.manifest.json'))).toEqual(seeded.filter((k) => k.endsWith('.manifest.json')));
    expect(after).toEqual(expect.arrayContaining(seeded));
  } finally {
    client.destroy();
    stopServer();
  }
  // The dump's private temp dir on the host is gone.
  // (Other test runs on this machine may be backing up right now: a dir a running process names is theirs.)
  await sleep(1000);
  const running = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  // The dump does not go on running on the host.
  expect(running).not.toContain('head -c 400000000');
  expect(workDirs().filter((d) => !workDirsBefore.has(d) && !running.includes(d))).toEqual([]);
});
