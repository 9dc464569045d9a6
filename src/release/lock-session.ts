import { randomUUID } from 'node:crypto';
import { OperationError } from '../errors.js';
import { formatDuration } from '../inputs/parse.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { describeTarget } from '../ssh/settings.js';
import { poll } from '../util/poll.js';
import { LockOwner, acquireLock, breakStaleLock, describeOwner, parseLockAttempt, releaseLock, touchLock } from './lock.js';

export interface LockOptions {
  readonly timeoutMs: number;
  readonly staleAfterMs: number;
  readonly breakStale: boolean;
}

const HEARTBEAT_MS = 15_000;
const RETRY_MS = 2_000;

export class LockHeldError extends OperationError {}

/** A lock this run took: released (always, whatever happened) by `release`. */
export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Takes an app's deploy lock on a host: waits up to `timeoutMs` for a holder to finish,
 * breaks a stale lock only when asked, and keeps the heartbeat fresh until released.
 */
export async function holdLock(host: RemoteHost, lockDir: string, holder: Omit<LockOwner, 'token'>, options: LockOptions, reporter: Reporter): Promise<HeldLock> {
  const owner: LockOwner = { ...holder, token: randomUUID() };
  await acquire(host, lockDir, owner, options, reporter);
  const heartbeat = setInterval(() => {
    host.run(touchLock(lockDir, owner.token), { allowFailure: true }).catch(() => undefined);
  }, HEARTBEAT_MS);
  return {
    async release() {
      clearInterval(heartbeat);
      await host.run(releaseLock(lockDir, owner.token), { allowFailure: true }).catch((error: Error) => {
        reporter.warning(`Could not release the deploy lock on ${describeTarget(host.target)}: ${error.message}`);
      });
    },
  };
}

/** Holds the deploy lock on a host while `work` runs, and always releases what it took. */
export async function withLock<T>(host: RemoteHost, lockDir: string, holder: Omit<LockOwner, 'token'>, options: LockOptions, reporter: Reporter, work: () => Promise<T>): Promise<T> {
  const lock = await holdLock(host, lockDir, holder, options, reporter);
  try {
    return await work();
  } finally {
    await lock.release();
  }
}

async function acquire(host: RemoteHost, lockDir: string, owner: LockOwner, options: LockOptions, reporter: Reporter): Promise<void> {
  const staleSeconds = Math.ceil(options.staleAfterMs / 1000);
  let reported = false;
  const outcome = await poll(
    async () => {
      let attempt = parseLockAttempt((await host.run(acquireLock(lockDir, owner))).stdout);
      if (!attempt.acquired && attempt.idleSeconds >= staleSeconds && options.breakStale) {
        const broke = (await host.run(breakStaleLock(lockDir, staleSeconds))).stdout.trim() === 'broken';
        if (broke) reporter.warning(`Broke a stale deploy lock held by ${describeOwner(attempt.owner)}, idle for ${attempt.idleSeconds}s.`);
        attempt = parseLockAttempt((await host.run(acquireLock(lockDir, owner))).stdout);
      }
      if (attempt.acquired) return { done: true, value: undefined };
      const holder = describeOwner(attempt.owner);
      if (attempt.idleSeconds >= staleSeconds && !options.breakStale) {
        throw new LockHeldError(
          `The deploy lock ${lockDir} on ${host.target.host} is stale: held by ${holder}, with no sign of life for ${attempt.idleSeconds}s ` +
            `(more than 'lock-stale-after'). If that run is gone, run again with 'break-stale-lock: true'.`,
        );
      }
      if (!reported) {
        reporter.info(`The deploy lock is held by ${holder}; waiting up to ${formatDuration(options.timeoutMs)} ('lock-timeout').`);
        reported = true;
      }
      return { done: false, reason: holder };
    },
    { timeoutMs: options.timeoutMs, intervalMs: RETRY_MS },
  );
  if (!outcome.done) {
    throw new LockHeldError(
      `Another deploy holds the lock on ${host.target.host}: ${outcome.reason}. ` +
        (options.timeoutMs > 0 ? `Waited ${formatDuration(options.timeoutMs)}. ` : '') +
        `Wait for it to finish, or raise 'lock-timeout' to queue behind it.`,
    );
  }
}
