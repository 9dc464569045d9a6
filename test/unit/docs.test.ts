import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// The docs a team adopts deploy-kit from: each action's README carries inputs and outputs
// tables generated from its action.yml (scripts/docs.mjs), and every relative link in the
// READMEs and docs/ leads to a file (and heading) that exists.

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'scripts', 'docs.mjs');
const actions = readdirSync(root).filter((d) => d.startsWith('action-') && existsSync(join(root, d, 'action.yml'))).sort();

function docsScript(...args: string[]): { code: number | null; out: string } {
  const run = spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

interface ActionYml {
  inputs?: Record<string, { description?: string; required?: boolean | string; default?: unknown }>;
  outputs?: Record<string, { description?: string }>;
}

/** The rows of the generated table between `<!-- section:start -->` and `<!-- section:end -->`, as cells. */
function tableRows(readme: string, section: 'inputs' | 'outputs'): string[][] {
  const start = readme.indexOf(`<!-- ${section}:start -->`);
  const end = readme.indexOf(`<!-- ${section}:end -->`);
  if (start === -1 || end < start) return [];
  return readme
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((cell) => cell.replace(/\\\|/g, '|').trim()),
    );
}

const unticked = (cell: string | undefined): string => (cell ?? '').replace(/^`+ ?| ?`+$/g, '');
const oneLine = (text: string | undefined): string => (text ?? '').replace(/\s+/g, ' ').trim();

