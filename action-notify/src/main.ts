import { coreReporter, runAction, setOutputs, writeSummary } from '../../src/actions/core-io.js';
import { OperationError } from '../../src/errors.js';
import { GitHubLookups } from '../../src/notify/github-lookups.js';
import { notify } from '../../src/notify/notify.js';
import { notifyRun } from '../../src/notify/run.js';
import type { SlackSender } from '../../src/notify/sender.js';
import type { NotifySettings } from '../../src/notify/settings.js';
import { SlackWebApi } from '../../src/notify/slack-client.js';
import { notifySummary } from '../../src/notify/summary.js';
import { SlackWebhook } from '../../src/notify/webhook.js';
import { readNotifyInputs } from './inputs.js';

export async function run(): Promise<void> {
  await runAction(async () => {
    const settings = readNotifyInputs();
    const run = notifyRun();
    const outcome = await notify(settings, run, {
      slack: slackSender(settings),
      ...(settings.githubToken !== '' && run.repository !== '' ? { github: new GitHubLookups(settings.githubToken, run, coreReporter) } : {}),
      reporter: coreReporter,
      now: () => Date.now(),
    });
    // On trouble the outputs still name the message asked for, so a later step can update it.
    const delivery = outcome.delivery ?? { ts: settings.ts, channel: settings.ts === '' || settings.destination.kind !== 'api' ? '' : settings.destination.channel };
    setOutputs({ ts: delivery.ts, channel: delivery.channel });
    await writeSummary(notifySummary(settings, outcome));
    if (outcome.problem === undefined) return;
    if (settings.failOnError) throw new OperationError(outcome.problem);
    coreReporter.warning(`${outcome.problem} The step succeeds anyway (set 'fail-on-error: true' to fail it).`);
  });
}

function slackSender(settings: NotifySettings): SlackSender {
  const to = settings.destination;
  return to.kind === 'api' ? new SlackWebApi(to.token, to.apiUrl, coreReporter) : new SlackWebhook(to.url, coreReporter);
}
