import { appendLedger, createReleaseDir, dockerConfigDir, dockerLogin, prepareDockerConfig, removeDockerConfig } from '../release/commands.js';
import { formatEnvFile } from '../release/env-file.js';
import { ledgerEvent } from '../release/ledger.js';
import { formatRecord, startRecord } from '../release/record.js';
import { allOf } from '../shell/quote.js';
import { swarmHook } from '../swarm/commands.js';
import { SwarmRecord, releaseStack } from '../swarm/record.js';
import { ENV_SCRIPT, SWARM_FILE, formatEnvScript, swarmOverride, updateDefaults, withFileVersion } from '../swarm/stack.js';
import { prunePhase, switchCurrentPhase } from './plan.js';
import type { SwarmDeploySettings } from './settings.js';
import type { Phase, Step, StackTarget } from './steps.js';

/** release.json as a swarm deploy first writes it. */
export function initialStackRecord(settings: SwarmDeploySettings, target: StackTarget): SwarmRecord {
  return { ...startRecord(settings, target), target: 'swarm', stack: target.stack };
}

/**
 * A swarm deploy as phases of steps, for the same runner as the compose target:
 *
 *   upload -> pre-deploy -> docker stack deploy -> wait for every service to converge
 *   -> health gate -> switch current -> post-deploy -> prune (images stay)
 *
 * Swarm replaces tasks itself (update_config: start-first, failure_action: rollback unless
 * the compose files say otherwise). The registry login lives in the release's private
 * `.docker` folder for the stack deploy only.
 */
export function planSwarm(settings: SwarmDeploySettings, target: StackTarget): Phase[] {
  const { layout, releaseId: id, fileVersion } = target;
  const release = layout.release(id);
  const values = { VERSION: settings.version, ...settings.env };
  const configDir = settings.registry ? dockerConfigDir(layout, id) : undefined;
  const hook = (script: string): Step => ({ kind: 'run', command: swarmHook(release.dir, script, { id, version: settings.version, stack: target.stack }), label: script });
  const phases: Phase[] = [
    {
      name: `Upload release ${id}`,
      steps: [
        {
          kind: 'run',
          command: allOf(createReleaseDir(layout, id), appendLedger(layout, ledgerEvent(settings, id, 'started', { reason: target.previousId ? `replacing ${target.previousId}` : 'first release' }))),
        },
        ...settings.composeFiles.map((file): Step => ({ kind: 'write', path: release.file(file.name), content: withFileVersion(file.content, fileVersion), mode: 0o644, secret: false })),
        // .env as the compose target writes it (for hooks and people); the script is what stack deploy is run under.
        { kind: 'write', path: release.envFile, content: formatEnvFile(values), mode: 0o600, secret: true },
        { kind: 'write', path: release.file(ENV_SCRIPT), content: formatEnvScript(values), mode: 0o600, secret: true },
        { kind: 'write', path: release.file(SWARM_FILE), content: swarmOverride(updateDefaults(settings.composeFiles), fileVersion), mode: 0o644, secret: false },
        { kind: 'write', path: release.recordFile, content: formatRecord(initialStackRecord(settings, target)), mode: 0o644, secret: false },
      ],
    },
  ];
  if (settings.preDeploy !== '') phases.push({ name: 'Pre-deploy', steps: [hook(settings.preDeploy)] });
  phases.push({
    name: `Deploy stack ${target.stack}`,
    steps: [
      ...(settings.registry && configDir
        ? [
            { kind: 'run', command: prepareDockerConfig(configDir) } as const,
            { kind: 'run', command: dockerLogin(configDir, settings.registry.server, settings.registry.username), stdin: settings.registry.password } as const,
          ]
        : []),
      { kind: 'stack-deploy', stack: releaseStack(layout, target.stack, id, settings.composeFiles.map((f) => f.name), false), ...(configDir ? { configDir } : {}) },
      // Gone before the services are waited for and gated, also when the stack deploy failed.
      ...(configDir ? [{ kind: 'run', command: removeDockerConfig(configDir), always: true } as const] : []),
    ],
  });
  phases.push({ name: 'Wait for services', steps: [{ kind: 'wait-stack', stack: target.stack, services: Object.keys(updateDefaults(settings.composeFiles)), timeoutMs: settings.waitTimeoutMs }] });
  if (settings.gate) phases.push({ name: 'Health gate', steps: [{ kind: 'gate' }] });
  phases.push(switchCurrentPhase(layout, id));
  if (settings.postDeploy !== '') phases.push({ name: 'Post-deploy', steps: [hook(settings.postDeploy)] });
  phases.push(prunePhase(settings.keepReleases, false));
  return phases;
}

/** What a dry run says happens when a step fails. */
export function describeStackRecovery(target: StackTarget): string {
  const again = target.login && target.previousId ? ', logged in again for that stack deploy only' : '';
  return `On failure: deploy ${target.previousId ? `release ${target.previousId}` : 'nothing (first release: docker stack rm)'} again from its pinned images${again}`;
}
