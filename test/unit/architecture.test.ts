import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

// The folders of src/ are layers: a folder that imports another is above it. A cycle between
// folders (deploy -> recovery -> swarm -> deploy was one) means the layers no longer say what
// depends on what. Type-only imports are erased at build time and are not counted.
const root = new URL('../..', import.meta.url).pathname;
const src = join(root, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** folder -> the folders its modules import values from. */
function folderImports(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of sources(src)) {
    const from = relative(src, dirname(file)) || '.';
    for (const m of readFileSync(file, 'utf8').matchAll(/^import (type )?[^;]*?from '(\.[^']+)'/gms)) {
      if (m[1]) continue;
      const to = relative(src, dirname(normalize(join(dirname(file), m[2]!)))) || '.';
      if (to !== from) edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
  }
  return edges;
}

function cycles(edges: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    if (path.includes(node)) return void found.push([...path.slice(path.indexOf(node)), node].join(' -> '));
    if (done.has(node)) return;
    for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    done.add(node);
  };
  for (const node of edges.keys()) visit(node, []);
  return found;
}

test('no two folders of src/ import each other, directly or through others', () => {
  const edges = folderImports();
  expect(edges.get('deploy')?.has('release')).toBe(true); // the check reads real imports
  expect(cycles(edges)).toEqual([]);
});

test('the check finds a cycle when there is one', () => {
  const edges = new Map([
    ['deploy', new Set(['recovery'])],
    ['recovery', new Set(['swarm'])],
    ['swarm', new Set(['deploy'])],
  ]);
  expect(cycles(edges)).toEqual(['deploy -> recovery -> swarm -> deploy']);
});
