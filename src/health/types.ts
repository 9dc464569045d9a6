import type { RemoteHost } from '../ssh/connection.js';

/** The health gate's settings and results, shared by action-healthgate, -deploy and -rollback. */
export interface GateSettings {
  readonly urls: readonly string[];
  /** Passing HTTP statuses, e.g. from `200-399`, `2xx`, `200,204`. */
  readonly expectStatus: string;
  readonly expectBody: RegExp | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly successes: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxLatencyMs: number | undefined;
  readonly insecureTls: boolean;
  /** Reach the URLs through an SSH tunnel to the host (the host's loopback). */
  readonly viaHost: boolean;
  /** A compose project on the host whose containers must all be running, and healthy where they have a HEALTHCHECK, in every round. */
  readonly containers?: string | undefined;
}

/** The outcome of a check other than a URL in one round (the containers of a compose project). */
export interface GateCheck {
  readonly name: string;
  readonly ok: boolean;
  /** What was seen when it passed (`web_1 healthy`), the failure in words when not. */
  readonly detail: string;
}

export interface GateRound {
  readonly n: number;
  readonly ok: boolean;
  /** One entry per URL: `200 in 12ms` or the failure in words. */
  readonly results: readonly { url: string; ok: boolean; status?: number; ms?: number; error?: string; body?: string }[];
  /** When the round started, in milliseconds since the gate started. */
  readonly atMs?: number;
  /** The other checks of the round (containers), when there are any. */
  readonly checks?: readonly GateCheck[];
}

/** Checks the health of what runs on `host` (through `address`, when given, instead of the gate's URLs). */
export type HealthCheck = (host: RemoteHost, address?: string) => Promise<GateResult>;

export interface GateResult {
  readonly healthy: boolean;
  readonly attempts: number;
  /** Consecutive passing rounds at the end. */
  readonly successes: number;
  readonly p50Ms: number | undefined;
  readonly p95Ms: number | undefined;
  /** The last failure in words; '' when healthy. */
  readonly reason: string;
  readonly elapsedMs: number;
  readonly rounds: readonly GateRound[];
}
