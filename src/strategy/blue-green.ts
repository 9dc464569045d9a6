import type { ComposeProject } from '../compose/cli.js';
import type { ComposeDeploySettings } from '../deploy/settings.js';
import type { Phase, Step } from '../deploy/steps.js';
import { startContainers, stopContainers } from '../release/commands.js';
import { AppLayout } from '../release/layout.js';
import { colorProjectName, otherColor, writeActiveColor } from './colors.js';
import { DEFAULT_NGINX_RELOAD, upstreamFile } from './nginx.js';
import { stopProject } from './stop.js';
import { Color, DRAIN_SECONDS, StrategySettings } from './types.js';

export interface BlueGreenTarget {
  readonly layout: AppLayout;
  readonly releaseId: string;
  readonly previousId: string | undefined;
  /** The new release's project with its pinned images (named `<app>`; renamed here to the colour). */
  readonly pinned: ComposeProject;
  /** The colour that has traffic now; undefined when the app never ran blue-green. */
  readonly activeColor?: Color | undefined;
}

/** The compose project that serves now: the active colour's, or `<app>` (a recreate deploy's). */
export const liveProjectName = (app: string, active: Color | undefined): string => (active ? colorProjectName(app, active) : app);

/**
 * The phases between "images pulled" and "current switched" for blue-green, and after it the
 * drain. The idle colour starts beside the live one, is waited on and gated directly, and only
 * then gets traffic; until that moment a failure undoes only the idle colour.
 */
export function planBlueGreen(settings: ComposeDeploySettings, strategy: StrategySettings, t: BlueGreenTarget): { beforeCurrent: Phase[]; afterCurrent: Phase[] } {
  const idle = otherColor(t.activeColor);
  const idleName = colorProjectName(settings.app, idle);
  const idleProject = { ...t.pinned, name: idleName };
  const live = liveProjectName(settings.app, t.activeColor);
  const builtin = strategy.switchCommand === '';
  const nginx = builtin ? { nginx: { file: upstreamFile(t.layout.root, settings.app), reload: strategy.nginxReloadCommand ?? DEFAULT_NGINX_RELOAD } } : {};
  const switchTo = (project: string, color: Color): Step => ({
    kind: 'switch-traffic', project, color, directory: t.pinned.directory, command: strategy.switchCommand, services: strategy.services, ...nginx,
  });
  const moveBack: Step[] = t.previousId !== undefined && t.activeColor !== undefined
    ? [switchTo(live, t.activeColor), { kind: 'run', command: writeActiveColor(t.layout.root, t.activeColor) }]
    : [];

  const beforeCurrent: Phase[] = [
    {
      name: `Start ${idle} (idle, no traffic yet)`,
      steps: [{ kind: 'overlap', edge: 'start' }, { kind: 'wait-containers', start: startContainers(idleProject), timeoutMs: settings.waitTimeoutMs, project: idleName }],
      undo: [{ kind: 'run', command: stopContainers(idleProject) }],
    },
  ];
  if (settings.gate) beforeCurrent.push({ name: `Health gate on ${idle}, before it gets traffic`, steps: [{ kind: 'gate', project: idleName }] });
  beforeCurrent.push({
    name: `Move traffic to ${idle}`,
    steps: [switchTo(idleName, idle), { kind: 'run', command: writeActiveColor(t.layout.root, idle) }],
    undo: moveBack,
  });
  const afterCurrent: Phase[] = [
    {
      name: `Drain and ${strategy.keepPreviousRunning ? 'stop' : 'remove'} ${t.activeColor ?? settings.app}`,
      changesContainers: true,
      steps: [
        // The built-in nginx switch returned once nginx's old workers were gone: drained already.
        ...(builtin ? [] : [{ kind: 'run', command: ['sleep', String(DRAIN_SECONDS)] } as const]),
        { kind: 'run', command: stopProject(live, strategy.keepPreviousRunning) },
        { kind: 'overlap', edge: 'end' },
      ],
    },
  ];
  return { beforeCurrent, afterCurrent };
}
