import { ConnectionLostError, OperationError, errorMessage } from '../errors.js';
import type { ContainerScope } from '../failure/containers.js';
import { diagnoseFailure, readServiceSuspects } from '../failure/diagnose.js';
import type { FailureReport } from '../failure/report.js';
import type { GateResult } from '../health/types.js';
import { formatDuration } from '../inputs/parse.js';
import { waitForContainers } from '../release/activate.js';
import { appendLedger, inspectImages } from '../release/commands.js';
import { imagesOverride, pinImages, serviceImages } from '../release/images.js';
import { ledgerEvent } from '../release/ledger.js';
import { LockLostError } from '../release/lock-session.js';
import { pruneReleases } from '../release/prune.js';
import { ReleaseRecord, formatRecord } from '../release/record.js';
import type { AppSession, HostSession } from '../release/session.js';
import { ShellLine, allOf } from '../shell/quote.js';
import type { SectionedLine } from '../shell/sections.js';
import { RemoteHost } from '../ssh/connection.js';
import { RollingRun } from '../strategy/rolling-run.js';
import { moveTraffic, publishedAddresses } from '../strategy/traffic.js';
import { inspectStack, stackDeploy } from '../swarm/commands.js';
import { parseStack, stackImages } from '../swarm/converge.js';
import { waitForStack } from '../swarm/wait.js';
import { recoverFrom } from './recovery.js';
import type { DeployDependencies, DeployResult, DeployStatus } from './result.js';
import { ComposeDeploySettings, SwarmDeploySettings } from './settings.js';
import type { DeployTarget, Phase, StackTarget, Step } from './steps.js';

/** One host's deploy as the runner sees it: a compose project, or a Swarm stack. */
export type HostDeploy =
  | { readonly kind: 'compose'; readonly session: AppSession; readonly settings: ComposeDeploySettings; readonly target: DeployTarget }
  | { readonly kind: 'swarm'; readonly session: HostSession; readonly settings: SwarmDeploySettings; readonly target: StackTarget };

/**
 * A phase's steps in the order they run: each batch after the one before it. Files written one
 * after another form one batch: their SFTP requests go out together over the one SFTP session
 * (each write is an open, a write, a close and a rename, each a round trip), so a release's
 * files cost the round trips of one file. Every other step is a batch of its own.
 */
function batches(steps: readonly Step[]): Step[][] {
  const out: Step[][] = [];
  for (const step of steps) {
    const last = out[out.length - 1];
    if (step.kind === 'write' && last?.[0]?.kind === 'write') last.push(step);
    else out.push([step]);
  }
  return out;
}

/**
 * Runs a deploy's plan (src/deploy/plan.ts for compose, src/deploy/swarm-plan.ts for a Swarm
 * stack) one step at a time on one host, and keeps what the steps learn: the pinned images,
 * the gate's result, the new containers or services a failure report reads. After a failure,
 * undo and recovery (src/deploy/recovery.ts) start from here.
 */
export class DeployRun {
  private record: ReleaseRecord;
  private gate: GateResult | undefined;
  private overlapStarted: number | undefined;
  private overlapMs: number | undefined;
  private undone = false;
  /** The new release's containers once a step started or waited on them: what a failure report reads. */
  private newContainers: ContainerScope | undefined;
  /** Swarm: the stack's services before this deploy touched it, for `docker service rollback`. */
  private servicesBefore: readonly string[] = [];
  /** A step changed what runs (a stack deploy began); phases say so for the compose target. */
  private changedRunning = false;

  constructor(
    private readonly deploy: HostDeploy,
    private readonly deps: DeployDependencies,
    record: ReleaseRecord,
  ) {
    this.record = record;
  }

  private get host(): RemoteHost {
    return this.deploy.session.host;
  }

  private get settings(): ComposeDeploySettings | SwarmDeploySettings {
    return this.deploy.settings;
  }

  private get target(): DeployTarget | StackTarget {
    return this.deploy.target;
  }

  /** What runs on the host may differ from the previous release: a phase that changes containers began, or a step changed them. */
  get containersChanged(): boolean {
    return this.changedRunning;
  }

  async execute(phase: Phase): Promise<void> {
    if (phase.changesContainers) this.changedRunning = true;
    const cleanups: Step[] = phase.steps.filter((s) => s.kind === 'run' && s.always);
    try {
      for (const batch of batches(phase.steps)) await Promise.all(batch.map((step) => this.step(step)));
    } finally {
      for (const step of cleanups) await this.step(step).catch(() => undefined);
    }
    if (phase.switchesCurrent) await this.markDeployed();
  }

