import { parse } from 'dotenv';
import { ConfigurationError } from '../errors.js';
import { invalid } from '../inputs/parse.js';

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
 */
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvInput(text: string): Record<string, string> {
  const values = parse(text);
  // A key is named by its line only: text that is no key may be a line of a secret value.
  const badKey = (line: number) => invalid('env', `must have keys of letters, digits and _, not starting with a digit; the key on line ${line} is not one`);
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    const key = /^\s*(?:export\s+)?([^=#\s][^=]*?)\s*=/.exec(line)?.[1];
    if (key !== undefined && !KEY.test(key)) throw badKey(index + 1);
  }
  for (const key of Object.keys(values)) {
    if (!KEY.test(key)) throw badKey(lines.findIndex((line) => line.includes(key)) + 1);
  }
  if ('VERSION' in values) throw new ConfigurationError("Input 'env' must not set VERSION: it comes from the 'version' input.");
  for (const [key, value] of Object.entries(values)) encodeEnvValue(key, value);
  return values;
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
