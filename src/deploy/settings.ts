import type { GateSettings } from '../health/types.js';
import type { SshSettings } from '../ssh/settings.js';
import type { RunContext } from '../run-context.js';
import type { StrategySettings } from '../strategy/types.js';

export interface ComposeFileInput {
  /** File name as stored in the release folder. */
  readonly name: string;
  readonly content: string;
}

export interface RegistryLogin {
  readonly server: string;
  readonly username: string;
  readonly password: string;
}

/** What a release is and how it is handled, whatever it is deployed to. */
export interface ReleaseSettings {
  readonly app: string;
  readonly version: string;
  readonly composeFiles: readonly ComposeFileInput[];
  /** The `version:` key of the first compose file, if it has one. */
  readonly composeVersion: string | undefined;
  readonly env: Readonly<Record<string, string>>;
  /** As given: may start with `~/`, resolved against the host's home. */
  readonly deployPath: string;
  readonly registry: RegistryLogin | undefined;
  readonly preDeploy: string;
  readonly postDeploy: string;
  readonly waitTimeoutMs: number;
  readonly keepReleases: number;
  readonly lock: { readonly timeoutMs: number; readonly staleAfterMs: number; readonly breakStale: boolean };
  readonly gate: GateSettings | undefined;
  readonly rollbackOnFailure: boolean;
  /** `failure-log-lines`: how many of each failed container's last log lines a failure report shows (0: none). */
  readonly failureLogLines: number;
  readonly dryRun: boolean;
  readonly run: RunContext;
}

/** A compose project on one host (`target: compose`, one `host`). */
export interface ComposeDeploySettings extends ReleaseSettings {
  readonly target: 'compose';
  readonly ssh: SshSettings;
  /** How the new release replaces the running one; undefined means `recreate`. */
  readonly strategy?: StrategySettings;
}

/** One compose release on several hosts (`host` lists more than one), `parallel` hosts at a time. */
export interface FleetDeploySettings extends ReleaseSettings {
  readonly target: 'fleet';
  readonly hosts: readonly SshSettings[];
  readonly parallel: number;
  readonly strategy?: StrategySettings;
}

/** A Docker Swarm stack through its manager node (`target: swarm`): Swarm's update_config replaces tasks, so there is no strategy. */
export interface SwarmDeploySettings extends ReleaseSettings {
  readonly target: 'swarm';
  readonly ssh: SshSettings;
}

/** Everything action-deploy was asked to do, parsed and checked before connecting: one of three shapes, so that no other can be built. */
export type DeploySettings = ComposeDeploySettings | FleetDeploySettings | SwarmDeploySettings;

/** One host's part of a fleet deploy. */
export function onHost(fleet: FleetDeploySettings, ssh: SshSettings): ComposeDeploySettings {
  const { hosts, parallel, ...release } = fleet;
  void hosts;
  void parallel;
  return { ...release, target: 'compose', ssh };
}
