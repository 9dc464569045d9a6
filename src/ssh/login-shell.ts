import { ShellLine, quote } from '../shell/quote.js';

/**
 * sshd runs every command it is given through the login's shell (`$SHELL -c '<command>'`), and
 * the shell is the user's choice: bash or dash mostly, sometimes zsh or fish. deploy-kit writes
 * its commands for POSIX sh, so each one is handed to `/bin/sh` whatever the login shell is,
 * quoted in the login shell's own syntax. Which one it is, the first command tells: a command
 * that every supported shell (and csh) reads alike.
 */
export type LoginShell = 'posix' | 'fish';

/** Shells whose quoting is POSIX's: single quotes hold everything but a single quote. */
const POSIX_SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'ksh', 'ksh93', 'mksh', 'pdksh', 'zsh', 'yash', 'busybox', 'rbash']);

/** The login shell family of a `$SHELL` path, or undefined when deploy-kit cannot send commands through it. */
export function loginShellOf(shellPath: string): LoginShell | undefined {
  const name = shellPath.split('/').pop() ?? '';
  if (name === 'fish') return 'fish';
  // An account without a shell entry gets /bin/sh from sshd.
  if (name === '' || POSIX_SHELLS.has(name)) return 'posix';
  return undefined;
}

/** fish's single quotes: a backslash escapes only a backslash or a single quote. */
function quoteForFish(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** The command sshd is given for `line`: `/bin/sh` runs it, in place of the login shell. */
export function forLoginShell(shell: LoginShell, line: ShellLine): string {
  return `exec /bin/sh -c ${shell === 'fish' ? quoteForFish(line.text) : quote(line.text)}`;
}

/**
 * Characters that a single-quoted word does not carry alike in sh, fish and csh: the quote
 * itself, the backslash (fish), `!` (csh's history) and the newline (csh).
 */
const NOT_NEUTRAL = /['\\!\n]/;

/**
 * The first command on a connection, before its login shell is known: `line` (POSIX text) run
 * by /bin/sh after the line that names the login shell. Every shell reads it alike because
 * its text has none of the characters above (checked here; the line is deploy-kit's own).
 */
export function firstCommand(line?: ShellLine): string {
  const script = `echo "login-shell=$SHELL"${line ? `; ${line.text}` : ''}`;
  if (NOT_NEUTRAL.test(script)) throw new Error(`The first command must not contain ' \\ ! or a newline: ${script}`);
  return `exec /bin/sh -c '${script}'`;
}

/** The login shell the first command's output names, and the rest of that output. */
export function readFirstCommand(stdout: string): { shellPath: string; rest: string } {
  const match = /^login-shell=(.*)\n?/.exec(stdout);
  return { shellPath: match?.[1]?.trim() ?? '', rest: match ? stdout.slice(match[0].length) : stdout };
}
