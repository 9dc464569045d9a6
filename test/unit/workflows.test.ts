// Every workflow (the project's own, the reusable ones, the examples users copy) and every
// action.yml, through parsers made for them and through the rules in workflow-checks.ts.
// The last part feeds each rule a small broken example, to prove it can fail.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { validateWorkflow } from '@action-validator/core';
import {
  actionInputProblems,
  actionParserProblems,
  actionValidatorProblems,
  asMapping,
  backupFirstProblems,
  calledInputs,
  concurrencyGroup,
  concurrencyProblems,
  Contracts,
  declarationProblems,
  deployEnvironments,
  environmentProblems,
  expressionsIn,
  jobsOf,
  loadWorkflow,
  localFileProvider,
  notifyProblems,
  ownActionFolder,
  ownWorkflowPath,
  permissionProblems,
  pinProblems,
  productionProblems,
  readActionContract,
  Reusables,
  reusableCallProblems,
  ruleProblems,
  runSecretProblems,
  secretEchoProblems,
  secretPassingProblems,
  selfReferenceProblems,
  stepsOf,
  workflowCall,
  workflowParserProblems,
  WorkflowFile,
} from './workflow-checks.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const ymlIn = (dir: string): string[] =>
  readdirSync(join(root, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${dir}/${f}`);

const ACTIONS = ['action-deploy', 'action-healthgate', 'action-rollback', 'action-backup', 'action-notify', 'action-preview'];
const contracts: Contracts = new Map(ACTIONS.map((folder) => [folder, readActionContract(folder, read(`${folder}/action.yml`))]));
const projectWorkflows = ymlIn('.github/workflows');
const exampleWorkflows = ymlIn('examples/workflows');
const workflows = new Map<string, WorkflowFile>([...projectWorkflows, ...exampleWorkflows].map((path) => [path, loadWorkflow(path, read(path))]));
const reusables: Reusables = new Map([...workflows].filter(([, wf]) => workflowCall(wf) !== undefined));
const files = localFileProvider(read);
const wf = (path: string): WorkflowFile => workflows.get(path) ?? (() => { throw new Error(`missing ${path}`); })();
const inline = (text: string, name = 'inline.yml'): WorkflowFile => loadWorkflow(name, text);

describe('the files exist', () => {
  it('has the reusable, project and example workflows', () => {
    expect(projectWorkflows).toEqual(
      expect.arrayContaining(['.github/workflows/build.yml', '.github/workflows/ci.yml', '.github/workflows/deploy.yml', '.github/workflows/e2e.yml', '.github/workflows/release.yml']),
    );
    expect(exampleWorkflows).toEqual(
      expect.arrayContaining(['examples/workflows/backup.yml', 'examples/workflows/ci.yml', 'examples/workflows/production.yml', 'examples/workflows/rollback.yml', 'examples/workflows/staging.yml']),
    );
    expect([...reusables.keys()].sort()).toEqual(['.github/workflows/build.yml', '.github/workflows/deploy.yml', '.github/workflows/preview.yml']);
  });
});

describe.each(ACTIONS)('%s/action.yml', (folder) => {
  const text = read(`${folder}/action.yml`);

  it('passes @action-validator', () => {
    expect(actionValidatorProblems('action', `${folder}/action.yml`, text)).toEqual([]);
  });

  it("passes GitHub's action parser", () => {
    expect(actionParserProblems(`${folder}/action.yml`, text)).toEqual([]);
  });

  it('runs its committed bundle on node24 and describes every input and output', () => {
    const doc = parse(text) as { runs: { using: string; main: string }; inputs: Record<string, { description?: string }>; outputs: Record<string, { description?: string }> };
    expect(doc.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    for (const [name, spec] of [...Object.entries(doc.inputs), ...Object.entries(doc.outputs)]) {
      expect([name, typeof spec.description]).toEqual([name, 'string']);
    }
  });
});

describe.each([...projectWorkflows, ...exampleWorkflows])('%s', (path) => {
  it('passes @action-validator', () => {
    expect(actionValidatorProblems('workflow', path, read(path))).toEqual([]);
  });

  it("passes GitHub's workflow parser (with the reusable workflows it calls)", async () => {
    expect(await workflowParserProblems(path, read(path), files)).toEqual([]);
  });

  it('declares what it uses, passes real inputs, pins third parties, keeps secrets off command lines', () => {
    expect(ruleProblems(wf(path), contracts, reusables)).toEqual([]);
  });

  it('runs every deploy in an environment', () => {
    // e2e.yml deploys to the runner it runs on: a test fixture, not an environment.
    if (path === '.github/workflows/e2e.yml') return;
    expect(environmentProblems(wf(path), reusables)).toEqual([]);
  });
});

describe('reusable deploy workflow', () => {
  const deploy = wf('.github/workflows/deploy.yml');
  const call = workflowCall(deploy)!;
  const inputs = asMapping(call.inputs)!;
  const job = asMapping(asMapping(deploy.doc.jobs)!.deploy)!;
  const steps = stepsOf(deploy, 'deploy', job).map(({ step }) => step);
  const uses = steps.map((s) => (typeof s.uses === 'string' ? ownActionFolder(s.uses) ?? s.uses : 'run'));

  it('takes what a caller needs', () => {
    for (const name of [
      'environment', 'version', 'app', 'host', 'port', 'username', 'deploy-path', 'compose-file', 'url',
      'health-url', 'health-successes', 'health-interval', 'health-timeout', 'health-expect-status', 'health-via-host', 'rollback-on-failure',
      'backup', 'backup-destination', 'backup-retention-days', 'slack-channel', 'runs-on',
    ]) {
      expect([name, name in inputs]).toEqual([name, true]);
    }
    expect(Object.keys(asMapping(call.secrets)!).sort()).toEqual(
      ['APP_ENV', 'BACKUP_DATABASE_URL', 'REGISTRY_PASSWORD', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'SLACK_BOT_TOKEN', 'SSH_KNOWN_HOSTS', 'SSH_PASSPHRASE', 'SSH_PRIVATE_KEY'],
    );
    expect(Object.keys(asMapping(call.outputs)!)).toEqual(expect.arrayContaining(['release-id', 'status', 'url']));
  });

  it('deploys in the named environment with its URL, one deploy per app and environment, in order, never cancelled', () => {
    expect(job.environment).toEqual({ name: '${{ inputs.environment }}', url: '${{ inputs.url }}' });
    expect(job.concurrency).toEqual({
      group: 'deploy-${{ inputs.app || github.repository }}-${{ inputs.environment }}',
      'cancel-in-progress': false,
      queue: 'max',
    });
  });

  it('runs its own actions at its own commit ($/), so pinning deploy.yml to a commit pins them too', () => {
    const own = steps.map((s) => s.uses).filter((u): u is string => typeof u === 'string' && ownActionFolder(u) !== undefined);
    expect(own).toEqual(['$/action-notify', '$/action-backup', '$/action-deploy', '$/action-notify']);
    expect(read('.github/workflows/deploy.yml')).not.toMatch(/[\w.-]+\/deploy-kit\/action-[a-z]+@/);
    expect(selfReferenceProblems(deploy, contracts)).toEqual([]);
  });

  it('refuses, before anything runs, a caller that does not pass SSH_PRIVATE_KEY', async () => {
    expect(asMapping(asMapping(call.secrets)!.SSH_PRIVATE_KEY)!.required).toBe(true);
    const caller = 'on: push\npermissions: {}\njobs:\n  d:\n    uses: deploy-kit/deploy-kit/.github/workflows/deploy.yml@v1\n    with: { environment: staging, version: "1", host: h, username: u, health-url: "http://h/" }\n    secrets: { SSH_KNOWN_HOSTS: "${{ secrets.SSH_KNOWN_HOSTS }}" }\n';
    expect(await workflowParserProblems('caller.yml', caller, files)).toEqual([
      'workflow-parser: caller.yml (Line: 5, Col: 11): Secret SSH_PRIVATE_KEY is required, but not provided while calling.',
    ]);
  });

  // The step's own script, run by bash with the environment GitHub gives it.
  describe("the 'Check secrets' step", () => {
    const script = String(steps.find((step) => step.name === 'Check secrets')!.run);
    const none = { ENVIRONMENT: 'production', BACKUP: 'false', HOST_FINGERPRINT: '', BACKUP_COMMAND: '', SLACK_CHANNEL: '', REGISTRY: '' };
    const secrets = { SSH_PRIVATE_KEY: 'key', SSH_KNOWN_HOSTS: 'line', BACKUP_DATABASE_URL: '', S3_ACCESS_KEY_ID: '', S3_SECRET_ACCESS_KEY: '', SLACK_BOT_TOKEN: '', REGISTRY_PASSWORD: '' };
    const check = (env: Record<string, string>) => {
      const result = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...none, ...secrets, ...env } });
      return { code: result.status, lines: result.stdout.split('\n').filter(Boolean), stderr: result.stderr };
    };

    it('names each missing secret and shows the mapping the caller adds, in one annotation', () => {
      expect(check({ SSH_PRIVATE_KEY: '', BACKUP: 'true', BACKUP_DATABASE_URL: 'postgresql://app@db/app', S3_SECRET_ACCESS_KEY: 'x' })).toEqual({
        code: 1,
        lines: [
          "::error title=deploy-kit::Missing secret SSH_PRIVATE_KEY: the deploy user's private key.",
          '::error title=deploy-kit::Missing secret S3_ACCESS_KEY_ID: the access key id of the backup bucket.',
          "::error title=deploy-kit::This job has only the secrets its caller passes by name. Set each missing one on the 'production' environment (Settings > Environments) or the repository, and pass it in the job that calls deploy.yml:" +
            '%0A  secrets:%0A    SSH_PRIVATE_KEY: ${{ secrets.SSH_PRIVATE_KEY }}%0A    S3_ACCESS_KEY_ID: ${{ secrets.S3_ACCESS_KEY_ID }}' +
            "%0A'secrets: inherit' passes secrets only within one organization or enterprise. See docs/github-setup.md.",
        ],
        stderr: '',
      });
    });

    it('takes a host fingerprint for known_hosts and a backup command for the database URL', () => {
      expect(check({ SSH_KNOWN_HOSTS: '', HOST_FINGERPRINT: 'SHA256:x', BACKUP: 'true', BACKUP_COMMAND: 'cat dump', S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' })).toEqual({ code: 0, lines: [], stderr: '' });
      expect(check({ SSH_KNOWN_HOSTS: '' }).lines[0]).toBe(
        '::error title=deploy-kit::Missing secret SSH_KNOWN_HOSTS: the host key line(s) from ssh-keyscan -p PORT HOST (or give the host-fingerprint input).',
      );
    });

    it('warns, without failing, when a Slack channel or a private registry has no secret', () => {
      expect(check({ SLACK_CHANNEL: '#deploys', REGISTRY: 'registry.example.com' })).toEqual({
        code: 0,
        lines: [
          '::warning title=deploy-kit::No Slack message: slack-channel is set, but the SLACK_BOT_TOKEN secret is empty. Pass it in the job that calls deploy.yml:%0A  secrets:%0A    SLACK_BOT_TOKEN: ${{ secrets.SLACK_BOT_TOKEN }}',
          '::warning title=deploy-kit::The host pulls from registry.example.com without logging in: the REGISTRY_PASSWORD secret is empty. For a private registry, pass it in the job that calls deploy.yml:%0A  secrets:%0A    REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}',
        ],
        stderr: '',
      });
      expect(check({ SLACK_CHANNEL: '#deploys', SLACK_BOT_TOKEN: 'xoxb', REGISTRY: 'ghcr.io' })).toEqual({ code: 0, lines: [], stderr: '' });
    });
  });

  it('notifies, backs up, deploys with the gate and rollback, then updates the same Slack message', () => {
    expect(uses.filter((u) => u !== 'run' && !u.startsWith('actions/'))).toEqual(['action-notify', 'action-backup', 'action-deploy', 'action-notify']);
    const [started, backup, deployStep, outcome] = steps.filter((s) => typeof s.uses === 'string' && ownActionFolder(s.uses));
    expect(asMapping(started!.with)!.status).toBe('started');
    expect(backup!.if).toBe("env.BACKUP == 'true'");
    expect(asMapping(deployStep!.with)).toMatchObject({ 'health-url': '${{ inputs.health-url }}', 'rollback-on-failure': '${{ inputs.rollback-on-failure }}' });
    expect(outcome!.if).toMatch(/^always\(\)/);
    expect(asMapping(outcome!.with)!.ts).toBe(`\${{ steps.${String(started!.id)}.outputs.ts }}`);
  });

  it('backs up before the deploy, and a failed backup stops it', () => {
    expect(backupFirstProblems(deploy)).toEqual([]);
  });

  // A notify step that exits 1 (a bug, a bad input) must neither skip the backup and the deploy
  // nor fail a job whose deploy went through.
  it('never lets a notification stop or fail the deploy', () => {
    expect(notifyProblems(deploy)).toEqual([]);
  });

  it('requires the backup for production unless it is turned off explicitly', () => {
    expect(asMapping(inputs.backup)!.default).toBe('auto');
    const plan = read('.github/workflows/deploy.yml');
    expect(plan).toContain('auto) if [ "$ENVIRONMENT" = production ]; then backup=true');
    expect(plan).toContain("or pass 'backup: false' to deploy without a backup");
  });

  it('asks for no more than it needs', () => {
    expect(deploy.doc.permissions).toEqual({});
    expect(job.permissions).toEqual({ contents: 'read', packages: 'read', actions: 'read' });
  });
});

describe('reusable build workflow', () => {
  const build = wf('.github/workflows/build.yml');
  it('tests, then pushes an image tagged with the commit SHA and outputs its digest', () => {
    expect(Object.keys(asMapping(workflowCall(build)!.outputs)!)).toEqual(expect.arrayContaining(['version', 'image', 'digest']));
    const text = read('.github/workflows/build.yml');
    expect(text).toContain('tag=$SHA');
    expect(text).toContain('run: eval "$TEST_COMMAND"');
    const job = asMapping(asMapping(build.doc.jobs)!.build)!;
    expect(job.permissions).toEqual({ contents: 'read', packages: 'write' });
  });
});

describe('example callers', () => {
  it('production deploys through the production environment, backing up first', () => {
    const production = wf('examples/workflows/production.yml');
    expect(productionProblems(production, reusables)).toEqual([]);
    const deploy = asMapping(asMapping(production.doc.jobs)!.deploy)!;
    expect(asMapping(deploy.with)).toMatchObject({ environment: 'production', backup: "${{ inputs.skip-backup && 'false' || 'true' }}" });
  });

  // A caller in another organization gets no secret through `inherit`: each one goes by name.
  it.each(exampleWorkflows)("%s passes, by name, every secret the reusable workflow it calls reads (GitHub's parser)", async (path) => {
    expect(await secretPassingProblems(path, read(path), files)).toEqual([]);
  });

  it('staging and production pass the deploy job all nine secrets; build.yml pushes with the job token', () => {
    const secretsOf = (path: string, jobId: string) => asMapping(asMapping(asMapping(wf(path).doc.jobs)![jobId])!.secrets);
    const declared = Object.keys(asMapping(workflowCall(wf('.github/workflows/deploy.yml'))!.secrets)!);
    for (const path of ['examples/workflows/staging.yml', 'examples/workflows/production.yml']) {
      expect(secretsOf(path, 'deploy')).toEqual(Object.fromEntries(declared.map((name) => [name, `\${{ secrets.${name} }}`])));
    }
    expect(secretsOf('examples/workflows/staging.yml', 'build')).toBeUndefined();
  });

  // deploy.yml's group, as production.yml calls it, is the group rollback.yml and backup.yml
  // join for production: one line for deploys, rollbacks and backups, whatever the event.
  it('deploys, rollbacks and the nightly backup of production take turns in one concurrency group', () => {
    const github = { repository: 'acme/shop', event: {} };
    const deployJob = asMapping(asMapping(wf('.github/workflows/deploy.yml').doc.jobs)!.deploy)!;
    const groupOfCall = (path: string) => {
      const given = asMapping(asMapping(asMapping(wf(path).doc.jobs)!.deploy)!.with)!;
      return concurrencyGroup(deployJob, { github, inputs: calledInputs(wf('.github/workflows/deploy.yml'), given) });
    };
    const jobOf = (path: string, id: string) => asMapping(asMapping(wf(path).doc.jobs)![id])!;
    const production = groupOfCall('examples/workflows/production.yml');
    expect(production).toBe('deploy-acme/shop-production');
    expect(concurrencyGroup(jobOf('examples/workflows/rollback.yml', 'rollback'), { github, inputs: { environment: 'production' } })).toBe(production);
    expect(concurrencyGroup(jobOf('examples/workflows/backup.yml', 'backup'), { github })).toBe(production);
    expect(groupOfCall('examples/workflows/staging.yml')).toBe('deploy-acme/shop-staging');
    for (const [path, id] of [['examples/workflows/rollback.yml', 'rollback'], ['examples/workflows/backup.yml', 'backup']] as const) {
      expect(asMapping(jobOf(path, id).concurrency)).toMatchObject({ 'cancel-in-progress': false, queue: 'max' });
    }
  });

  it('staging builds, deploys to staging, then asks for production in Slack', () => {
    const staging = wf('examples/workflows/staging.yml');
    expect(deployEnvironments(staging, reusables)).toEqual(new Map([['deploy', 'staging']]));
    const jobs = asMapping(staging.doc.jobs)!;
    expect(Object.keys(jobs)).toEqual(['build', 'deploy', 'ask-for-production']);
    const ask = stepsOf(staging, 'ask-for-production', asMapping(jobs['ask-for-production'])!)[0]!.step;
    expect(asMapping(ask.with)!.status).toBe('approval-needed');
    expect(String(asMapping(ask.with)!.text)).toContain('/actions/workflows/production.yml|');
  });

  it('rollback takes the environment and the release to go back to, and queues with deploys', () => {
    const rollback = wf('examples/workflows/rollback.yml');
    const dispatch = asMapping(asMapping(rollback.doc.on)!.workflow_dispatch)!;
    expect(Object.keys(asMapping(dispatch.inputs)!)).toEqual(expect.arrayContaining(['environment', 'to']));
    expect(deployEnvironments(rollback, reusables)).toEqual(new Map([['rollback', '${{ inputs.environment }}']]));
  });

  it('backup runs nightly', () => {
    const backup = wf('examples/workflows/backup.yml');
    expect(asMapping(backup.doc.on)!.schedule).toEqual([{ cron: '17 3 * * *' }]);
  });

  it('reference deploy-kit as deploy-kit/deploy-kit@v1', () => {
    for (const path of exampleWorkflows) {
      for (const [, job] of jobsOf(wf(path))) {
        const refs = [job.uses, ...((job.steps as { uses?: unknown }[] | undefined) ?? []).map((s) => s.uses)].filter((u): u is string => typeof u === 'string');
        for (const ref of refs.filter((r) => r.includes('deploy-kit'))) expect(ref).toMatch(/^deploy-kit\/deploy-kit\/.+@v1$/);
      }
    }
  });
});

describe('project workflows', () => {
  it('ci lints, typechecks, tests, and fails on a stale dist', () => {
    const text = read('.github/workflows/ci.yml');
    for (const command of ['npm ci', 'npm run lint', 'npm run typecheck', 'npm run test:unit', 'npm run build', "git diff --exit-code --stat -- '*/dist'", '.ci/run']) {
      expect(text).toContain(command);
    }
  });

  it('e2e deploys with the repository’s own actions, breaks a release and checks the rollback', () => {
    const e2e = wf('.github/workflows/e2e.yml');
    const steps = jobsOf(e2e).flatMap(([id, job]) => stepsOf(e2e, id, job)).map(({ step }) => step);
    const own = steps.map((s) => s.uses).filter((u): u is string => typeof u === 'string' && u.startsWith('./'));
    expect(new Set(own)).toEqual(new Set(['./action-deploy', './action-healthgate', './action-rollback']));
    const broken = steps.find((s) => s.id === 'v3')!;
    expect(broken['continue-on-error']).toBe(true);
    expect(read('.github/workflows/e2e.yml')).toContain('check "v3 status" "$V3_STATUS" rolled-back');
  });

  // Issue 17: no credential on disk while dependencies install, and a write token only where
  // nothing is installed.
  it('release: by hand on main; plans, waits for ci and e2e, tests without install scripts, refuses a stale dist, then tags', () => {
    const release = wf('.github/workflows/release.yml');
    expect(asMapping(release.doc.on)).toEqual({ workflow_dispatch: null });
    const jobs = asMapping(release.doc.jobs)!;
    const check = asMapping(jobs.check)!;
    const publish = asMapping(jobs.publish)!;
    expect([release.doc.permissions, check.permissions, publish.permissions]).toEqual([{}, { contents: 'read', actions: 'read' }, { contents: 'write' }]);
    expect(publish.needs).toBe('check');

    const checkSteps = stepsOf(release, 'check', check).map(({ step }) => step);
    const checkout = checkSteps.find((step) => String(step.uses).startsWith('actions/checkout@'))!;
    expect(asMapping(checkout.with)).toEqual({ 'fetch-depth': 0, 'persist-credentials': false });
    const scripts = checkSteps.map((step) => String(step.run ?? ''));
    const at = (command: string) => scripts.findIndex((script) => script.includes(command));
    for (const command of ['node scripts/release-plan.ts', 'gh run list', 'npm ci --ignore-scripts', 'npm run lint', 'npm run typecheck', 'npm run test:unit', 'npm run build', "git diff --exit-code --stat -- '*/dist'"]) {
      expect([command, at(command) >= 0]).toEqual([command, true]);
    }
    expect(scripts.join('\n')).not.toMatch(/npm (ci|install|i)\b(?! --ignore-scripts)/);
    expect(at('npm run test:unit')).toBeGreaterThan(at('npm ci --ignore-scripts'));
    expect(read('.github/workflows/release.yml')).toMatch(/for workflow in ci\.yml e2e\.yml; do/);
    // The read token reaches one step, which installs nothing.
    const withToken = (steps: Record<string, unknown>[]) => steps.filter((step) => expressionsIn(step).some((e) => /github\.token|secrets\./.test(e))).map((step) => step.name);
    expect(withToken(checkSteps)).toEqual(['ci and e2e succeeded on this commit']);
    for (const scope of [release.doc, check, publish]) expect(scope.env).toBeUndefined();

    // The write token: a job that checks nothing out, installs and runs nothing of ours, and
    // hands it to the two steps that call GitHub's API.
    const publishSteps = stepsOf(release, 'publish', publish).map(({ step }) => step);
    expect(publishSteps.filter((step) => step.uses !== undefined)).toEqual([]);
    expect(publishSteps.map((step) => String(step.run)).join('\n')).not.toMatch(/\b(npm|npx|node)\b|\bgit (clone|fetch|push|checkout)\b/);
    expect(withToken(publishSteps)).toHaveLength(publishSteps.length);
    for (const step of publishSteps) expect(Object.keys(asMapping(step.env)!)).toContain('GH_TOKEN');
    const publishing = publishSteps.map((step) => String(step.run)).join('\n');
    for (const part of ['-f ref="refs/tags/$TAG"', '--method PATCH "$api/refs/tags/$MAJOR"', '-F force=true', 'gh release create "$TAG"', '--verify-tag']) expect(publishing).toContain(part);
  });
});

// What users copy from the READMEs and docs/ holds to the rules of the example workflows.
describe('YAML shown in the READMEs and docs/', () => {
  const documents = ['README.md', ...ACTIONS.map((a) => `${a}/README.md`), ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const blocks = documents.flatMap((path) => [...read(path).matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m, i) => [`${path} block ${i + 1}`, m[1]!] as const));

  it('has YAML blocks to check', () => {
    expect(blocks.length).toBeGreaterThan(10);
  });

  it.each(blocks)('%s pins third-party actions to a commit, like the examples, and passes secrets by name', (name, text) => {
    expect(pinProblems(name, text)).toEqual([]);
    expect(text).not.toMatch(/secrets:\s*inherit/);
  });
});

describe('example app', () => {
  it('has a Dockerfile and compose files, the production one with a healthcheck', () => {
    expect(existsSync(join(root, 'examples/app/Dockerfile'))).toBe(true);
    const base = parse(read('examples/app/docker-compose.yml')) as { services: Record<string, { image: string }> };
    expect(base.services.web!.image).toBe('${IMAGE:-ghcr.io/your-org/your-app}:${VERSION:?VERSION is written by deploy-kit}');
    const prod = parse(read('examples/app/docker-compose.prod.yml')) as { services: Record<string, { healthcheck?: { test: string[] } }> };
    expect(prod.services.web!.healthcheck!.test).toContain('http://127.0.0.1:3000/health');
  });
});

// -----------------------------------------------------------------------------------------
// Each rule against a small broken example: a check that cannot fail proves nothing.

describe('the checks catch mistakes', () => {
  const reusable = inline(`
on:
  workflow_call:
    inputs:
      environment: { description: where, type: string, required: true }
      version: { description: what, type: string, required: true }
    secrets:
      SSH_PRIVATE_KEY: { description: key, required: false }
    outputs:
      status: { description: s, value: "\${{ jobs.deploy.outputs.status }}" }
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions: {}
    environment: \${{ inputs.environment }}
    concurrency: { group: "deploy-\${{ inputs.environment }}", cancel-in-progress: false, queue: max }
    outputs: { status: "\${{ steps.d.outputs.status }}" }
    steps:
      - id: d
        uses: $/action-deploy
        with: { host: h, username: u, private-key: "\${{ secrets.SSH_PRIVATE_KEY }}", version: "\${{ inputs.version }}" }
`, '.github/workflows/deploy.yml');
  const calls: Reusables = new Map([['.github/workflows/deploy.yml', reusable]]);

  it('the good reusable example is clean', () => {
    expect(ruleProblems(reusable, contracts, calls)).toEqual([]);
  });

  it('action-validator rejects an unknown job key and a step with both run and uses', () => {
    const text = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    bogus: 1\n    steps:\n      - run: echo\n        uses: x/y@v1\n';
    expect(actionValidatorProblems('workflow', 'bad.yml', text).join('\n')).toMatch(/bogus/);
  });

  it('action-validator rejects an action.yml without runs', () => {
    expect(actionValidatorProblems('action', 'action.yml', 'name: x\ndescription: y\n')).not.toEqual([]);
  });

  it("GitHub's parser rejects a bad workflow and a bad action.yml", async () => {
    expect(await workflowParserProblems('bad.yml', 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n        uses: x/y@v1\n')).toEqual([
      "workflow-parser: bad.yml (Line: 7, Col: 9): Unexpected value 'uses'",
    ]);
    expect(await workflowParserProblems('bad.yml', 'on: push\njobs:\n  a:\n    needs: nope\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n')).not.toEqual([]);
    expect(actionParserProblems('action.yml', 'name: x\ndescription: y\nruns:\n  using: node24\n  mian: dist/index.js\n')).not.toEqual([]);
  });

  it("GitHub's parser checks a caller's inputs against the called workflow", async () => {
    const caller = 'on: push\npermissions: {}\njobs:\n  d:\n    uses: deploy-kit/deploy-kit/.github/workflows/deploy.yml@v1\n    with:\n      environment: staging\n      verison: "1"\n';
    const problems = await workflowParserProblems('caller.yml', caller, files);
    expect(problems.join('\n')).toMatch(/Input version is required/);
    expect(problems.join('\n')).toMatch(/Invalid input, verison is not defined/);
  });

  it('an undeclared input or secret in a reusable workflow, a missing description, an output of nothing', () => {
    const bad = inline(`
on:
  workflow_call:
    inputs:
      app: { type: string, required: true, default: x }
    secrets:
      KEY: {}
    outputs:
      url: { value: "\${{ jobs.deploy.outputs.url }}" }
      id: { value: "\${{ jobs.nope.outputs.id }}" }
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions: {}
    steps:
      - run: echo "$V"
        env: { V: "\${{ inputs.version }}", T: "\${{ secrets.TOKEN }}", G: "\${{ secrets.GITHUB_TOKEN }}" }
`);
    expect(declarationProblems(bad)).toEqual([
      'inline.yml: uses inputs.version, which is not declared under on.workflow_call.inputs or on.workflow_dispatch.inputs',
      'inline.yml: uses secrets.TOKEN, which is not declared under on.workflow_call.secrets',
      "inline.yml: input 'app' has no description",
      "inline.yml: input 'app' is required and has a default; it is one or the other",
      "inline.yml: secret 'KEY' has no description",
      "inline.yml: output 'url' reads 'url', which job 'deploy' does not output",
      "inline.yml: output 'id' reads job 'nope', which does not exist",
    ]);
  });

  it('an unknown or missing input of a deploy-kit action, and an output it does not have', () => {
    const bad = inline(`
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - id: d
        uses: deploy-kit/deploy-kit/action-deploy@v1
        with: { host: h, username: u, private-key: k, health_url: x }
      - uses: ./action-notify
        with: { channel: c }
      - uses: deploy-kit/deploy-kit/action-frobnicate@v1
      - run: echo
        env: { ID: "\${{ steps.d.outputs.release_id }}", X: "\${{ steps.gone.outputs.x }}" }
`);
    expect(actionInputProblems(bad, contracts)).toEqual([
      "inline.yml: job 'a' step 'd': passes 'health_url', which is not an input of action-deploy/action.yml",
      "inline.yml: job 'a' step 'd': does not pass 'version', which action-deploy/action.yml requires",
      "inline.yml: job 'a' step #2: does not pass 'status', which action-notify/action.yml requires",
      "inline.yml: job 'a' step #3: uses deploy-kit/deploy-kit/action-frobnicate@v1, but there is no action-frobnicate/action.yml",
      "inline.yml: job 'a' reads steps.d.outputs.release_id, which is not an output of action-deploy/action.yml",
      "inline.yml: job 'a' reads steps.gone.outputs.x, but the job has no step with id 'gone'",
    ]);
  });

  it('a call of a reusable workflow with an unknown input, a missing one, an undeclared secret, an output it lacks', () => {
    const bad = inline(`
on: push
jobs:
  deploy:
    uses: deploy-kit/deploy-kit/.github/workflows/deploy.yml@v1
    with: { environment: production, hosts: h }
    secrets: { SSH_KEY: x }
  after:
    needs: deploy
    runs-on: ubuntu-latest
    steps:
      - run: echo
        env: { A: "\${{ needs.deploy.outputs.release }}", B: "\${{ needs.other.outputs.x }}" }
  missing:
    uses: deploy-kit/deploy-kit/.github/workflows/nope.yml@v1
`);
    expect(reusableCallProblems(bad, calls)).toEqual([
      "inline.yml: job 'deploy': passes 'hosts', which .github/workflows/deploy.yml does not declare as an input",
      "inline.yml: job 'deploy': does not pass 'version', which .github/workflows/deploy.yml requires",
      "inline.yml: job 'deploy': passes secret 'SSH_KEY', which .github/workflows/deploy.yml does not declare",
      "inline.yml: job 'after': reads needs.deploy.outputs.release, which job 'deploy' does not output",
      "inline.yml: job 'after': reads needs.other.outputs.x without 'needs: other'",
      "inline.yml: job 'missing': calls deploy-kit/deploy-kit/.github/workflows/nope.yml@v1, but .github/workflows/nope.yml is not a reusable workflow of this repository",
    ]);
  });

  it('third-party actions on a tag, a branch, a short SHA, without a version comment, or an unpinned docker image', () => {
    const text = `
jobs:
  a:
    steps:
      - uses: actions/checkout@v5
      - uses: docker/login-action@master
      - uses: actions/setup-node@a0853c2
      - uses: actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444
      - uses: docker://alpine:3
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
      - uses: ./action-deploy
      - uses: deploy-kit/deploy-kit/action-deploy@v1
`;
    expect(pinProblems('bad.yml', text)).toEqual([
      'bad.yml: actions/checkout@v5 must be pinned to a full 40-character commit SHA',
      'bad.yml: docker/login-action@master must be pinned to a full 40-character commit SHA',
      'bad.yml: actions/setup-node@a0853c2 must be pinned to a full 40-character commit SHA',
      "bad.yml: actions/setup-node@a0853c24544627f65ddf259abe73b1d18a591444 needs a '# vX.Y.Z' comment naming the release of that SHA",
      'bad.yml: docker://alpine:3 must be pinned by digest (docker://image@sha256:...)',
    ]);
  });

  it('a deploy, rollback, restore or backup job without a concurrency group, one that cancels, one that does not queue, and a workflow that cancels', () => {
    const bad = inline(`
on: push
concurrency: { group: x, cancel-in-progress: true }
jobs:
  a:
    runs-on: ubuntu-latest
    steps: [{ uses: deploy-kit/deploy-kit/action-deploy@v1 }]
  b:
    runs-on: ubuntu-latest
    concurrency: { group: deploy-b, cancel-in-progress: true, queue: max }
    steps: [{ uses: ./action-rollback }]
  c:
    runs-on: ubuntu-latest
    steps: [{ uses: ./action-backup, with: { mode: restore } }]
  d:
    runs-on: ubuntu-latest
    concurrency: { group: deploy-d, cancel-in-progress: false }
    steps: [{ uses: $/action-backup }]
  e:
    runs-on: ubuntu-latest
    concurrency: { group: deploy-e, queue: max }
    steps: [{ uses: $/action-backup }]
`);
    expect(concurrencyProblems(bad)).toEqual([
      'inline.yml: workflow-level concurrency may cancel a running deploy (cancel-in-progress must be false)',
      "inline.yml: job 'a' deploys, rolls back or backs up without a concurrency group",
      "inline.yml: job 'b' may cancel a running deploy (cancel-in-progress must be false)",
      "inline.yml: job 'c' deploys, rolls back or backs up without a concurrency group",
      "inline.yml: job 'd' needs 'queue: max' in its concurrency: by default a third run in the group cancels the one waiting",
    ]);
    const caller = inline('on: push\nconcurrency: { group: c, cancel-in-progress: true }\njobs:\n  d:\n    uses: ./.github/workflows/deploy.yml\n');
    expect(concurrencyProblems(caller, calls)).toEqual(['inline.yml: workflow-level concurrency may cancel a running deploy (cancel-in-progress must be false)']);
  });

  it('a deploy without an environment, and a production workflow deploying elsewhere', () => {
    const direct = inline('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{ uses: ./action-deploy }]\n');
    expect(environmentProblems(direct, calls)).toEqual([
      "inline.yml: job 'a' deploys without an environment, so no protection rule or required reviewer can stop it",
    ]);
    const noInput = inline('on: push\njobs:\n  d:\n    uses: ./.github/workflows/deploy.yml\n    with: { version: "1" }\n');
    expect(environmentProblems(noInput, calls)).toEqual([
      "inline.yml: job 'd' deploys without an environment, so no protection rule or required reviewer can stop it",
    ]);
    const staging = inline('on: workflow_dispatch\njobs:\n  d:\n    uses: ./.github/workflows/deploy.yml\n    with: { environment: staging, version: "1" }\n');
    expect(productionProblems(staging, calls)).toEqual([
      "inline.yml: job 'd' deploys into 'staging'; production deploys run in the 'production' environment",
    ]);
    expect(productionProblems(inline('on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{ run: echo }]\n'), calls)).toEqual([
      'inline.yml: no job deploys (action-deploy, or deploy.yml)',
    ]);
  });

  it('a secret or the job token expanded inside run:', () => {
    const bad = inline(`
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - name: leaks
        run: |
          curl -H "Authorization: Bearer \${{ secrets.TOKEN }}" https://example.com
      - name: leaks too
        run: |
          gh api /user --header "x: \${{ github.token }}"
      - name: indexed
        run: echo "\${{ secrets['KEY'] }}" > key
      - name: fine
        env: { TOKEN: "\${{ secrets.TOKEN }}" }
        run: |
          curl -H "Authorization: Bearer $TOKEN" https://example.com
`);
    expect(runSecretProblems(bad)).toEqual([
      "inline.yml: job 'a' step 'leaks': a secret is expanded inside run:; pass it through env: and read the variable",
      "inline.yml: job 'a' step 'leaks too': a secret is expanded inside run:; pass it through env: and read the variable",
      "inline.yml: job 'a' step 'indexed': a secret is expanded inside run:; pass it through env: and read the variable",
    ]);
  });

  it('a secret variable printed, or a script tracing with secrets in reach', () => {
    const bad = inline(`
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - name: prints
        env: { KEY: "\${{ secrets.KEY }}" }
        run: echo "key is \${KEY}"
      - name: traces
        env: { KEY: "\${{ secrets.KEY }}" }
        run: |
          set -euxo pipefail
          test -n "$KEY"
`);
    expect(secretEchoProblems(bad)).toEqual([
      "inline.yml: job 'a' step 'prints': prints KEY, which holds a secret",
      "inline.yml: job 'a' step 'traces': 'set -x' would print KEY",
    ]);
  });

  it('missing, broad or write permissions', () => {
    expect(permissionProblems(inline('on: push\njobs:\n  a:\n    runs-on: x\n    steps: [{ run: echo }]\n'))).toEqual([
      "inline.yml: no top-level permissions (set 'permissions: {}' and grant per job)",
      "inline.yml: job 'a' does not declare its permissions",
    ]);
    expect(permissionProblems(inline('on: push\npermissions: write-all\njobs:\n  a:\n    runs-on: x\n    permissions: read-all\n    steps: [{ run: echo }]\n'))).toEqual([
      'inline.yml: top-level permissions must be {} or read-only, got "write-all"',
      "inline.yml: job 'a' has permissions 'read-all'; list the scopes it needs",
    ]);
  });

  it('a notify step that can stop the deploy, one that can fail it, a backup after the deploy or ignored, a deploy that runs anyway', () => {
    const bad = inline(`
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - id: started
        uses: deploy-kit/deploy-kit/action-notify@v1
      - id: deploy
        uses: deploy-kit/deploy-kit/action-deploy@v1
      - id: late-backup
        uses: deploy-kit/deploy-kit/action-backup@v1
        continue-on-error: true
      - id: again
        if: always()
        uses: ./action-deploy
      - id: outcome
        continue-on-error: true
        uses: ./action-notify
        with: { fail-on-error: true }
  fine:
    runs-on: ubuntu-latest
    steps:
      - uses: ./action-notify
        continue-on-error: true
      - uses: ./action-backup
      - uses: ./action-deploy
      - uses: ./action-backup
        with: { mode: restore }
`);
    expect(notifyProblems(bad)).toEqual([
      "inline.yml: job 'a' step 'started': a failing notification would stop or fail the deploy job (set 'continue-on-error: true')",
      "inline.yml: job 'a' step 'outcome': 'fail-on-error: true' in a deploy job lets Slack fail the deploy",
    ]);
    expect(backupFirstProblems(bad)).toEqual([
      "inline.yml: job 'a' step 'late-backup': 'continue-on-error' would let the deploy run without its backup",
      "inline.yml: job 'a' step 'deploy': deploys before the backup step 'late-backup' ran",
      "inline.yml: job 'a' step 'again': its 'if: always()' runs the deploy after a failed backup",
    ]);
  });

  it("'secrets: inherit', in any call", () => {
    const caller = inline('on: push\njobs:\n  d:\n    uses: other/repo/.github/workflows/x.yml@v1\n    secrets: inherit\n');
    expect(reusableCallProblems(caller, calls)).toEqual([
      "inline.yml: job 'd': 'secrets: inherit' passes secrets only within one organization or enterprise; pass each secret by name (NAME: ${{ secrets.NAME }})",
    ]);
  });

  it('a reusable workflow that calls its own action by tag, by a fork, or through the caller\'s checkout', () => {
    const bad = inline(`
on: { workflow_call: {} }
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: deploy-kit/deploy-kit/action-deploy@v1
      - uses: my-org/deploy-kit/action-notify@0123456789abcdef0123456789abcdef01234567
      - uses: ./action-rollback
      - uses: $/action-backup
      - uses: docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121
`);
    expect(selfReferenceProblems(bad, contracts)).toEqual([
      "inline.yml: job 'a' step #1: calls deploy-kit/deploy-kit/action-deploy@v1; a reusable workflow calls its own action as '$/action-deploy', which runs at the workflow's own commit",
      "inline.yml: job 'a' step #2: calls my-org/deploy-kit/action-notify@0123456789abcdef0123456789abcdef01234567; a reusable workflow calls its own action as '$/action-notify', which runs at the workflow's own commit",
      "inline.yml: job 'a' step #3: calls ./action-rollback; a reusable workflow calls its own action as '$/action-rollback', which runs at the workflow's own commit",
    ]);
    expect(selfReferenceProblems(inline(bad.text.replace('workflow_call: {}', 'push: {}')), contracts)).toEqual([]);
  });

  it('a caller that inherits, leaves out a secret, or passes one under another name', async () => {
    const caller = (secrets: string) =>
      `on: push\npermissions: {}\njobs:\n  deploy:\n    uses: deploy-kit/deploy-kit/.github/workflows/deploy.yml@v1\n    with: { environment: production, version: "1", host: h, username: u, health-url: "http://h/" }\n    secrets: ${secrets}\n  build:\n    uses: deploy-kit/deploy-kit/.github/workflows/build.yml@v1\n    with: { registry: registry.example.com }\n`;
    expect(await secretPassingProblems('caller.yml', caller('inherit'), files)).toEqual([
      "caller.yml: job 'deploy': passes its secrets with 'inherit', which works only within one organization or enterprise",
      "caller.yml: job 'build': does not pass the secret REGISTRY_PASSWORD that .github/workflows/build.yml reads",
    ]);
    const some = '{ SSH_PRIVATE_KEY: "${{ secrets.PROD_KEY }}", SSH_KNOWN_HOSTS: "${{ secrets.SSH_KNOWN_HOSTS }}" }';
    const problems = await secretPassingProblems('caller.yml', caller(some), files);
    expect(problems).toContain("caller.yml: job 'deploy': passes SSH_PRIVATE_KEY as '${{ secrets.PROD_KEY }}'; pass it by its own name, ${{ secrets.SSH_PRIVATE_KEY }}, so that the environment's secret reaches the job");
    expect(problems).toContain("caller.yml: job 'deploy': does not pass the secret SLACK_BOT_TOKEN that .github/workflows/deploy.yml reads");
    expect(problems).toHaveLength(1 + 7 + 1);
  });

  // When @action-validator learns these, the shim in actionValidatorProblems can go.
  it("@action-validator 0.6.0 does not know concurrency's queue, so it is shown the workflow without it; GitHub's parser knows queue and $/", async () => {
    const text = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    concurrency: { group: g, queue: max }\n    steps:\n      - uses: $/action-deploy\n';
    expect(validateWorkflow(text).errors.length).toBeGreaterThan(0);
    expect(actionValidatorProblems('workflow', 'q.yml', text)).toEqual([]);
    expect(actionValidatorProblems('workflow', 'q.yml', text.replace('queue: max', 'queue: max, bogus: 1')).join('\n')).toMatch(/bogus/);
    expect(await workflowParserProblems('q.yml', text)).toEqual([]);
    expect((await workflowParserProblems('q.yml', text.replace('queue: max', 'queue: all'))).join('\n')).toMatch(/all/);
  });

  it('maps deploy-kit references to local folders, and nothing else', () => {
    expect(ownActionFolder('deploy-kit/deploy-kit/action-deploy@v1')).toBe('action-deploy');
    expect(ownActionFolder('./action-rollback')).toBe('action-rollback');
    expect(ownActionFolder('$/action-notify')).toBe('action-notify');
    expect(ownActionFolder('$/action-notify@v1')).toBeUndefined();
    expect(ownActionFolder('someone/deploy-kit/action-deploy@v1')).toBeUndefined();
    expect(ownActionFolder('deploy-kit/deploy-kit/action-deploy')).toBeUndefined();
    expect(ownWorkflowPath('deploy-kit/deploy-kit/.github/workflows/deploy.yml@v1')).toBe('.github/workflows/deploy.yml');
    expect(ownWorkflowPath('./.github/workflows/build.yml')).toBe('.github/workflows/build.yml');
    expect(ownWorkflowPath('deploy-kit/deploy-kit/.github/workflows/deploy.yml')).toBeUndefined();
    expect(ownWorkflowPath('other/repo/.github/workflows/deploy.yml@v1')).toBeUndefined();
  });

  it('duplicate keys are a parse error', () => {
    expect(() => inline('on: push\non: pull_request\n')).toThrow(/inline\.yml/);
  });
});
