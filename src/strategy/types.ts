/** How a deploy replaces the running release. */
export type StrategyKind = 'recreate' | 'blue-green' | 'rolling';

export const STRATEGIES: readonly string[] = ['recreate', 'rolling', 'blue-green'];

/** One motion of a rolling deploy for one service (see rolling.ts). */
export type RollAction = 'start' | 'wait' | 'gate' | 'retire' | 'remove-new' | 'settle';

/** The two compose projects a blue-green app alternates between. */
export type Color = 'blue' | 'green';

export interface StrategySettings {
  readonly kind: StrategyKind;
  /**
   * Services that carry traffic. blue-green: whose published ports go to the switch; empty:
   * every service that publishes a port. rolling: the services rolled one by one; empty:
   * every service with `ports` or `expose` in the compose files.
   */
  readonly services: readonly string[];
  /** Shell command run on the host to move traffic (blue-green); empty: the built-in nginx switch. */
  readonly switchCommand: string;
  /** Keep the previous colour's containers (stopped, not removed) after the switch. */
  readonly keepPreviousRunning: boolean;
  /** blue-green with the built-in nginx switch: the command that reloads nginx on the host. */
  readonly nginxReloadCommand?: string;
}

/** Fields a blue-green or rolling release adds to its release.json, so a rollback can do the same motion. */
export interface StrategyRecord {
  readonly strategy?: StrategyKind;
  readonly color?: Color;
  readonly switchCommand?: string;
  /** blue-green: as given (may be empty); rolling: the services that were rolled, resolved. */
  readonly services?: readonly string[];
  readonly keepPreviousRunning?: boolean;
  /** blue-green with the built-in nginx switch (switchCommand empty). */
  readonly nginxReloadCommand?: string;
}

/**
 * How long the proxy gets, after a custom switch-command, to finish requests it sent to the
 * old colour (the built-in nginx switch waits for nginx's old workers instead).
 */
export const DRAIN_SECONDS = 3;

/**
 * rolling: how long the proxy gets to see a change in the containers (its next DNS lookup or
 * Docker event): the new containers, once healthy and gated, before the first old one stops,
 * and each stopped old one before the next stops. HAProxy looking
 * the service name up every second and calling a server up after 2 checks 500 ms apart needs
 * up to about 2.5 s; at 2 s a request was answered 503 when the commands around it got fast.
 */
export const DISCOVERY_SECONDS = 3;
