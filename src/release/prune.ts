import { Reporter } from '../report.js';
import { allOf } from '../shell/quote.js';
import { appendLedger, removeImages, removeReleases } from './commands.js';
import { compareIds, ledgerEvent, releasesToPrune } from './ledger.js';
import { AppSession, readRecords, readState } from './session.js';

/** What pruning after a deploy needs to know besides the host. */
export interface PruneRequest {
  /** The release this run deployed: never pruned. */
  readonly releaseId: string;
  /** How many release folders to keep. */
  readonly keep: number;
  /** Who prunes, for the `pruned` ledger events. */
  readonly source: Parameters<typeof ledgerEvent>[0];
  /** Also remove the images that only pruned releases used (compose: the host holds them; Swarm's nodes hold theirs). */
  readonly images: boolean;
  /**
   * The release folders read with the lock at the start of the run. Under the lock nothing
   * else adds releases, so when these plus this one are within `keep`, the host is not read again.
   */
  readonly knownDirs?: readonly string[];
}

/**
 * Removes the oldest releases beyond `keep` (never this run's, never `current`'s), with their
 * `pruned` ledger events, in one round trip.
 */
export async function pruneReleases(session: Pick<AppSession, 'host' | 'layout'>, request: PruneRequest, reporter: Reporter): Promise<void> {
  const { releaseId, keep } = request;
  const known = new Set([...(request.knownDirs ?? []), releaseId]);
  if (request.knownDirs && known.size <= keep) {
    reporter.info(`nothing to prune (${known.size} releases, keeping ${keep})`);
    return;
  }
  const state = await readState(session);
  const doomed = releasesToPrune(state.releaseDirs, keep, [releaseId, state.current], state.releases);
  if (doomed.length === 0) {
    reporter.info(`nothing to prune (${state.releaseDirs.length} releases, keeping ${keep})`);
    return;
  }
  const kept = state.releaseDirs.filter((id) => !doomed.includes(id)).sort(compareIds);
  const versions = new Map(state.releases.map((r) => [r.id, r.version]));
  let unused: string[] = [];
  if (request.images) {
    const records = await readRecords(session, state.releaseDirs);
    const keptImages = new Set(kept.flatMap((id) => Object.values(records.get(id)?.imageIds ?? {})));
    unused = [...new Set(doomed.flatMap((id) => Object.values(records.get(id)?.imageIds ?? {})))].filter((image) => !keptImages.has(image));
  }
  await session.host.run(
    allOf(
      removeReleases(session.layout, doomed),
      ...(unused.length > 0 ? [removeImages(unused)] : []),
      ...doomed.map((id) => appendLedger(session.layout, ledgerEvent(request.source, id, 'pruned', { version: versions.get(id) ?? '' }))),
    ),
  );
  const images = request.images ? ` and ${unused.length} image(s) no kept release uses` : '';
  reporter.info(`pruned releases ${doomed.join(', ')}${images}; kept ${kept.join(', ')}`);
}
