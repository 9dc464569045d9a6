import type { DeployDependencies, DeployResult, DeployStatus } from '../deploy/result.js';
import type { SwarmDeploySettings } from '../deploy/settings.js';
import { ConnectionLostError, OperationError, errorMessage } from '../errors.js';
import { diagnoseFailure, readServiceSuspects } from '../failure/diagnose.js';
import type { FailureReport } from '../failure/report.js';
import type { GateResult } from '../health/types.js';
import { formatDuration } from '../inputs/parse.js';
import { appendLedger, createReleaseDir, dockerConfigDir, switchCurrent } from '../release/commands.js';
import { formatEnvFile } from '../release/env-file.js';
import { imagesOverride } from '../release/images.js';
import { AppLayout } from '../release/layout.js';
import { ledgerEvent, nextReleaseId } from '../release/ledger.js';
import { pruneReleases } from '../release/prune.js';
import { LockLostError, withLock } from '../release/lock-session.js';
import { ReleaseRecord, formatRecord, parseRecord, startRecord } from '../release/record.js';
import { HostSession, openHostSession, readState } from '../release/session.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { inspectStack, parseNodeState, readFile, removeStack, serviceRollback, stackDeploy, swarmHook, swarmNodeState } from './commands.js';
import { parseStack, stackImages } from './converge.js';
import { describeSwarmPlan } from './plan.js';
import { SwarmRecord, isSwarmRecord, releaseStack } from './record.js';
import { SwarmLogin, withRegistryLogin } from './login.js';
import { restoreSwarm } from './restore-stack.js';
import { ENV_SCRIPT, SWARM_FILE, checkSwarmFileNames, formatEnvScript, stackFileVersion, swarmOverride, updateDefaults, withFileVersion } from './stack.js';
import { waitForStack } from './wait.js';

/**
 * Deploys one release to a Docker Swarm manager as a stack (`target: swarm`), with the same
 * release folders, ledger, `current` link and deploy lock as the compose target:
 *
 *   upload -> pre-deploy -> docker stack deploy -> wait for every service to converge
 *   -> health gate -> pin images -> switch current -> post-deploy -> prune
 *
 * Swarm replaces tasks itself (update_config: start-first, failure_action: rollback unless
 * the compose files say otherwise). When anything from the stack deploy on fails, the
 * previous release is deployed again from its folder and pinned digests; without a record of
 * it, each service that existed before gets `docker service rollback`.
 */
export async function deploySwarm(settings: SwarmDeploySettings, deps: DeployDependencies): Promise<DeployResult> {
  const started = performance.now();
  checkSwarmFileNames(settings.composeFiles.map((f) => f.name));
  const { reporter } = deps;
  const session = await openHostSession(settings.ssh, settings.app, settings.deployPath, reporter, deps.observe);
  try {
    const { cliVersion } = await requireManager(session.host);
    if (settings.dryRun) return await dryRun(session, settings, reporter, started);
    const fileVersion = stackFileVersion(settings.composeVersion, cliVersion);
    if (fileVersion !== settings.composeVersion) reporter.info(`docker ${cliVersion} on ${session.host.target.host}: its stack deploy needs a Compose file version, so the release's files carry version ${fileVersion}`);
    const owner = { run: settings.run.runUrl, actor: settings.run.actor, since: new Date().toISOString(), operation: `deploy of ${settings.version}` };
    return await withLock(session.host, session.layout.lock, owner, settings.lock, reporter, () => new SwarmRun(session, settings, deps, fileVersion).run(started));
  } finally {
    await session.host.close();
  }
}

/** Refuses a host that is not a swarm manager; gives its Docker CLI's version. */
async function requireManager(host: RemoteHost): Promise<{ cliVersion: string }> {
  const { state, cliVersion } = parseNodeState((await host.run(swarmNodeState, { allowFailure: true })).stdout);
  if (state !== 'active true') {
    throw new OperationError(
      `${host.target.host} is not a Docker Swarm manager (docker info says '${state || 'no swarm'}'), which 'target: swarm' needs. ` +
        `Run 'docker swarm init' there, or point 'host' at a manager node.`,
    );
  }
  return { cliVersion };
}

