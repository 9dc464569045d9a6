import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { planRelease, readCheckout, type ReleaseInputs } from '../../scripts/release-plan.js';

// What .github/workflows/release.yml tags, or why it refuses: scripts/release-plan.ts.

const root = join(import.meta.dirname, '..', '..');

const CHANGELOG = `# Changelog

Intro text.

## [1.0.0] - 2026-12-04

### Added

- Everything.

## [0.9.0] - 2026-11-01

- Older things.
`;

const good: ReleaseInputs = {
  ref: 'refs/heads/main',
  tags: ['v0.9.0', 'v0'],
  packageJson: JSON.stringify({ name: 'deploy-kit', version: '1.0.0' }),
  changelog: CHANGELOG,
  actions: ['action-deploy', 'action-notify'],
  workflows: new Map([
    ['.github/workflows/deploy.yml', 'jobs:\n  deploy:\n    steps:\n      - uses: $/action-deploy\n      - uses: docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121 # v4.1.0\n'],
    ['.github/workflows/e2e.yml', 'jobs:\n  e2e:\n    steps:\n      - uses: ./action-deploy\n'],
  ]),
  docs: new Map([
    ['README.md', 'uses: deploy-kit/deploy-kit/action-deploy@v1\nPin deploy.yml@v1.0.0 or a commit SHA.\n'],
    ['examples/workflows/production.yml', '    uses: deploy-kit/deploy-kit/.github/workflows/deploy.yml@v1\n'],
  ]),
};

const problems = (changes: Partial<ReleaseInputs>): readonly string[] => {
  const plan = planRelease({ ...good, ...changes });
  return plan.ok ? [] : plan.problems;
};

describe('planRelease', () => {
  test('accepts: the tag, the major tag it moves, and the CHANGELOG section as notes', () => {
    expect(planRelease(good)).toEqual({ ok: true, version: '1.0.0', tag: 'v1.0.0', major: 'v1', notes: '### Added\n\n- Everything.' });
  });

  test('refuses a run off main', () => {
    expect(problems({ ref: 'refs/heads/feature' })).toEqual(["Releases are made from main; this run is on 'refs/heads/feature'."]);
    expect(problems({ ref: 'refs/tags/v1.0.0' })).toHaveLength(1);
  });

  test.each(['1.0', '1.0.0-rc.1', 'v1.0.0', ''])('refuses the package.json version %j', (version) => {
    expect(problems({ packageJson: JSON.stringify({ version }) })).toEqual([`package.json's version must be X.Y.Z; it is '${version}'.`]);
  });

  test('refuses a version that is released already, or older than a release', () => {
    expect(problems({ tags: ['v0.9.0', 'v1.0.0'] })).toEqual(['The tag v1.0.0 exists already: give the next release its version in package.json and CHANGELOG.md.']);
    expect(problems({ tags: ['v1.2.0'] })).toEqual(['v1.0.0 is older than the existing release v1.2.0.']);
  });

  test('refuses a CHANGELOG without a dated, newest, non-empty section for the version', () => {
    expect(problems({ changelog: CHANGELOG.replace('## [1.0.0] - 2026-12-04', '## [1.0.0] - Unreleased') })).toEqual([
      "CHANGELOG.md: the heading '## [1.0.0] - Unreleased' needs the release date: '## [1.0.0] - YYYY-MM-DD'.",
    ]);
    expect(problems({ changelog: CHANGELOG.replace('2026-12-04', '2026-02-30') })).toHaveLength(1);
    expect(problems({ changelog: CHANGELOG.replace('## [1.0.0] - 2026-12-04', '## [Unreleased]') })).toEqual(["CHANGELOG.md has no section '## [1.0.0] - YYYY-MM-DD'."]);
    expect(problems({ changelog: CHANGELOG.replace('## [1.0.0]', '## [Unreleased]\n\n- Next.\n\n## [1.0.0]') })).toEqual([
      "CHANGELOG.md: '## [Unreleased]' comes before the 1.0.0 section; the version released is the newest section.",
    ]);
    expect(problems({ changelog: CHANGELOG.replace('### Added\n\n- Everything.\n', '') })).toEqual([
      'CHANGELOG.md: the 1.0.0 section is empty; it becomes the release notes.',
    ]);
  });

  test("refuses a workflow that calls the repository's own action by tag, its owner's or a fork's", () => {
    const workflows = new Map([
      ['.github/workflows/deploy.yml', 'steps:\n  - uses: $/action-deploy\n  - uses: deploy-kit/deploy-kit/action-notify@v1\n'],
      ['.github/workflows/build.yml', "steps:\n  - name: x\n    uses: 'my-org/deploy-kit/action-deploy@0123456789abcdef0123456789abcdef01234567'\n"],
    ]);
    expect(problems({ workflows })).toEqual([
      ".github/workflows/deploy.yml:3 calls deploy-kit/deploy-kit/action-notify@v1; call the repository's own action as '$/action-notify' so that it runs at the workflow's commit.",
      ".github/workflows/build.yml:3 calls my-org/deploy-kit/action-deploy@0123456789abcdef0123456789abcdef01234567; call the repository's own action as '$/action-deploy' so that it runs at the workflow's commit.",
    ]);
  });

  test('refuses docs and examples that name another major tag than the one it moves', () => {
    const docs = new Map([['docs/github-setup.md', 'ok: deploy-kit/deploy-kit/action-deploy@v1\nold: deploy-kit/deploy-kit/.github/workflows/deploy.yml@v0 and my-org/deploy-kit/action-notify@v2\n']]);
    expect(problems({ docs })).toEqual([
      'docs/github-setup.md:2 refers to deploy-kit/deploy-kit/.github/workflows/deploy.yml@v0; this release moves v1.',
      'docs/github-setup.md:2 refers to my-org/deploy-kit/action-notify@v2; this release moves v1.',
    ]);
  });

  test('lists every reason at once', () => {
    expect(problems({ ref: 'refs/heads/x', tags: ['v1.0.0'], changelog: '# Changelog\n' })).toHaveLength(3);
  });
});

