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
  /** The command as a user would type it, where `text` wraps it in plumbing (messages and failure reports show this). */
  readonly label?: string;
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

/**
 * Runs `part` with its output held in a file on the host until it ends, then prints it to
 * stderr. A command that writes to an SSH channel that has dropped dies of SIGPIPE at its next
 * write, and Compose writes progress as it goes: an `up` cut off so, half-way through
 * recreating, leaves the old container stopped and the new one not started. Commands that
 * change containers run this way, so that they finish whether or not deploy-kit is still
 * connected to see it.
 */
export function toCompletion(part: Command | ShellLine): ShellLine {
  const inner = shellLine(part);
  return { text: `(out=$(mktemp) || exit 1; (${inner.text}) >"$out" 2>&1; code=$?; cat "$out" >&2; rm -f "$out"; exit $code)`, label: inner.label ?? inner.text };
}

/** `sh -c 'script'`: runs a user's own command (pre-deploy, backup command) as given. */
export const userScript = (script: string): Command => ['sh', '-c', script];

/**
 * Shell text written in deploy-kit's own source: operators, `$HOME`, `$(date +%s)`.
 * Never pass it a value that came from an input; quote those with `quote`.
 */
export const constant = (text: string): ShellLine => ({ text });
