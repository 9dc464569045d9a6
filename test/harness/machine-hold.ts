import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * Integration files that must have this machine to themselves. zero-downtime.test.ts counts
 * every request a proxy drops during a deploy: beside another heavy file (load average 10-13
 * on the 2 cores), nginx reset new connections at its reload and HAProxy's checks lagged into
 * 503s, drops of the overloaded proxy and not of the deploy (docs/zero-downtime.md, "On an
 * overloaded host"). Such a file waits until no other integration file runs, and while it
 * runs, none starts; its copies in other passes (compose-v1) take turns.
 */
const ALONE = new Set(['zero-downtime.test.ts']);

const POLL_MS = 1000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live holders of one kind (`alone` or `shared`), from their `kind.pid` files; dead ones' files go. */
function holders(dir: string, kind: 'alone' | 'shared'): number[] {
  const live: number[] = [];
  for (const name of readdirSync(dir)) {
    const [prefix, pid] = name.split('.');
    if (prefix !== kind || pid === String(process.pid)) continue;
    if (alive(Number(pid))) live.push(Number(pid));
    else rmSync(join(dir, name), { force: true });
  }
  return live;
}

/** Takes the one turn to run alone (a file created only if absent, holding the pid); a dead holder's turn is freed. */
function takeTurn(turn: string): boolean {
  try {
    writeFileSync(turn, String(process.pid), { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number(readFileSync(turn, 'utf8'));
  // An empty file is a turn being written this instant (Number('') is 0): not dead.
  if (holder !== 0 && !alive(holder)) rmSync(turn, { force: true });
  return false;
}

const pause = () => new Promise((resolve) => setTimeout(resolve, POLL_MS));

/**
 * Takes the machine for the test file at `testPath`, alone or shared, through files in `dir`
 * (named for the jest worker's pid, so a worker that died holds nothing), and returns what
 * gives it back. A file that wants it alone announces that first, so no shared holder starts
 * after it, takes the one turn to run alone, then waits for the shared holders that began
 * before it to finish their file.
 */
export async function holdMachine(dir: string, testPath: string): Promise<() => void> {
  mkdirSync(dir, { recursive: true });
  const alone = ALONE.has(basename(testPath));
  const mine = join(dir, `${alone ? 'alone' : 'shared'}.${process.pid}`);
  if (alone) {
    const turn = join(dir, 'turn');
    writeFileSync(mine, testPath);
    while (!takeTurn(turn)) await pause();
    while (holders(dir, 'shared').length > 0) await pause();
    return () => {
      rmSync(turn, { force: true });
      rmSync(mine, { force: true });
    };
  }
  const release = () => rmSync(mine, { force: true });
  for (;;) {
    while (holders(dir, 'alone').length > 0) await pause();
    writeFileSync(mine, testPath);
    // Announced at the same moment as a file that wants the machine alone: that one goes first.
    if (holders(dir, 'alone').length === 0) return release;
    release();
  }
}