describe('this checkout', () => {
  test('release.yml would create v1.0.0 today and move v1', () => {
    const plan = planRelease(readCheckout(root, 'refs/heads/main', []));
    expect(plan).toMatchObject({ ok: true, version: '1.0.0', tag: 'v1.0.0', major: 'v1' });
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    expect(plan.ok && plan.tag).toBe(`v${version}`);
  });

});

describe('scripts/release-plan.ts on a checkout', () => {
  // Node 24 runs the script as TypeScript; the tests may run on an older node than npm's.
  const node = Number(process.versions.node.split('.')[0]) >= 24 ? process.execPath : join(root, 'node_modules', '.bin', 'node');
  let dir: string;
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: join(dir, 'repo'), stdio: 'pipe' });
  const run = (ref: string) =>
    spawnSync(node, [join(root, 'scripts', 'release-plan.ts'), '--notes', join(dir, 'notes.md')], {
      cwd: join(dir, 'repo'),
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', GITHUB_REF: ref, GITHUB_OUTPUT: join(dir, 'output') },
      timeout: 30_000,
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'release-plan-'));
    const file = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, 'repo', path)), { recursive: true });
      writeFileSync(join(dir, 'repo', path), text);
    };
    file('package.json', good.packageJson);
    file('CHANGELOG.md', good.changelog);
    file('README.md', good.docs.get('README.md')!);
    file('action-deploy/action.yml', 'name: x\n');
    file('action-deploy/README.md', 'uses: deploy-kit/deploy-kit/action-deploy@v1\n');
    file('.github/workflows/deploy.yml', good.workflows.get('.github/workflows/deploy.yml')!);
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'x');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('writes the plan to GITHUB_OUTPUT and the notes to the file', () => {
    const result = run('refs/heads/main');
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toBe('Release v1.0.0: create the tag v1.0.0 and move v1 to this commit.\n');
    expect(readFileSync(join(dir, 'output'), 'utf8')).toBe('version=1.0.0\ntag=v1.0.0\nmajor=v1\n');
    expect(readFileSync(join(dir, 'notes.md'), 'utf8')).toBe('### Added\n\n- Everything.\n');
  });

  test('exits 1 with one ::error line per reason, reading the tags from git', () => {
    git('tag', 'v1.0.0');
    const result = run('refs/heads/feature');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(
      "::error title=release refused::Releases are made from main; this run is on 'refs/heads/feature'.\n" +
        '::error title=release refused::The tag v1.0.0 exists already: give the next release its version in package.json and CHANGELOG.md.\n',
    );
    expect(existsSync(join(dir, 'output'))).toBe(false);
  });
});
