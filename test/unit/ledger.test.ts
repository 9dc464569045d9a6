import { LedgerEvent, nextReleaseId, parseLedger, previousGood, releasesToPrune, summarize } from '../../src/release/ledger.js';
import { parseLockAttempt } from '../../src/release/lock.js';

const at = '2026-11-25T10:00:00Z';
const ev = (release: string, event: LedgerEvent['event'], version = `v${release}`): LedgerEvent => ({ release, event, at, version });

describe('ledger', () => {
  const events = [ev('1', 'started'), ev('1', 'deployed'), ev('2', 'started'), ev('2', 'deployed'), ev('3', 'started'), ev('3', 'failed'), ev('4', 'started'), ev('4', 'deployed')];

  test('a release takes the status of its last event', () => {
    expect(summarize(events).map((r) => `${r.id}:${r.status}`)).toEqual(['1:deployed', '2:deployed', '3:failed', '4:deployed']);
  });

  test('a release left at started is interrupted once another release follows it, and is never a rollback target', () => {
    const history = [ev('1', 'started'), ev('1', 'deployed'), ev('2', 'started'), ev('3', 'started'), ev('3', 'deployed')];
    const s = summarize(history);
    expect(s.map((r) => `${r.id}:${r.status}`)).toEqual(['1:deployed', '2:interrupted', '3:deployed']);
    expect(previousGood(s, '3')?.id).toBe('1');
    // The newest release with only `started` may still be running: that is `deploying`.
    expect(summarize(history.slice(0, 3)).map((r) => r.status)).toEqual(['deployed', 'deploying']);
    // A rollback after the interrupted deploy also ends it.
    expect(summarize([...history.slice(0, 3), ev('1', 'rolled-back'), ev('1', 'restored')]).find((r) => r.id === '2')?.status).toBe('interrupted');
    // It counts like a failed release for pruning: it goes first.
    expect(releasesToPrune(['1', '2', '3'], 2, ['3'], s)).toEqual(['2']);
  });

  test('skips a torn last line instead of failing', () => {
    const text = `${events.map((e) => JSON.stringify(e)).join('\n')}\n{"release":"5","ev`;
    expect(parseLedger(text)).toHaveLength(events.length);
  });

  test('previous good release skips failed and rolled-back ones', () => {
    const s = summarize([...events, ev('2', 'rolled-back')]);
    expect(previousGood(s, '4')?.id).toBe('1');
    expect(previousGood(summarize(events), '4')?.id).toBe('2');
    expect(previousGood(summarize(events), '1')).toBeUndefined();
  });

  test('release ids count up from the highest seen in the ledger or on disk', () => {
    expect(nextReleaseId(summarize(events), ['9'])).toBe('10');
    expect(nextReleaseId([], [])).toBe('1');
  });

  test('pruning keeps the newest N, the active release and the protected ones', () => {
    expect(releasesToPrune(['1', '2', '3', '4', '5', '6'], 3, ['6', '2'])).toEqual(['1', '3']);
    expect(releasesToPrune(['1', '2'], 5, [])).toEqual([]);
    expect(releasesToPrune(['10', '9', '8'], 1, [])).toEqual(['8', '9']);
  });

  test('failed releases do not push out the good ones a rollback needs', () => {
    const history = summarize([ev('1', 'deployed'), ev('2', 'deployed'), ev('3', 'failed'), ev('4', 'failed'), ev('5', 'failed')]);
    // keep 2: the two good releases stay; the failed ones go.
    expect(releasesToPrune(['1', '2', '3', '4', '5'], 2, ['2'], history)).toEqual(['3', '4', '5']);
  });
});

describe('lock', () => {
  test('reads who holds the lock and for how long it has been idle', () => {
    const attempt = parseLockAttempt('held\nidle=42\n{"token":"t1","run":"https://x/runs/1","actor":"ann","since":"t","operation":"deploy of v2"}\n');
    expect(attempt).toEqual({ acquired: false, idleSeconds: 42, owner: { token: 't1', run: 'https://x/runs/1', actor: 'ann', since: 't', operation: 'deploy of v2' } });
    expect(parseLockAttempt('acquired\n')).toEqual({ acquired: true, read: '' });
    // What was read in the same round trip once the lock was taken.
    expect(parseLockAttempt('acquired\nreleases/7\n')).toEqual({ acquired: true, read: 'releases/7\n' });
    expect(parseLockAttempt('held\nidle=3\n')).toEqual({ acquired: false, idleSeconds: 3, owner: undefined });
  });
});
