import { ReportedFailure, errorMessage } from '../errors.js';
import type { FailureReport } from '../failure/report.js';
import type { HealthCheck } from '../health/types.js';
import { RollbackResult, RollbackSettings, rollbackLocked } from '../rollback/rollback.js';
import { Reporter, labelledReporter } from '../report.js';
import type { SshSettings } from '../ssh/settings.js';
import { batches } from './batches.js';
import { connectAll, lockAll } from './hosts.js';

export interface HostRollback {
  readonly host: string;
  /** Undefined when the host was not reached: an earlier batch failed. */
  readonly result: RollbackResult | undefined;
  readonly error: string | undefined;
  /** Why the release restored here is not healthy, when it is not and the host could be asked. */
  readonly failure?: FailureReport | undefined;
}

export interface FleetRollbackResult {
  readonly hosts: readonly HostRollback[];
  /** Every host rolled back and healthy. */
  readonly ok: boolean;
  /** One line naming every host that did not end where it was asked to; undefined when ok. */
  readonly error: string | undefined;
}


/**
 * Rolls several hosts back: all connected and locked first, then `parallel` at a time. A
 * host that fails stops the next batch; hosts already rolled back stay rolled back (the
 * release they left is the one being taken away).
 */
export async function rollbackFleet(
  settings: RollbackSettings,
  hosts: readonly SshSettings[],
  parallel: number,
  reporter: Reporter,
  checkHealthWith?: (reporter: Reporter) => HealthCheck,
): Promise<FleetRollbackResult> {
  const fleet = await connectAll(hosts, settings, reporter);
  try {
    const owner = { run: settings.run.runUrl, actor: settings.run.actor, since: new Date().toISOString(), operation: `rollback to ${settings.to}` };
    const locks = await lockAll(fleet, owner, settings.lock, reporter);
    try {
      const outcomes = new Map<string, HostRollback>();
      const groups = batches(fleet, parallel);
      for (const [index, batch] of groups.entries()) {
        await reporter.group(`Roll back ${batch.map((h) => h.label).join(', ')} (batch ${index + 1} of ${groups.length})`, () =>
          Promise.all(
            batch.map(async (h) => {
              const hostReporter = labelledReporter(reporter, h.label);
              try {
                const result = await rollbackLocked(h.session, { ...settings, ssh: h.ssh }, hostReporter, checkHealthWith?.(hostReporter));
                outcomes.set(h.label, {
                  host: h.label,
                  result,
                  error: result.healthy ? undefined : `release ${result.releaseId} is not healthy: ${result.restore.gate?.reason || result.restore.reason}`,
                  failure: result.failure,
                });
              } catch (error) {
                outcomes.set(h.label, { host: h.label, result: undefined, error: errorMessage(error), failure: error instanceof ReportedFailure ? error.failure : undefined });
              }
              hostReporter.info(outcomes.get(h.label)!.error ?? `rolled back to release ${outcomes.get(h.label)!.result!.releaseId}`);
            }),
          ),
        );
        if (batch.some((h) => outcomes.get(h.label)!.error !== undefined)) break;
      }
      const results = fleet.map((h) => outcomes.get(h.label) ?? { host: h.label, result: undefined, error: undefined });
      const failed = results.filter((r) => r.error !== undefined);
      const skipped = results.filter((r) => r.result === undefined && r.error === undefined).map((r) => r.host);
      if (failed.length === 0) return { hosts: results, ok: true, error: undefined };
      const error =
        `Rollback failed on ${failed.map((r) => `${r.host}: ${r.error}`).join('; ')}.` +
        (skipped.length > 0 ? ` Not rolled back (stopped after the failure): ${skipped.join(', ')}.` : '');
      return { hosts: results, ok: false, error };
    } finally {
      await Promise.all(locks.map((lock) => lock.release()));
    }
  } finally {
    await Promise.all(fleet.map((h) => h.session.host.close()));
  }
}
