import { OperationError, ReportedFailure } from '../errors.js';
import { diagnoseFailure, readServiceSuspects } from '../failure/diagnose.js';
import type { ReleaseRecord } from '../release/record.js';
import { isSwarmRecord } from '../swarm/record.js';
import type { FailureReport } from '../failure/report.js';
import { colorProjectName } from '../strategy/colors.js';
import type { HealthCheck } from '../health/types.js';
import { appendLedger, switchCurrent } from '../release/commands.js';
import { LedgerEvent } from '../release/ledger.js';
import { withLock } from '../release/lock-session.js';
import { restoreRelease } from '../recovery/restore-release.js';
import type { RestoreOutcome } from '../release/activate.js';
import { AppSession, openAppSession, readRecords, readState, recordedProject } from '../release/session.js';
import { AppState, parseAppState, readAppState } from '../release/state.js';
import { allOf } from '../shell/quote.js';
import { Reporter } from '../report.js';
import type { SshSettings } from '../ssh/settings.js';
import type { RunContext } from '../run-context.js';
import { chooseRollbackTarget, interruptedAfter } from './target.js';

export interface RollbackSettings {
  readonly ssh: SshSettings;
  readonly app: string;
  readonly deployPath: string;
  readonly to: string;
  readonly reason: string;
  readonly waitTimeoutMs: number;
  /** `failure-log-lines`: each failed container's last log lines in a failure report (0: none). */
  readonly failureLogLines: number;
  readonly lock: { readonly timeoutMs: number; readonly staleAfterMs: number; readonly breakStale: boolean };
  readonly run: RunContext;
}

export interface RollbackResult {
  readonly releaseId: string;
  readonly version: string;
  readonly rolledBackFrom: string;
  readonly healthy: boolean;
  readonly restore: RestoreOutcome;
  /** Why the restored release is not healthy, read before anything else changed. */
  readonly failure?: FailureReport;
}

/** Puts an earlier release back exactly as it was deployed, under the deploy lock. */
export async function rollback(settings: RollbackSettings, reporter: Reporter, checkHealth?: HealthCheck): Promise<RollbackResult> {
  const session = await openAppSession(settings.ssh, settings.app, settings.deployPath, reporter);
  try {
    const owner = { run: settings.run.runUrl, actor: settings.run.actor, since: new Date().toISOString(), operation: `rollback to ${settings.to}` };
    // The state is read in the round trip that takes the lock.
    const state = readAppState(session.layout);
    return await withLock(session.host, session.layout.lock, owner, settings.lock, reporter, (read) => rollbackLocked(session, settings, reporter, checkHealth, parseAppState(state.sections.read(read))), state);
  } finally {
    await session.host.close();
  }
}

/** Why a restored release is not healthy: its containers (or its stack's services) and its gate, read before anything else changes. */
function diagnoseRestore(session: AppSession, record: ReleaseRecord, restore: RestoreOutcome, logLines: number, reporter: Reporter): Promise<FailureReport> {
  const context = { where: `Restore release ${record.id}`, error: undefined, gate: restore.gate, logLines };
  if (isSwarmRecord(record)) return diagnoseFailure(session.host, { ...context, readSuspects: () => readServiceSuspects(session.host, record.stack, logLines) }, reporter);
  const project = record.strategy === 'blue-green' && record.color ? colorProjectName(record.app, record.color) : recordedProject(session, record).name;
  return diagnoseFailure(session.host, { ...context, containers: { project } }, reporter);
}

/** Rolls back one connected host whose lock this run holds. */
export async function rollbackLocked(
  session: AppSession,
  settings: RollbackSettings,
  reporter: Reporter,
  checkHealth?: HealthCheck,
  /** The host's state, when read with the lock. */
  known?: AppState,
): Promise<RollbackResult> {
  const state = known ?? (await readState(session));
  const target = chooseRollbackTarget(state, settings.to, settings.app);
  // Back from an interrupted deploy to `current` itself: the interrupted release is what is rolled back.
  const from = target.id === state.current ? interruptedAfter(state, state.current)!.id : state.current!;
  const records = await readRecords(session, [target.id, from]);
  const record = records.get(target.id);
  if (!record) throw new OperationError(`Release ${target.id}'s release.json is missing on the host; it cannot be restored exactly.`);
  reporter.info(`rolling back ${settings.app} from release ${from} to release ${target.id} (${target.version})${settings.reason ? `: ${settings.reason}` : ''}`);

  const restore = await reporter.group(`Restore release ${target.id}`, () => restoreRelease(session, record, settings.waitTimeoutMs, reporter, checkHealth));
  const event = (release: string, name: LedgerEvent['event'], extra: Partial<LedgerEvent>): LedgerEvent => ({
    release, event: name, at: new Date().toISOString(), actor: settings.run.actor, run: settings.run.runUrl, ...extra,
  });
  // Why the restored release is not healthy, read before its containers are replaced again.
  const failure = restore.healthy ? undefined : await diagnoseRestore(session, record, restore, settings.failureLogLines, reporter);
  if (!restore.ok) {
    const former = records.get(from);
    if (former) await reporter.group(`Put release ${from} back`, () => restoreRelease(session, former, settings.waitTimeoutMs, reporter));
    const message = `Rollback to release ${target.id} (${target.version}) failed: ${restore.reason}. Release ${from} was started again and stays active.`;
    throw failure ? new ReportedFailure(message, failure) : new OperationError(message);
  }
  await reporter.group(`Switch current to release ${target.id}`, async () => {
    const reason = settings.reason || `rolled back to release ${target.id}`;
    // One round trip: the switch and both ledger events.
    await session.host.run(
      allOf(
        switchCurrent(session.layout, target.id),
        appendLedger(session.layout, event(from, 'rolled-back', { version: records.get(from)?.version ?? '', reason })),
        appendLedger(session.layout, event(target.id, 'restored', { version: target.version, from, reason })),
      ),
    );
  });
  return { releaseId: target.id, version: target.version, rolledBackFrom: from, healthy: restore.healthy, restore, ...(failure ? { failure } : {}) };
}
