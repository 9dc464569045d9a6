import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { OperationError } from '../../src/errors.js';
import { runGate } from '../../src/health/gate.js';
import { describeVerdict, gateOutputs, gateSummary } from '../../src/health/summary.js';
import { RemoteHost } from '../../src/ssh/connection.js';
import { describeTarget } from '../../src/ssh/settings.js';
import { readHealthgateInputs } from './inputs.js';

/** action-healthgate: inputs -> (SSH connection) -> gate -> outputs, summary, verdict. */
export async function run(): Promise<void> {
  await runAction(async () => {
    const { gate, ssh, fail } = readHealthgateInputs(readInput, maskSecret);
    const host = ssh ? await coreReporter.group(`Connect to ${describeTarget(ssh)}`, () => RemoteHost.connect(ssh)) : undefined;
    let result;
    try {
      result = await coreReporter.group('Health gate', () => runGate(gate, host, coreReporter));
    } finally {
      await host?.close();
    }
    setOutputs(gateOutputs(result));
    await writeSummary(gateSummary(gate, result));
    const verdict = `Health gate ${describeVerdict(gate, result)}`;
    if (result.healthy) {
      coreReporter.info(verdict);
    } else if (fail) {
      throw new OperationError(verdict);
    } else {
      coreReporter.info(`${verdict}; 'fail' is false, so the step passes`);
    }
  });
}
