import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { OperationError, errorMessage } from '../../src/errors.js';
import { diagnoseFailure } from '../../src/failure/diagnose.js';
import { FailureReport, failureReason, failureSummary } from '../../src/failure/report.js';
import { HostGate, combineGates } from '../../src/fleet/gate.js';
import { hostLabel } from '../../src/fleet/hosts.js';
import type { GateResult, GateSettings } from '../../src/health/types.js';
import { Reporter, labelledReporter } from '../../src/report.js';
import { runGate } from '../../src/health/gate.js';
import { describeVerdict, gateOutputs, gateSummary } from '../../src/health/summary.js';
import { RemoteHost } from '../../src/ssh/connection.js';
import { SshSettings, describeTarget } from '../../src/ssh/settings.js';
import { readHealthgateInputs } from './inputs.js';

/** One host's gate, and why it failed when it did. */
interface CheckedHost extends HostGate {
  readonly failure: FailureReport | undefined;
}

/** Why a gate failed: its last responses, and the containers it checked. */
async function diagnoseGate(gate: GateSettings, result: GateResult, host: RemoteHost | undefined, logLines: number, reporter: Reporter): Promise<FailureReport | undefined> {
  if (result.healthy) return undefined;
  const containers = gate.containers ? { project: gate.containers } : undefined;
  return diagnoseFailure(host, { where: 'Health gate', error: undefined, containers, gate: result, logLines }, reporter);
}

/** Runs the gate on every host at once, each through its own SSH connection (all opened first). */
async function gateEachHost(gate: GateSettings, hosts: readonly SshSettings[], logLines: number, reporter: Reporter): Promise<CheckedHost[]> {
  const attempts = await Promise.allSettled(hosts.map((ssh) => RemoteHost.connect(ssh)));
  const connected = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  try {
    const unreachable = attempts.flatMap((a, i) => (a.status === 'rejected' ? [`${hostLabel(hosts[i]!)}: ${errorMessage(a.reason)}`] : []));
    if (unreachable.length > 0) throw new OperationError(`Could not reach ${unreachable.length} of ${hosts.length} hosts: ${unreachable.join(' ')}`);
    return await Promise.all(
      connected.map(async (host, i) => {
        const label = hostLabel(hosts[i]!);
        const hostReporter = labelledReporter(reporter, label);
        const result = await runGate(gate, host, hostReporter);
        return { host: label, result, failure: await diagnoseGate(gate, result, host, logLines, hostReporter) };
      }),
    );
  } finally {
    await Promise.all(connected.map((host) => host.close()));
  }
}

/** action-healthgate: inputs -> (SSH connection) -> gate -> (why it failed) -> outputs, summary, verdict. */
export async function run(): Promise<void> {
  await runAction(async () => {
    const { gate, hosts, fail, failureLogLines } = readHealthgateInputs(readInput, maskSecret);
    let result: GateResult;
    let summary: string;
    let reason = '';
    if (hosts.length > 1) {
      const gates = await coreReporter.group(`Health gate on ${hosts.length} hosts`, () => gateEachHost(gate, hosts, failureLogLines, coreReporter));
      result = combineGates(gates);
      const failed = gates.find((g) => g.failure);
      if (failed) reason = `${failed.host}: ${failureReason(failed.failure, failed.result.reason)}`;
      summary = gates
        .map((g) => {
          const table = gateSummary(gate, g.result).replace(/^### Health gate:/, `### Health gate on \`${g.host}\`:`);
          return g.failure ? `${table}\n${failureSummary(g.failure, failureReason(g.failure, g.result.reason), `### Why it failed on \`${g.host}\``)}` : table;
        })
        .join('\n');
    } else {
      const ssh = hosts[0];
      const host = ssh ? await coreReporter.group(`Connect to ${describeTarget(ssh)}`, () => RemoteHost.connect(ssh)) : undefined;
      let failure: FailureReport | undefined;
      try {
        result = await coreReporter.group('Health gate', () => runGate(gate, host, coreReporter));
        failure = await diagnoseGate(gate, result, host, failureLogLines, coreReporter);
      } finally {
        await host?.close();
      }
      summary = gateSummary(gate, result);
      if (failure) {
        reason = failureReason(failure, result.reason);
        summary = `${summary}\n${failureSummary(failure, reason)}`;
      }
    }
    setOutputs({ ...gateOutputs(result), 'failure-reason': reason });
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
