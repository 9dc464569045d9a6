import { ConnectionLostError, OperationError, errorMessage } from '../errors.js';
import type { GateResult, HealthCheck } from '../health/types.js';
import { formatDuration } from '../inputs/parse.js';
import { waitForContainers } from '../release/activate.js';
import { appendLedger, inspectImages, removeImages, removeReleases, stopContainers, switchCurrent } from '../release/commands.js';
import { imagesOverride, pinImages, serviceImages } from '../release/images.js';
import { compareIds, ledgerEvent, nextReleaseId, releasesToPrune } from '../release/ledger.js';
import { LockLostError, withLock } from '../release/lock-session.js';
import { ReleaseRecord, formatRecord } from '../release/record.js';
import { AppSession, openAppSession, readRecords, readState } from '../release/session.js';
import { AppState, parseAppState, readAppState } from '../release/state.js';
import { restoreRelease } from '../recovery/restore-release.js';
import { Reporter } from '../report.js';
import { CommandObserver, RemoteHost } from '../ssh/connection.js';
import { colorProjectName, parseColor, readActiveColor } from '../strategy/colors.js';
import { RollingRun } from '../strategy/rolling-run.js';
import { moveTraffic, publishedAddresses } from '../strategy/traffic.js';
import { describePlan, initialRecord, planDeploy, releaseProject } from './plan.js';
import type { DeployTarget, Phase, Step } from './steps.js';
import { ShellLine, allOf } from '../shell/quote.js';
import type { SectionedLine } from '../shell/sections.js';
import { DeploySettings } from './settings.js';
import type { ContainerScope } from '../failure/containers.js';
import { diagnoseFailure } from '../failure/diagnose.js';
import type { FailureReport } from '../failure/report.js';

export type DeployStatus = 'deployed' | 'failed' | 'rolled-back' | 'planned';

export interface DeployResult {
  readonly releaseId: string;
  readonly previousReleaseId: string | undefined;
  readonly status: DeployStatus;
  readonly images: Readonly<Record<string, string>>;
  readonly durationMs: number;
  /** One line saying what went wrong; undefined when deployed. */
  readonly error: string | undefined;
  readonly gate: GateResult | undefined;
  readonly plan: readonly string[];
  /** `recreate`, `rolling`, `blue-green` (or `swarm` for the swarm target). */
  readonly strategy?: string;
  /** How long the previous and the new release ran side by side (blue-green). */
  readonly overlapMs?: number;
  /** Failed before any running container changed: the host still runs what it ran. */
  readonly untouched?: boolean;
  /** Why it failed, as read before anything was removed or restored (not when the connection or the lock was lost). */
  readonly failure?: FailureReport;
}

export interface DeployDependencies {
  readonly reporter: Reporter;
  /** Runs the health gate, through `host` when the settings ask for the tunnel; at `address` (`host:port`) instead of the URLs' own when given. */
  readonly checkHealth?: HealthCheck;
  readonly observe?: CommandObserver;
  /** Told the new release's pinned images as soon as they are known (a fleet's first host shares them with the rest). */
  readonly onImagesPinned?: (images: Readonly<Record<string, string>>) => void;
}

/** What every host of a fleet deploy shares: one release id and, after the first host pinned them, one set of image digests. */
export interface SharedRelease {
  readonly releaseId: string;
  /** service -> `image@sha256:...`; the host pulls exactly these instead of resolving tags itself. */
  readonly images?: Readonly<Record<string, string>>;
}

/** Deploys one release to one host: the whole story from connect to unlock. */
export async function deploy(settings: DeploySettings, deps: DeployDependencies): Promise<DeployResult> {
  const started = performance.now();
  const { reporter } = deps;
  const session = await openAppSession(settings.ssh, settings.app, settings.deployPath, reporter, deps.observe);
  try {
    if (settings.dryRun) return await dryRun(session, settings, reporter, started);
    session.host.prepareFileWrites();
    const owner = { run: settings.run.runUrl, actor: settings.run.actor, since: new Date().toISOString(), operation: `deploy of ${settings.version}` };
    // The state is read in the round trip that takes the lock.
    const state = readAppState(session.layout);
    return await withLock(session.host, session.layout.lock, owner, settings.lock, reporter, (read) => deployLocked(session, settings, deps, started, undefined, parseAppState(state.sections.read(read))), state);
  } finally {
    await session.host.close();
  }
}

/** The release id the next deploy on this host would take. */
export async function nextReleaseOn(session: AppSession): Promise<string> {
  const state = await readState(session);
  return nextReleaseId(state.releases, state.releaseDirs);
}

