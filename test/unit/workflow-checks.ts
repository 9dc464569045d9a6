/**
 * Checks for GitHub workflow files and action.yml files: two parsers made for them
 * (@action-validator/core, the engine of @action-validator/cli, and GitHub's own
 * @actions/workflow-parser), plus the rules deploy-kit cares about. Each check is a pure
 * function from parsed files to a list of problems (empty = fine), so tests can run it
 * against the real files and against small broken examples alike.
 */
import { validateAction, validateWorkflow, type ValidationError } from '@action-validator/core';
import { data as expressionData, Evaluator, Lexer, Parser } from '@actions/expressions';
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/index';
import type { FileProvider } from '@actions/workflow-parser/workflows/file-provider';
import type { FileReference } from '@actions/workflow-parser/workflows/file-reference';
import { isScalar, parse, parseDocument, stringify, visit } from 'yaml';

// ---------------------------------------------------------------------------------------
// Parsed files

type Mapping = Record<string, unknown>;

export interface WorkflowFile {
  /** Path relative to the repository root, for messages. */
  readonly name: string;
  readonly text: string;
  readonly doc: Mapping;
}

export interface ActionInput {
  readonly required: boolean;
  readonly default: string | undefined;
}

export interface ActionContract {
  readonly folder: string;
  readonly inputs: ReadonlyMap<string, ActionInput>;
  readonly outputs: ReadonlySet<string>;
}

/** action folder (`action-deploy`) -> its contract */
export type Contracts = ReadonlyMap<string, ActionContract>;
/** path (`.github/workflows/deploy.yml`) -> reusable workflow */
export type Reusables = ReadonlyMap<string, WorkflowFile>;

export const asMapping = (value: unknown): Mapping | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Mapping) : undefined;
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const entries = (value: unknown): [string, unknown][] => Object.entries(asMapping(value) ?? {});

/** Parses YAML strictly (duplicate keys and syntax errors throw). */
export function loadWorkflow(name: string, text: string): WorkflowFile {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (document.errors.length > 0) throw new Error(`${name}: ${document.errors.map((e) => e.message).join('; ')}`);
  const doc = asMapping(document.toJS());
  if (!doc) throw new Error(`${name}: not a YAML mapping`);
  return { name, text, doc };
}

export function readActionContract(folder: string, text: string): ActionContract {
  const doc = asMapping(parse(text)) ?? {};
  const inputs = new Map<string, ActionInput>();
  for (const [name, spec] of entries(doc.inputs)) {
    const s = asMapping(spec) ?? {};
    inputs.set(name, { required: s.required === true, default: s.default === undefined ? undefined : String(s.default) });
  }
  return { folder, inputs, outputs: new Set(Object.keys(asMapping(doc.outputs) ?? {})) };
}

// ---------------------------------------------------------------------------------------
// What a `uses:` points at

/** The upstream repository; forks replace it in their callers (docs/github-setup.md). */
export const OWN_REPOSITORY = 'deploy-kit/deploy-kit';

/**
 * `deploy-kit/deploy-kit/action-x@ref`, `./action-x` or `$/action-x` -> `action-x`. `$/` is
 * GitHub's self-repository syntax: the repository of the workflow file, at the commit that runs.
 */
export function ownActionFolder(uses: string): string | undefined {
  const match = /^(?:deploy-kit\/deploy-kit\/(action-[a-z]+)@[^@\s]+|(?:\.|\$)\/(action-[a-z]+)\/?)$/.exec(uses);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** `deploy-kit/deploy-kit/.github/workflows/x.yml@ref`, `./.github/workflows/x.yml` or `$/...` -> `.github/workflows/x.yml`. */
export function ownWorkflowPath(uses: string): string | undefined {
  const match = /^(?:deploy-kit\/deploy-kit\/|\.\/|\$\/)(\.github\/workflows\/[\w.-]+\.ya?ml)(?:@[^@\s]+)?$/.exec(uses);
  if (!match) return undefined;
  const local = uses.startsWith('./') || uses.startsWith('$/');
  if (local === uses.includes('@')) return undefined;
  return match[1];
}

const isOwn = (uses: string): boolean => ownActionFolder(uses) !== undefined || ownWorkflowPath(uses) !== undefined;

// ---------------------------------------------------------------------------------------
// Walking workflows

export interface Step {
  readonly jobId: string;
  readonly index: number;
  readonly step: Mapping;
  readonly label: string;
}

export const jobsOf = (wf: WorkflowFile): [string, Mapping][] =>
  entries(wf.doc.jobs).map(([id, job]) => [id, asMapping(job) ?? {}] as [string, Mapping]);

export function stepsOf(wf: WorkflowFile, jobId: string, job: Mapping): Step[] {
  return asList(job.steps).map((raw, index) => {
    const step = asMapping(raw) ?? {};
    const what = typeof step.id === 'string' ? `'${step.id}'` : typeof step.name === 'string' ? `'${step.name}'` : `#${index + 1}`;
    return { jobId, index, step, label: `${wf.name}: job '${jobId}' step ${what}` };
  });
}

export const allSteps = (wf: WorkflowFile): Step[] => jobsOf(wf).flatMap(([id, job]) => stepsOf(wf, id, job));

/** Every string anywhere inside a value. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  const mapping = asMapping(value);
  return mapping ? Object.entries(mapping).flatMap(([k, v]) => [k, ...stringsIn(v)]) : [];
}

/** The bodies of `${{ ... }}` expressions in a value. */
export function expressionsIn(value: unknown): string[] {
  return stringsIn(value).flatMap((s) => [...s.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1] ?? ''));
}

