import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, breakStaleLock, parseBreakOutcome, parseLockAttempt, readLockOptions, touchLock } from '../../src/release/lock.js';

// Issue 17, item 6: the lock's shell commands, run by a real `sh` on a real folder. A race is
// made to happen where it would hurt, by a `stat` on PATH that lets "another run" act at that
// very moment.

const OWNER = { token: 'mine', run: 'https://github.com/acme/shop/actions/runs/1', actor: 'ann', since: 'now', operation: 'deploy of v2' };

describe('the deploy lock on the host', () => {
  let root: string;
  let lock: string;
  let bin: string;
  const sh = (text: string, path = process.env.PATH) => spawnSync('sh', ['-c', text], { encoding: 'utf8', env: { ...process.env, PATH: path } });
  /** A lock held by `token`, its heartbeat `age` seconds old. */
  const holdAs = (token: string | undefined, age: number) => {
    rmSync(lock, { recursive: true, force: true });
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner.json'), `${JSON.stringify({ ...(token ? { token } : {}), actor: token ?? 'bob', operation: 'deploy of v1' })}\n`);
    writeFileSync(join(lock, 'heartbeat'), '');
    const then = Date.now() / 1000 - age;
    utimesSync(join(lock, 'heartbeat'), then, then);
    utimesSync(lock, then, then);
  };
  const holder = () => (JSON.parse(readFileSync(join(lock, 'owner.json'), 'utf8')) as { token?: string }).token;
  /** A `stat` that answers as the real one, then runs `action` once (another run acting right then), or fails. */
  const stubStat = (script: string) => {
    writeFileSync(join(bin, 'stat'), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, 'stat'), 0o755);
    return `${bin}:${process.env.PATH}`;
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'deploy-kit-lock-'));
    lock = join(root, '.lock');
    bin = join(root, 'bin');
    mkdirSync(bin);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test('a stale lock is broken: taken over by rename, its token confirmed, removed', () => {
    holdAs('dead', 120);
    const out = sh(breakStaleLock(lock, 60, { token: 'dead' }, 'mine').text);
    expect(parseBreakOutcome(out.stdout)).toBe('broken');
    expect(existsSync(lock)).toBe(false);
    expect(execFileSync('ls', ['-a', root], { encoding: 'utf8' }).split('\n').filter((n) => n.startsWith('.lock'))).toEqual([]);
  });

  test('a lock another run took since it was found stale is put back, not removed', () => {
    // Found stale with the token 'dead'; by the time of the break, 'fresh' holds the lock (even one that looks old).
    holdAs('fresh', 120);
    const out = sh(breakStaleLock(lock, 60, { token: 'dead' }, 'mine').text);
    expect(parseBreakOutcome(out.stdout)).toBe('alive');
    expect(holder()).toBe('fresh');
  });

  test("another run that takes the lock right after the age was read keeps it", () => {
    holdAs('dead', 120);
    // The old command read the age, then moved whatever was there: here the lock changes hands in between.
    const path = stubStat(
      `out=$(PATH=${process.env.PATH} stat "$@") || exit $?\n` +
        `if [ ! -e ${root}/raced ]; then touch ${root}/raced; rm -rf ${lock}; mkdir ${lock} && echo '{"token":"fresh"}' > ${lock}/owner.json && touch ${lock}/heartbeat; fi\n` +
        'echo "$out"',
    );
    const out = sh(breakStaleLock(lock, 60, { token: 'dead' }, 'mine').text, path);
    expect(out.status).toBe(0);
    expect(existsSync(join(root, 'raced'))).toBe(true);
    // Whatever the breaker did, the lock the other run took is there, still its own.
    expect(holder()).toBe('fresh');
    expect(['broken', 'alive']).toContain(parseBreakOutcome(out.stdout));
  });

  test('a lock without a token (written by hand, or by an old version) is broken only while it still has none', () => {
    holdAs(undefined, 120);
    expect(parseBreakOutcome(sh(breakStaleLock(lock, 60, { actor: 'bob' }, 'mine').text).stdout)).toBe('broken');
    holdAs('someone', 120);
    expect(parseBreakOutcome(sh(breakStaleLock(lock, 60, { actor: 'bob' }, 'mine').text).stdout)).toBe('alive');
    expect(holder()).toBe('someone');
  });

  test('a lock that is no longer stale when taken over is put back', () => {
    holdAs('dead', 10);
    expect(parseBreakOutcome(sh(breakStaleLock(lock, 60, { token: 'dead' }, 'mine').text).stdout)).toBe('alive');
    expect(holder()).toBe('dead');
    rmSync(lock, { recursive: true });
    expect(parseBreakOutcome(sh(breakStaleLock(lock, 60, { token: 'dead' }, 'mine').text).stdout)).toBe('gone');
  });

  test('a lock that vanishes while its age is read: no arithmetic error, the attempt says so', () => {
    holdAs('other', 5);
    const out = sh(acquireLock(lock, OWNER).text, stubStat('exit 1'));
    expect([out.status, out.stderr]).toEqual([0, '']);
    expect(parseLockAttempt(out.stdout)).toEqual({ acquired: false, owner: { token: 'other', actor: 'other', operation: 'deploy of v1' }, idleSeconds: undefined });
    const held = parseLockAttempt(sh(acquireLock(lock, OWNER).text).stdout);
    expect(held).toMatchObject({ acquired: false, owner: { token: 'other' } });
    expect((held as { idleSeconds: number }).idleSeconds).toBeGreaterThanOrEqual(5);
  });

  test('the heartbeat touches only a lock that is still this run\'s', () => {
    holdAs('mine', 100);
    expect(sh(touchLock(lock, 'mine').text).status).toBe(0);
    holdAs('other', 100);
    expect(sh(touchLock(lock, 'mine').text).status).toBe(1);
    rmSync(lock, { recursive: true });
    expect(sh(touchLock(lock, 'mine').text).status).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });
});

test('lock-stale-after is at least three heartbeats', () => {
  const read = (value: string) => readLockOptions((name) => (name === 'lock-stale-after' ? value : ''));
  expect(read('').staleAfterMs).toBe(600_000);
  expect(read('45s').staleAfterMs).toBe(45_000);
  expect(() => read('10s')).toThrow(
    "Input 'lock-stale-after' must be at least 45s, three heartbeats of 15s: a lock whose holder is alive must never look stale; got '10s'.",
  );
});