async function target(session: AppSession, settings: DeploySettings, shared?: SharedRelease, known?: AppState): Promise<DeployTarget> {
  const state = known ?? (await readState(session));
  const releaseId = shared?.releaseId ?? nextReleaseId(state.releases, state.releaseDirs);
  const files = settings.composeFiles.map((f) => f.name);
  const project = releaseProject({ variant: session.compose, name: settings.app }, session.layout, releaseId, files, shared?.images !== undefined);
  const activeColor = settings.strategy?.kind === 'blue-green' ? parseColor((await session.host.run(readActiveColor(session.layout.root))).stdout) : undefined;
  return {
    layout: session.layout,
    releaseId,
    previousId: state.current,
    releaseDirs: state.releaseDirs,
    project,
    startedAt: new Date().toISOString(),
    ...(activeColor ? { activeColor } : {}),
    ...(shared?.images ? { pinnedImages: shared.images } : {}),
  };
}

/** Prints what a deploy would do on this host, and changes nothing. */
export async function dryRun(session: AppSession, settings: DeploySettings, reporter: Reporter, started = performance.now(), shared?: SharedRelease): Promise<DeployResult> {
  const t = await target(session, settings, shared);
  const plan = describePlan(planDeploy(settings, t), settings);
  await reporter.group('Dry run: the plan (nothing was changed)', async () => plan.forEach((line) => reporter.info(line)));
  return { releaseId: t.releaseId, previousReleaseId: t.previousId, status: 'planned', images: {}, durationMs: performance.now() - started, error: undefined, gate: undefined, plan };
}

/** Deploys to one connected host whose lock this run holds: upload to prune, recovering from a failure on the way. */
export async function deployLocked(
  session: AppSession,
  settings: DeploySettings,
  deps: DeployDependencies,
  started = performance.now(),
  shared?: SharedRelease,
  /** The host's state, when read with the lock. */
  state?: AppState,
): Promise<DeployResult> {
  const { reporter } = deps;
  const t = await target(session, settings, shared, state);
  reporter.info(`release ${t.releaseId} of ${settings.app} (version ${settings.version}); ${t.previousId ? `replacing release ${t.previousId}` : 'first release'}`);
  const run = new DeployRun(session, settings, deps, t);
  const phases = planDeploy(settings, t);
  let containersChanged = false;
  const entered: Phase[] = [];
  try {
    for (const phase of phases) {
      containersChanged ||= phase.changesContainers === true;
      entered.push(phase);
      await reporter.group(phase.name, () => run.execute(phase));
    }
  } catch (error) {
    // Read why before undo or recovery removes the failed containers; a lost host or lock cannot be asked.
    const failure = error instanceof ConnectionLostError || error instanceof LockLostError ? undefined : await run.diagnose(error, entered[entered.length - 1]?.name ?? '');
    // Undo is for phases that never touched what serves; once one did, recovery restores instead.
    // A run that lost its lock undoes nothing: another run may be changing the host.
    const undo = containersChanged || error instanceof LockLostError ? [] : entered.reverse().flatMap((phase) => phase.undo ?? []);
    if (undo.length > 0) await reporter.group('Undo', () => run.undo(undo));
    const status = await reporter.group('Recover', () => run.recover(error, containersChanged));
    return { ...run.result(status.status, status.message, started), untouched: !containersChanged, ...(failure ? { failure } : {}) };
  }
  return run.result('deployed', undefined, started);
}

/**
 * A phase's steps in the order they run: each batch after the one before it. Files written one
 * after another form one batch: their SFTP requests go out together over the one SFTP session
 * (each write is an open, a write, a close and a rename, each a round trip), so a release's
 * files cost the round trips of one file. Every other step is a batch of its own.
 */
export function batches(steps: readonly Step[]): Step[][] {
  const out: Step[][] = [];
  for (const step of steps) {
    const last = out[out.length - 1];
    if (step.kind === 'write' && last?.[0]?.kind === 'write') last.push(step);
    else out.push([step]);
  }
  return out;
}

/** The state of one deploy while it runs: what was pinned, what the gate said. */
class DeployRun {
  private record: ReleaseRecord;
  private gate: GateResult | undefined;
  private overlapStarted: number | undefined;
  private overlapMs: number | undefined;
  private undone = false;
  /** The new release's containers once a step started or waited on them: what a failure report reads. */
  private newContainers: ContainerScope | undefined;

  constructor(
    private readonly session: AppSession,
    private readonly settings: DeploySettings,
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
    // Under the lock nothing else adds releases: when the folders found at the start plus this
    // one are within `keep`, there is nothing to read again.
    const known = new Set([...(this.target.releaseDirs ?? []), this.target.releaseId]);
    if (this.target.releaseDirs && known.size <= keep) {
      this.deps.reporter.info(`nothing to prune (${known.size} releases, keeping ${keep})`);
      return;
    }
    const state = await readState(this.session);
    const doomed = releasesToPrune(state.releaseDirs, keep, [this.target.releaseId, state.current], state.releases);
    if (doomed.length === 0) {
      this.deps.reporter.info(`nothing to prune (${state.releaseDirs.length} releases, keeping ${keep})`);
      return;
    }
    const kept = state.releaseDirs.filter((id) => !doomed.includes(id));
    const records = await readRecords(this.session, state.releaseDirs);
    const keptImages = new Set(kept.flatMap((id) => Object.values(records.get(id)?.imageIds ?? {})));
    const unused = [...new Set(doomed.flatMap((id) => Object.values(records.get(id)?.imageIds ?? {})))].filter((image) => !keptImages.has(image));
    // One round trip: the folders, the images no kept release uses, and a `pruned` event for each.
    await this.host.run(
      allOf(
        removeReleases(this.target.layout, doomed),
        ...(unused.length > 0 ? [removeImages(unused)] : []),
        ...doomed.map((id) => appendLedger(this.target.layout, ledgerEvent(this.settings, id, 'pruned', { version: records.get(id)?.version ?? '' }))),
      ),
    );
    this.deps.reporter.info(`pruned releases ${doomed.join(', ')} and ${unused.length} image(s) no kept release uses; kept ${kept.sort(compareIds).join(', ')}`);
  }