/** `name.x` references inside expressions, e.g. refs(value, 'inputs') -> ['version', ...]. */
function references(value: unknown, context: string): string[] {
  const pattern = new RegExp(`(?<![\\w.-])${context}\\.([A-Za-z_][\\w-]*)`, 'g');
  return expressionsIn(value).flatMap((e) => [...e.matchAll(pattern)].map((m) => m[1] ?? ''));
}

function triggers(wf: WorkflowFile): Mapping {
  const on = wf.doc.on;
  if (typeof on === 'string') return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), null]));
  return asMapping(on) ?? {};
}

export const workflowCall = (wf: WorkflowFile): Mapping | undefined => {
  const on = triggers(wf);
  return 'workflow_call' in on ? (asMapping(on.workflow_call) ?? {}) : undefined;
};

const environmentName = (job: Mapping): string | undefined => {
  const env = job.environment;
  if (typeof env === 'string') return env;
  const name = asMapping(env)?.name;
  return typeof name === 'string' ? name : undefined;
};

// ---------------------------------------------------------------------------------------
// 1. Parsers made for these files

function flattenValidatorErrors(errors: readonly ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const where = 'path' in e && e.path ? e.path : 'location' in e && e.location ? `line ${e.location.line}` : '/';
    const own = `${prefix}${where}: ${e.title}${e.detail ? ` (${e.detail})` : ''}`;
    const nested = 'states' in e && e.states ? e.states.flatMap((s, i) => flattenValidatorErrors(s.errors, `${prefix}  [alternative ${i + 1}] `)) : [];
    return [own, ...nested];
  });
}

/** The workflow without `queue` in its concurrency mappings (workflow and job level), or undefined when it has none. */
function withoutConcurrencyQueue(doc: Mapping): Mapping | undefined {
  let found = false;
  const drop = (owner: Mapping): Mapping => {
    const concurrency = asMapping(owner.concurrency);
    if (!concurrency || !('queue' in concurrency)) return owner;
    found = true;
    return { ...owner, concurrency: Object.fromEntries(Object.entries(concurrency).filter(([key]) => key !== 'queue')) };
  };
  const result = drop({ ...doc, jobs: Object.fromEntries(entries(doc.jobs).map(([id, job]) => [id, asMapping(job) ? drop(asMapping(job)!) : job])) });
  return found ? result : undefined;
}

/**
 * @action-validator (SchemaStore's JSON schemas), where its schema is current. Its 0.6.0
 * schemas predate `runs.using: node24` and concurrency's `queue` (GitHub changelog
 * 2026-05-07): node24 actions have the same shape as node20 ones, so they are checked as
 * node20; `queue` is left out of what it sees. GitHub's own parser (workflowParserProblems,
 * actionParserProblems) checks both, and the `$/` self-repository syntax, in full.
 */
export function actionValidatorProblems(kind: 'action' | 'workflow', name: string, text: string): string[] {
  let source = text;
  if (kind === 'action') {
    const doc = asMapping(parse(text));
    const runs = asMapping(doc?.runs);
    if (doc && runs?.using === 'node24') source = stringify({ ...doc, runs: { ...runs, using: 'node20' } });
  } else {
    const doc = asMapping(parse(text));
    const shown = doc ? withoutConcurrencyQueue(doc) : undefined;
    if (shown) source = stringify(shown);
  }
  const state = kind === 'action' ? validateAction(source) : validateWorkflow(source);
  return flattenValidatorErrors(state.errors).map((p) => `${name}: action-validator: ${p}`);
}

