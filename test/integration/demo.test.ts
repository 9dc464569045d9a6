import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../harness/run-action.js';

// The README's first command must keep telling its story: run the demo as a user would
// (its own sandbox, separate from the suite's) and check the story it prints.
test('npm run demo tells the whole story and exits 0', () => {
  // As `npm run demo` runs it: in a network namespace of its own (scripts/own-network.sh).
  const run = spawnSync('bash', ['scripts/own-network.sh', join(ROOT, 'node_modules/.bin/tsx'), 'demo/run.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const out = run.stdout;
  expect(out).toContain('Every step behaved as the story says');
  expect(out).toMatch(/1\. Deploy v1 \(health gate passes\) +ok +[\d.]+s +v1/);
  expect(out).toMatch(/2\. Back up the database, and verify the backup restores +ok/);
  expect(out).toMatch(/4\. Deploy v3, which is broken: the gate fails and v2 comes back by itself +ok +[\d.]+s +v2/);
  expect(out).toMatch(/5\. Roll back by hand to v1 with action-rollback +ok +[\d.]+s +v1/);
  expect(out).toMatch(/6\. Pull request #7 gets a preview at its own name +ok/);
  expect(out).toMatch(/7\. Pull request #8 gets another, with its own version +ok/);
  expect(out).toMatch(/8\. Pull request #7 closes: its preview disappears, #8 stays +ok/);
  expect(out).toContain('through Caddy: pr-7 answers "200 v2", pr-8 answers "200 v1"');
  expect(out).toContain('through Caddy: pr-7 has no site any more, pr-8 answers "200 v1"');
  expect(out).toContain('slack updated: "');
  expect(out).toMatch(/release 3 failed +v3 +\(v3 failed its health gate/);
  expect(run.status).toBe(0);
  const summaries = join(ROOT, 'demo', 'out', 'job-summaries.md');
  expect(existsSync(summaries)).toBe(true);
  expect(readFileSync(summaries, 'utf8')).toContain('shop v3: rolled-back');
}, 300_000);
