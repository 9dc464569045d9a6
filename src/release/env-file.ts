import { parse } from 'dotenv';
import { ConfigurationError } from '../errors.js';

/**
 * The release's `.env`: `VERSION` plus the user's `env` input, written so that Compose v2
 * (compose-go's dotenv parser) and Compose v1.29 (python-dotenv, which also expands
 * `${NAME}` in every value, quoted or not) both read back exactly what was given:
 *
 * - plain words bare;
 * - otherwise single-quoted: both parsers take the text literally up to the closing quote
 *   (newlines included), provided it holds no `'`, no CR (Python reads files with universal
 *   newlines, so a CR would come back as LF) and no backslash that python-dotenv would
 *   unescape (`\\`, `\'`, or a trailing `\`);
 * - otherwise double-quoted with only `\\`, `\"`, `\n` and `\r` escapes, which both parsers
 *   decode alike; this form cannot hold `$` (compose-go interpolates `$` in double quotes,
 *   python-dotenv keeps `\$` and `$$` as they are), nor a backslash before `"` or at the end
 *   (both parsers end the value at the first `"` not preceded by a backslash).
 *
 * What neither form carries is refused with a ConfigurationError naming the key and the
 * rule: `${...}` (python-dotenv would expand it), `$` together with `'`, CR or such a
 * backslash, and NUL.
 *
 * Before dotenv reads the input, every line must be `KEY=value`, a `#` comment or empty
 * (checkEnvLines): dotenv itself skips any other line without a word, and reads `KEY: value`
 * as `KEY=value`. Errors name the line by its number and never show it: it may hold a secret.
 */
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvInput(text: string): Record<string, string> {
  checkEnvLines(text);
  const values = parse(text);
  if ('VERSION' in values) throw new ConfigurationError("Input 'env' must not set VERSION: it comes from the 'version' input.");
  for (const [key, value] of Object.entries(values)) encodeEnvValue(key, value);
  return values;
}

/** `KEY=value`, with an optional `export ` and spaces around `=`; group 1 is the text after `=`. */
const ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=(.*)$/;
const EMPTY_OR_COMMENT = /^\s*(?:#.*)?$/;
/** A `#` that dotenv takes for the start of a comment inside an unquoted value: one not after a blank. */
const CUTTING_HASH = /(?:^|[^\s])#/;

/**
 * Refuses any line of the `env` input that is not `KEY=value`, a comment or empty, and an
 * unquoted value that dotenv would cut at a `#`. A value that opens a quote may go on over
 * the following lines up to where dotenv closes it (closingLine); those lines are the value's.
 */
function checkEnvLines(text: string): void {
  const lines = text.split(/\r\n?|\n/); // dotenv reads CRLF and a lone CR as line ends too
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    if (EMPTY_OR_COMMENT.test(line)) continue;
    const value = ASSIGNMENT.exec(line)?.[1];
    const number = index + 1;
    if (value === undefined) {
      throw new ConfigurationError(
        `Input 'env', line ${number} is not KEY=value: each line must be KEY=value (KEY: letters, digits and _, not starting with a digit; 'export ' in front is allowed), a # comment, or empty. The line is not shown: it may hold a secret.`,
      );
    }
    const start = value.length - value.trimStart().length;
    const last = /^['"`]/.test(value.trimStart()) ? closingLine(lines, index, line.length - value.length + start) : undefined;
    if (last !== undefined) {
      index = last;
      continue;
    }
    if (CUTTING_HASH.test(value)) {
      throw new ConfigurationError(
        `Input 'env', line ${number}: dotenv reads the '#' in this unquoted value as the start of a comment and drops the rest. Put the value in single quotes (KEY='...'), or a space before the '#' when it starts a comment.`,
      );
    }
  }
}

/**
 * Where dotenv ends a quoted value that opens at `lines[first][open]`: the index of the line
 * holding the closing quote, or undefined when dotenv reads the line as an unquoted value.
 * As dotenv's pattern does, the value runs up to the first quote of its kind without a
 * backslash before it, or back to an earlier escaped one, and the closing quote may only be
 * followed by blanks and a comment.
 */
function closingLine(lines: readonly string[], first: number, open: number): number | undefined {
  const quote = lines[first]![open]!;
  let found: number | undefined;
  for (let index = first; index < lines.length; index += 1) {
    const line = lines[index]!;
    for (let at = index === first ? open + 1 : 0; at < line.length; at += 1) {
      if (line[at] !== quote) continue;
      if (EMPTY_OR_COMMENT.test(line.slice(at + 1))) found = index;
      if (line[at - 1] !== '\\') return found;
    }
  }
  return found;
}

const BARE = /^[A-Za-z0-9_@%+=:,./-]*$/;
/** What python-dotenv's interpolation would replace: `${NAME}` or `${NAME:-default}`. */
const PY_DOTENV_EXPANSION = /\$\{[^}]*\}/;
/** Backslashes python-dotenv unescapes inside single quotes; a trailing one would escape the closing quote. */
const SINGLE_QUOTE_UNSAFE = /['\r]|\\[\\']|\\$/;

/** One value as .env text that Compose v1 and v2 both read back exactly; throws when there is none. */
export function encodeEnvValue(key: string, value: string): string {
  const refuse = (rule: string) =>
    new ConfigurationError(`Input 'env': the value of ${key} ${rule}, which Compose v1 and v2 cannot both read back exactly from a .env file.`);
  if (value.includes('\0')) throw refuse('contains a NUL byte');
  if (BARE.test(value)) return value;
  if (PY_DOTENV_EXPANSION.test(value)) throw refuse("contains '${...}' (Compose v1 would expand it)");
  if (!SINGLE_QUOTE_UNSAFE.test(value)) return `'${value}'`;
  if (value.includes('$')) throw refuse("contains '$' together with a single quote, a carriage return or a backslash before \\ or '");
  if (/\\("|$)/.test(value)) throw refuse('contains a backslash before a double quote or at its end, together with a single quote or a carriage return');
  const escaped = value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n').replaceAll('\r', '\\r');
  return `"${escaped}"`;
}

export function formatEnvFile(values: Readonly<Record<string, string>>): string {
  const lines = Object.entries(values).map(([key, value]) => {
    if (!KEY.test(key)) throw new ConfigurationError(`'${key}' is not a valid environment variable name.`);
    return `${key}=${encodeEnvValue(key, value)}`;
  });
  return `${lines.join('\n')}\n`;
}