/** GitHub's own parser for action.yml (knows node24). */
export function actionParserProblems(name: string, text: string): string[] {
  const result = parseAction({ name, content: text }, new NoOperationTraceWriter());
  const problems = result.context.errors.getErrors().map((e) => `workflow-parser: ${e.message}`);
  if (!result.value && problems.length === 0) problems.push(`workflow-parser: ${name} could not be read`);
  return problems;
}

/** Serves reusable workflows to GitHub's parser: own references from this checkout. */
export function localFileProvider(read: (path: string) => string): FileProvider {
  return {
    getFileContent(ref: FileReference) {
      const uses = 'repository' in ref ? `${ref.owner}/${ref.repository}/${ref.path}@${ref.version}` : `./${ref.path}`;
      const path = ownWorkflowPath(uses);
      if (!path) return Promise.reject(new Error(`not a deploy-kit workflow: ${uses}`));
      return Promise.resolve({ name: path, content: read(path) });
    },
  };
}

/**
 * GitHub's own workflow parser: the schema, expressions and the contexts each key allows,
 * `needs`, and, through `files`, a caller's `with:`/`secrets:` against the called workflow.
 */
export async function workflowParserProblems(name: string, text: string, files?: FileProvider): Promise<string[]> {
  const parsed = parseWorkflow({ name, content: text }, new NoOperationTraceWriter());
  if (!parsed.value) return parsed.context.errors.getErrors().map((e) => `workflow-parser: ${e.message}`);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, files, {
    fetchReusableWorkflowDepth: files ? 1 : 0,
  });
  return (template.errors ?? []).map((e) => `workflow-parser: ${e.Message}`);
}

// ---------------------------------------------------------------------------------------
// 2. Inputs, secrets and outputs are declared where they are used

