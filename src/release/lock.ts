import { InputSource, formatDuration, invalid, parseBoolean, parseDuration } from '../inputs/parse.js';
import { ShellLine, constant, quote } from '../shell/quote.js';

/**
 * The deploy lock: a directory created with `mkdir` (atomic on every filesystem) holding
 * `owner.json` (who, when, which run) and a `heartbeat` file the holder touches while it
 * works. Ages are measured with the host's clock only, so runner clock skew cannot make a
 * live lock look stale.
 */
export interface LockOwner {
  /** Random per run: how a holder recognises its own lock (run URLs repeat, e.g. `local`). */
  readonly token: string;
  readonly run: string;
  readonly actor: string;
  readonly since: string;
  readonly operation: string;
}

/** How often a holder touches its heartbeat. */
export const HEARTBEAT_MS = 15_000;

/**
 * The shortest `lock-stale-after`: three heartbeats. A holder that is alive touches its
 * heartbeat every 15 s, so its lock never looks stale unless three in a row were missed.
 */
export const MIN_STALE_AFTER_MS = 3 * HEARTBEAT_MS;

export interface LockOptions {
  readonly timeoutMs: number;
  readonly staleAfterMs: number;
  readonly breakStale: boolean;
}

/** `lock-timeout`, `lock-stale-after` (at least three heartbeats) and `break-stale-lock`, as every locking action reads them. */
export function readLockOptions(input: InputSource): LockOptions {
  const staleText = input('lock-stale-after');
  const staleAfterMs = parseDuration('lock-stale-after', staleText, '10m');
  if (staleAfterMs < MIN_STALE_AFTER_MS) {
    throw invalid(
      'lock-stale-after',
      `must be at least ${formatDuration(MIN_STALE_AFTER_MS)}, three heartbeats of ${formatDuration(HEARTBEAT_MS)}: a lock whose holder is alive must never look stale`,
      staleText,
    );
  }
  return {
    timeoutMs: parseDuration('lock-timeout', input('lock-timeout'), '0'),
    staleAfterMs,
    breakStale: parseBoolean('break-stale-lock', input('break-stale-lock')),
  };
}

export type LockAttempt =
  /** `read`: what `andRead` printed. */
  | { readonly acquired: true; readonly read: string }
  /** Held; `idleSeconds` undefined when the lock went away while it was looked at (try again at once). */
  | { readonly acquired: false; readonly owner: Partial<LockOwner> | undefined; readonly idleSeconds: number | undefined };

/**
 * Shell text that sets `idle` to the seconds since the lock in `dir` (shell text, quoted) last
 * showed life, by the host's clock: its heartbeat's age, else its folder's; empty when neither
 * exists any more (never an arithmetic error that would abort the command).
 */
const idleOf = (dir: string): string =>
  `hb=$(stat -c %Y ${dir}/heartbeat 2>/dev/null || stat -c %Y ${dir} 2>/dev/null); if [ -n "$hb" ]; then idle=$(( $(date +%s) - hb )); else idle=; fi`;

/**
 * Takes the lock, or says who holds it. A lock it could not finish writing (a full disk) is
 * removed again, not left ownerless. Once taken, `andRead` runs in the same round trip: its
 * output follows the `acquired` line.
 */
export function acquireLock(lockDir: string, owner: LockOwner, andRead?: ShellLine): ShellLine {
  const dir = quote(lockDir);
  return constant(
    `mkdir -p "$(dirname ${dir})" && if mkdir ${dir} 2>/dev/null; then ` +
      `if printf '%s\\n' ${quote(JSON.stringify(owner))} > ${dir}/owner.json && touch ${dir}/heartbeat; then echo acquired;${andRead ? ` ${andRead.text};` : ''} ` +
      // dash's printf reports a full disk as an `I/O error`: the free space says which it was.
      `else rm -rf ${dir}; full=; [ "$(df -Pk "$(dirname ${dir})" 2>/dev/null | awk 'NR == 2 { print $4 }')" = 0 ] && full=': no space left on device'; ` +
      `echo ${quote(`cannot write the deploy lock ${lockDir}`)}"$full" >&2; exit 1; fi; ` +
      `else echo held; ${idleOf(dir)}; echo "idle=\${idle:-gone}"; ` +
      `cat ${dir}/owner.json 2>/dev/null; fi`,
  );
}

