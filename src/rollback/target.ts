import { OperationError } from '../errors.js';
import { isReleaseId } from '../inputs/names.js';
import { ReleaseSummary, previousGood } from '../release/ledger.js';
import { AppState } from '../release/state.js';

/**
 * Which release `to` names: `previous` (the newest healthy release before the active one),
 * a release id, or a version (its newest release still on the host). Pure; errors say what to do.
 */
export function chooseRollbackTarget(state: AppState, to: string, app: string): ReleaseSummary {
  const current = state.current;
  if (current === undefined) throw new OperationError(`${app} has no active release on this host, so there is nothing to roll back. Deploy it first.`);
  const onHost = (r: ReleaseSummary) => state.releaseDirs.includes(r.id);
  const listing = state.releases.filter(onHost).map((r) => `${r.id} (${r.version}, ${r.status})`).join(', ');
  let target: ReleaseSummary | undefined;
  const stranded = interruptedAfter(state, current);
  if (stranded && (to === 'previous' || to === current)) {
    // A deploy newer than `current` was interrupted (under this lock no deploy runs, so a newest
    // release with no outcome is a dead run's): its containers may be running while `current`
    // names this release. Putting `current` back is the rollback the user asks for.
    const active = state.releases.find((r) => r.id === current);
    if (active && onHost(active)) return active;
  }
  if (to === 'previous') {
    target = previousGood(state.releases.filter(onHost), current);
    if (!target) throw new OperationError(`${app} has no earlier healthy release before release ${current} to roll back to. Releases on the host: ${listing || 'none'}.`);
  } else {
    target = isReleaseId(to) ? state.releases.find((r) => r.id === to) : undefined;
    target ??= [...state.releases].reverse().find((r) => r.version === to && onHost(r)) ?? [...state.releases].reverse().find((r) => r.version === to);
    if (!target) throw new OperationError(`${app} has no release or version '${to}'. Releases on the host: ${listing || 'none'}.`);
    if (!onHost(target)) {
      throw new OperationError(`Release ${target.id} (${target.version}) of ${app} was pruned ('keep-releases'), so its files and images are gone. Deploy ${target.version} again instead. Releases on the host: ${listing}.`);
    }
  }
  if (target.id === current) throw new OperationError(`Release ${current} (${target.version}) is already the active release of ${app}.`);
  return target;
}

/** The newest release, when it is newer than `current` and its deploy ended without an outcome (the run died). */
export function interruptedAfter(state: AppState, current: string): ReleaseSummary | undefined {
  const newest = state.releases.at(-1);
  return newest && Number(newest.id) > Number(current) && (newest.status === 'deploying' || newest.status === 'interrupted') ? newest : undefined;
}
