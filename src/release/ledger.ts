import type { RunContext } from '../run-context.js';

/**
 * The ledger: an append-only JSON-lines file of release events on the host. A release's
 * status is its last event; nothing is ever rewritten, so the file is also the audit trail.
 * Pure: parsing and decisions only.
 */
export type LedgerEventName = 'started' | 'deployed' | 'failed' | 'rolled-back' | 'restored' | 'pruned';

export interface LedgerEvent {
  readonly release: string;
  readonly event: LedgerEventName;
  readonly at: string;
  readonly version?: string;
  readonly actor?: string;
  readonly run?: string;
  readonly reason?: string;
  /** For `restored`: the release it replaced. */
  readonly from?: string;
}

/** An event of `release` by this run, stamped now. */
export function ledgerEvent(
  source: { readonly version: string; readonly run: Pick<RunContext, 'actor' | 'runUrl'> },
  release: string,
  event: LedgerEventName,
  extra: Partial<LedgerEvent> = {},
): LedgerEvent {
  return { release, event, at: new Date().toISOString(), version: source.version, actor: source.run.actor, run: source.run.runUrl, ...extra };
}

/**
 * `interrupted`: the release's last event is `started`, yet a later event of another release
 * follows it (a newer deploy or a rollback took the lock), so its run is over without having
 * recorded an outcome: it lost its connection or was cancelled. Like `failed`, it is never a
 * rollback target and does not count towards `keep-releases`.
 */
export type ReleaseStatus = 'deploying' | 'deployed' | 'failed' | 'rolled-back' | 'pruned' | 'interrupted';

export interface ReleaseSummary {
  readonly id: string;
  readonly version: string;
  readonly status: ReleaseStatus;
  /** Passed its checks at least once (deployed or restored). */
  readonly wasHealthy: boolean;
  readonly events: readonly LedgerEvent[];
}

const STATUS_OF: Record<LedgerEventName, ReleaseStatus> = {
  started: 'deploying',
  deployed: 'deployed',
  restored: 'deployed',
  failed: 'failed',
  'rolled-back': 'rolled-back',
  pruned: 'pruned',
};

export function parseLedger(text: string): LedgerEvent[] {
  const events: LedgerEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const event = JSON.parse(line) as LedgerEvent;
      if (typeof event.release === 'string' && event.event in STATUS_OF) events.push(event);
    } catch {
      // A torn last line (a host that lost power mid-append) is skipped, not fatal.
    }
  }
  return events;
}

export const compareIds = (a: string, b: string): number => Number(a) - Number(b);

export function summarize(events: readonly LedgerEvent[]): ReleaseSummary[] {
  const byId = new Map<string, LedgerEvent[]>();
  const lastIndex = new Map<string, number>();
  events.forEach((event, index) => {
    byId.set(event.release, [...(byId.get(event.release) ?? []), event]);
    lastIndex.set(event.release, index);
  });
  const interrupted = (id: string, last: LedgerEvent) => last.event === 'started' && events.slice(lastIndex.get(id)! + 1).some((e) => e.release !== id);
  return [...byId.entries()]
    .map(([id, list]) => {
      const last = list[list.length - 1]!;
      return {
        id,
        version: list.find((e) => e.version !== undefined)?.version ?? '',
        status: interrupted(id, last) ? 'interrupted' : STATUS_OF[last.event],
        wasHealthy: list.some((e) => e.event === 'deployed' || e.event === 'restored'),
        events: list,
      };
    })
    .sort((a, b) => compareIds(a.id, b.id));
}

/** Release ids are whole numbers, one more than the highest the host has seen. */
export function nextReleaseId(summaries: readonly ReleaseSummary[], releaseDirs: readonly string[]): string {
  const seen = [...summaries.map((s) => s.id), ...releaseDirs].map(Number).filter(Number.isSafeInteger);
  return String(Math.max(0, ...seen) + 1);
}

/** The newest release before `current` that is in good standing, for `to: previous`. */
export function previousGood(summaries: readonly ReleaseSummary[], current: string | undefined): ReleaseSummary | undefined {
  return [...summaries]
    .reverse()
    .find((s) => (current === undefined || compareIds(s.id, current) < 0) && s.status === 'deployed' && s.wasHealthy);
}

/**
 * Which releases to prune: keep the newest `keep` releases that ever passed their checks,
 * the active one and the `protect` list (the release being deployed, the one rolled back
 * to). Failed releases do not count towards `keep`, so a run of failed deploys cannot push
 * out the good releases a rollback needs; a failed release stays for inspection until the
 * next successful deploy prunes it.
 */
export function releasesToPrune(existing: readonly string[], keep: number, protect: readonly (string | undefined)[], summaries: readonly ReleaseSummary[] = []): string[] {
  const healthy = new Set(summaries.filter((s) => s.wasHealthy).map((s) => s.id));
  const known = new Set(summaries.map((s) => s.id));
  const newestFirst = [...existing].sort(compareIds).reverse();
  // Without a ledger entry a release counts as good: better kept than lost.
  const kept = new Set(newestFirst.filter((id) => healthy.has(id) || !known.has(id)).slice(0, keep));
  return newestFirst.filter((id) => !kept.has(id) && !protect.includes(id)).sort(compareIds);
}
