import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { OperationError } from '../../src/errors.js';
import { defaultAppName, runContext } from '../../src/github/context.js';
import { runPreview } from '../../src/preview/preview.js';
import { previewSummary } from '../../src/preview/summary.js';
import { TimedReporter } from '../../src/report.js';
import { readEvent, readPreviewInputs } from './inputs.js';

export async function run(): Promise<void> {
  await runAction(async () => {
    const settings = readPreviewInputs(readInput, maskSecret, {
      run: runContext(),
      defaultApp: defaultAppName(),
      workspace: process.env.GITHUB_WORKSPACE ?? process.cwd(),
      event: readEvent(),
      env: process.env,
    });
    const reporter = new TimedReporter(coreReporter);
    const outcome = await runPreview(settings, reporter, maskSecret);
    setOutputs({
      name: settings.pr?.name ?? '',
      url: settings.pr && outcome.status !== 'removed' ? settings.pr.url : '',
      status: outcome.status,
      'release-id': outcome.deploy?.releaseId ?? '',
      'failure-reason': outcome.reason,
      removed: JSON.stringify(outcome.removed.map((r) => ({ name: r.name, 'pr-number': r.pr, why: r.why }))),
    });
    await writeSummary(previewSummary(settings, outcome, reporter.phases));
    if (outcome.status === 'failed') throw new OperationError(`The preview of #${settings.pr!.pr} failed: ${outcome.reason}`);
  });
}
