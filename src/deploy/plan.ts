import { ComposeProject, compose } from '../compose/cli.js';
import { formatDuration } from '../inputs/parse.js';
import { appendLedger, createReleaseDir, dockerConfigDir, dockerLogin, prepareDockerConfig, pullImages, pullWhileRendering, removeDockerConfig, runHook, startContainers, switchCurrent } from '../release/commands.js';
import { formatEnvFile } from '../release/env-file.js';
import { imagesOverride } from '../release/images.js';
import { AppLayout, IMAGES_FILE } from '../release/layout.js';
import { ledgerEvent } from '../release/ledger.js';
import { ReleaseRecord, formatRecord, startRecord } from '../release/record.js';
import { allOf, shellLine } from '../shell/quote.js';
import { planBlueGreen } from '../strategy/blue-green.js';
import { strategyRecord } from '../strategy/record.js';
import { describeRoll, planRolling, rollingServices } from '../strategy/rolling.js';
import { inspectStack, stackDeploy } from '../swarm/commands.js';
import { ComposeDeploySettings, ReleaseSettings } from './settings.js';
import type { DeployTarget, Phase, Step } from './steps.js';

export function releaseProject(base: Omit<ComposeProject, 'files' | 'directory' | 'envFile'>, layout: AppLayout, id: string, files: readonly string[], pinned: boolean): ComposeProject {
  const release = layout.release(id);
  return {
    ...base,
    directory: release.dir,
    envFile: release.envFile,
    files: [...files.map((name) => release.file(name)), ...(pinned ? [release.imagesFile] : [])],
  };
}

/** release.json as a compose deploy first writes it: the start of every record, and what its strategy needs. */
export function initialRecord(settings: ComposeDeploySettings, target: Pick<DeployTarget, 'releaseId' | 'previousId' | 'startedAt' | 'activeColor'>): ReleaseRecord {
  const rolled = settings.strategy?.kind === 'rolling' ? rollingServices(settings.composeFiles, settings.strategy.services) : undefined;
  return { ...startRecord(settings, target), ...strategyRecord(settings.strategy, target.activeColor, rolled) };
}

export function planDeploy(settings: ComposeDeploySettings, target: DeployTarget): Phase[] {
  const { layout, releaseId: id } = target;
  const release = layout.release(id);
  const pinned = target.project.files.includes(release.imagesFile) ? target.project : { ...target.project, files: [...target.project.files, release.imagesFile] };
  const hookRelease = { id, version: settings.version };
  const configDir = settings.registry ? dockerConfigDir(layout, id) : undefined;

  const phases: Phase[] = [
    {
      name: `Upload release ${id}`,
      steps: [
        // One round trip: the folder, and the ledger's word that this release started.
        {
          kind: 'run',
          command: allOf(createReleaseDir(layout, id), appendLedger(layout, ledgerEvent(settings, id, 'started', { reason: target.previousId ? `replacing ${target.previousId}` : 'first release' }))),
        },
        ...settings.composeFiles.map((file): Step => ({ kind: 'write', path: release.file(file.name), content: file.content, mode: 0o644, secret: false })),
        { kind: 'write', path: release.envFile, content: formatEnvFile({ VERSION: settings.version, ...settings.env }), mode: 0o600, secret: true },
        ...(target.pinnedImages
          ? [{ kind: 'write', path: release.imagesFile, content: imagesOverride(target.pinnedImages, settings.composeVersion), mode: 0o644, secret: false } as const]
          : []),
        { kind: 'write', path: release.recordFile, content: formatRecord(initialRecord(settings, target)), mode: 0o644, secret: false },
      ],
    },
    {
      name: 'Pull images',
      steps: [
        ...(settings.registry && configDir
          ? [
              { kind: 'run', command: prepareDockerConfig(configDir) } as const,
              { kind: 'run', command: dockerLogin(configDir, settings.registry.server, settings.registry.username), stdin: settings.registry.password } as const,
            ]
          : []),
        // Digests pinned elsewhere (a fleet's first host) need no `compose config` to find the images: one Compose start-up less.
        {
          kind: 'pin-images',
          command: target.pinnedImages ? pullImages(target.project, configDir) : pullWhileRendering(target.project, configDir),
          // A failed pull is told as the command a person would type.
          label: shellLine(compose(target.project, 'pull', '--quiet')).text,
        },
        ...(configDir ? [{ kind: 'run', command: removeDockerConfig(configDir), always: true } as const] : []),
      ],
    },
  ];
  if (settings.preDeploy !== '') {
    phases.push({ name: 'Pre-deploy', steps: [{ kind: 'run', command: runHook(pinned, settings.preDeploy, hookRelease), label: settings.preDeploy }] });
  }
  if (settings.strategy?.kind === 'blue-green') {
    const blueGreen = planBlueGreen(settings, settings.strategy, { ...target, pinned });
    phases.push(...blueGreen.beforeCurrent, switchCurrentPhase(layout, id), ...blueGreen.afterCurrent);
    if (settings.postDeploy !== '') phases.push({ name: 'Post-deploy', changesContainers: true, steps: [{ kind: 'run', command: runHook(pinned, settings.postDeploy, hookRelease), label: settings.postDeploy }] });
    phases.push(prunePhase(settings.keepReleases, true));
    return phases;
  }
  if (settings.strategy?.kind === 'rolling') {
    phases.push(...planRolling(settings, rollingServices(settings.composeFiles, settings.strategy.services), { pinned }));
    phases.push(switchCurrentPhase(layout, id));
    if (settings.postDeploy !== '') phases.push({ name: 'Post-deploy', changesContainers: true, steps: [{ kind: 'run', command: runHook(pinned, settings.postDeploy, hookRelease), label: settings.postDeploy }] });
    phases.push(prunePhase(settings.keepReleases, true));
    return phases;
  }
  phases.push(
    { name: 'Start containers', changesContainers: true, steps: [{ kind: 'wait-containers', start: startContainers(pinned), timeoutMs: settings.waitTimeoutMs, probe: true }] },
  );
  if (settings.gate) phases.push({ name: 'Health gate', changesContainers: true, steps: [{ kind: 'gate' }] });
  phases.push(switchCurrentPhase(layout, id));
  if (settings.postDeploy !== '') {
    phases.push({ name: 'Post-deploy', steps: [{ kind: 'run', command: runHook(pinned, settings.postDeploy, hookRelease), label: settings.postDeploy }] });
  }
  phases.push(prunePhase(settings.keepReleases, true));
  return phases;
}

