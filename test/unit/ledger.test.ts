import { LedgerEvent, nextReleaseId, parseLedger, previousGood, releasesToPrune, summarize } from '../../src/release/ledger.js';
import { parseLockAttempt } from '../../src/release/lock.js';

const at = '2026-11-25T10:00:00Z';
const ev = (release: string, event: LedgerEvent['event'], version = `v${release}`): LedgerEvent => ({ release, event, at, version });

describe('ledger', () => {
  const events = [ev('1', 'started'), ev('1', 'deployed'), ev('2', 'started'), ev('2', 'deployed'), ev('3', 'started'), ev('3', 'failed'), ev('4', 'started'), ev('4', 'deployed')];

  test('a release takes the status of its last event', () => {
    expect(summarize(events).map((r) => `${r.id}:${r.status}`)).toEqual(['1:deployed', '2:deployed', '3:failed', '4:deployed']);
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
    expect(parseLockAttempt('acquired\n')).toEqual({ acquired: true });
    expect(parseLockAttempt('held\nidle=3\n')).toEqual({ acquired: false, idleSeconds: 3, owner: undefined });
  });
});
