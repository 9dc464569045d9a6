import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { OperationError, ReportedFailure } from '../../src/errors.js';
import { failureReason } from '../../src/failure/report.js';
import type { HostRollback } from '../../src/fleet/rollback.js';
import { defaultAppName, runContext } from '../../src/github/context.js';
import { runGate } from '../../src/health/gate.js';
import { Reporter, TimedReporter } from '../../src/report.js';
import { rollbackFleet } from '../../src/fleet/rollback.js';
import { hostLabel } from '../../src/fleet/hosts.js';
import { RemoteHost } from '../../src/ssh/connection.js';
import { gateAt } from '../../src/strategy/gate-target.js';
import { rollback } from '../../src/rollback/rollback.js';
import { failedRollbackSummary, fleetRollbackSummary, rollbackSummary } from '../../src/rollback/summary.js';
import { readRollbackInputs } from './inputs.js';

/** The first failed host's reason, named. */
function fleetFailureReason(hosts: readonly HostRollback[]): string {
  const failed = hosts.find((h) => h.error !== undefined);
  return failed ? `${failed.host}: ${failureReason(failed.failure, failed.error ?? '')}` : '';
}

export async function run(): Promise<void> {
  await runAction(async () => {
    const { rollback: settings, gate, hosts, parallel } = readRollbackInputs(readInput, maskSecret, { run: runContext(), defaultApp: defaultAppName() });
    const reporter = new TimedReporter(coreReporter);
    const checkHealthWith = gate ? (r: Reporter) => (host: RemoteHost, address?: string) => runGate(address ? gateAt(gate, address) : gate, gate.viaHost ? host : undefined, r) : undefined;
    if (hosts.length > 1) {
      const fleet = await rollbackFleet(settings, hosts, parallel, reporter, checkHealthWith);
      const first = fleet.hosts.find((h) => h.result)?.result;
      setOutputs({
        'release-id': first?.releaseId,
        'rolled-back-from': first?.rolledBackFrom,
        healthy: fleet.ok,
        hosts: JSON.stringify(fleet.hosts.map((h) => ({ host: h.host, 'release-id': h.result?.releaseId ?? '', healthy: h.result?.healthy ?? false, error: h.error ?? '' }))),
        'failure-reason': fleetFailureReason(fleet.hosts),
      });
      await writeSummary(fleetRollbackSummary(settings, fleet));
      if (fleet.error) throw new OperationError(fleet.error);
      return;
    }
    let result;
    try {
      result = await rollback(settings, reporter, checkHealthWith?.(reporter));
    } catch (error) {
      if (error instanceof ReportedFailure) {
        setOutputs({ healthy: false, 'failure-reason': failureReason(error.failure, error.message) });
        await writeSummary(failedRollbackSummary(settings, error.message, error.failure));
      }
      throw error;
    }
    const reason = result.healthy ? '' : failureReason(result.failure, result.restore.gate?.reason || result.restore.reason);
    setOutputs({
      'release-id': result.releaseId,
      'rolled-back-from': result.rolledBackFrom,
      healthy: result.healthy,
      hosts: JSON.stringify([{ host: hostLabel(settings.ssh), 'release-id': result.releaseId, healthy: result.healthy, error: '' }]),
      'failure-reason': reason,
    });
    await writeSummary(rollbackSummary(settings, result, reporter.phases));
    if (!result.healthy) {
      throw new OperationError(`Rolled back ${settings.app} to release ${result.releaseId} (${result.version}), but it is not healthy: ${result.restore.gate?.reason || result.restore.reason}`);
    }
  });
}
