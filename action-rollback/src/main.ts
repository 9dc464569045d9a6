import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { OperationError } from '../../src/errors.js';
import { defaultAppName, runContext } from '../../src/github/context.js';
import { runGate } from '../../src/health/gate.js';
import { TimedReporter } from '../../src/report.js';
import { gateAt } from '../../src/strategy/gate-target.js';
import { rollback } from '../../src/rollback/rollback.js';
import { rollbackSummary } from '../../src/rollback/summary.js';
import { readRollbackInputs } from './inputs.js';

export async function run(): Promise<void> {
  await runAction(async () => {
    const { rollback: settings, gate } = readRollbackInputs(readInput, maskSecret, { run: runContext(), defaultApp: defaultAppName() });
    const reporter = new TimedReporter(coreReporter);
    const result = await rollback(settings, reporter, gate ? (host, address) => runGate(address ? gateAt(gate, address) : gate, gate.viaHost ? host : undefined, reporter) : undefined);
    setOutputs({ 'release-id': result.releaseId, 'rolled-back-from': result.rolledBackFrom, healthy: result.healthy });
    await writeSummary(rollbackSummary(settings, result, reporter.phases));
    if (!result.healthy) {
      throw new OperationError(`Rolled back ${settings.app} to release ${result.releaseId} (${result.version}), but it is not healthy: ${result.restore.gate?.reason || result.restore.reason}`);
    }
  });
}