/** Every `inputs.x` is declared (workflow_call / workflow_dispatch), every `secrets.x` of a reusable workflow too, and workflow_call outputs point at real job outputs. */
export function declarationProblems(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  const on = triggers(wf);
  const call = workflowCall(wf);
  const declaredInputs = new Set([
    ...Object.keys(asMapping(call?.inputs) ?? {}),
    ...Object.keys(asMapping(asMapping(on.workflow_dispatch)?.inputs) ?? {}),
  ]);
  const body = { jobs: wf.doc.jobs, env: wf.doc.env, concurrency: wf.doc.concurrency, 'run-name': wf.doc['run-name'] };
  for (const name of new Set(references(body, 'inputs'))) {
    if (!declaredInputs.has(name)) problems.push(`${wf.name}: uses inputs.${name}, which is not declared under on.workflow_call.inputs or on.workflow_dispatch.inputs`);
  }
  if (call) {
    const declaredSecrets = new Set(Object.keys(asMapping(call.secrets) ?? {}));
    for (const name of new Set(references(body, 'secrets'))) {
      if (name !== 'GITHUB_TOKEN' && !declaredSecrets.has(name)) problems.push(`${wf.name}: uses secrets.${name}, which is not declared under on.workflow_call.secrets`);
    }
    for (const [name, spec] of entries(call.inputs)) {
      const s = asMapping(spec) ?? {};
      if (typeof s.description !== 'string' || s.description === '') problems.push(`${wf.name}: input '${name}' has no description`);
      if (!['string', 'number', 'boolean'].includes(String(s.type))) problems.push(`${wf.name}: input '${name}' needs a type (string, number or boolean)`);
      if (s.required === true && s.default !== undefined) problems.push(`${wf.name}: input '${name}' is required and has a default; it is one or the other`);
    }
    for (const [name, spec] of entries(call.secrets)) {
      if (typeof asMapping(spec)?.description !== 'string') problems.push(`${wf.name}: secret '${name}' has no description`);
    }
    const jobs = new Map(jobsOf(wf));
    for (const [name, spec] of entries(call.outputs)) {
      const value = String(asMapping(spec)?.value ?? '');
      const match = /^\$\{\{\s*jobs\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$/.exec(value);
      if (!match) {
        problems.push(`${wf.name}: output '${name}' must be \${{ jobs.<job>.outputs.<name> }}, got '${value}'`);
        continue;
      }
      const job = jobs.get(match[1]!);
      if (!job) problems.push(`${wf.name}: output '${name}' reads job '${match[1]}', which does not exist`);
      else if (!(match[2]! in (asMapping(job.outputs) ?? {}))) problems.push(`${wf.name}: output '${name}' reads '${match[2]}', which job '${match[1]}' does not output`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// 3. What is passed to deploy-kit's actions and reusable workflows exists there

/** `with:` keys of every deploy-kit action step are inputs of its action.yml, required inputs are given, and `steps.<id>.outputs.<name>` names a real output. */
export function actionInputProblems(wf: WorkflowFile, contracts: Contracts): string[] {
  const problems: string[] = [];
  for (const [jobId, job] of jobsOf(wf)) {
    const steps = stepsOf(wf, jobId, job);
    const byId = new Map<string, Mapping>();
    for (const { step } of steps) if (typeof step.id === 'string') byId.set(step.id, step);
    for (const { step, label } of steps) {
      const uses = typeof step.uses === 'string' ? step.uses : '';
      const folder = ownActionFolder(uses);
      if (!folder) continue;
      const contract = contracts.get(folder);
      if (!contract) {
        problems.push(`${label}: uses ${uses}, but there is no ${folder}/action.yml`);
        continue;
      }
      const given = asMapping(step.with) ?? {};
      for (const key of Object.keys(given)) {
        if (!contract.inputs.has(key)) problems.push(`${label}: passes '${key}', which is not an input of ${folder}/action.yml`);
      }
      for (const [name, input] of contract.inputs) {
        if (input.required && !input.default && !(name in given)) problems.push(`${label}: does not pass '${name}', which ${folder}/action.yml requires`);
      }
    }
    // Step outputs read anywhere in the job.
    for (const match of expressionsIn(job).flatMap((e) => [...e.matchAll(/(?<![\w.-])steps\.([\w-]+)\.outputs\.([\w-]+)/g)])) {
      const [, id, output] = match as unknown as [string, string, string];
      const step = byId.get(id);
      if (!step) {
        problems.push(`${wf.name}: job '${jobId}' reads steps.${id}.outputs.${output}, but the job has no step with id '${id}'`);
        continue;
      }
      const folder = ownActionFolder(typeof step.uses === 'string' ? step.uses : '');
      const contract = folder ? contracts.get(folder) : undefined;
      if (contract && !contract.outputs.has(output)) problems.push(`${wf.name}: job '${jobId}' reads steps.${id}.outputs.${output}, which is not an output of ${folder}/action.yml`);
    }
  }
  return problems;
}

/** Calls of deploy-kit's reusable workflows pass declared inputs/secrets, all required ones, and `needs.<job>.outputs.<name>` names real outputs. */
export function reusableCallProblems(wf: WorkflowFile, reusables: Reusables): string[] {
  const problems: string[] = [];
  const jobs = new Map(jobsOf(wf));
  const outputsOf = (jobId: string): Set<string> | undefined => {
    const job = jobs.get(jobId);
    if (!job) return undefined;
    const path = typeof job.uses === 'string' ? ownWorkflowPath(job.uses) : undefined;
    const called = path ? reusables.get(path) : undefined;
    if (called) return new Set(Object.keys(asMapping(workflowCall(called)?.outputs) ?? {}));
    if (typeof job.uses === 'string') return undefined; // someone else's workflow: unknown
    return new Set(Object.keys(asMapping(job.outputs) ?? {}));
  };
  for (const [jobId, job] of jobs) {
    const label = `${wf.name}: job '${jobId}'`;
    if (job.secrets === 'inherit') {
      problems.push(`${label}: 'secrets: inherit' passes secrets only within one organization or enterprise; pass each secret by name (NAME: \${{ secrets.NAME }})`);
    }
    if (typeof job.uses === 'string') {
      const path = ownWorkflowPath(job.uses);
      const called = path ? reusables.get(path) : undefined;
      if (path && !called) problems.push(`${label}: calls ${job.uses}, but ${path} is not a reusable workflow of this repository`);
      if (called) {
        const call = workflowCall(called) ?? {};
        const inputs = asMapping(call.inputs) ?? {};
        const given = asMapping(job.with) ?? {};
        for (const key of Object.keys(given)) if (!(key in inputs)) problems.push(`${label}: passes '${key}', which ${path} does not declare as an input`);
        for (const [name, spec] of Object.entries(inputs)) {
          if (asMapping(spec)?.required === true && !(name in given)) problems.push(`${label}: does not pass '${name}', which ${path} requires`);
        }
        const secrets = asMapping(call.secrets) ?? {};
        if (job.secrets !== 'inherit') {
          const passed = asMapping(job.secrets) ?? {};
          for (const key of Object.keys(passed)) if (!(key in secrets)) problems.push(`${label}: passes secret '${key}', which ${path} does not declare`);
          for (const [name, spec] of Object.entries(secrets)) {
            if (asMapping(spec)?.required === true && !(name in passed)) problems.push(`${label}: does not pass secret '${name}', which ${path} requires`);
          }
        }
      }
    }
    const needs = new Set(typeof job.needs === 'string' ? [job.needs] : asList(job.needs).map(String));
    for (const match of expressionsIn(job).flatMap((e) => [...e.matchAll(/(?<![\w.-])needs\.([\w-]+)\.outputs\.([\w-]+)/g)])) {
      const [, other, output] = match as unknown as [string, string, string];
      if (!needs.has(other)) {
        problems.push(`${label}: reads needs.${other}.outputs.${output} without 'needs: ${other}'`);
        continue;
      }
      const outputs = outputsOf(other);
      if (outputs && !outputs.has(output)) problems.push(`${label}: reads needs.${other}.outputs.${output}, which job '${other}' does not output`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// 4. Third-party actions are pinned to a commit

const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[^@\s]+)?@[0-9a-f]{40}$/;
const VERSION_COMMENT = /^\s*v\d+\.\d+\.\d+\b/;

/** Every `uses:` outside deploy-kit is `owner/repo@<40-hex sha> # vX.Y.Z`; docker:// images are pinned by digest. */
export function pinProblems(name: string, text: string): string[] {
  const problems: string[] = [];
  const document = parseDocument(text);
  visit(document, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== 'uses' || !isScalar(pair.value)) return;
      const uses = String(pair.value.value);
      if (uses.startsWith('./') || isOwn(uses)) return;
      if (uses.startsWith('docker://')) {
        if (!/@sha256:[0-9a-f]{64}$/.test(uses)) problems.push(`${name}: ${uses} must be pinned by digest (docker://image@sha256:...)`);
        return;
      }
      if (!PINNED.test(uses)) {
        problems.push(`${name}: ${uses} must be pinned to a full 40-character commit SHA`);
        return;
      }
      if (!VERSION_COMMENT.test(pair.value.comment ?? '')) problems.push(`${name}: ${uses} needs a '# vX.Y.Z' comment naming the release of that SHA`);
    },
  });
  return problems;
}

// ---------------------------------------------------------------------------------------
// 5. Deploys run in environments, one at a time, and secrets stay off command lines

const CHANGES_WHAT_RUNS = new Set(['action-deploy', 'action-rollback']);

const stepChangesWhatRuns = (step: Mapping): boolean => {
  const folder = ownActionFolder(typeof step.uses === 'string' ? step.uses : '');
  if (!folder) return false;
  if (CHANGES_WHAT_RUNS.has(folder)) return true;
  return folder === 'action-backup' && asMapping(step.with)?.mode === 'restore';
};

/** Jobs that change what runs on a host (deploy, rollback, restore). */
export function deployJobs(wf: WorkflowFile): [string, Mapping][] {
  return jobsOf(wf).filter(([id, job]) => stepsOf(wf, id, job).some(({ step }) => stepChangesWhatRuns(step)));
}

/** Jobs that deploy, roll back, restore or back up: they take their turn in one concurrency group per app and environment. */
export function hostJobs(wf: WorkflowFile): [string, Mapping][] {
  return jobsOf(wf).filter(([id, job]) => stepsOf(wf, id, job).some(({ step }) => stepChangesWhatRuns(step) || folderOf(step) === 'action-backup'));
}

/**
 * Deploys, rollbacks and backups have a concurrency group, never cancel a running one, and
 * queue (`queue: max`): by default a group keeps one run waiting, and a third run cancels it,
 * so a nightly backup could cancel a waiting production deploy. Neither does the workflow cancel.
 */
export function concurrencyProblems(wf: WorkflowFile, reusables: Reusables = new Map()): string[] {
  const problems: string[] = [];
  const callsDeploy = jobsOf(wf).some(([, job]) => {
    const path = typeof job.uses === 'string' ? ownWorkflowPath(job.uses) : undefined;
    const called = path ? reusables.get(path) : undefined;
    return called !== undefined && deployJobs(called).length > 0;
  });
  const top = asMapping(wf.doc.concurrency);
  if ((deployJobs(wf).length > 0 || callsDeploy) && top?.['cancel-in-progress'] !== undefined && top['cancel-in-progress'] !== false) {
    problems.push(`${wf.name}: workflow-level concurrency may cancel a running deploy (cancel-in-progress must be false)`);
  }
  for (const [id, job] of hostJobs(wf)) {
    const concurrency = job.concurrency;
    const group = typeof concurrency === 'string' ? concurrency : asMapping(concurrency)?.group;
    if (typeof group !== 'string' || group.trim() === '') {
      problems.push(`${wf.name}: job '${id}' deploys, rolls back or backs up without a concurrency group`);
      continue;
    }
    const cancel = asMapping(concurrency)?.['cancel-in-progress'];
    if (cancel !== undefined && cancel !== false) problems.push(`${wf.name}: job '${id}' may cancel a running deploy (cancel-in-progress must be false)`);
    if (asMapping(concurrency)?.queue !== 'max') problems.push(`${wf.name}: job '${id}' needs 'queue: max' in its concurrency: by default a third run in the group cancels the one waiting`);
  }
  return problems;
}

/** The text of `value` with each `\${{ expression }}` evaluated by GitHub's expression library against `contexts`. */
export function evaluateExpressions(value: string, contexts: Record<string, unknown>): string {
  const context = JSON.parse(JSON.stringify(contexts), expressionData.reviver) as InstanceType<typeof expressionData.Dictionary>;
  return value.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, body: string) => {
    const lexed = new Lexer(body.trim()).lex();
    const expression = new Parser(lexed.tokens, Object.keys(contexts), []).parse();
    return new Evaluator(expression, context).evaluate().coerceString();
  });
}

/** A job's concurrency group, evaluated. */
export function concurrencyGroup(job: Mapping, contexts: Record<string, unknown>): string | undefined {
  const group = typeof job.concurrency === 'string' ? job.concurrency : asMapping(job.concurrency)?.group;
  return typeof group === 'string' ? evaluateExpressions(group, contexts) : undefined;
}

/** The `inputs` a called workflow's jobs see: its declared defaults, then what the caller passes. */
export function calledInputs(called: WorkflowFile, given: Mapping): Record<string, unknown> {
  const defaults = entries(workflowCall(called)?.inputs).map(([name, spec]) => [name, asMapping(spec)?.default ?? ''] as const);
  return { ...Object.fromEntries(defaults), ...given };
}

// ---------------------------------------------------------------------------------------
// 5b. Reusable workflows run their own actions at their own commit; callers pass secrets by name

/**
 * In a reusable workflow, a step that runs one of the repository's actions names it `$/action-x`:
 * GitHub resolves `$/` to the workflow's repository at the commit that runs, so a caller that
 * pins the workflow to a commit runs the actions of that commit. A tag (`owner/repo/action-x@v1`)
 * runs whatever the tag points at; `./action-x` resolves in the caller's checkout.
 */
export function selfReferenceProblems(wf: WorkflowFile, contracts: Contracts): string[] {
  if (!workflowCall(wf)) return [];
  return allSteps(wf).flatMap(({ step, label }) => {
    const uses = typeof step.uses === 'string' ? step.uses : '';
    const folder = /^(?:[\w.-]+\/[\w.-]+\/(action-[a-z]+)\/?@.+|\.\/(action-[a-z]+)\/?)$/.exec(uses)?.slice(1).find(Boolean);
    return folder && contracts.has(folder) ? [`${label}: calls ${uses}; a reusable workflow calls its own action as '$/${folder}', which runs at the workflow's own commit`] : [];
  });
}

/**
 * The secrets a caller passes, by name, to one of deploy-kit's reusable workflows.
 * - deploy.yml: every secret it declares. Its deploy job reads each one when an input turns the
 *   matching part on (the backup in production, Slack with a channel, a registry...), and a
 *   secret not passed is empty there even when the environment holds it: a caller that passes
 *   them all turns a part on without a second edit, and one that is not set is just empty.
 * - build.yml: REGISTRY_PASSWORD for a registry other than ghcr.io only. For ghcr.io the job's
 *   own token pushes; a REGISTRY_PASSWORD meant for the host's pulls must not replace it.
 */
export function secretsToPass(path: string, declared: readonly string[], given: Readonly<Record<string, string>>): string[] {
  if (path === '.github/workflows/build.yml') return given.registry && given.registry !== 'ghcr.io' ? ['REGISTRY_PASSWORD'] : [];
  return [...declared];
}

/**
 * Through GitHub's own parser (which also loads the called workflow): every call of a deploy-kit
 * reusable workflow passes each secret secretsToPass names as `NAME: \${{ secrets.NAME }}`, so
 * that an environment secret of that name is what the called job gets, and none with `inherit`.
 */
export async function secretPassingProblems(name: string, text: string, files: FileProvider): Promise<string[]> {
  const parsed = parseWorkflow({ name, content: text }, new NoOperationTraceWriter());
  if (!parsed.value) return [`${name}: GitHub's parser cannot read it`];
  const template = await convertWorkflowTemplate(parsed.context, parsed.value, files, { fetchReusableWorkflowDepth: 1 });
  const problems: string[] = [];
  for (const job of template.jobs) {
    if (job.type !== 'reusableWorkflowJob') continue;
    const path = ownWorkflowPath(job.ref.value);
    if (!path) continue;
    const label = `${name}: job '${job.id.value}'`;
    if (job['inherit-secrets']) {
      problems.push(`${label}: passes its secrets with 'inherit', which works only within one organization or enterprise`);
      continue;
    }
    const declared = [...(job['secret-definitions'] ?? [])].map((pair) => String(pair.key));
    const passed = new Map([...(job['secret-values'] ?? [])].map((pair) => [String(pair.key), String(pair.value)]));
    const given = Object.fromEntries([...(job['input-values'] ?? [])].map((pair) => [String(pair.key), String(pair.value)]));
    for (const secret of secretsToPass(path, declared, given)) {
      const value = passed.get(secret);
      if (value === undefined) problems.push(`${label}: does not pass the secret ${secret} that ${path} reads`);
      else if (value.replace(/\s+/g, ' ') !== `\${{ secrets.${secret} }}`) problems.push(`${label}: passes ${secret} as '${value}'; pass it by its own name, \${{ secrets.${secret} }}, so that the environment's secret reaches the job`);
    }
  }
  return problems;
}

/**
 * The environment each deploying job runs in: its own `environment`, or, for a call of a
 * deploy-kit reusable workflow whose deploy job runs in `${{ inputs.environment }}`, the
 * `environment` it passes. `undefined` when a deploying job has none.
 */
export function deployEnvironments(wf: WorkflowFile, reusables: Reusables): Map<string, string | undefined> {
  const result = new Map<string, string | undefined>();
  for (const [id, job] of deployJobs(wf)) result.set(id, environmentName(job));
  for (const [id, job] of jobsOf(wf)) {
    const path = typeof job.uses === 'string' ? ownWorkflowPath(job.uses) : undefined;
    const called = path ? reusables.get(path) : undefined;
    if (!called) continue;
    for (const [, calledJob] of deployJobs(called)) {
      const name = environmentName(calledJob);
      if (name === undefined) result.set(id, undefined);
      else if (/^\$\{\{\s*inputs\.environment\s*\}\}$/.test(name)) {
        const given = asMapping(job.with)?.environment;
        result.set(id, typeof given === 'string' && given !== '' ? given : undefined);
      } else result.set(id, name);
    }
  }
  return result;
}

/** Every deploying job runs in an environment, so its protection rules apply. */
export function environmentProblems(wf: WorkflowFile, reusables: Reusables): string[] {
  return [...deployEnvironments(wf, reusables)]
    .filter(([, env]) => env === undefined)
    .map(([id]) => `${wf.name}: job '${id}' deploys without an environment, so no protection rule or required reviewer can stop it`);
}

/** The production workflow deploys, and only ever into the `production` environment. */
export function productionProblems(wf: WorkflowFile, reusables: Reusables): string[] {
  const environments = deployEnvironments(wf, reusables);
  if (environments.size === 0) return [`${wf.name}: no job deploys (action-deploy, or deploy.yml)`];
  return [...environments]
    .filter(([, env]) => env !== 'production')
    .map(([id, env]) => `${wf.name}: job '${id}' deploys into ${env === undefined ? 'no environment' : `'${env}'`}; production deploys run in the 'production' environment`);
}

const SECRET_EXPRESSION = /(?<![\w.-])(secrets\.|secrets\[|github\.token\b)/;

/** No secret (or the job token) is expanded into a `run:` script, where it would land on a command line. */
export function runSecretProblems(wf: WorkflowFile): string[] {
  return allSteps(wf)
    .filter(({ step }) => typeof step.run === 'string' && expressionsIn(step.run).some((e) => SECRET_EXPRESSION.test(e)))
    .map(({ label }) => `${label}: a secret is expanded inside run:; pass it through env: and read the variable`);
}

/** Variables that hold secrets are never printed, and scripts that hold them never trace. */
export function secretEchoProblems(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const { step, label } of allSteps(wf)) {
    if (typeof step.run !== 'string') continue;
    const secretVars = entries(step.env)
      .filter(([, value]) => expressionsIn(value).some((e) => SECRET_EXPRESSION.test(e)))
      .map(([name]) => name);
    if (secretVars.length === 0) continue;
    if (/(^|[\s;])set\s+-[a-z]*x/m.test(step.run)) problems.push(`${label}: 'set -x' would print ${secretVars.join(', ')}`);
    for (const name of secretVars) {
      if (new RegExp(`\\b(echo|printf)\\b[^\\n]*\\$\\{?${name}\\b`).test(step.run)) problems.push(`${label}: prints ${name}, which holds a secret`);
    }
  }
  return problems;
}

/** `permissions: {}` (or read-only) at the top, and each job asks for what it needs. */
export function permissionProblems(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  const top = wf.doc.permissions;
  const topMap = asMapping(top);
  if (top === undefined) problems.push(`${wf.name}: no top-level permissions (set 'permissions: {}' and grant per job)`);
  else if (typeof top === 'string' || (topMap && Object.values(topMap).some((v) => v === 'write'))) {
    problems.push(`${wf.name}: top-level permissions must be {} or read-only, got ${JSON.stringify(top)}`);
  }
  for (const [id, job] of jobsOf(wf)) {
    if (job.permissions === undefined) problems.push(`${wf.name}: job '${id}' does not declare its permissions`);
    else if (typeof job.permissions === 'string') problems.push(`${wf.name}: job '${id}' has permissions '${job.permissions}'; list the scopes it needs`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------
// 6. In a deploy job, a notification can never stop or fail the deploy, and a backup that
//    failed always stops it

const folderOf = (step: Mapping): string | undefined => ownActionFolder(typeof step.uses === 'string' ? step.uses : '');
const truthy = (value: unknown): boolean => value === true || value === 'true';
/** An `if:` that lets a step run after an earlier step failed. */
const RUNS_AFTER_FAILURE = /\b(always|failure|cancelled)\s*\(/;

/**
 * action-notify exits 1 only on a mistaken input, `fail-on-error`, or a bug; even then, in a
 * job that deploys, it must not skip the steps after it (the backup, the deploy) nor fail a
 * job whose deploy went through: every notify step there has `continue-on-error: true` and
 * no `fail-on-error: true`.
 */
export function notifyProblems(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(wf)) {
    const steps = stepsOf(wf, id, job);
    if (!steps.some(({ step }) => folderOf(step) === 'action-deploy')) continue;
    for (const { step, label } of steps.filter(({ step }) => folderOf(step) === 'action-notify')) {
      if (!truthy(step['continue-on-error'])) problems.push(`${label}: a failing notification would stop or fail the deploy job (set 'continue-on-error: true')`);
      if (truthy(asMapping(step.with)?.['fail-on-error'])) problems.push(`${label}: 'fail-on-error: true' in a deploy job lets Slack fail the deploy`);
    }
  }
  return problems;
}

/**
 * In a job that backs up (action-backup, not a restore) and deploys, the backup runs first,
 * a failed backup is a failed step (no `continue-on-error`), and the deploy step does not run
 * after a failure (no `always()`, `failure()` or `cancelled()` in its `if:`).
 */
export function backupFirstProblems(wf: WorkflowFile): string[] {
  const problems: string[] = [];
  for (const [id, job] of jobsOf(wf)) {
    const steps = stepsOf(wf, id, job);
    const backups = steps.filter(({ step }) => folderOf(step) === 'action-backup' && asMapping(step.with)?.mode !== 'restore');
    const deploys = steps.filter(({ step }) => folderOf(step) === 'action-deploy');
    if (backups.length === 0 || deploys.length === 0) continue;
    for (const backup of backups) {
      if (backup.step['continue-on-error'] !== undefined && backup.step['continue-on-error'] !== false) {
        problems.push(`${backup.label}: 'continue-on-error' would let the deploy run without its backup`);
      }
      for (const deploy of deploys.filter((d) => d.index < backup.index)) problems.push(`${deploy.label}: deploys before the backup ${backup.label.slice(backup.label.indexOf('step '))} ran`);
    }
    for (const deploy of deploys) {
      if (typeof deploy.step.if === 'string' && RUNS_AFTER_FAILURE.test(deploy.step.if)) problems.push(`${deploy.label}: its 'if: ${deploy.step.if}' runs the deploy after a failed backup`);
    }
  }
  return problems;
}

/** Everything above that needs no parser run, for one workflow. */
export function ruleProblems(wf: WorkflowFile, contracts: Contracts, reusables: Reusables): string[] {
  return [
    ...declarationProblems(wf),
    ...actionInputProblems(wf, contracts),
    ...reusableCallProblems(wf, reusables),
    ...pinProblems(wf.name, wf.text),
    ...selfReferenceProblems(wf, contracts),
    ...concurrencyProblems(wf, reusables),
    ...runSecretProblems(wf),
    ...secretEchoProblems(wf),
    ...permissionProblems(wf),
  ];
}

