/**
 * The one place where values become shell text. Commands are built as argv arrays
 * (`Command`); they become a remote shell line only through `shellLine`, and shell
 * operators are only ever joined by the helpers below, never by string concatenation of
 * user values.
 */
export type Command = readonly string[];

/** A piece of shell text that is safe to run: built only by the functions in this module. */
export interface ShellLine {
  readonly text: string;
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for a POSIX shell. The result is always one word. */
export function quote(arg: string): string {
  if (arg.includes('\0')) throw new Error('A shell argument cannot contain a NUL byte');
  if (arg !== '' && SAFE_WORD.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function shellLine(command: Command | ShellLine): ShellLine {
  if (isShellLine(command)) return command;
  if (command.length === 0) throw new Error('An empty command cannot be run');
  return { text: command.map(quote).join(' ') };
}

function isShellLine(value: Command | ShellLine): value is ShellLine {
  return !Array.isArray(value) && typeof (value as ShellLine).text === 'string';
}

function join(parts: readonly (Command | ShellLine)[], operator: string): ShellLine {
  return { text: parts.map((part) => shellLine(part).text).join(` ${operator} `) };
}

/** `a && b && c` */
export const allOf = (...parts: (Command | ShellLine)[]): ShellLine => join(parts, '&&');
/** `a | b` */
export const pipe = (...parts: (Command | ShellLine)[]): ShellLine => join(parts, '|');

/** `cd DIR && cmd` */
export const inDirectory = (dir: string, part: Command | ShellLine): ShellLine => allOf(['cd', dir], part);

/** `NAME=value ... cmd`: environment for one command. Names must be shell identifiers. */
export function withEnv(env: Readonly<Record<string, string>>, part: Command | ShellLine): ShellLine {
  const assignments = Object.entries(env).map(([name, value]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Not an environment variable name: ${name}`);
    return `${name}=${quote(value)}`;
  });
  return { text: [...assignments, shellLine(part).text].join(' ') };
}

/** `sh -c 'script'`: runs a user's own command (pre-deploy, backup command) as given. */
export const userScript = (script: string): Command => ['sh', '-c', script];

/**
 * Shell text written in deploy-kit's own source: operators, `$HOME`, `$(date +%s)`.
 * Never pass it a value that came from an input; quote those with `quote`.
 */
export const constant = (text: string): ShellLine => ({ text });
