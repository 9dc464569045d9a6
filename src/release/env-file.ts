import { parse } from 'dotenv';
import { ConfigurationError } from '../errors.js';

/**
 * The release's `.env`: `VERSION` plus the user's `env` input. Values are written so that
 * both Compose v2 and v1 read back exactly what was given: plain words bare, anything else
 * single-quoted (no interpolation, no escapes), which both parsers take literally.
 */
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseEnvInput(text: string): Record<string, string> {
  const values = parse(text);
  for (const line of text.split(/\r?\n/)) {
    const key = /^\s*(?:export\s+)?([^=#\s][^=]*?)\s*=/.exec(line)?.[1];
    if (key !== undefined && !KEY.test(key)) {
      throw new ConfigurationError(`Input 'env' has the key '${key.slice(0, 40)}': keys must be letters, digits and _, not starting with a digit.`);
    }
  }
  if ('VERSION' in values) throw new ConfigurationError("Input 'env' must not set VERSION: it comes from the 'version' input.");
  return values;
}

const BARE = /^[A-Za-z0-9_@%+=:,./-]*$/;

export function formatEnvFile(values: Readonly<Record<string, string>>): string {
  const lines = Object.entries(values).map(([key, value]) => {
    if (!KEY.test(key)) throw new ConfigurationError(`'${key}' is not a valid environment variable name.`);
    if (BARE.test(value)) return `${key}=${value}`;
    if (value.includes("'")) {
      throw new ConfigurationError(`The value of ${key} in 'env' contains a single quote together with other special characters, which .env files cannot carry exactly.`);
    }
    return `${key}='${value}'`;
  });
  return `${lines.join('\n')}\n`;
}
