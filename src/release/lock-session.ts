import { randomUUID } from 'node:crypto';
import { OperationError } from '../errors.js';
import { formatDuration } from '../inputs/parse.js';
import { Reporter } from '../report.js';
import { RemoteHost } from '../ssh/connection.js';
import { describeTarget } from '../ssh/settings.js';
import type { ShellLine } from '../shell/quote.js';
import { poll } from '../util/poll.js';
import {
  HEARTBEAT_MS,
  LockOptions,
  LockOwner,
  acquireLock,
  breakStaleLock,
  describeOwner,
  parseBreakOutcome,
  parseLockAttempt,
  releaseLock,
  touchLock,
} from './lock.js';

export type { LockOptions } from './lock.js';

const RETRY_MS = 2_000;

export class LockHeldError extends OperationError {}

/** This run's lock was broken or taken by another run: it changes nothing more on the host. */
export class LockLostError extends OperationError {}

/** A lock this run took: released (always, whatever happened) by `release`. */
export interface HeldLock {
  /** What the `andRead` command given to holdLock printed, read in the round trip that took the lock. */
  readonly read: string;
  release(): Promise<void>;
}

/**
 * The heartbeat of a held lock. Each beat touches the lock only while it is still this run's
 * (its token in owner.json); a beat that finds it is not marks the lock lost, and from then
 * on every command on the host is refused (RemoteHost.guard), so the run stops before its
 * next step that would change the host, and says so.
 */
class Heartbeat {
  private confirmedAt = performance.now();
  private lost: string | undefined;
  private beating: Promise<void> | undefined;

  constructor(
    private readonly host: RemoteHost,
    private readonly lockDir: string,
    private readonly token: string,
    private readonly reporter: Reporter,
  ) {}

  /** One beat at a time. A beat that cannot reach the host decides nothing: the next command reports the connection. */
  beat(): Promise<void> {
    this.beating ??= this.touch().finally(() => {
      this.beating = undefined;
    });
    return this.beating;
  }

  private async touch(): Promise<void> {
    if (this.lost) return;
    let code: number;
    try {
      ({ code } = await this.host.run(touchLock(this.lockDir, this.token), { allowFailure: true, unguarded: true }));
    } catch {
      return;
    }
    if (code === 0) {
      this.confirmedAt = performance.now();
    } else {
      this.lost = "it is no longer this run's: another run broke it as stale, or holds it now";
      this.reporter.warning(`Lost the deploy lock ${this.lockDir} on ${describeTarget(this.host.target)} (${this.lost}); this run stops before its next step on the host.`);
    }
  }

  /**
   * Refuses `what` once the lock is lost. When the last beat that confirmed the lock is older
   * than two heartbeats (a runner that was paused, say), the lock is confirmed first: with
   * `lock-stale-after` at least three heartbeats, a lock confirmed that recently cannot have
   * been broken as stale.
   */
  async check(what: string): Promise<void> {
    if (!this.lost && performance.now() - this.confirmedAt > 2 * HEARTBEAT_MS) await this.beat();
    if (this.lost) {
      throw new LockLostError(
        `Lost the deploy lock ${this.lockDir} on ${this.host.target.host}: ${this.lost}. Stopped before '${abbreviate(what)}', so this run changed nothing more on the host; check the host before the next deploy.`,
      );
    }
  }
}

/** A long command line shown by its start and its end, where a command's verb usually is. */
const abbreviate = (text: string): string => (text.length > 120 ? `${text.slice(0, 60)} ... ${text.slice(-50)}` : text);

/**
 * Takes an app's deploy lock on a host: waits up to `timeoutMs` for a holder to finish,
 * breaks a stale lock only when asked, and keeps the heartbeat fresh until released. While
 * the lock is held, every command on `host` first checks that it is still this run's.
 */
export async function holdLock(host: RemoteHost, lockDir: string, holder: Omit<LockOwner, 'token'>, options: LockOptions, reporter: Reporter, andRead?: ShellLine): Promise<HeldLock> {
  const owner: LockOwner = { ...holder, token: randomUUID() };
  const read = await acquire(host, lockDir, owner, options, reporter, andRead);
  const heartbeat = new Heartbeat(host, lockDir, owner.token, reporter);
  const timer = setInterval(() => void heartbeat.beat(), HEARTBEAT_MS);
  const unguard = host.guard((what) => heartbeat.check(what));
  return {
    read,
    async release() {
      clearInterval(timer);
      unguard();
      await host.run(releaseLock(lockDir, owner.token), { allowFailure: true, unguarded: true }).catch((error: Error) => {
        reporter.warning(`Could not release the deploy lock on ${describeTarget(host.target)}: ${error.message}`);
      });
    },
  };
}

/**
 * Holds the deploy lock on a host while `work` runs, and always releases what it took. `work`
 * gets what `andRead` printed, read in the round trip that took the lock.
 */
export async function withLock<T>(host: RemoteHost, lockDir: string, holder: Omit<LockOwner, 'token'>, options: LockOptions, reporter: Reporter, work: (read: string) => Promise<T>, andRead?: ShellLine): Promise<T> {
  const lock = await holdLock(host, lockDir, holder, options, reporter, andRead);
  try {
    return await work(lock.read);
  } finally {
    await lock.release();
  }
}

/** Takes the lock (see holdLock); returns what `andRead` printed. */
async function acquire(host: RemoteHost, lockDir: string, owner: LockOwner, options: LockOptions, reporter: Reporter, andRead: ShellLine | undefined): Promise<string> {
  const staleSeconds = Math.ceil(options.staleAfterMs / 1000);
  let reported = false;
  const attemptOnce = async () => parseLockAttempt((await host.run(acquireLock(lockDir, owner, andRead))).stdout);
  const outcome = await poll(
    async () => {
      let attempt = await attemptOnce();
      // The lock went away while it was looked at: its holder just released it.
      if (!attempt.acquired && attempt.idleSeconds === undefined) attempt = await attemptOnce();
      if (!attempt.acquired && attempt.idleSeconds !== undefined && attempt.idleSeconds >= staleSeconds && options.breakStale) {
        const broke = parseBreakOutcome((await host.run(breakStaleLock(lockDir, staleSeconds, attempt.owner, owner.token))).stdout);
        if (broke === 'broken') reporter.warning(`Broke a stale deploy lock held by ${describeOwner(attempt.owner)}, idle for ${attempt.idleSeconds}s.`);
        attempt = await attemptOnce();
      }
      if (attempt.acquired) return { done: true, value: attempt.read };
      const holder = describeOwner(attempt.owner);
      const idle = attempt.idleSeconds ?? 0;
      if (idle >= staleSeconds && !options.breakStale) {
        throw new LockHeldError(
          `The deploy lock ${lockDir} on ${host.target.host} is stale: held by ${holder}, with no sign of life for ${idle}s ` +
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
  if (outcome.done) return outcome.value;
  throw new LockHeldError(
    `Another deploy holds the lock on ${host.target.host}: ${outcome.reason}. ` +
      (options.timeoutMs > 0 ? `Waited ${formatDuration(options.timeoutMs)}. ` : '') +
      `Wait for it to finish, or raise 'lock-timeout' to queue behind it.`,
  );
}
