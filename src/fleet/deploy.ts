import { deployLocked, dryRun, nextReleaseOn } from '../deploy/deploy.js';
import type { DeployDependencies, DeployResult, DeployStatus } from '../deploy/result.js';
import { FleetDeploySettings, onHost } from '../deploy/settings.js';
import { errorMessage } from '../errors.js';
import { clearCurrent, appendLedger, stopContainers } from '../release/commands.js';
import { compareIds, ledgerEvent } from '../release/ledger.js';
import { recordedProject, readRecords } from '../release/session.js';
import { rollbackLocked } from '../rollback/rollback.js';
import { Reporter, TimedReporter, PhaseTiming, labelledReporter } from '../report.js';
import { batches } from './batches.js';
import { FleetHost, connectAll, lockAll } from './hosts.js';
import type { FailureReport } from '../failure/report.js';

/** How one host of a fleet deploy ended. */
export interface HostOutcome {
  readonly host: string;
  /** `not started`: an earlier batch failed, so this host was never touched. */
  readonly status: DeployStatus | 'not started';
  readonly durationMs: number;
  /** One line on what went wrong on this host, if anything did. */
  readonly error: string | undefined;
  /** What the fleet's rollback did here, when this host had switched before another failed. */
  readonly rollback: string | undefined;
  readonly phases: readonly PhaseTiming[];
  /** Why the deploy failed on this host, when it did and the host could be asked. */
  readonly failure?: FailureReport | undefined;
}

/** A deploy's result (release id, status, images, error, plan for a dry run), and each host's. */
export interface FleetResult extends Pick<DeployResult, 'releaseId' | 'previousReleaseId' | 'status' | 'images' | 'durationMs' | 'error' | 'plan'> {
  readonly hosts: readonly HostOutcome[];
  readonly parallel: number;
}

export interface FleetDependencies extends Omit<DeployDependencies, 'checkHealth' | 'onImagesPinned'> {
  /** The health gate as one host's reporter tells it (see DeployDependencies.checkHealth). */
  readonly checkHealthWith?: (reporter: Reporter) => NonNullable<DeployDependencies['checkHealth']>;
}

/** A promise settled from outside: how the first host hands its pinned images to the rest of its batch. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Deploys one release to several hosts: all connected and locked before any changes, one
 * release id and one set of image digests everywhere, `parallel` hosts at a time. When a
 * host fails, no further batch starts and every host this deploy switched is rolled back,
 * so the fleet ends on one version.
 */
export async function deployFleet(settings: FleetDeploySettings, deps: FleetDependencies): Promise<FleetResult> {
  const started = performance.now();
  const { reporter } = deps;
  const { parallel } = settings;
  const fleet = await connectAll(settings.hosts, settings, reporter, deps.observe);
  try {
    if (settings.dryRun) return await planFleet(fleet, settings, reporter, parallel, started);
    const owner = { run: settings.run.runUrl, actor: settings.run.actor, since: new Date().toISOString(), operation: `deploy of ${settings.version}` };
    const locks = await lockAll(fleet, owner, settings.lock, reporter);
    try {
      return await new FleetRun(fleet, settings, deps, parallel).run(started);
    } finally {
      await Promise.all(locks.map((lock) => lock.release()));
    }
  } finally {
    await Promise.all(fleet.map((h) => h.session.host.close()));
  }
}

async function sharedReleaseId(fleet: readonly FleetHost[]): Promise<string> {
  const ids = await Promise.all(fleet.map((h) => nextReleaseOn(h.session)));
  return ids.sort(compareIds)[ids.length - 1]!;
}

async function planFleet(fleet: readonly FleetHost[], settings: FleetDeploySettings, reporter: Reporter, parallel: number, started: number): Promise<FleetResult> {
  const releaseId = await sharedReleaseId(fleet);
  const plan = [`release ${releaseId} on ${fleet.length} hosts, ${parallel} at a time: ${batches(fleet, parallel).map((b) => b.map((h) => h.label).join(', ')).join(' | ')}`];
  const outcomes: HostOutcome[] = [];
  for (const host of fleet) {
    const planned = await dryRun(host.session, onHost(settings, host.ssh), labelledReporter(reporter, host.label), performance.now(), { releaseId });
    plan.push(`${host.label}:`, ...planned.plan.map((line) => `  ${line}`));
    outcomes.push({ host: host.label, status: 'planned', durationMs: planned.durationMs, error: undefined, rollback: undefined, phases: [] });
  }
  return { releaseId, previousReleaseId: undefined, status: 'planned', images: {}, durationMs: performance.now() - started, error: undefined, hosts: outcomes, plan, parallel };
}

