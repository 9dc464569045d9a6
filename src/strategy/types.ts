/** How a deploy replaces the running release. */
export type StrategyKind = 'recreate' | 'blue-green';

export const STRATEGIES: readonly string[] = ['recreate', 'rolling', 'blue-green'];

/** The two compose projects a blue-green app alternates between. */
export type Color = 'blue' | 'green';

export interface StrategySettings {
  readonly kind: StrategyKind;
  /** Services whose published ports carry traffic; empty: every service that publishes a port. */
  readonly services: readonly string[];
  /** Shell command run on the host to move traffic (blue-green). */
  readonly switchCommand: string;
  /** Keep the previous colour's containers (stopped, not removed) after the switch. */
  readonly keepPreviousRunning: boolean;
}

/** Fields a blue-green release adds to its release.json, so a rollback can do the same motion. */
export interface StrategyRecord {
  readonly strategy?: StrategyKind;
  readonly color?: Color;
  readonly switchCommand?: string;
  readonly services?: readonly string[];
  readonly keepPreviousRunning?: boolean;
}

/** How long the proxy gets, after the switch, to finish requests it sent to the old colour. */
export const DRAIN_SECONDS = 3;
