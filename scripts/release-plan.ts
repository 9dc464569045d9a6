// What the release workflow (.github/workflows/release.yml) tags, or why it refuses to.
//
//   node scripts/release-plan.ts [--notes FILE]
//
// Reads this checkout (package.json, CHANGELOG.md, the workflows, the READMEs, docs/ and
// examples/), the tags `git tag` lists and GITHUB_REF. On success it prints the plan, writes
// `version`, `tag` and `major` to $GITHUB_OUTPUT (when set) and the version's CHANGELOG
// section to FILE; otherwise it prints one `::error` line per reason and exits 1.
// The decision is planRelease(), a pure function the unit tests call; Node 24 runs this
// file as it is (type stripping), so the release job needs no build step for it.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ReleaseInputs {
  /** GITHUB_REF of the run: releases are made from main only. */
  readonly ref: string;
  /** Tags that exist already. */
  readonly tags: readonly string[];
  readonly packageJson: string;
  readonly changelog: string;
  /** The action folders of the repository (action-deploy, ...). */
  readonly actions: readonly string[];
  /** path -> text of the repository's own workflows (.github/workflows/*.yml). */
  readonly workflows: ReadonlyMap<string, string>;
  /** path -> text of what users copy from: READMEs, docs/, examples/. */
  readonly docs: ReadonlyMap<string, string>;
}

export type ReleasePlan =
  | { readonly ok: true; readonly version: string; readonly tag: string; readonly major: string; readonly notes: string }
  | { readonly ok: false; readonly problems: readonly string[] };

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;
const RELEASE_TAG = /^v(\d+)\.(\d+)\.(\d+)$/;

const compareVersions = (a: readonly number[], b: readonly number[]): number =>
  a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

/** `uses:` values of a workflow text, with their line numbers. */
function usesOf(text: string): { line: number; uses: string }[] {
  return text.split('\n').flatMap((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)/.exec(line);
    return match ? [{ line: index + 1, uses: match[1]! }] : [];
  });
}

/** The version's CHANGELOG section: refusals when it is not the newest, dated section, else its text. */
function changelogSection(changelog: string, version: string): { problems: string[]; notes: string } {
  const lines = changelog.split('\n');
  const headings = lines.flatMap((line, index) => (line.startsWith('## ') ? [{ index, line }] : []));
  const newest = headings[0];
  const own = headings.find((h) => h.line.startsWith(`## [${version}]`));
  if (!own) return { problems: [`CHANGELOG.md has no section '## [${version}] - YYYY-MM-DD'.`], notes: '' };
  const problems: string[] = [];
  const date = /^## \[[^\]]+\] - (\d{4}-\d{2}-\d{2})$/.exec(own.line)?.[1];
  if (!date || Number.isNaN(Date.parse(`${date}T00:00:00Z`)) || new Date(`${date}T00:00:00Z`).toISOString().slice(0, 10) !== date) {
    problems.push(`CHANGELOG.md: the heading '${own.line}' needs the release date: '## [${version}] - YYYY-MM-DD'.`);
  }
  if (newest !== own) problems.push(`CHANGELOG.md: '${newest!.line}' comes before the ${version} section; the version released is the newest section.`);
  const next = headings.find((h) => h.index > own.index);
  const notes = lines.slice(own.index + 1, next?.index ?? lines.length).join('\n').trim();
  if (notes === '') problems.push(`CHANGELOG.md: the ${version} section is empty; it becomes the release notes.`);
  return { problems, notes };
}