interface HostRun {
  readonly host: FleetHost;
  readonly reporter: TimedReporter;
  result: DeployResult | undefined;
  rollback: string | undefined;
  rolledBack: boolean;
}

class FleetRun {
  private readonly runs: HostRun[];
  private images: Readonly<Record<string, string>> | undefined;

  constructor(
    private readonly fleet: readonly FleetHost[],
    private readonly settings: FleetDeploySettings,
    private readonly deps: FleetDependencies,
    private readonly parallel: number,
  ) {
    this.runs = fleet.map((host) => ({ host, reporter: new TimedReporter(labelledReporter(deps.reporter, host.label)), result: undefined, rollback: undefined, rolledBack: false }));
  }

  async run(started: number): Promise<FleetResult> {
    const { reporter } = this.deps;
    const releaseId = await sharedReleaseId(this.fleet);
    const groups = batches(this.runs, this.parallel);
    reporter.info(`release ${releaseId} of ${this.settings.app} (version ${this.settings.version}) on ${this.fleet.length} hosts, ${this.parallel} at a time, in ${groups.length} batch(es)`);
    for (const [index, batch] of groups.entries()) {
      await reporter.group(`Deploy release ${releaseId} to ${batch.map((r) => r.host.label).join(', ')} (batch ${index + 1} of ${groups.length})`, () => this.deployBatch(batch, releaseId));
      if (batch.some((r) => r.result?.status !== 'deployed')) break;
    }
    const failed = this.runs.filter((r) => r.result !== undefined && r.result.status !== 'deployed');
    if (failed.length > 0) await reporter.group(`Roll back the hosts this deploy switched (${failed.map((r) => r.host.label).join(', ')} failed)`, () => this.rollBackSwitched());
    return this.result(releaseId, failed, started);
  }

  private async deployBatch(batch: readonly HostRun[], releaseId: string): Promise<void> {
    if (this.images) {
      await Promise.all(batch.map((run) => this.deployHost(run, releaseId, this.images)));
      return;
    }
    // The first host resolves the images; the rest of its batch pull those exact digests.
    const pinned = deferred<Readonly<Record<string, string>>>();
    const [first, ...rest] = batch;
    await Promise.all([
      this.deployHost(first!, releaseId, undefined, (images) => pinned.resolve(images)).finally(() => pinned.reject(new Error('no images'))),
      ...rest.map(async (run) => {
        const images = await pinned.promise.catch(() => undefined);
        if (images) await this.deployHost(run, releaseId, images);
      }),
    ]);
  }

  private async deployHost(run: HostRun, releaseId: string, images: Readonly<Record<string, string>> | undefined, onImagesPinned?: (images: Readonly<Record<string, string>>) => void): Promise<void> {
    const started = performance.now();
    const checkHealth = this.deps.checkHealthWith?.(run.reporter);
    try {
      run.result = await deployLocked(
        run.host.session,
        onHost(this.settings, run.host.ssh),
        {
          reporter: run.reporter,
          ...(checkHealth ? { checkHealth } : {}),
          ...(this.deps.observe ? { observe: this.deps.observe } : {}),
          onImagesPinned: (pinned) => {
            this.images ??= pinned;
            onImagesPinned?.(pinned);
          },
        },
        started,
        { releaseId, ...(images ? { images } : {}) },
      );
    } catch (error) {
      // The deploy itself never throws once it started; this is the host going away under it.
      run.result = { releaseId, previousReleaseId: undefined, status: 'failed', images: {}, durationMs: performance.now() - started, error: errorMessage(error), gate: undefined, plan: [] };
    }
    run.reporter.info(run.result.status === 'deployed' ? `deployed release ${releaseId}` : `${run.result.status}: ${run.result.error}`);
  }

