import type { ComposeProject } from '../compose/cli.js';
import type { AppLayout } from '../release/layout.js';
import type { Command, ShellLine } from '../shell/quote.js';
import type { SectionedLine } from '../shell/sections.js';
import type { BuiltinNginx } from '../strategy/nginx.js';
import type { StackFiles } from '../swarm/commands.js';
import type { SwarmLogin } from '../swarm/login.js';
import type { Color, RollAction } from '../strategy/types.js';

/**
 * A deploy as data: phases of steps that one runner executes (or prints, for a dry run).
 * Commands are built here, never run here.
 */
export type Step =
  /** `label`: the command as the user wrote it (a hook's text), for messages and failure reports. */
  | { readonly kind: 'run'; readonly command: Command | ShellLine; readonly stdin?: string; readonly always?: boolean; readonly label?: string }
  | { readonly kind: 'write'; readonly path: string; readonly content: string; readonly mode: number; readonly secret: boolean }
  /**
   * Runs `command` (the pull, and `compose config` in a section of its output: see
   * pullWhileRendering; the pull alone when the target's images are pinned already) and pins
   * each service's image to the digest pulled.
   */
  | { readonly kind: 'pin-images'; readonly command: ShellLine | SectionedLine<'config'>; readonly label: string }
  /** Runs `command` (points `current` at the new release) with the ledger's `deployed` event appended, timed when it runs, in one round trip. */
  | { readonly kind: 'switch-current'; readonly command: ShellLine }
  /**
   * Waits until the containers are healthy, or running and stable. With `start` (`up`), that
   * runs first, in the round trip of the first look. With `probe`, a `starting` container's own
   * HEALTHCHECK is run at once (see inspectContainers).
   */
  | { readonly kind: 'wait-containers'; readonly timeoutMs: number; readonly start?: Command | ShellLine; readonly project?: string; readonly probe?: boolean }
  | { readonly kind: 'gate'; readonly project?: string }
  /** `images: false` keeps every image (a swarm's nodes hold theirs, and its task history uses them). */
  | { readonly kind: 'prune'; readonly keep: number; readonly images: boolean }
  /**
   * `docker stack deploy` of the release, after reading which services the stack had (for
   * `docker service rollback` when no release of it was recorded). From this step on, what
   * runs may differ from the previous release.
   */
  | { readonly kind: 'stack-deploy'; readonly stack: StackFiles; readonly configDir?: string }
  /** Waits until every service of the stack converged on its new spec, then pins the images Swarm resolved to their digests. */
  | { readonly kind: 'wait-stack'; readonly stack: string; readonly services: readonly string[]; readonly timeoutMs: number }
  /** Runs `command` (switch-command) with the published addresses of `project` in its environment; with `nginx`, the built-in nginx switch instead. */
  | { readonly kind: 'switch-traffic'; readonly project: string; readonly color: Color; readonly directory: string; readonly command: string; readonly services: readonly string[]; readonly nginx?: BuiltinNginx }
  /** Marks when old and new containers start, and stop, running side by side. */
  | { readonly kind: 'overlap'; readonly edge: 'start' | 'end' }
  /** One step of a rolling deploy for one service of `project` (see src/strategy/rolling.ts). */
  | { readonly kind: 'roll'; readonly action: RollAction; readonly service: string; readonly project: ComposeProject; readonly timeoutMs: number; readonly replicas?: number };

export interface Phase {
  readonly name: string;
  readonly steps: readonly Step[];
  /** From this phase on, the running containers may differ from the previous release's. */
  readonly changesContainers?: boolean;
  /** Steps that undo this phase when a step fails before any `changesContainers` phase (run in reverse phase order, before recovery). */
  readonly undo?: readonly Step[];
  /** This phase points `current` at the new release: once it has run, the release is the deployed one. */
  readonly switchesCurrent?: boolean;
}

/** The release a deploy makes on one host, whatever it is deployed to. */
export interface ReleaseTarget {
  readonly layout: AppLayout;
  readonly releaseId: string;
  readonly previousId: string | undefined;
  /** The release folders on the host when the deploy started, when read (prune then skips a second read if nothing can be due). */
  readonly releaseDirs?: readonly string[];
  readonly startedAt: string;
}

/** A release of a Docker Swarm stack (`target: swarm`). */
export interface StackTarget extends ReleaseTarget {
  /** The stack's name on the swarm (the app's). */
  readonly stack: string;
  /** The `version:` every file of the release carries, when the host's `docker stack deploy` needs one (stackFileVersion). */
  readonly fileVersion: string | undefined;
  /** Logs in for the stack deploy, and for a recovery's. */
  readonly login?: SwarmLogin;
}

/** A release of a compose project on one host. */
export interface DeployTarget extends ReleaseTarget {
  /** The new release's compose project, without the pinned-images file (it exists only after the pull). */
  readonly project: ComposeProject;
  /** Blue-green: the colour that has traffic before this deploy. */
  readonly activeColor?: Color;
  /** Images already pinned elsewhere (a fleet's first host): written with the upload and pulled by digest. */
  readonly pinnedImages?: Readonly<Record<string, string>>;
}