export function planRelease(input: ReleaseInputs): ReleasePlan {
  const problems: string[] = [];
  if (input.ref !== 'refs/heads/main') problems.push(`Releases are made from main; this run is on '${input.ref}'.`);

  let version = '';
  try {
    version = String((JSON.parse(input.packageJson) as { version?: unknown }).version ?? '');
  } catch {
    problems.push('package.json is not valid JSON.');
  }
  const parts = SEMVER.exec(version)?.slice(1).map(Number);
  if (!parts) {
    problems.push(`package.json's version must be X.Y.Z; it is '${version}'.`);
    return { ok: false, problems };
  }
  const tag = `v${version}`;
  const major = `v${parts[0]}`;

  if (input.tags.includes(tag)) problems.push(`The tag ${tag} exists already: give the next release its version in package.json and CHANGELOG.md.`);
  for (const existing of input.tags) {
    const other = RELEASE_TAG.exec(existing)?.slice(1).map(Number);
    if (other && existing !== tag && compareVersions(parts, other) < 0) problems.push(`${tag} is older than the existing release ${existing}.`);
  }

  const section = changelogSection(input.changelog, version);
  problems.push(...section.problems);

  // A reusable workflow that called the actions by tag would run whatever that tag points at,
  // even for a caller that pinned the workflow to a commit: `$/` runs them at the same commit.
  const ownAction = new RegExp(`^[\\w.-]+/[\\w.-]+/(${input.actions.map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})/?@`);
  for (const [path, text] of input.workflows) {
    for (const { line, uses } of usesOf(text)) {
      const folder = ownAction.exec(uses)?.[1];
      if (folder) problems.push(`${path}:${line} calls ${uses}; call the repository's own action as '$/${folder}' so that it runs at the workflow's commit.`);
    }
  }

  // What users copy (docs, examples, the callers shown atop the reusable workflows) names the
  // major tag this release moves.
  for (const [path, text] of [...input.docs, ...input.workflows]) {
    text.split('\n').forEach((line, index) => {
      for (const match of line.matchAll(/[\w.-]+\/deploy-kit\/[\w./-]+@(v\d+)(?![\w.])/g)) {
        if (match[1] !== major) problems.push(`${path}:${index + 1} refers to ${match[0]}; this release moves ${major}.`);
      }
    });
  }

  return problems.length > 0 ? { ok: false, problems } : { ok: true, version, tag, major, notes: section.notes };
}

// ---------------------------------------------------------------------------------------
// Reading the checkout (the release job runs this from the repository's root)

function filesIn(root: string, dir: string, pattern: RegExp): string[] {
  if (!existsSync(join(root, dir))) return [];
  return readdirSync(join(root, dir)).filter((f) => pattern.test(f)).sort().map((f) => `${dir}/${f}`);
}

export function readCheckout(root: string, ref: string, tags: readonly string[]): ReleaseInputs {
  const read = (path: string): string => readFileSync(join(root, path), 'utf8');
  const actions = readdirSync(root).filter((d) => d.startsWith('action-') && existsSync(join(root, d, 'action.yml'))).sort();
  const docPaths = [
    'README.md',
    ...filesIn(root, 'docs', /\.md$/),
    ...actions.map((a) => `${a}/README.md`).filter((p) => existsSync(join(root, p))),
    ...filesIn(root, 'examples', /\.md$/),
    ...filesIn(root, 'examples/workflows', /\.ya?ml$/),
  ];
  return {
    ref,
    tags,
    packageJson: read('package.json'),
    changelog: read('CHANGELOG.md'),
    actions,
    workflows: new Map(filesIn(root, '.github/workflows', /\.ya?ml$/).map((p) => [p, read(p)])),
    docs: new Map(docPaths.map((p) => [p, read(p)])),
  };
}

function main(argv: readonly string[]): number {
  const notesAt = argv.indexOf('--notes');
  const notesFile = notesAt === -1 ? undefined : argv[notesAt + 1];
  const root = process.cwd();
  const tags = execFileSync('git', ['tag', '--list'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);
  const plan = planRelease(readCheckout(root, process.env.GITHUB_REF ?? '', tags));
  if (!plan.ok) {
    for (const problem of plan.problems) console.log(`::error title=release refused::${problem}`);
    return 1;
  }
  console.log(`Release ${plan.tag}: create the tag ${plan.tag} and move ${plan.major} to this commit.`);
  if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `version=${plan.version}\ntag=${plan.tag}\nmajor=${plan.major}\n`);
  if (notesFile) writeFileSync(notesFile, `${plan.notes}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