async function dryRun(session: HostSession, settings: SwarmDeploySettings, reporter: Reporter, started: number): Promise<DeployResult> {
  const state = await readState(session);
  const id = nextReleaseId(state.releases, state.releaseDirs);
  const plan = describeSwarmPlan(settings, session.layout, id, state.current);
  await reporter.group('Dry run: the plan (nothing was changed)', async () => plan.forEach((line) => reporter.info(line)));
  return { releaseId: id, previousReleaseId: state.current, status: 'planned', images: {}, durationMs: performance.now() - started, error: undefined, gate: undefined, plan, strategy: 'swarm' };
}

/** One swarm deploy while it runs, under the lock. */
class SwarmRun {
  private readonly layout: AppLayout;
  private readonly stack: string;
  private id = '';
  private previousId: string | undefined;
  private record!: SwarmRecord;
  private gate: GateResult | undefined;
  /** Services of the stack before this deploy touched it, for `docker service rollback`. */
  private before: readonly string[] = [];
  /** From the stack deploy on, what runs may differ from the previous release. */
  private servicesChanged = false;

  constructor(
    private readonly session: HostSession,
    private readonly settings: SwarmDeploySettings,
    private readonly deps: DeployDependencies,
    /** The `version:` every file of the release carries, if one is needed (stackFileVersion). */
    private readonly fileVersion: string | undefined,
  ) {
    this.layout = session.layout;
    this.stack = settings.app;
  }

  /** The registry login, in this release's private `.docker` folder only while a stack deploy runs. */
  private loginHere(): SwarmLogin | undefined {
    return this.settings.registry && { configDir: dockerConfigDir(this.layout, this.id), registry: this.settings.registry };
  }

  private get host(): RemoteHost {
    return this.session.host;
  }

  async run(started: number): Promise<DeployResult> {
    const { reporter } = this.deps;
    const { settings } = this;
    const state = await readState(this.session);
    this.id = nextReleaseId(state.releases, state.releaseDirs);
    this.previousId = state.current;
    this.record = this.initialRecord();
    reporter.info(`release ${this.id} of ${settings.app} (version ${settings.version}) as swarm stack ${this.stack}; ${this.previousId ? `replacing release ${this.previousId}` : 'first release'}`);
    let where = '';
    const phase = (name: string, fn: () => Promise<void>): Promise<void> => {
      where = name;
      return reporter.group(name, fn);
    };
    try {
      await phase(`Upload release ${this.id}`, () => this.upload());
      if (settings.preDeploy !== '') await phase('Pre-deploy', () => this.hook(settings.preDeploy));
      await phase(`Deploy stack ${this.stack}`, () => this.deployStack());
      await phase('Wait for services', () => this.converge());
      if (settings.gate) await phase('Health gate', () => this.runGate());
      await phase(`Switch current to release ${this.id}`, () => this.switchCurrent());
      if (settings.postDeploy !== '') await phase('Post-deploy', () => this.hook(settings.postDeploy));
      await phase('Prune old releases', () => this.prune());
    } catch (error) {
      // Read why before the recovery puts the previous release back; a lost host or lock cannot be asked.
      const failure = error instanceof ConnectionLostError || error instanceof LockLostError ? undefined : await this.diagnose(error, where);
      const outcome = await reporter.group('Recover', () => this.recover(error));
      return { ...this.result(outcome.status, outcome.message, started), ...(failure ? { failure } : {}) };
    }
    return this.result('deployed', undefined, started);
  }

  private initialRecord(): SwarmRecord {
    return { ...startRecord(this.settings, { releaseId: this.id, previousId: this.previousId, startedAt: new Date().toISOString() }), target: 'swarm', stack: this.stack };
  }

