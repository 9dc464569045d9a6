import { execFileSync } from 'node:child_process';
import { firstCommand, forLoginShell, loginShellOf, readFirstCommand } from '../../src/ssh/login-shell.js';
import { constant, quote } from '../../src/shell/quote.js';

describe('the login shell a command goes through', () => {
  test.each([
    ['/bin/bash', 'posix'],
    ['/usr/bin/zsh', 'posix'],
    ['/bin/sh', 'posix'],
    ['/usr/bin/dash', 'posix'],
    ['', 'posix'],
    ['/usr/bin/fish', 'fish'],
    ['/bin/tcsh', undefined],
    ['/bin/csh', undefined],
    ['/usr/bin/nu', undefined],
    ['/usr/sbin/nologin', undefined],
  ])('%j is %s', (path, family) => {
    expect(loginShellOf(path)).toBe(family);
  });

  test('each line is run by /bin/sh, quoted for the login shell', () => {
    expect(forLoginShell('posix', constant("echo 'a b' | wc -c"))).toBe(`exec /bin/sh -c 'echo '\\''a b'\\'' | wc -c'`);
    expect(forLoginShell('fish', constant("printf '%s\\n' x"))).toBe(`exec /bin/sh -c 'printf \\'%s\\\\n\\' x'`);
  });

  // The login shells themselves: what /bin/sh receives is exactly the line, for lines that carry
  // every character deploy-kit's commands and users' values can hold.
  const lines = [
    `printf '%s\\n' ${quote('it\'s "quoted" \\ back\\\\slash $HOME `id` !bang')}`,
    `printf '%s|' ${quote('a\nb')} ${quote('tab\there')} ${quote('ends with \\')}`,
    `echo "$((1 + 2))"; x=$(echo nested); echo "$x" && false || echo fallback`,
  ];
  test.each([
    ['bash', 'posix'],
    ['zsh', 'posix'],
    ['dash', 'posix'],
    ['fish', 'fish'],
  ] as const)('through %s, /bin/sh runs the line exactly', (shell, family) => {
    for (const text of lines) {
      const expected = execFileSync('/bin/sh', ['-c', text], { encoding: 'utf8' });
      expect(execFileSync(shell, ['-c', forLoginShell(family, { text })], { encoding: 'utf8' })).toBe(expected);
    }
  });

  test.each(['bash', 'zsh', 'dash', 'fish'])('the first command reads alike in %s, and names it', (shell) => {
    const output = execFileSync(shell, ['-c', firstCommand(constant('echo "home=$HOME"; if true; then echo ok; fi'))], {
      encoding: 'utf8',
      env: { ...process.env, SHELL: `/usr/bin/${shell}`, HOME: '/home/x' },
    });
    expect(readFirstCommand(output)).toEqual({ shellPath: `/usr/bin/${shell}`, rest: 'home=/home/x\nok\n' });
  });

  test('the first command refuses text a shell could read differently', () => {
    for (const bad of ["echo 'x'", 'echo \\x', 'echo hi!', 'echo a\necho b']) expect(() => firstCommand(constant(bad))).toThrow(/must not contain/);
  });
});
