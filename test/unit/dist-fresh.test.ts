import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Users run the committed dist/index.js, so it must be what the sources build to today.
const root = new URL('../..', import.meta.url).pathname;
const actions = readdirSync(root).filter((d) => d.startsWith('action-') && existsSync(join(root, d, 'src', 'index.ts')));

describe('committed bundles', () => {
  test('every action with sources has a committed dist/index.js and an action.yml pointing at it on node24', () => {
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) {
      expect(existsSync(join(root, action, 'dist', 'index.js'))).toBe(true);
      const yml = readFileSync(join(root, action, 'action.yml'), 'utf8');
      expect(yml).toMatch(/using: 'node24'/);
      expect(yml).toMatch(/main: 'dist\/index.js'/);
    }
  });

  test('a fresh build of each action is byte-identical to its committed dist', () => {
    const out = mkdtempSync(join(tmpdir(), 'dist-check-'));
    try {
      execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--out', out], { cwd: root, stdio: 'pipe', timeout: 590_000 });
      const stale = actions.filter((a) => readFileSync(join(out, a, 'index.js'), 'utf8') !== readFileSync(join(root, a, 'dist', 'index.js'), 'utf8'));
      expect(stale).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 600_000);
});