  /** Takes back every host that switched to the new release in this deploy. Never throws: each host's outcome is told. */
  private async rollBackSwitched(): Promise<void> {
    const switched = this.runs.filter((r) => r.result?.status === 'deployed');
    if (switched.length === 0) {
      this.deps.reporter.info('no host had switched to the new release');
      return;
    }
    if (!this.settings.rollbackOnFailure) {
      for (const run of switched) run.rollback = "left on the new release ('rollback-on-failure' is false)";
      return;
    }
    await Promise.all(switched.map((run) => this.rollBackHost(run)));
  }

  private async rollBackHost(run: HostRun): Promise<void> {
    const result = run.result!;
    const { session } = run.host;
    const reason = `release ${result.releaseId} failed on ${this.runs.filter((r) => r.result && r.result.status !== 'deployed').map((r) => r.host.label).join(', ')}`;
    try {
      if (result.previousReleaseId === undefined) {
        const record = (await readRecords(session, [result.releaseId])).get(result.releaseId);
        if (record) await session.host.run(stopContainers(recordedProject(session, record)));
        await session.host.run(clearCurrent(session.layout));
        await session.host.run(appendLedger(session.layout, ledgerEvent(this.settings, result.releaseId, 'rolled-back', { reason })));
        run.rollback = 'first release here: its containers were stopped and it is no longer current';
      } else {
        const checkHealth = this.deps.checkHealthWith?.(run.reporter);
        const restored = await rollbackLocked(
          session,
          {
            ssh: run.host.ssh,
            app: this.settings.app,
            deployPath: this.settings.deployPath,
            to: result.previousReleaseId,
            reason,
            waitTimeoutMs: this.settings.waitTimeoutMs,
            failureLogLines: this.settings.failureLogLines,
            lock: this.settings.lock,
            run: this.settings.run,
          },
          run.reporter,
          checkHealth,
        );
        run.rollback = `rolled back to release ${restored.releaseId} (${restored.version})${restored.healthy ? '' : ', which is NOT healthy'}`;
      }
      run.rolledBack = true;
    } catch (error) {
      run.rollback = `rollback FAILED: ${errorMessage(error)}`;
    }
    run.reporter.info(run.rollback);
  }

  private result(releaseId: string, failed: readonly HostRun[], started: number): FleetResult {
    const leader = this.runs[0]!.result;
    const hosts = this.runs.map((run): HostOutcome => ({
      host: run.host.label,
      status: run.result === undefined ? 'not started' : run.rolledBack ? 'rolled-back' : run.result.status,
      durationMs: run.result?.durationMs ?? 0,
      error: run.result?.error,
      rollback: run.rollback,
      phases: run.reporter.phases,
      ...(run.result?.failure ? { failure: run.result.failure } : {}),
    }));
    const base = { releaseId, previousReleaseId: leader?.previousReleaseId, images: this.images ?? {}, durationMs: performance.now() - started, hosts, plan: [], parallel: this.parallel };
    if (failed.length === 0) return { ...base, status: 'deployed', error: undefined };
    return { ...base, ...this.failure(releaseId, failed) };
  }

  /** The one error line of a failed fleet deploy: what failed where, and where every host ended up. */
  private failure(releaseId: string, failed: readonly HostRun[]): { status: DeployStatus; error: string } {
    const causes = failed.map((r) => `${r.host.label}: ${r.result!.error}`).join('; ');
    const switched = this.runs.filter((r) => r.rollback !== undefined);
    const stranded = switched.filter((r) => !r.rolledBack);
    const untouched = this.runs.filter((r) => r.result === undefined).map((r) => r.host.label);
    const parts = [`Release ${releaseId} (${this.settings.version}) failed on ${failed.length} of ${this.runs.length} hosts: ${causes}.`];
    const back = switched.filter((r) => r.rolledBack).map((r) => r.host.label);
    if (back.length > 0) parts.push(`Rolled back ${back.join(', ')}.`);
    if (stranded.length > 0) parts.push(`NOT ROLLED BACK, still on release ${releaseId}: ${stranded.map((r) => `${r.host.label} (${r.rollback})`).join('; ')}.`);
    if (untouched.length > 0) parts.push(`Not started: ${untouched.join(', ')}.`);
    const endedOnPrevious = stranded.length === 0 && failed.every((r) => r.result!.status === 'rolled-back' || r.result!.untouched === true);
    const anyBack = back.length > 0 || failed.some((r) => r.result!.status === 'rolled-back');
    return { status: endedOnPrevious && anyBack ? 'rolled-back' : 'failed', error: parts.join(' ') };
  }
}

