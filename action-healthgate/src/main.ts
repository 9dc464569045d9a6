import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { OperationError, errorMessage } from '../../src/errors.js';
import { HostGate, combineGates } from '../../src/fleet/gate.js';
import { hostLabel } from '../../src/fleet/hosts.js';
import type { GateSettings } from '../../src/health/types.js';
import { Reporter, labelledReporter } from '../../src/report.js';
import { runGate } from '../../src/health/gate.js';
import { describeVerdict, gateOutputs, gateSummary } from '../../src/health/summary.js';
import { RemoteHost } from '../../src/ssh/connection.js';
import { SshSettings, describeTarget } from '../../src/ssh/settings.js';
import { readHealthgateInputs } from './inputs.js';

/** action-healthgate: inputs -> (SSH connection) -> gate -> outputs, summary, verdict. */
/** Runs the gate on every host at once, each through its own SSH connection (all opened first). */
async function gateEachHost(gate: GateSettings, hosts: readonly SshSettings[], reporter: Reporter): Promise<HostGate[]> {
  const attempts = await Promise.allSettled(hosts.map((ssh) => RemoteHost.connect(ssh)));
  const connected = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  try {
    const unreachable = attempts.flatMap((a, i) => (a.status === 'rejected' ? [`${hostLabel(hosts[i]!)}: ${errorMessage(a.reason)}`] : []));
    if (unreachable.length > 0) throw new OperationError(`Could not reach ${unreachable.length} of ${hosts.length} hosts: ${unreachable.join(' ')}`);
    return await Promise.all(connected.map(async (host, i) => ({ host: hostLabel(hosts[i]!), result: await runGate(gate, host, labelledReporter(reporter, hostLabel(hosts[i]!))) })));
  } finally {
    await Promise.all(connected.map((host) => host.close()));
  }
}

export async function run(): Promise<void> {
  await runAction(async () => {
    const { gate, hosts, fail } = readHealthgateInputs(readInput, maskSecret);
    let result;
    let summary;
    if (hosts.length > 1) {
      const gates = await coreReporter.group(`Health gate on ${hosts.length} hosts`, () => gateEachHost(gate, hosts, coreReporter));
      result = combineGates(gates);
      summary = gates.map((g) => gateSummary(gate, g.result).replace(/^### Health gate:/, `### Health gate on \`${g.host}\`:`)).join('\n');
    } else {
      const ssh = hosts[0];
      const host = ssh ? await coreReporter.group(`Connect to ${describeTarget(ssh)}`, () => RemoteHost.connect(ssh)) : undefined;
      try {
        result = await coreReporter.group('Health gate', () => runGate(gate, host, coreReporter));
      } finally {
        await host?.close();
      }
      summary = gateSummary(gate, result);
    }
    setOutputs(gateOutputs(result));
    await writeSummary(summary);
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
