import { OperationError } from '../errors.js';
import { dockerConfigDir } from '../release/commands.js';
import { nextReleaseId } from '../release/ledger.js';
import { withLock } from '../release/lock-session.js';
import { HostSession, openHostSession, readState } from '../release/session.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { parseNodeState, swarmNodeState } from '../swarm/commands.js';
import { checkSwarmFileNames, stackFileVersion, updateDefaults } from '../swarm/stack.js';
import { describePlan } from './plan.js';
import type { DeployDependencies, DeployResult } from './result.js';
import { DeployRun, runPhases } from './runner.js';
import type { SwarmDeploySettings } from './settings.js';
import type { StackTarget } from './steps.js';
import { describeStackRecovery, initialStackRecord, planSwarm } from './swarm-plan.js';

/**
 * Deploys one release to a Docker Swarm manager as a stack (`target: swarm`), with the same
 * release folders, ledger, `current` link, deploy lock, runner and recovery as the compose
 * target (the plan: src/deploy/swarm-plan.ts). When anything from the stack deploy on fails,
 * the previous release is deployed again from its folder and pinned digests; without a
 * record of it, each service that existed before gets `docker service rollback`.
 */
export async function deploySwarm(settings: SwarmDeploySettings, deps: DeployDependencies): Promise<DeployResult> {
  const started = performance.now();
  checkSwarmFileNames(settings.composeFiles.map((f) => f.name));
  const { reporter } = deps;
  const session = await openHostSession(settings.ssh, settings.app, settings.deployPath, reporter, deps.observe);
  try {
    const { cliVersion } = await requireManager(session.host);
    const fileVersion = stackFileVersion(settings.composeVersion, cliVersion);
    if (settings.dryRun) return await dryRun(session, settings, fileVersion, reporter, started);
    if (fileVersion !== settings.composeVersion) reporter.info(`docker ${cliVersion} on ${session.host.target.host}: its stack deploy needs a Compose file version, so the release's files carry version ${fileVersion}`);
    const owner = { run: settings.run.runUrl, actor: settings.run.actor, since: new Date().toISOString(), operation: `deploy of ${settings.version}` };
    return await withLock(session.host, session.layout.lock, owner, settings.lock, reporter, async () => {
      const target = await stackTarget(session, settings, fileVersion);
      reporter.info(`release ${target.releaseId} of ${settings.app} (version ${settings.version}) as swarm stack ${target.stack}; ${target.previousId ? `replacing release ${target.previousId}` : 'first release'}`);
      for (const [service, update] of Object.entries(updateDefaults(settings.composeFiles))) {
        if (Object.keys(update).length > 0) reporter.info(`${service}: update_config ${Object.entries(update).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
      }
      const run = new DeployRun({ kind: 'swarm', session, settings, target }, deps, initialStackRecord(settings, target));
      return runPhases(run, planSwarm(settings, target), reporter, started);
    });
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

async function stackTarget(session: HostSession, settings: SwarmDeploySettings, fileVersion: string | undefined): Promise<StackTarget> {
  const state = await readState(session);
  const releaseId = nextReleaseId(state.releases, state.releaseDirs);
  return {
    layout: session.layout,
    releaseId,
    previousId: state.current,
    releaseDirs: state.releaseDirs,
    startedAt: new Date().toISOString(),
    stack: settings.app,
    fileVersion,
    ...(settings.registry ? { login: { configDir: dockerConfigDir(session.layout, releaseId), registry: settings.registry } } : {}),
  };
}

/** Prints the plan the runner would run, and changes nothing. */
async function dryRun(session: HostSession, settings: SwarmDeploySettings, fileVersion: string | undefined, reporter: Reporter, started: number): Promise<DeployResult> {
  const target = await stackTarget(session, settings, fileVersion);
  const plan = [...describePlan(planSwarm(settings, target), settings), describeStackRecovery(target)];
  await reporter.group('Dry run: the plan (nothing was changed)', async () => plan.forEach((line) => reporter.info(line)));
  return { releaseId: target.releaseId, previousReleaseId: target.previousId, status: 'planned', images: {}, durationMs: performance.now() - started, error: undefined, gate: undefined, plan, strategy: 'swarm' };
}