export function switchCurrentPhase(layout: AppLayout, id: string): Phase {
  return { name: `Switch current to release ${id}`, switchesCurrent: true, steps: [{ kind: 'switch-current', command: switchCurrent(layout, id) }] };
}

export function prunePhase(keep: number, images: boolean): Phase {
  return { name: 'Prune old releases', steps: [{ kind: 'prune', keep, images }] };
}

/** The plan in words, as a dry run prints it. File contents are never shown. */
export function describePlan(phases: readonly Phase[], settings: ReleaseSettings): string[] {
  const lines: string[] = [];
  for (const phase of phases) {
    lines.push(`${phase.name}:`);
    for (const step of phase.steps) lines.push(...describeStep(step, settings).split('\n').map((line) => `  ${line}`));
  }
  return lines;
}

function describeStep(step: Step, settings: ReleaseSettings): string {
  switch (step.kind) {
    case 'run':
      return `$ ${shellLine(step.command).text}${step.stdin !== undefined ? '   (password on standard input)' : ''}${step.always ? '   (also when a step before it failed)' : ''}`;
    case 'write':
      return `write ${step.path} (mode ${step.mode.toString(8).padStart(4, '0')}, ${Buffer.byteLength(step.content)} bytes${step.secret ? ', contents hidden' : ''})`;
    case 'pin-images':
      return `$ ${shellLine(step.command).text}   (then each service's image resolved to its digest, written to ${IMAGES_FILE})`;
    case 'switch-current':
      return `$ ${shellLine(step.command).text}   (then 'deployed' appended to the ledger)`;
    case 'wait-containers':
      return `${step.start ? `$ ${shellLine(step.start).text}, then ` : ''}wait until every container${step.project ? ` of ${step.project}` : ''} is healthy, or running and stable (up to ${formatDuration(step.timeoutMs)})`;
    case 'gate':
      return `health gate${step.project ? ` on ${step.project} directly` : ''}: ${settings.gate?.urls.join(', ')} (${settings.gate?.successes} passing rounds within ${formatDuration(settings.gate?.timeoutMs ?? 0)})`;
    case 'prune':
      return `remove releases beyond the newest ${step.keep}${step.images ? ', and images no kept release uses' : ''}`;
    case 'stack-deploy':
      return `$ ${shellLine(inspectStack(step.stack.stack)).text}   (the services before, for docker service rollback)\n$ ${shellLine(stackDeploy(step.stack, step.configDir)).text}`;
    case 'wait-stack':
      return `poll docker service inspect until every service's update completed and its tasks run (up to ${formatDuration(step.timeoutMs)}); write ${IMAGES_FILE} with the digests Swarm resolved`;
    case 'switch-traffic':
      if (step.nginx) return `write the published addresses of ${step.project} to ${step.nginx.file} as 'server HOST:PORT;' lines, $ ${step.nginx.reload}, and wait until nginx's old workers have exited`;
      return `$ ${shellLine(['sh', '-c', step.command]).text}   (in ${step.directory}, with DEPLOY_KIT_COLOR=${step.color} and the published addresses of ${step.project})`;
    case 'overlap':
      return step.edge === 'start' ? 'old and new start running side by side' : 'only the new release runs';
    case 'roll':
      return describeRoll(step.action, step.service, step.project);
  }
}
