import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShellLine, allOf, constant, inDirectory, pipe, quote, shellLine, toCompletion, userScript, withEnv } from '../../src/shell/quote.js';

describe('quote', () => {
  test.each([
    ['plain', 'plain'],
    ['a/b-c_d.e:f@g', 'a/b-c_d.e:f@g'],
    ['', "''"],
    ['two words', "'two words'"],
    ["it's", "'it'\\''s'"],
    ['$(id)', "'$(id)'"],
    ['`id`', "'`id`'"],
    ['a;b&&c|d', "'a;b&&c|d'"],
    ['line\nbreak', "'line\nbreak'"],
    ['-rf', '-rf'],
  ])('%j -> %s', (value, quoted) => {
    expect(quote(value)).toBe(quoted);
  });

  test('refuses NUL, which no shell word can carry', () => {
    expect(() => quote('a\0b')).toThrow(/NUL/);
  });

  test('every hostile value survives a real shell as one argument', async () => {
    const { execFileSync } = await import('node:child_process');
    for (const value of ["'", '"', '$(touch /tmp/x)', '`x`', '${IFS}', 'a\nb', '\r', '\\', '!', '*', '~', '-n']) {
      expect(execFileSync('sh', ['-c', `printf '%s' ${quote(value)}`], { encoding: 'utf8' })).toBe(value);
    }
  });
});

describe('composing commands', () => {
  test('argv arrays become quoted lines; operators only come from helpers', () => {
    expect(shellLine(['echo', 'a b']).text).toBe("echo 'a b'");
    expect(allOf(['mkdir', '-p', '/x y'], ['touch', '/x y/z']).text).toBe("mkdir -p '/x y' && touch '/x y/z'");
    expect(pipe(['cat', 'f'], ['gzip']).text).toBe('cat f | gzip');
    expect(inDirectory('/srv/app', ['ls']).text).toBe('cd /srv/app && ls');
    expect(withEnv({ A: 'x y' }, ['env']).text).toBe("A='x y' env");
    expect(shellLine(userScript('echo $HOME; ls')).text).toBe("sh -c 'echo $HOME; ls'");
  });

  test('environment names must be identifiers', () => {
    expect(() => withEnv({ 'A;B': 'x' }, ['env'])).toThrow(/Not an environment variable name/);
  });
});

describe('toCompletion', () => {
  /** Runs `line` in sh, closes its output pipes at once (as a dropped SSH channel does), and says whether it reached its last step. */
  async function finishesWithoutReader(line: (done: string) => ShellLine): Promise<boolean> {
    const dir = mkdtempSync(join(tmpdir(), 'to-completion-'));
    try {
      const done = join(dir, 'done');
      const child = spawn('sh', ['-c', line(done).text], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      child.stderr.destroy();
      await new Promise((resolve) => child.on('exit', resolve));
      return existsSync(done);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Progress written after the reader has gone, then the work's last step, like `up`.
  const work = (done: string) => constant(`sleep 0.3; echo 'Container web-1 Recreated' >&2; echo started; touch ${quote(done)}`);

  test('a command whose output pipe closes runs to its end (without it, SIGPIPE ends it at its next write)', async () => {
    expect(await finishesWithoutReader(work)).toBe(false);
    expect(await finishesWithoutReader((done) => toCompletion(work(done)))).toBe(true);
  });

  test('its output reaches stderr once it ends, with its exit code; messages show the command itself', async () => {
    const { spawnSync } = await import('node:child_process');
    const line = toCompletion(constant('echo out; echo err >&2; exit 3'));
    const run = spawnSync('sh', ['-c', line.text], { encoding: 'utf8' });
    expect([run.status, run.stdout, run.stderr]).toEqual([3, '', 'out\nerr\n']);
    expect(toCompletion(['docker', 'compose', 'up', '--detach']).label).toBe('docker compose up --detach');
  });
});
