import { allOf, inDirectory, pipe, quote, shellLine, userScript, withEnv } from '../../src/shell/quote.js';

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
