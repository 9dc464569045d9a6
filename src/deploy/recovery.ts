import { ConnectionLostError, errorMessage } from '../errors.js';
import { switchCurrent, stopContainers } from '../release/commands.js';
import { LockLostError } from '../release/lock-session.js';
import { ReleaseRecord } from '../release/record.js';
import { readRecords } from '../release/session.js';
import { restoreRelease } from '../recovery/restore-release.js';
import { colorProjectName } from '../strategy/colors.js';
import { releaseProject } from './plan.js';
import type { DeployDependencies, DeployStatus } from './result.js';
import type { HostDeploy } from './runner.js';
import { putBackStack } from './stack-recovery.js';

/** A release whose deploy failed, as the runner left it. */
export interface FailedRelease {
  readonly deploy: HostDeploy;
  readonly record: ReleaseRecord;
  /** Undo steps ran (blue-green: the idle colour was removed before traffic moved). */
  readonly undone: boolean;
  /** A phase or step that changes what serves had begun. */
  readonly containersChanged: boolean;
  /** Swarm: the stack's services before the deploy, for `docker service rollback`. */
  readonly servicesBefore: readonly string[];
}

export interface Recovery {
  readonly status: DeployStatus;
  /** The run's one error line: what failed, then what was done about it. */
  readonly message: string;
  /** Whether the outcome can and should be recorded on the host (not when the connection or the lock is gone). */
  readonly record: boolean;
}

/** What putting the previous release back came to: the words after the failure's reason. */
export interface PutBack {
  readonly restored: boolean;
  readonly text: string;
}

type RecoveryDependencies = Pick<DeployDependencies, 'reporter' | 'checkHealth'>;

/**
 * After a failure: the previous release put back where what runs changed and
 * `rollback-on-failure` asks for it (a compose project's previous release started again, a
 * stack deployed again; a first release's containers stopped, its stack removed), and the
 * story of what happened. Never throws: a failed restore is part of the story.
 */
export async function recoverFrom(error: unknown, failed: FailedRelease, deps: RecoveryDependencies): Promise<Recovery> {
  const { reporter } = deps;
  const { deploy, record, containersChanged } = failed;
  const id = deploy.target.releaseId;
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
  if (containersChanged && deploy.settings.rollbackOnFailure) {
    const back = deploy.kind === 'swarm' ? await putBackStack(deploy, failed.servicesBefore, deps) : await putBackCompose(deploy, record, deps);
    return { status: back.restored ? 'rolled-back' : 'failed', record: true, message: `${reason}; ${back.text}` };
  }
  if (containersChanged) {
    const left = deploy.kind === 'swarm' ? 'services were left as they are' : 'containers were left running';
    return { status: 'failed', record: true, message: `${reason}; 'rollback-on-failure' is false, so release ${id}'s ${left} for inspection` };
  }
  if (failed.undone && record.color) {
    return { status: 'failed', record: true, message: `${reason}; traffic never moved: ${record.color} (release ${id}) was removed and the previous release keeps serving` };
  }
  return { status: 'failed', record: true, message: `${reason}; nothing running was changed` };
}

/** A compose release: the previous one started again and `current` pointed back at it; a first release's containers stopped. */
async function putBackCompose(deploy: Extract<HostDeploy, { kind: 'compose' }>, record: ReleaseRecord, deps: RecoveryDependencies): Promise<PutBack> {
  const { session, settings, target } = deploy;
  const id = target.releaseId;
  if (target.previousId === undefined) {
    const name = record.color ? colorProjectName(settings.app, record.color) : settings.app;
    const stopped = await session.host
      .run(stopContainers(releaseProject({ variant: session.compose, name }, target.layout, id, record.composeFiles, true)))
      .then(() => 'its containers were stopped', (e: Error) => `stopping its containers FAILED too: ${e.message}`);
    return { restored: false, text: `this was the first release, so there is nothing to roll back to: ${stopped}` };
  }
  const previousId = target.previousId;
  try {
    const previous = (await readRecords(session, [previousId])).get(previousId);
    if (!previous) return { restored: false, text: `rolling back FAILED: release ${previousId}'s release.json is missing on the host` };
    const outcome = await restoreRelease(session, previous, settings.waitTimeoutMs, deps.reporter, deps.checkHealth);
    if (!outcome.ok) return { restored: false, text: `rolling back FAILED: release ${previousId} (${previous.version}) did not come up: ${outcome.reason}` };
    // A failure after `current` switched (post-deploy) must not leave it naming the failed release.
    await session.host.run(switchCurrent(target.layout, previousId));
    const health = outcome.healthy ? 'which is healthy' : `which is NOT healthy either (${outcome.gate?.reason || outcome.reason})`;
    return { restored: true, text: `rolled back to ${previous.version} (release ${previous.id}), ${health}` };
  } catch (error) {
    return { restored: false, text: `rolling back FAILED: release ${previousId} could not be started: ${errorMessage(error)}` };
  }
}
