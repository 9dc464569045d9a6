import { coreReporter, maskSecret, readInput, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { runBackup } from '../../src/backup/backup.js';
import { runRestore } from '../../src/backup/restore-database.js';
import { backupSummary, failureSummary, restoreSummary } from '../../src/backup/summary.js';
import { errorMessage } from '../../src/errors.js';
import { defaultAppName, runContext } from '../../src/github/context.js';
import { TimedReporter } from '../../src/report.js';
import { readBackupInputs } from './inputs.js';

export async function run(): Promise<void> {
  await runAction(async () => {
    const settings = readBackupInputs(readInput, maskSecret, { run: runContext(), defaultApp: defaultAppName(), runId: process.env.GITHUB_RUN_ID ?? '' });
    const reporter = new TimedReporter(coreReporter);
    try {
      if (settings.mode === 'restore') {
        const result = await runRestore(settings, { reporter });
        setOutputs({ key: result.key, bytes: result.bytes, sha256: result.sha256, 'duration-seconds': (result.durationMs / 1000).toFixed(1), verified: result.verified });
        await writeSummary(restoreSummary(settings.app, result, reporter.phases));
      } else {
        const result = await runBackup(settings, { reporter });
        setOutputs({ key: result.key, bytes: result.bytes, sha256: result.sha256, 'duration-seconds': (result.durationMs / 1000).toFixed(1), verified: result.verified });
        await writeSummary(backupSummary(settings.app, result, reporter.phases));
      }
    } catch (error) {
      setOutputs({ verified: false });
      await writeSummary(failureSummary(settings.app, settings.mode, errorMessage(error), reporter.phases));
      throw error;
    }
  });
}
