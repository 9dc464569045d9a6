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

export type LockAttempt =
  | { readonly acquired: true }
  | { readonly acquired: false; readonly owner: Partial<LockOwner> | undefined; readonly idleSeconds: number };

/** Takes the lock, or says who holds it. A lock it could not finish writing (a full disk) is removed again, not left ownerless. */
export function acquireLock(lockDir: string, owner: LockOwner): ShellLine {
  const dir = quote(lockDir);
  return constant(
    `mkdir -p "$(dirname ${dir})" && if mkdir ${dir} 2>/dev/null; then ` +
      `if printf '%s\\n' ${quote(JSON.stringify(owner))} > ${dir}/owner.json && touch ${dir}/heartbeat; then echo acquired; ` +
      `else rm -rf ${dir}; echo ${quote(`cannot write the deploy lock ${lockDir}`)} >&2; exit 1; fi; ` +
      `else echo held; echo "idle=$(( $(date +%s) - $(stat -c %Y ${dir}/heartbeat 2>/dev/null || stat -c %Y ${dir}) ))"; ` +
      `cat ${dir}/owner.json 2>/dev/null; fi`,
  );
}

export function parseLockAttempt(stdout: string): LockAttempt {
  const [first, idleLine, ...rest] = stdout.trim().split('\n');
  if (first === 'acquired') return { acquired: true };
  const idleSeconds = Number(/^idle=(-?\d+)$/.exec(idleLine ?? '')?.[1] ?? 0);
  let owner: Partial<LockOwner> | undefined;
  try {
    owner = JSON.parse(rest.join('\n')) as Partial<LockOwner>;
  } catch {
    owner = undefined;
  }
  return { acquired: false, owner, idleSeconds };
}

/** Keeps the lock's heartbeat fresh; fails when the lock is no longer this run's. */
export function touchLock(lockDir: string, token: string): ShellLine {
  const dir = quote(lockDir);
  return constant(`grep -qF ${quote(JSON.stringify(token))} ${dir}/owner.json && touch ${dir}/heartbeat`);
}

/** Removes the lock only if this run still holds it. */
export function releaseLock(lockDir: string, token: string): ShellLine {
  const dir = quote(lockDir);
  return constant(`if grep -qF ${quote(JSON.stringify(token))} ${dir}/owner.json 2>/dev/null; then rm -rf ${dir}; fi`);
}

/**
 * Breaks a lock whose heartbeat is older than `staleSeconds`, checked and moved aside in
 * one step on the host so that a lock that came alive again is left alone.
 */
export function breakStaleLock(lockDir: string, staleSeconds: number): ShellLine {
  const dir = quote(lockDir);
  return constant(
    `idle=$(( $(date +%s) - $(stat -c %Y ${dir}/heartbeat 2>/dev/null || stat -c %Y ${dir}) )); ` +
      `if [ "$idle" -ge ${staleSeconds} ] && mv ${dir} ${dir}.broken.$$; then rm -rf ${dir}.broken.$$; echo broken; else echo alive; fi`,
  );
}

export function describeOwner(owner: Partial<LockOwner> | undefined): string {
  if (!owner) return 'an unknown holder';
  const who = owner.actor ? `${owner.actor}'s ${owner.operation ?? 'deploy'}` : (owner.operation ?? 'a deploy');
  return `${who} since ${owner.since ?? '?'} (${owner.run ?? 'no run URL'})`;
}