  private async step(step: Step): Promise<void> {
    switch (step.kind) {
      case 'run':
        // An `always` step (removing the registry credentials) runs even when the lock was lost: it only takes back what this run placed.
        await this.host.run(step.command, { ...(step.stdin === undefined ? {} : { stdin: step.stdin }), ...(step.always ? { unguarded: true } : {}), ...(step.label ? { label: step.label } : {}) });
        return;
      case 'write':
        await this.host.writeFile(step.path, step.content, step.mode);
        return;
      case 'pin-images':
        return this.pinImages(step.command, step.label);
      case 'switch-current':
        await this.host.run(allOf(step.command, appendLedger(this.target.layout, ledgerEvent(this.settings, this.target.releaseId, 'deployed'))));
        return;
      case 'wait-containers': {
        const project = step.project ?? this.composeTarget().project.name;
        this.newContainers = { project };
        const outcome = await waitForContainers(this.host, step.project ?? this.settings.app, step.timeoutMs, this.deps.reporter, {
          probe: step.probe === true,
          ...(step.start ? { start: step.start } : {}),
        });
        if (!outcome.ok) throw new OperationError(`release ${this.target.releaseId} (${this.settings.version}) did not come up: ${outcome.reason}`);
        return;
      }
      case 'gate':
        if (this.deploy.kind === 'compose') this.newContainers = { project: step.project ?? this.deploy.target.project.name };
        return this.runGate(step.project);
      case 'prune':
        return this.prune(step.keep, step.images);
      case 'switch-traffic':
        return moveTraffic(this.host, step, this.deps.reporter);
      case 'overlap':
        if (step.edge === 'start') this.overlapStarted = performance.now();
        else if (this.overlapStarted !== undefined) this.overlapMs = performance.now() - this.overlapStarted;
        return;
      case 'roll':
        return this.roll(step);
      case 'stack-deploy':
        return this.deployStack(step);
      case 'wait-stack':
        return this.waitForStack(step);
    }
  }

  private composeTarget(): DeployTarget {
    if (this.deploy.kind !== 'compose') throw new Error('a compose step in a swarm plan');
    return this.deploy.target;
  }

  /** Runs undo steps, each whatever the others did; the failure that led here is what gets reported. */
  async undo(steps: readonly Step[]): Promise<void> {
    this.undone = true;
    for (const step of steps) {
      await this.step(step).catch((error: unknown) => this.deps.reporter.info(`undo step failed: ${errorMessage(error)}`));
    }
  }

  private rolling: RollingRun | undefined;

  /** A rolling step; the runner keeps which containers are old and new between the phases. */
  private async roll(step: Extract<Step, { kind: 'roll' }>): Promise<void> {
    this.rolling ??= new RollingRun(this.host, this.deps.reporter, this.settings.version, this.deps.checkHealth);
    try {
      await this.rolling.step(step.action, step.service, step.project, step.timeoutMs, step.replicas);
    } finally {
      this.gate = this.rolling.gate ?? this.gate;
      const fresh = this.rolling.newContainers(step.service);
      if (fresh.length > 0) this.newContainers = { project: step.project.name, names: fresh };
    }
  }

  private async pinImages(pull: ShellLine | SectionedLine<'config'>, label: string): Promise<void> {
    const target = this.composeTarget();
    const output = (await this.host.run(pull, { label })).stdout;
    const images = target.pinnedImages ?? serviceImages('sections' in pull ? (pull.sections.read(output).get('config') ?? '') : '');
    const refs = Object.values(images);
    const pinned = pinImages(refs, (await this.host.run(inspectImages(refs))).stdout);
    const services = Object.keys(images);
    const byService = Object.fromEntries(services.map((s, i) => [s, pinned[i]!.ref]));
    const ids = Object.fromEntries(services.map((s, i) => [s, pinned[i]!.id]));
    this.record = { ...this.record, images: byService, imageIds: ids };
    // Two files, one SFTP burst (see batches).
    await Promise.all([this.writeImages(byService, this.settings.composeVersion), this.saveRecord()]);
    this.deps.onImagesPinned?.(byService);
    for (const [service, ref] of Object.entries(byService)) this.deps.reporter.info(`${service}: ${ref}`);
  }

  private writeImages(images: Readonly<Record<string, string>>, fileVersion: string | undefined): Promise<void> {
    return this.host.writeFile(this.target.layout.release(this.target.releaseId).imagesFile, imagesOverride(images, fileVersion), 0o644);
  }

  private async deployStack(step: Extract<Step, { kind: 'stack-deploy' }>): Promise<void> {
    const inspect = inspectStack(step.stack.stack);
    this.servicesBefore = parseStack(step.stack.stack, inspect.sections.read((await this.host.run(inspect)).stdout)).map((s) => s.name);
    this.changedRunning = true;
    await this.host.run(stackDeploy(step.stack, step.configDir));
  }

  private async waitForStack(step: Extract<Step, { kind: 'wait-stack' }>): Promise<void> {
    const { reporter } = this.deps;
    const outcome = await waitForStack(this.host, step.stack, step.services, step.timeoutMs, reporter);
    if (!outcome.ok) throw new OperationError(`release ${this.target.releaseId} (${this.settings.version}) did not converge: ${outcome.reason}`);
    // Pinned as soon as they run, so a rollback to this release later deploys exactly these digests.
    const images = stackImages(outcome.services);
    for (const [service, ref] of Object.entries(images)) {
      if (!ref.includes('@sha256:')) reporter.warning(`${service}: Swarm did not resolve ${ref} to a digest (registry unreachable?); a rollback to this release uses the tag.`);
    }
    this.record = { ...this.record, images };
    await this.writeImages(images, this.deploy.kind === 'swarm' ? this.deploy.target.fileVersion : this.settings.composeVersion);
    await this.saveRecord();
    for (const [service, ref] of Object.entries(images)) reporter.info(`${service}: ${ref}`);
  }

