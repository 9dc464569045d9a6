import type { StrategyRecord } from '../strategy/types.js';
import type { ReleaseSettings } from '../deploy/settings.js';
import type { ReleaseStatus } from './ledger.js';

/** `release.json`: the facts of one release, written beside its files on the host. */
export interface ReleaseRecord extends StrategyRecord {
  readonly id: string;
  readonly app: string;
  readonly version: string;
  readonly commit: string;
  readonly composeFiles: readonly string[];
  /** service -> pinned image reference (`repo@sha256:...`, or an image id for local builds). */
  readonly images: Readonly<Record<string, string>>;
  /** service -> local image id, so pruning can tell which images kept releases still use. */
  readonly imageIds: Readonly<Record<string, string>>;
  readonly previous: string | undefined;
  readonly actor: string;
  readonly run: string;
  readonly createdAt: string;
  readonly finishedAt?: string;
  readonly status: ReleaseStatus;
  readonly reason?: string;
}

export function formatRecord(record: ReleaseRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

export function parseRecord(text: string): ReleaseRecord | undefined {
  try {
    const record = JSON.parse(text) as ReleaseRecord;
    return typeof record.id === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** What every release.json starts with, whatever the target (a compose deploy adds its strategy's fields, a Swarm deploy its stack). */
export function startRecord(
  release: Pick<ReleaseSettings, 'app' | 'version' | 'run' | 'composeFiles'>,
  at: { readonly releaseId: string; readonly previousId: string | undefined; readonly startedAt: string },
): ReleaseRecord {
  return {
    id: at.releaseId,
    app: release.app,
    version: release.version,
    commit: release.run.commit,
    composeFiles: release.composeFiles.map((f) => f.name),
    images: {},
    imageIds: {},
    previous: at.previousId,
    actor: release.run.actor,
    run: release.run.runUrl,
    createdAt: at.startedAt,
    status: 'deploying',
  };
}
