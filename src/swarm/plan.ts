import type { SwarmDeploySettings } from '../deploy/settings.js';
import { formatDuration } from '../inputs/parse.js';
import { appendLedger, createReleaseDir, dockerConfigDir, dockerLogin, prepareDockerConfig, removeDockerConfig, switchCurrent } from '../release/commands.js';
import { AppLayout, IMAGES_FILE } from '../release/layout.js';
import { Command, ShellLine, shellLine } from '../shell/quote.js';
import { inspectStack, stackDeploy, swarmHook } from './commands.js';
import { releaseStack } from './record.js';
import { ENV_SCRIPT, SWARM_FILE } from './stack.js';

/** A swarm deploy in words, as a dry run prints it: the exact commands, file writes without their contents. Pure. */
export function describeSwarmPlan(settings: SwarmDeploySettings, layout: AppLayout, id: string, previousId: string | undefined): string[] {
  const release = layout.release(id);
  const stack = settings.app;
  const $ = (command: Command | ShellLine, note = '') => `  $ ${shellLine(command).text}${note}`;
  const write = (path: string, mode: string, secret = false) => `  write ${path} (mode ${mode}${secret ? ', contents hidden' : ''})`;
  const configDir = settings.registry ? dockerConfigDir(layout, id) : undefined;
  const hook = (script: string) => $(swarmHook(release.dir, script, { id, version: settings.version, stack }));
  const lines = [
    `Upload release ${id}:`,
    $(createReleaseDir(layout, id)),
    ...settings.composeFiles.map((file) => write(release.file(file.name), '0644')),
    write(release.envFile, '0600', true),
    write(release.file(ENV_SCRIPT), '0600', true),
    write(release.file(SWARM_FILE), '0644'),
    write(release.recordFile, '0644'),
    $(appendLedger(layout, { release: id, event: 'started', at: '<now>', version: settings.version, reason: previousId ? `replacing ${previousId}` : 'first release' })),
    ...(settings.preDeploy !== '' ? ['Pre-deploy:', hook(settings.preDeploy)] : []),
    `Deploy stack ${stack}:`,
    $(inspectStack(stack), '   (the services before, for docker service rollback)'),
    ...(settings.registry && configDir
      ? [$(prepareDockerConfig(configDir)), $(dockerLogin(configDir, settings.registry.server, settings.registry.username), '   (password on standard input)')]
      : []),
    $(stackDeploy(releaseStack(layout, stack, id, settings.composeFiles.map((f) => f.name), false), configDir)),
    ...(configDir ? [$(removeDockerConfig(configDir), '   (right after the stack deploy, also when it failed)')] : []),
    'Wait for services:',
    `  poll docker service inspect until every service's update completed and its tasks run (up to ${formatDuration(settings.waitTimeoutMs)}); write ${IMAGES_FILE} with the digests Swarm resolved`,
    ...(settings.gate
      ? ['Health gate:', `  ${settings.gate.urls.join(', ')} (${settings.gate.successes} passing rounds within ${formatDuration(settings.gate.timeoutMs)})`]
      : []),
    `Switch current to release ${id}:`,
    $(switchCurrent(layout, id)),
    ...(settings.postDeploy !== '' ? ['Post-deploy:', hook(settings.postDeploy)] : []),
    'Prune old releases:',
    `  remove release folders beyond the newest ${settings.keepReleases}`,
    `On failure: deploy ${previousId ? `release ${previousId}` : 'nothing (first release: docker stack rm)'} again from its pinned images${configDir && previousId ? ', logged in again for that stack deploy only' : ''}`,
  ];
  return lines;
}
