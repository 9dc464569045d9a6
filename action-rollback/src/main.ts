import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { OperationError } from '../../src/errors.js';
import { defaultAppName, runContext } from '../../src/github/context.js';
import { runGate } from '../../src/health/gate.js';
import { Reporter, TimedReporter } from '../../src/report.js';
import { rollbackFleet } from '../../src/fleet/rollback.js';
import { hostLabel } from '../../src/fleet/hosts.js';
import { RemoteHost } from '../../src/ssh/connection.js';
import { gateAt } from '../../src/strategy/gate-target.js';
import { rollback } from '../../src/rollback/rollback.js';
import { fleetRollbackSummary, rollbackSummary } from '../../src/rollback/summary.js';
import { readRollbackInputs } from './inputs.js';

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
      });
      await writeSummary(fleetRollbackSummary(settings, fleet));
      if (fleet.error) throw new OperationError(fleet.error);
      return;
    }
    const result = await rollback(settings, reporter, checkHealthWith?.(reporter));
    setOutputs({
      'release-id': result.releaseId,
      'rolled-back-from': result.rolledBackFrom,
      healthy: result.healthy,
      hosts: JSON.stringify([{ host: hostLabel(settings.ssh), 'release-id': result.releaseId, healthy: result.healthy, error: '' }]),
    });
    await writeSummary(rollbackSummary(settings, result, reporter.phases));
    if (!result.healthy) {
      throw new OperationError(`Rolled back ${settings.app} to release ${result.releaseId} (${result.version}), but it is not healthy: ${result.restore.gate?.reason || result.restore.reason}`);
    }
  });
}
