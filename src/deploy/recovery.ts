import { ConnectionLostError, errorMessage } from '../errors.js';
import { switchCurrent, stopContainers } from '../release/commands.js';
import { LockLostError } from '../release/lock-session.js';
import { ReleaseRecord } from '../release/record.js';
import { AppSession, readRecords } from '../release/session.js';
import { restoreRelease } from '../recovery/restore-release.js';
import { colorProjectName } from '../strategy/colors.js';
import { releaseProject } from './plan.js';
import type { DeployDependencies, DeployStatus } from './result.js';
import { ComposeDeploySettings } from './settings.js';
import type { DeployTarget } from './steps.js';

/** A release whose deploy failed, as the runner left it. */
export interface FailedRelease {
  readonly session: AppSession;
  readonly settings: ComposeDeploySettings;
  readonly target: DeployTarget;
  readonly record: ReleaseRecord;
  /** Undo steps ran (blue-green: the idle colour was removed before traffic moved). */
  readonly undone: boolean;
  /** A phase that changes what serves had begun. */
  readonly containersChanged: boolean;
}

export interface Recovery {
  readonly status: DeployStatus;
  /** The run's one error line: what failed, then what was done about it. */
  readonly message: string;
  /** Whether the outcome can and should be recorded on the host (not when the connection or the lock is gone). */
  readonly record: boolean;
}

/**
 * After a failure: the previous release started again where containers changed and
 * `rollback-on-failure` asks for it (a first release's containers are stopped instead), and
 * the story of what happened. Never throws: a failed restore is part of the story.
 */
export async function recoverFrom(error: unknown, failed: FailedRelease, deps: Pick<DeployDependencies, 'reporter' | 'checkHealth'>): Promise<Recovery> {
  const { reporter } = deps;
  const { settings, target, record, containersChanged } = failed;
  const id = target.releaseId;
  const reason = errorMessage(error);
  reporter.info(`release ${id} failed: ${reason}`);
  if (error instanceof ConnectionLostError) {
    // Nothing more can reach the host: say what to do instead of a chain of failed recovery steps.
    const when = containersChanged ? 'after its containers changed' : 'before any container changed';
    return { status: 'failed', record: false, message: `${reason}; release ${id} was interrupted ${when}, and the lock stays until it is stale: check the host before the next deploy (docs/troubleshooting.md#an-interrupted-deploy)` };
  }
  if (error instanceof LockLostError) {
    // Another run may be changing the host: no rollback, no ledger event from this run.
    return { status: 'failed', record: false, message: `${reason} Release ${id} was interrupted and nothing was rolled back: another run may be changing the host.` };
  }
  if (containersChanged && settings.rollbackOnFailure) {
    if (target.previousId === undefined) {
      const name = record.color ? colorProjectName(settings.app, record.color) : settings.app;
      const stopped = await failed.session.host
        .run(stopContainers(releaseProject({ variant: failed.session.compose, name }, target.layout, id, record.composeFiles, true)))
        .then(() => 'its containers were stopped', (e: Error) => `stopping its containers FAILED too: ${e.message}`);
      return { status: 'failed', record: true, message: `${reason}; this was the first release, so there is nothing to roll back to: ${stopped}` };
    }
    const outcome = await restorePrevious(failed.session, target, settings, deps);
    return outcome.restored
      ? { status: 'rolled-back', record: true, message: `${reason}; rolled back to ${outcome.text}` }
      : { status: 'failed', record: true, message: `${reason}; rolling back FAILED: ${outcome.text}` };
  }
  if (containersChanged) return { status: 'failed', record: true, message: `${reason}; 'rollback-on-failure' is false, so release ${id}'s containers were left running for inspection` };
  if (failed.undone && record.color) {
    return { status: 'failed', record: true, message: `${reason}; traffic never moved: ${record.color} (release ${id}) was removed and the previous release keeps serving` };
  }
  return { status: 'failed', record: true, message: `${reason}; nothing running was changed` };
}

/** Starts the previous release again and points `current` back at it. Never throws. */
async function restorePrevious(session: AppSession, target: DeployTarget, settings: ComposeDeploySettings, deps: Pick<DeployDependencies, 'reporter' | 'checkHealth'>): Promise<{ restored: boolean; text: string }> {
  const previousId = target.previousId!;
  try {
    const previous = (await readRecords(session, [previousId])).get(previousId);
    if (!previous) return { restored: false, text: `release ${previousId}'s release.json is missing on the host` };
    const outcome = await restoreRelease(session, previous, settings.waitTimeoutMs, deps.reporter, deps.checkHealth);
    if (!outcome.ok) return { restored: false, text: `release ${previousId} (${previous.version}) did not come up: ${outcome.reason}` };
    // A failure after `current` switched (post-deploy) must not leave it naming the failed release.
    await session.host.run(switchCurrent(target.layout, previousId));
    const health = outcome.healthy ? 'which is healthy' : `which is NOT healthy either (${outcome.gate?.reason || outcome.reason})`;
    return { restored: true, text: `${previous.version} (release ${previous.id}), ${health}` };
  } catch (error) {
    return { restored: false, text: `release ${previousId} could not be started: ${errorMessage(error)}` };
  }
}
