import type { FailureReport } from '../failure/report.js';
import type { GateResult, HealthCheck } from '../health/types.js';
import { Reporter } from '../report.js';
import { CommandObserver } from '../ssh/connection.js';

export type DeployStatus = 'deployed' | 'failed' | 'rolled-back' | 'planned';

export interface DeployResult {
  readonly releaseId: string;
  readonly previousReleaseId: string | undefined;
  readonly status: DeployStatus;
  readonly images: Readonly<Record<string, string>>;
  readonly durationMs: number;
  /** One line saying what went wrong; undefined when deployed. */
  readonly error: string | undefined;
  readonly gate: GateResult | undefined;
  readonly plan: readonly string[];
  /** `recreate`, `rolling`, `blue-green` (or `swarm` for the swarm target). */
  readonly strategy?: string;
  /** How long the previous and the new release ran side by side (blue-green). */
  readonly overlapMs?: number;
  /** Failed before any running container changed: the host still runs what it ran. */
  readonly untouched?: boolean;
  /** Why it failed, as read before anything was removed or restored (not when the connection or the lock was lost). */
  readonly failure?: FailureReport;
}

export interface DeployDependencies {
  readonly reporter: Reporter;
  /** Runs the health gate, through `host` when the settings ask for the tunnel; at `address` (`host:port`) instead of the URLs' own when given. */
  readonly checkHealth?: HealthCheck;
  readonly observe?: CommandObserver;
  /** Told the new release's pinned images as soon as they are known (a fleet's first host shares them with the rest). */
  readonly onImagesPinned?: (images: Readonly<Record<string, string>>) => void;
}

/** What every host of a fleet deploy shares: one release id and, after the first host pinned them, one set of image digests. */
export interface SharedRelease {
  readonly releaseId: string;
  /** service -> `image@sha256:...`; the host pulls exactly these instead of resolving tags itself. */
  readonly images?: Readonly<Record<string, string>>;
}
