import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { deploy } from '../../src/deploy/deploy.js';
import { deploySummary } from '../../src/deploy/summary.js';
import { OperationError } from '../../src/errors.js';
import { defaultAppName, runContext } from '../../src/github/context.js';
import { runGate } from '../../src/health/gate.js';
import { TimedReporter } from '../../src/report.js';
import { gateAt } from '../../src/strategy/gate-target.js';
import { readDeployInputs } from './inputs.js';

export async function run(): Promise<void> {
  await runAction(async () => {
    const settings = readDeployInputs(readInput, maskSecret, {
      run: runContext(),
      defaultApp: defaultAppName(),
      workspace: process.env.GITHUB_WORKSPACE ?? process.cwd(),
    });
    const reporter = new TimedReporter(coreReporter);
    const gate = settings.gate;
    const result = await deploy(settings, {
      reporter,
      ...(gate ? { checkHealth: (host, address) => runGate(address ? gateAt(gate, address) : gate, gate.viaHost ? host : undefined, reporter) } : {}),
    });
    setOutputs({
      'release-id': result.releaseId,
      'previous-release-id': result.previousReleaseId,
      status: result.status === 'planned' ? '' : result.status,
      images: JSON.stringify(result.images),
      'duration-seconds': (result.durationMs / 1000).toFixed(1),
    });
    await writeSummary(deploySummary(settings, result, reporter.phases));
    if (result.error) throw new OperationError(result.error);
  });
}