  private async runGate(project?: string): Promise<void> {
    if (!this.deps.checkHealth) return;
    const services = this.deploy.kind === 'compose' ? (this.deploy.settings.strategy?.services ?? []) : [];
    const address = project ? (await publishedAddresses(this.host, project, services))[0]!.address : undefined;
    if (address) this.deps.reporter.info(`checking ${project} directly at ${address}, before it gets any traffic`);
    this.gate = await this.deps.checkHealth(this.host, address);
    if (!this.gate.healthy) {
      const g = this.gate;
      throw new OperationError(
        `${this.settings.version} failed its health gate (${g.successes}/${this.settings.gate?.successes} passing rounds in ${formatDuration(g.elapsedMs)}, last: ${g.reason})`,
      );
    }
  }

  /** `current` and the ledger already say deployed (the switch-current step); release.json follows. */
  private async markDeployed(): Promise<void> {
    this.record = { ...this.record, status: 'deployed', finishedAt: new Date().toISOString() };
    await this.saveRecord();
  }

  private async prune(keep: number, images: boolean): Promise<void> {
    const request = { releaseId: this.target.releaseId, keep, source: this.settings, images };
    const known = this.target.releaseDirs;
    await pruneReleases(this.deploy.session, { ...request, ...(known ? { knownDirs: known } : {}) }, this.deps.reporter);
  }

  /** Reads why the release failed (its command, containers or services, and gate), before undo or recovery changes anything. */
  async diagnose(error: unknown, where: string): Promise<FailureReport> {
    const logLines = this.settings.failureLogLines;
    const stack = this.deploy.kind === 'swarm' && this.changedRunning ? this.deploy.target.stack : undefined;
    const readSuspects = stack === undefined ? undefined : () => readServiceSuspects(this.host, stack, logLines);
    return diagnoseFailure(this.host, { where, error, containers: this.newContainers, gate: this.gate, logLines, ...(readSuspects ? { readSuspects } : {}) }, this.deps.reporter);
  }

  /** After a failure: restore the previous release where what runs changed (see recoverFrom), and record the outcome on the host when it can be reached. */
  async recover(error: unknown): Promise<{ status: DeployStatus; message: string }> {
    const outcome = await recoverFrom(error, { deploy: this.deploy, record: this.record, undone: this.undone, containersChanged: this.changedRunning, servicesBefore: this.servicesBefore }, this.deps);
    if (!outcome.record) return outcome;
    this.record = { ...this.record, status: 'failed', reason: outcome.message, finishedAt: new Date().toISOString() };
    await this.saveRecord().catch(() => undefined);
    await this.host.run(appendLedger(this.target.layout, ledgerEvent(this.settings, this.target.releaseId, 'failed', { reason: outcome.message }))).catch(() => undefined);
    return outcome;
  }

  private async saveRecord(): Promise<void> {
    await this.host.writeFile(this.target.layout.release(this.target.releaseId).recordFile, formatRecord(this.record), 0o644);
  }

  result(status: DeployStatus, error: string | undefined, started: number): DeployResult {
    return {
      releaseId: this.target.releaseId,
      previousReleaseId: this.target.previousId,
      status,
      images: this.record.images,
      durationMs: performance.now() - started,
      error,
      gate: this.gate,
      plan: [],
      strategy: this.deploy.kind === 'swarm' ? 'swarm' : (this.deploy.settings.strategy?.kind ?? 'recreate'),
      ...(this.overlapMs !== undefined ? { overlapMs: this.overlapMs } : {}),
    };
  }
}

/**
 * Runs a plan's phases on one connected host whose lock this run holds, each in a log group,
 * recovering from a failure on the way: the whole story after the lock, for every target.
 */
export async function runPhases(run: DeployRun, phases: readonly Phase[], reporter: DeployDependencies['reporter'], started: number): Promise<DeployResult> {
  const entered: Phase[] = [];
  try {
    for (const phase of phases) {
      entered.push(phase);
      await reporter.group(phase.name, () => run.execute(phase));
    }
  } catch (error) {
    // Read why before undo or recovery removes the failed containers; a lost host or lock cannot be asked.
    const failure = error instanceof ConnectionLostError || error instanceof LockLostError ? undefined : await run.diagnose(error, entered[entered.length - 1]?.name ?? '');
    // Undo is for phases that never touched what serves; once one did, recovery restores instead.
    // A run that lost its lock undoes nothing: another run may be changing the host.
    const undo = run.containersChanged || error instanceof LockLostError ? [] : entered.reverse().flatMap((phase) => phase.undo ?? []);
    if (undo.length > 0) await reporter.group('Undo', () => run.undo(undo));
    const status = await reporter.group('Recover', () => run.recover(error));
    return { ...run.result(status.status, status.message, started), untouched: !run.containersChanged, ...(failure ? { failure } : {}) };
  }
  return run.result('deployed', undefined, started);
}
