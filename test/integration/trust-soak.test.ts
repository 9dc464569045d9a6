import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppFixture } from '../harness/app-fixture.js';
import { docker } from '../harness/sandbox.js';

// Issue 10, soak: 30 deploys and rollbacks in a row against one host (v1 and v2 alternating,
// a rollback every fourth run, keep-releases 3). At the end the host must look as if each
// had run alone: a consistent ledger, no more releases than kept, every kept release's images
// present, only the current release's container, only the app's network, no temp files.

const CYCLES = 30;
const KEEP = 3;

interface Event {
  release: string;
  event: string;
}

test(`${CYCLES} deploys and rollbacks in a row leave a tidy host`, async () => {
  const app = await AppFixture.create('soak');
  const started = Date.now();
  const tmpBefore = new Set(execFileSync('sh', ['-c', 'ls -a "${TMPDIR:-/tmp}"'], { encoding: 'utf8' }).split('\n'));
  let deploys = 0;
  for (let i = 1; i <= CYCLES; i += 1) {
    const rollback = i % 4 === 0;
    const run = rollback ? await app.rollback({ to: 'previous' }) : await app.deploy(deploys++ % 2 === 0 ? 'v1' : 'v2', { 'keep-releases': String(KEEP) });
    expect([i, run.errors]).toEqual([i, []]);
    const current = app.current()!;
    expect([i, await app.get('/')]).toEqual([i, `200 ${String(app.record(current.replace('releases/', '')).version)}`]);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`soak: ${CYCLES} runs (${deploys} deploys, ${CYCLES - deploys} rollbacks) in ${seconds.toFixed(0)}s, ${(seconds / CYCLES).toFixed(1)}s each`);

  // The ledger: every release started once, then at most one `deployed`; a `restored` only
  // after it had been deployed; nothing after `pruned`; pruned releases are gone from disk.
  const events = readFileSync(join(app.deployPath, 'ledger.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Event);
  const byId = new Map<string, string[]>();
  for (const e of events) byId.set(e.release, [...(byId.get(e.release) ?? []), e.event]);
  expect(byId.size).toBe(deploys);
  const onDisk = app.releases();
  for (const [id, list] of byId) {
    expect([id, list[0], list.filter((e) => e === 'started').length, list.filter((e) => e === 'deployed').length]).toEqual([id, 'started', 1, 1]);
    const restored = list.indexOf('restored');
    if (restored !== -1) expect([id, list.indexOf('deployed') < restored]).toEqual([id, true]);
    const pruned = list.indexOf('pruned');
    if (pruned !== -1) expect([id, pruned, existsSync(join(app.deployPath, 'releases', id))]).toEqual([id, list.length - 1, false]);
    else expect([id, onDisk.includes(id)]).toEqual([id, true]);
  }
  // keep-releases: the newest 3 and the active one at most.
  const current = app.current()!.replace('releases/', '');
  expect(onDisk).toContain(current);
  expect(onDisk.length).toBeLessThanOrEqual(KEEP + 1);

  // Every kept release can start again from images on the host.
  for (const id of onDisk) {
    const images = Object.values(app.record(id).images as Record<string, string>);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(docker(app.sandbox, ['image', 'inspect', '--format', '{{.Id}}', image]).trim()).toMatch(/^sha256:/);
  }

  // Only the current release's container, and only the app's own network.
  const pinned = Object.values(app.record(current).images as Record<string, string>);
  expect(app.containers()).toEqual([expect.stringMatching(new RegExp(`^soak[-_]web[-_]1 running ${pinned[0]!.replace(/[.]/g, '\\.')}$`))]);
  expect(docker(app.sandbox, ['network', 'ls', '--format', '{{.Name}}', '--filter', `label=com.docker.compose.project=${app.name}`]).trim().split('\n')).toEqual([`${app.name}_default`]);

  // No temp files. A deploy or rollback makes them only in the deploy path (SFTP's
  // `<file>.tmp-<pid>-<ms>`, `current.next`, a lock moved aside as `.lock.broken.<pid>`, the
  // registry credentials folder `.docker`); the only one deploy-kit makes in /tmp is the
  // backup's `deploy-kit-backup.*`, which must not appear either.
  expect(execFileSync('sh', ['-c', 'cd "$1" && find . \\( -name "*.tmp-*" -o -name "current.next" -o -name ".lock*" -o -name ".docker" \\) -print', 'sh', app.deployPath], { encoding: 'utf8' })).toBe('');
  const tmpAfter = execFileSync('sh', ['-c', 'ls -a "${TMPDIR:-/tmp}"'], { encoding: 'utf8' }).split('\n').filter((name) => !tmpBefore.has(name));
  expect(tmpAfter.filter((name) => /^deploy-kit-backup\.|\.tmp-\d+-\d+$|^current\.next$/.test(name))).toEqual([]);
}, 600_000);