describe('action READMEs: inputs and outputs tables', () => {
  test('`node scripts/docs.mjs --check` finds every table in line with its action.yml', () => {
    const run = docsScript('--check');
    expect(run.out).not.toMatch(/differs|missing|no '<!--/);
    expect(run.code).toBe(0);
  });

  test.each(actions)('%s/README.md lists exactly the inputs and outputs of its action.yml', (action) => {
    const yml = parse(readFileSync(join(root, action, 'action.yml'), 'utf8')) as ActionYml;
    const readme = readFileSync(join(root, action, 'README.md'), 'utf8');

    const inputs = tableRows(readme, 'inputs');
    expect(inputs.map((row) => unticked(row[0]))).toEqual(Object.keys(yml.inputs ?? {}));
    for (const row of inputs) {
      const spec = yml.inputs?.[unticked(row[0])] ?? {};
      expect([unticked(row[0]), row[1]]).toEqual([unticked(row[0]), spec.required === true || spec.required === 'true' ? 'yes' : 'no']);
      expect(unticked(row[2])).toBe(spec.default === undefined || spec.default === null ? '' : String(spec.default));
      expect(oneLine(row[3])).toBe(oneLine(spec.description));
    }

    const outputs = tableRows(readme, 'outputs');
    expect(outputs.map((row) => unticked(row[0]))).toEqual(Object.keys(yml.outputs ?? {}));
    for (const row of outputs) expect(oneLine(row[1])).toBe(oneLine(yml.outputs?.[unticked(row[0])]?.description));
  });

  describe('the script itself, on a scratch checkout', () => {
    let scratch: string;
    const readmePath = () => join(scratch, 'action-demo', 'README.md');
    const writeYml = (description: string) =>
      writeFileSync(
        join(scratch, 'action-demo', 'action.yml'),
        `name: demo\ndescription: demo\ninputs:\n  greeting:\n    description: '${description}'\n    required: false\n    default: 'hi'\n  name:\n    description: 'Who to greet.'\n    required: true\noutputs:\n  said:\n    description: 'What was said.'\nruns:\n  using: node24\n  main: dist/index.js\n`,
      );

    beforeEach(() => {
      scratch = mkdtempSync(join(tmpdir(), 'docs-check-'));
      mkdirSync(join(scratch, 'action-demo'));
      writeYml('Says hello | politely.');
      writeFileSync(readmePath(), '# demo\n\nIntro stays.\n\n<!-- inputs:start -->\nold\n<!-- inputs:end -->\n\nMiddle stays.\n\n<!-- outputs:start -->\n<!-- outputs:end -->\n\nEnd stays.\n');
    });
    afterEach(() => rmSync(scratch, { recursive: true, force: true }));

    test('writes both tables between the markers and leaves the rest of the README alone', () => {
      expect(docsScript('--root', scratch, '--check').code).toBe(1);
      expect(docsScript('--root', scratch).code).toBe(0);
      const readme = readFileSync(readmePath(), 'utf8');
      expect(readme).toContain('| `greeting` | no | `hi` | Says hello \\| politely. |');
      expect(readme).toContain('| `name` | yes |  | Who to greet. |');
      expect(readme).toContain('| `said` | What was said. |');
      expect(readme).not.toContain('\nold\n');
      for (const kept of ['# demo', 'Intro stays.', 'Middle stays.', 'End stays.']) expect(readme).toContain(kept);
      expect(docsScript('--root', scratch, '--check').code).toBe(0);
      expect(docsScript('--root', scratch).code).toBe(0);
      expect(readFileSync(readmePath(), 'utf8')).toBe(readme);
    });

    test('--check fails and names the README when a description in action.yml changed, and writes nothing', () => {
      expect(docsScript('--root', scratch).code).toBe(0);
      writeYml('Says hello loudly.');
      const before = readFileSync(readmePath(), 'utf8');
      const check = docsScript('--root', scratch, '--check');
      expect(check.code).toBe(1);
      expect(check.out).toContain(join('action-demo', 'README.md'));
      expect(readFileSync(readmePath(), 'utf8')).toBe(before);
      expect(docsScript('--root', scratch).code).toBe(0);
      expect(readFileSync(readmePath(), 'utf8')).toContain('| Says hello loudly. |');
    });

    test('a README without the markers is an error naming it and the marker', () => {
      writeFileSync(readmePath(), '# demo\n\n<!-- inputs:start -->\n<!-- inputs:end -->\n');
      const run = docsScript('--root', scratch, '--check');
      expect(run.code).toBe(1);
      expect(run.out).toContain(`${join('action-demo', 'README.md')} has no '<!-- outputs:start -->'`);
    });
  });
});

// ---------------------------------------------------------------------------------------
// Links

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The text outside fenced code blocks, line by line. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence === undefined) lines.push(line);
  }
  return lines;
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Relative link targets of a Markdown file (inline links, images and reference definitions), outside code. */
function linkTargets(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown)) {
    const text = line.replace(/(`+)[\s\S]*?\1/g, '');
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(match[1]!);
    const reference = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(text)?.[1];
    if (reference) targets.push(reference);
  }
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** Problems with the relative links of `file` (a path under `base`): missing files or headings. */
function brokenLinks(base: string, file: string): string[] {
  const text = readFileSync(join(base, file), 'utf8');
  const problems: string[] = [];
  for (const target of linkTargets(text)) {
    const [path = '', fragment] = target.split('#', 2);
    const resolved = path === '' ? join(base, file) : resolve(dirname(join(base, file)), decodeURIComponent(path));
    const shown = `${file}: (${target})`;
    if (!resolved.startsWith(base) || !existsSync(resolved)) {
      problems.push(`${shown} leads to ${relative(base, resolved)}, which does not exist`);
      continue;
    }
    if (fragment && resolved.endsWith('.md') && statSync(resolved).isFile() && !anchors(readFileSync(resolved, 'utf8')).has(fragment.toLowerCase())) {
      problems.push(`${shown}: ${relative(base, resolved)} has no heading '#${fragment}'`);
    }
  }
  return problems;
}

const docFiles = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...actions.map((a) => `${a}/README.md`),
];

describe('docs: files and links', () => {
  test.each(['docs/how-it-works.md', 'docs/security.md', 'docs/troubleshooting.md', ...actions.map((a) => `${a}/README.md`)])('%s exists and has content', (file) => {
    expect(existsSync(join(root, file))).toBe(true);
    expect(readFileSync(join(root, file), 'utf8').length).toBeGreaterThan(500);
  });

  test('there is a README for each of the six actions', () => {
    expect(actions).toEqual(['action-backup', 'action-deploy', 'action-healthgate', 'action-notify', 'action-preview', 'action-rollback']);
  });

  test('the top-level README links to every action README and to the docs', () => {
    const targets = linkTargets(readFileSync(join(root, 'README.md'), 'utf8'));
    for (const wanted of [...actions.map((a) => `${a}/README.md`), 'docs/how-it-works.md', 'docs/security.md', 'docs/troubleshooting.md']) {
      expect(targets).toContain(wanted);
    }
  });

  test.each(docFiles)('every relative link in %s resolves to a file in the repository', (file) => {
    expect(brokenLinks(root, file)).toEqual([]);
  });

  test('the link check catches a missing file and a missing heading', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'links-check-'));
    try {
      mkdirSync(join(scratch, 'docs'));
      writeFileSync(join(scratch, 'docs', 'a.md'), '# A\n\n## Lock held or stale\n\nText.\n');
      writeFileSync(
        join(scratch, 'README.md'),
        [
          '[ok](docs/a.md) [ok too](docs/a.md#lock-held-or-stale) [web](https://example.com/x)',
          '[gone](docs/missing.md) [no heading](docs/a.md#nope) `[in code](docs/nowhere.md)`',
          '```',
          '[in a fence](docs/nowhere.md)',
          '```',
        ].join('\n'),
      );
      expect(brokenLinks(scratch, 'README.md')).toEqual([
        'README.md: (docs/missing.md) leads to docs/missing.md, which does not exist',
        "README.md: (docs/a.md#nope): docs/a.md has no heading '#nope'",
      ]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
