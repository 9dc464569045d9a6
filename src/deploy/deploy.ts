import { nextReleaseId } from '../release/ledger.js';
import { withLock } from '../release/lock-session.js';
import { AppSession, openAppSession, readState } from '../release/session.js';
import { AppState, parseAppState, readAppState } from '../release/state.js';
import { Reporter } from '../report.js';
import { parseColor, readActiveColor } from '../strategy/colors.js';
import { describePlan, initialRecord, planDeploy, releaseProject } from './plan.js';
import type { DeployDependencies, DeployResult, SharedRelease } from './result.js';
import { DeployRun, runPhases } from './runner.js';
import { ComposeDeploySettings } from './settings.js';
import type { DeployTarget } from './steps.js';

/** Deploys one release to one host: the whole story from connect to unlock. */
export async function deploy(settings: ComposeDeploySettings, deps: DeployDependencies): Promise<DeployResult> {
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

async function target(session: AppSession, settings: ComposeDeploySettings, shared?: SharedRelease, known?: AppState): Promise<DeployTarget> {
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
export async function dryRun(session: AppSession, settings: ComposeDeploySettings, reporter: Reporter, started = performance.now(), shared?: SharedRelease): Promise<DeployResult> {
  const t = await target(session, settings, shared);
  const plan = describePlan(planDeploy(settings, t), settings);
  await reporter.group('Dry run: the plan (nothing was changed)', async () => plan.forEach((line) => reporter.info(line)));
  return { releaseId: t.releaseId, previousReleaseId: t.previousId, status: 'planned', images: {}, durationMs: performance.now() - started, error: undefined, gate: undefined, plan };
}

/** Deploys to one connected host whose lock this run holds: upload to prune, recovering from a failure on the way. */
export async function deployLocked(
  session: AppSession,
  settings: ComposeDeploySettings,
  deps: DeployDependencies,
  started = performance.now(),
  shared?: SharedRelease,
  /** The host's state, when read with the lock. */
  state?: AppState,
): Promise<DeployResult> {
  const t = await target(session, settings, shared, state);
  deps.reporter.info(`release ${t.releaseId} of ${settings.app} (version ${settings.version}); ${t.previousId ? `replacing release ${t.previousId}` : 'first release'}`);
  const run = new DeployRun({ kind: 'compose', session, settings, target: t }, deps, initialRecord(settings, t));
  return runPhases(run, planDeploy(settings, t), deps.reporter, started);
}