export function parseLockAttempt(stdout: string): LockAttempt {
  const [first, idleLine, ...rest] = stdout.trim().split('\n');
  if (first === 'acquired') return { acquired: true, read: stdout.slice(stdout.indexOf('acquired') + 'acquired\n'.length) };
  const idle = /^idle=(-?\d+)$/.exec(idleLine ?? '')?.[1];
  let owner: Partial<LockOwner> | undefined;
  try {
    owner = JSON.parse(rest.join('\n')) as Partial<LockOwner>;
  } catch {
    owner = undefined;
  }
  return { acquired: false, owner, idleSeconds: idle === undefined ? undefined : Number(idle) };
}

/**
 * Keeps the lock's heartbeat fresh; exits 1 when the lock is no longer this run's (broken, or
 * taken by another run). A second look a second later lets a breaker that moved the lock
 * aside for a moment (see breakStaleLock) put it back.
 */
export function touchLock(lockDir: string, token: string): ShellLine {
  const dir = quote(lockDir);
  return constant(
    `for look in 1 2; do grep -qF ${quote(JSON.stringify(token))} ${dir}/owner.json 2>/dev/null && touch ${dir}/heartbeat 2>/dev/null && exit 0; ` +
      `[ "$look" = 2 ] || sleep 1; done; exit 1`,
  );
}

/** Removes the lock only if this run still holds it. */
export function releaseLock(lockDir: string, token: string): ShellLine {
  const dir = quote(lockDir);
  return constant(`if grep -qF ${quote(JSON.stringify(token))} ${dir}/owner.json 2>/dev/null; then rm -rf ${dir}; fi`);
}

export type BreakOutcome = 'broken' | 'alive' | 'gone';

/**
 * Breaks the stale lock of `staleOwner` (the holder an attempt found idle too long): takes
 * the lock folder over by renaming it to a name of the breaker's own (one rename: of several
 * breakers, one wins), then confirms on what it took that it is that holder's lock (its
 * token; a lock without one must still have none) and still stale. Only then is it removed
 * (`broken`); anything else is put back (`alive`): a lock another run took in between is
 * never removed. `gone`: there was no lock to take.
 */
export function breakStaleLock(lockDir: string, staleSeconds: number, staleOwner: Partial<LockOwner> | undefined, breaker: string): ShellLine {
  const dir = quote(lockDir);
  const taken = quote(`${lockDir}.broken.${breaker}`);
  const sameOwner =
    typeof staleOwner?.token === 'string'
      ? `grep -qF ${quote(JSON.stringify(staleOwner.token))} ${taken}/owner.json 2>/dev/null`
      : `! grep -qF '"token"' ${taken}/owner.json 2>/dev/null`;
  return constant(
    `if mv -T ${dir} ${taken} 2>/dev/null; then ${idleOf(taken)}; ` +
      `if [ -n "$idle" ] && [ "$idle" -ge ${staleSeconds} ] && ${sameOwner}; then rm -rf ${taken}; echo broken; ` +
      `else mv -T ${taken} ${dir} 2>/dev/null; echo alive; fi; ` +
      `else echo gone; fi`,
  );
}

export function parseBreakOutcome(stdout: string): BreakOutcome {
  const word = stdout.trim();
  return word === 'broken' || word === 'gone' ? word : 'alive';
}

export function describeOwner(owner: Partial<LockOwner> | undefined): string {
  if (!owner) return 'an unknown holder';
  const who = owner.actor ? `${owner.actor}'s ${owner.operation ?? 'deploy'}` : (owner.operation ?? 'a deploy');
  return `${who} since ${owner.since ?? '?'} (${owner.run ?? 'no run URL'})`;
}