  private async upload(): Promise<void> {
    const { settings } = this;
    const release = this.layout.release(this.id);
    const values = { VERSION: settings.version, ...settings.env };
    await this.host.run(createReleaseDir(this.layout, this.id));
    for (const file of settings.composeFiles) await this.host.writeFile(release.file(file.name), withFileVersion(file.content, this.fileVersion), 0o644);
    // .env as the compose target writes it (for hooks and people); the script is what stack deploy is run under.
    await this.host.writeFile(release.envFile, formatEnvFile(values), 0o600);
    await this.host.writeFile(release.file(ENV_SCRIPT), formatEnvScript(values), 0o600);
    const defaults = updateDefaults(settings.composeFiles);
    await this.host.writeFile(release.file(SWARM_FILE), swarmOverride(defaults, this.fileVersion), 0o644);
    for (const [service, update] of Object.entries(defaults)) {
      if (Object.keys(update).length > 0) this.deps.reporter.info(`${service}: update_config ${Object.entries(update).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    }
    await this.saveRecord();
    const reason = this.previousId ? `replacing ${this.previousId}` : 'first release';
    await this.host.run(appendLedger(this.layout, ledgerEvent(settings, this.id, 'started', { reason })));
  }

  private async hook(script: string): Promise<void> {
    await this.host.run(swarmHook(this.layout.release(this.id).dir, script, { id: this.id, version: this.settings.version, stack: this.stack }), { label: script });
  }

  /** Why the release failed: the failed command, the stack's services (their failed tasks and logs) once they changed, the gate. */
  private async diagnose(error: unknown, where: string): Promise<FailureReport> {
    const logLines = this.settings.failureLogLines;
    const readSuspects = this.servicesChanged ? () => readServiceSuspects(this.host, this.stack, logLines) : undefined;
    return diagnoseFailure(this.host, { where, error, gate: this.gate, logLines, ...(readSuspects ? { readSuspects } : {}) }, this.deps.reporter);
  }

  /** The stack deploy, logged in for its length only: the credentials are gone before the services are waited for and gated. */
  private async deployStack(): Promise<void> {
    const inspect = inspectStack(this.stack);
    this.before = parseStack(this.stack, inspect.sections.read((await this.host.run(inspect)).stdout)).map((s) => s.name);
    const stack = releaseStack(this.layout, this.stack, this.id, this.record.composeFiles, false);
    await withRegistryLogin(this.host, this.loginHere(), async (configDir) => {
      this.servicesChanged = true;
      await this.host.run(stackDeploy(stack, configDir));
    });
  }

  private async converge(): Promise<void> {
    const expected = Object.keys(updateDefaults(this.settings.composeFiles));
    const outcome = await waitForStack(this.host, this.stack, expected, this.settings.waitTimeoutMs, this.deps.reporter);
    if (!outcome.ok) throw new OperationError(`release ${this.id} (${this.settings.version}) did not converge: ${outcome.reason}`);
    // Pinned as soon as they run, so a rollback to this release later deploys exactly these digests.
    const images = stackImages(outcome.services);
    const unpinned = Object.entries(images).filter(([, ref]) => !ref.includes('@sha256:'));
    for (const [service, ref] of unpinned) this.deps.reporter.warning(`${service}: Swarm did not resolve ${ref} to a digest (registry unreachable?); a rollback to this release uses the tag.`);
    await this.host.writeFile(this.layout.release(this.id).imagesFile, imagesOverride(images, this.fileVersion), 0o644);
    this.record = { ...this.record, images };
    await this.saveRecord();
    for (const [service, ref] of Object.entries(images)) this.deps.reporter.info(`${service}: ${ref}`);
  }

  private async runGate(): Promise<void> {
    if (!this.deps.checkHealth) return;
    this.gate = await this.deps.checkHealth(this.host);
    if (!this.gate.healthy) {
      const g = this.gate;
      throw new OperationError(`${this.settings.version} failed its health gate (${g.successes}/${this.settings.gate?.successes} passing rounds in ${formatDuration(g.elapsedMs)}, last: ${g.reason})`);
    }
  }

  private async switchCurrent(): Promise<void> {
    await this.host.run(switchCurrent(this.layout, this.id));
    this.record = { ...this.record, status: 'deployed', finishedAt: new Date().toISOString() };
    await this.saveRecord();
    await this.host.run(appendLedger(this.layout, ledgerEvent(this.settings, this.id, 'deployed')));
  }

  private async prune(): Promise<void> {
    // Images stay: Swarm's nodes hold them, and its task history uses them.
    await pruneReleases(this.session, { releaseId: this.id, keep: this.settings.keepReleases, source: this.settings, images: false }, this.deps.reporter);
  }

  /** After a failure: put the previous release back where services changed, and record the outcome. Never throws. */
  private async recover(error: unknown): Promise<{ status: DeployStatus; message: string }> {
    const reason = errorMessage(error);
    this.deps.reporter.info(`release ${this.id} failed: ${reason}`);
    let status: DeployStatus = 'failed';
    let message: string;
    if (error instanceof LockLostError) {
      // Another run may be changing the stack: no rollback, no ledger event from this run.
      return { status, message: `${reason} Release ${this.id} was interrupted and nothing was rolled back: another run may be changing the host.` };
    }
    if (!this.servicesChanged) {
      message = `${reason}; nothing running was changed`;
    } else if (!this.settings.rollbackOnFailure) {
      message = `${reason}; 'rollback-on-failure' is false, so release ${this.id}'s services were left as they are for inspection`;
    } else {
      const outcome = await this.restorePrevious();
      if (outcome.restored) status = 'rolled-back';
      message = `${reason}; ${outcome.text}`;
    }
    this.record = { ...this.record, status: 'failed', reason: message, finishedAt: new Date().toISOString() };
    await this.saveRecord().catch(() => undefined);
    await this.host.run(appendLedger(this.layout, ledgerEvent(this.settings, this.id, 'failed', { reason: message }))).catch(() => undefined);
    return { status, message };
  }

  private async restorePrevious(): Promise<{ restored: boolean; text: string }> {
    const { reporter } = this.deps;
    try {
      const previous = this.previousId === undefined ? undefined : await this.readRecord(this.previousId);
      if (previous && isSwarmRecord(previous)) {
        const outcome = await restoreSwarm(this.host, this.layout, previous, this.settings.waitTimeoutMs, reporter, this.deps.checkHealth, this.loginHere());
        if (!outcome.ok) return { restored: false, text: `rolling back FAILED: release ${previous.id} (${previous.version}) did not converge: ${outcome.reason}` };
        // A failure after `current` switched (post-deploy) must not leave it naming the failed release.
        await this.host.run(switchCurrent(this.layout, previous.id));
        const health = outcome.healthy ? 'which is healthy' : `which is NOT healthy either (${outcome.gate?.reason || outcome.reason})`;
        return { restored: true, text: `rolled back to ${previous.version} (release ${previous.id}), ${health}` };
      }
      if (this.before.length > 0) return await this.swarmRollback(previous);
      const removed = await this.host.run(removeStack(this.stack)).then(
        () => 'its stack was removed',
        (error: Error) => `removing its stack FAILED too: ${error.message}`,
      );
      const nothing =
        this.previousId === undefined
          ? 'this was the first release'
          : `release ${this.previousId} ${previous ? 'was not deployed to a swarm' : "has no release.json"} and no stack ran before`;
      return { restored: false, text: `${nothing}, so there is nothing to roll back to: ${removed}` };
    } catch (error) {
      return { restored: false, text: `rolling back FAILED: ${errorMessage(error)}` };
    }
  }

  /** No swarm record of the previous release: each service that existed before goes back to its previous spec, Swarm's way. */
  private async swarmRollback(previous: ReleaseRecord | undefined): Promise<{ restored: boolean; text: string }> {
    const why = previous ? `release ${previous.id} was not deployed to a swarm` : 'there is no release record of what ran before';
    this.deps.reporter.info(`${why}: rolling back ${this.before.join(', ')} with 'docker service rollback'`);
    for (const service of this.before) await this.host.run(serviceRollback(service));
    const outcome = await waitForStack(this.host, this.stack, [], this.settings.waitTimeoutMs, this.deps.reporter, 'rollback');
    if (!outcome.ok) return { restored: false, text: `'docker service rollback' did not converge: ${outcome.reason}` };
    const gate = this.deps.checkHealth ? await this.deps.checkHealth(this.host) : undefined;
    const health = gate === undefined || gate.healthy ? 'which is healthy' : `which is NOT healthy either (${gate.reason})`;
    return { restored: true, text: `rolled back with 'docker service rollback' (${why}), ${health}` };
  }

  private async readRecord(id: string): Promise<ReleaseRecord | undefined> {
    const { stdout } = await this.host.run(readFile(this.layout.release(id).recordFile), { allowFailure: true });
    return parseRecord(stdout);
  }

  private async saveRecord(): Promise<void> {
    await this.host.writeFile(this.layout.release(this.id).recordFile, formatRecord(this.record), 0o644);
  }

  private result(status: DeployStatus, error: string | undefined, started: number): DeployResult {
    return {
      releaseId: this.id,
      previousReleaseId: this.previousId,
      status,
      images: this.record.images,
      durationMs: performance.now() - started,
      error,
      gate: this.gate,
      plan: [],
      strategy: 'swarm',
    };
  }
}
