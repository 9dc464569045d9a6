import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { deploy } from '../../src/deploy/deploy.js';
import type { DeployDependencies, DeployResult } from '../../src/deploy/result.js';
import { deploySummary } from '../../src/deploy/summary.js';
import { OperationError } from '../../src/errors.js';
import { deploySwarm } from '../../src/deploy/swarm.js';
import { defaultAppName, runContext } from '../../src/github/context.js';
import { runGate } from '../../src/health/gate.js';
import { Reporter, TimedReporter } from '../../src/report.js';
import { HostOutcome, deployFleet } from '../../src/fleet/deploy.js';
import { hostLabel } from '../../src/fleet/hosts.js';
import { fleetSummary } from '../../src/fleet/summary.js';
import { RemoteHost } from '../../src/ssh/connection.js';
import { gateAt } from '../../src/strategy/gate-target.js';
import { failureReason } from '../../src/failure/report.js';
import { readDeployInputs } from './inputs.js';

const seconds = (ms: number): string => (ms / 1000).toFixed(1);

/** The action's outputs, for one host or several (`hosts` has a row per host either way). */
function publish(
  result: Pick<DeployResult, 'releaseId' | 'previousReleaseId' | 'status' | 'images' | 'durationMs' | 'error'>,
  hosts: readonly Pick<HostOutcome, 'host' | 'status' | 'durationMs' | 'rollback' | 'failure' | 'error'>[],
): void {
  // The first host that failed names the reason; with several hosts, prefixed with its name.
  const failed = hosts.find((h) => h.failure !== undefined);
  const reason = failed ? `${hosts.length > 1 ? `${failed.host}: ` : ''}${failureReason(failed.failure, failed.error ?? '')}` : result.error ? failureReason(undefined, result.error) : '';
  setOutputs({
    'release-id': result.releaseId,
    'previous-release-id': result.previousReleaseId,
    status: result.status === 'planned' ? '' : result.status,
    images: JSON.stringify(result.images),
    'duration-seconds': seconds(result.durationMs),
    hosts: JSON.stringify(hosts.map((h) => ({ host: h.host, status: h.status, 'duration-seconds': Number(seconds(h.durationMs)), rollback: h.rollback ?? '' }))),
    'failure-reason': reason,
  });
}

export async function run(): Promise<void> {
  await runAction(async () => {
    const settings = readDeployInputs(readInput, maskSecret, {
      run: runContext(),
      defaultApp: defaultAppName(),
      workspace: process.env.GITHUB_WORKSPACE ?? process.cwd(),
    });
    const reporter = new TimedReporter(coreReporter);
    const gate = settings.gate;
    const gateWith = (r: Reporter) => (gate ? { checkHealth: (host: RemoteHost, address?: string) => runGate(address ? gateAt(gate, address) : gate, gate.viaHost ? host : undefined, r) } : {});
    if (settings.target === 'fleet') {
      const result = await deployFleet(settings, {
        reporter,
        ...(gate ? { checkHealthWith: (r: Reporter) => gateWith(r).checkHealth! } : {}),
      });
      publish(result, result.hosts);
      await writeSummary(fleetSummary(settings, result));
      if (result.error) throw new OperationError(result.error);
      return;
    }
    const deps: DeployDependencies = { reporter, ...gateWith(reporter) };
    const result = settings.target === 'swarm' ? await deploySwarm(settings, deps) : await deploy(settings, deps);
    publish(result, [{ host: hostLabel(settings.ssh), status: result.status, durationMs: result.durationMs, rollback: undefined, failure: result.failure, error: result.error }]);
    await writeSummary(deploySummary(settings, result, reporter.phases));
    if (result.error) throw new OperationError(result.error);
  });
}
