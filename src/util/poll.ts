/**
 * The one place deploy-kit waits and retries. Time comes from an injectable clock so that
 * planners stay pure and tests of the loop itself need no real waiting.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

export type Attempt<T> = { done: true; value: T } | { done: false; reason: string };

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly clock?: Clock;
}

export type PollOutcome<T> = { done: true; value: T; attempts: number } | { done: false; reason: string; attempts: number };

/** Calls `attempt` every `intervalMs` until it is done or `timeoutMs` has passed (at least once). */
export async function poll<T>(attempt: (n: number) => Promise<Attempt<T>>, options: PollOptions): Promise<PollOutcome<T>> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const result = await attempt(attempts);
    if (result.done) return { done: true, value: result.value, attempts };
    const wait = Math.min(options.intervalMs, deadline - clock.now());
    if (wait <= 0) return { done: false, reason: result.reason, attempts };
    await clock.sleep(wait);
  }
}

/** Retries `fn` with exponential backoff while `retryable(error)` says so, at most `tries` times. */
export async function retry<T>(
  fn: () => Promise<T>,
  options: { tries: number; firstDelayMs: number; retryable: (error: unknown) => boolean; delayFor?: (error: unknown) => number | undefined; clock?: Clock },
): Promise<T> {
  const clock = options.clock ?? systemClock;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= options.tries || !options.retryable(error)) throw error;
      await clock.sleep(options.delayFor?.(error) ?? options.firstDelayMs * 2 ** (attempt - 1));
    }
  }
}
