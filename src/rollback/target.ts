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
