import { OperationError, errorMessage } from '../errors.js';
import type { ContainerScope } from '../failure/containers.js';
import { diagnoseFailure } from '../failure/diagnose.js';
import type { FailureReport } from '../failure/report.js';
import type { GateResult } from '../health/types.js';
import { formatDuration } from '../inputs/parse.js';
import { waitForContainers } from '../release/activate.js';
import { appendLedger, inspectImages } from '../release/commands.js';
import { imagesOverride, pinImages, serviceImages } from '../release/images.js';
import { ledgerEvent } from '../release/ledger.js';
import { pruneReleases } from '../release/prune.js';
import { ReleaseRecord, formatRecord } from '../release/record.js';
import { AppSession } from '../release/session.js';
import { ShellLine, allOf } from '../shell/quote.js';
import type { SectionedLine } from '../shell/sections.js';
import { RemoteHost } from '../ssh/connection.js';
import { RollingRun } from '../strategy/rolling-run.js';
import { moveTraffic, publishedAddresses } from '../strategy/traffic.js';
import { initialRecord } from './plan.js';
import { recoverFrom } from './recovery.js';
import type { DeployDependencies, DeployResult, DeployStatus } from './result.js';
import { ComposeDeploySettings } from './settings.js';
import type { DeployTarget, Phase, Step } from './steps.js';

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
 * Runs a compose deploy's plan (src/deploy/plan.ts) one step at a time on one host, and keeps
 * what the steps learn: the pinned images, the gate's result, the new containers a failure
 * report reads. After a failure, undo and recovery (src/deploy/recovery.ts) start from here.
 */
export class DeployRun {
  private record: ReleaseRecord;
  private gate: GateResult | undefined;
  private overlapStarted: number | undefined;
  private overlapMs: number | undefined;
  private undone = false;
  /** The new release's containers once a step started or waited on them: what a failure report reads. */
  private newContainers: ContainerScope | undefined;

  constructor(
    private readonly session: AppSession,
    private readonly settings: ComposeDeploySettings,
    private readonly deps: DeployDependencies,
    private readonly target: DeployTarget,
  ) {
    this.record = initialRecord(settings, target);
  }

  private get host(): RemoteHost {
    return this.session.host;
  }

  async execute(phase: Phase): Promise<void> {
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
        this.newContainers = { project: step.project ?? this.target.project.name };
        const outcome = await waitForContainers(this.host, step.project ?? this.settings.app, step.timeoutMs, this.deps.reporter, {
          probe: step.probe === true,
          ...(step.start ? { start: step.start } : {}),
        });
        if (!outcome.ok) throw new OperationError(`release ${this.target.releaseId} (${this.settings.version}) did not come up: ${outcome.reason}`);
        return;
      }
      case 'gate':
        this.newContainers = { project: step.project ?? this.target.project.name };
        return this.runGate(step.project);
      case 'prune':
        return this.prune(step.keep);
      case 'switch-traffic':
        return moveTraffic(this.host, step, this.deps.reporter);
      case 'overlap':
        if (step.edge === 'start') this.overlapStarted = performance.now();
        else if (this.overlapStarted !== undefined) this.overlapMs = performance.now() - this.overlapStarted;
        return;
      case 'roll':
        return this.roll(step);
    }
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
    const output = (await this.host.run(pull, { label })).stdout;
    const images = this.target.pinnedImages ?? serviceImages('sections' in pull ? (pull.sections.read(output).get('config') ?? '') : '');
    const refs = Object.values(images);
    const pinned = pinImages(refs, (await this.host.run(inspectImages(refs))).stdout);
    const services = Object.keys(images);
    const byService = Object.fromEntries(services.map((s, i) => [s, pinned[i]!.ref]));
    const ids = Object.fromEntries(services.map((s, i) => [s, pinned[i]!.id]));
    const release = this.target.layout.release(this.target.releaseId);
    this.record = { ...this.record, images: byService, imageIds: ids };
    // Two files, one SFTP burst (see batches).
    await Promise.all([this.host.writeFile(release.imagesFile, imagesOverride(byService, this.settings.composeVersion), 0o644), this.saveRecord()]);
    this.deps.onImagesPinned?.(byService);
    for (const [service, ref] of Object.entries(byService)) this.deps.reporter.info(`${service}: ${ref}`);
  }

  private async runGate(project?: string): Promise<void> {
    if (!this.deps.checkHealth) return;
    const address = project ? (await publishedAddresses(this.host, project, this.settings.strategy?.services ?? []))[0]!.address : undefined;
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

  private async prune(keep: number): Promise<void> {
    const request = { releaseId: this.target.releaseId, keep, source: this.settings, images: true };
    await pruneReleases(this.session, { ...request, ...(this.target.releaseDirs ? { knownDirs: this.target.releaseDirs } : {}) }, this.deps.reporter);
  }

  /** Reads why the release failed (its command, containers and gate), before undo or recovery changes anything. */
  async diagnose(error: unknown, where: string): Promise<FailureReport> {
    return diagnoseFailure(this.host, { where, error, containers: this.newContainers, gate: this.gate, logLines: this.settings.failureLogLines }, this.deps.reporter);
  }

  /** After a failure: restore the previous release where containers changed (see recoverFrom), and record the outcome on the host when it can be reached. */
  async recover(error: unknown, containersChanged: boolean): Promise<{ status: DeployStatus; message: string }> {
    const outcome = await recoverFrom(error, { session: this.session, settings: this.settings, target: this.target, record: this.record, undone: this.undone, containersChanged }, this.deps);
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
      strategy: this.settings.strategy?.kind ?? 'recreate',
      ...(this.overlapMs !== undefined ? { overlapMs: this.overlapMs } : {}),
    };
  }
}
