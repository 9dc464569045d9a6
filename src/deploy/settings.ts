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

/** Everything action-deploy was asked to do, parsed and checked before connecting. */
export interface DeploySettings {
  readonly ssh: SshSettings;
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
  /** Several hosts (`host` lists more than one): every host, `ssh` being the first, and how many change at once. */
  readonly fleet?: { readonly hosts: readonly SshSettings[]; readonly parallel: number };
  /** How the new release replaces the running one; undefined means `recreate`. */
  readonly strategy?: StrategySettings;
  /** Where the release runs: `compose` (undefined) or a Docker Swarm stack (`swarm`). */
  readonly target?: 'compose' | 'swarm';
}