  /** Reads why the release failed (its command, containers and gate), before undo or recovery changes anything. */
  async diagnose(error: unknown, where: string): Promise<FailureReport> {
    return diagnoseFailure(this.host, { where, error, containers: this.newContainers, gate: this.gate, logLines: this.settings.failureLogLines }, this.deps.reporter);
  }

  /** After a failure: restore the previous release where containers changed, and record the outcome. */
  async recover(error: unknown, containersChanged: boolean): Promise<{ status: DeployStatus; message: string }> {
    const { reporter } = this.deps;
    const id = this.target.releaseId;
    const reason = errorMessage(error);
    reporter.info(`release ${id} failed: ${reason}`);
    let status: DeployStatus = 'failed';
    let message = reason;
    if (error instanceof ConnectionLostError) {
      // Nothing more can reach the host: say what to do instead of a chain of failed recovery steps.
      message = `${reason}; release ${id} was interrupted ${containersChanged ? 'after its containers changed' : 'before any container changed'}, and the lock stays until it is stale: check the host before the next deploy (docs/troubleshooting.md#an-interrupted-deploy)`;
      return { status, message };
    }
    if (error instanceof LockLostError) {
      // Another run may be changing the host: no rollback, no ledger event from this run.
      message = `${reason} Release ${id} was interrupted and nothing was rolled back: another run may be changing the host.`;
      return { status, message };
    }
    if (containersChanged && this.settings.rollbackOnFailure) {
      if (this.target.previousId === undefined) {
        const name = this.record.color ? colorProjectName(this.settings.app, this.record.color) : this.settings.app;
        const stopped = await this.host
          .run(stopContainers(releaseProject({ variant: this.session.compose, name }, this.target.layout, id, this.record.composeFiles, true)))
          .then(() => 'its containers were stopped', (error: Error) => `stopping its containers FAILED too: ${error.message}`);
        message = `${reason}; this was the first release, so there is nothing to roll back to: ${stopped}`;
      } else {
        const outcome = await this.restorePrevious(reporter);
        if (outcome.restored) status = 'rolled-back';
        message = outcome.restored ? `${reason}; rolled back to ${outcome.text}` : `${reason}; rolling back FAILED: ${outcome.text}`;
      }
    } else if (containersChanged) {
      message = `${reason}; 'rollback-on-failure' is false, so release ${id}'s containers were left running for inspection`;
    } else if (this.undone && this.record.color) {
      message = `${reason}; traffic never moved: ${this.record.color} (release ${id}) was removed and the previous release keeps serving`;
    } else {
      message = `${reason}; nothing running was changed`;
    }
    this.record = { ...this.record, status: 'failed', reason: message, finishedAt: new Date().toISOString() };
    await this.saveRecord().catch(() => undefined);
    await this.host.run(appendLedger(this.target.layout, ledgerEvent(this.settings, id, 'failed', { reason: message }))).catch(() => undefined);
    return { status, message };
  }

  /** Starts the previous release again. Never throws: a failed restore is part of the story to tell. */
  private async restorePrevious(reporter: Reporter): Promise<{ restored: boolean; text: string }> {
    const previousId = this.target.previousId!;
    try {
      const previous = (await readRecords(this.session, [previousId])).get(previousId);
      if (!previous) return { restored: false, text: `release ${previousId}'s release.json is missing on the host` };
      const outcome = await restoreRelease(this.session, previous, this.settings.waitTimeoutMs, reporter, this.deps.checkHealth);
      if (!outcome.ok) return { restored: false, text: `release ${previousId} (${previous.version}) did not come up: ${outcome.reason}` };
      // A failure after `current` switched (post-deploy) must not leave it naming the failed release.
      await this.host.run(switchCurrent(this.target.layout, previousId));
      const health = outcome.healthy ? 'which is healthy' : `which is NOT healthy either (${outcome.gate?.reason || outcome.reason})`;
      return { restored: true, text: `${previous.version} (release ${previous.id}), ${health}` };
    } catch (error) {
      return { restored: false, text: `release ${previousId} could not be started: ${errorMessage(error)}` };
    }
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
