import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../harness/run-action.js';

// `npm run bench -- --quick` runs every figure once on small sizes, so the bench cannot rot.
// Speed targets are judged by the full bench, not here: this checks that every figure is measured.
test('the quick bench measures every figure and writes results.json and RESULTS.md', () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-quick-'));
  try {
    // As `npm run bench` runs it: in a network namespace of its own (scripts/own-network.sh).
    const run = spawnSync('bash', ['scripts/own-network.sh', join(ROOT, 'node_modules/.bin/tsx'), 'bench/run.ts', '--quick', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 400_000 });
    expect(run.stderr).not.toMatch(/bench failed/);
    expect(run.status).toBe(0);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { machine: Record<string, unknown>; figures: { name: string; median: number | null; unit: string; met: boolean | null }[] };
    const names = results.figures.map((f) => f.name);
    for (const name of ['deploy-overhead', 'recover', 'gate-latency', 'backup-throughput', 'backup-rss', 'fleet', 'ssh-connections']) expect(names).toContain(name);
    for (const action of ['deploy', 'healthgate', 'rollback', 'backup', 'notify']) expect(names).toContain(`startup-action-${action}`);
    expect(results.figures.filter((f) => typeof f.median !== 'number' || !Number.isFinite(f.median)).map((f) => f.name)).toEqual([]);
    expect(results.figures.find((f) => f.name === 'ssh-connections')?.median).toBe(1);
    expect(readFileSync(join(out, 'RESULTS.md'), 'utf8')).toMatch(/\| deploy-overhead \| [\d.]+ \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 420_000);
