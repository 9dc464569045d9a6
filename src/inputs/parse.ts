import { ConfigurationError } from '../errors.js';
import { shownValue } from './secrets.js';

/**
 * Pure parsers for action inputs. Each takes the input's name so that its error names
 * it and says what was expected: `Input 'port' must be ...; got '70000'.`
 */

/** Reads one input by name, already trimmed; '' when not given. */
export type InputSource = (name: string) => string;

/**
 * The error for an input that is not what was expected, showing what was given unless the
 * input holds a secret (src/inputs/secrets.ts): those errors describe the shape only, and a
 * URL input is shown with its credentials and query values hidden.
 */
export function invalid(name: string, expected: string, got?: string): ConfigurationError {
  const safe = got === undefined ? undefined : shownValue(name, got);
  const shown = safe === undefined ? '' : `; got '${printable(safe)}'`;
  return new ConfigurationError(`Input '${name}' ${expected}${shown}.`);
}

/** Shows a value in an error without letting it break the line. */
export function printable(value: string, max = 80): string {
  const shown = JSON.stringify(value).slice(1, -1).replace(/[\u0000-\u001f]/g, '?');
  return shown.length > max ? `${shown.slice(0, max)}...` : shown;
}

export function required(name: string, raw: string): string {
  if (raw === '') throw new ConfigurationError(`Input '${name}' is required.`);
  return raw;
}

export function parseBoolean(name: string, raw: string, fallback = false): boolean {
  if (raw === '') return fallback;
  if (/^(true|yes|on|1)$/i.test(raw)) return true;
  if (/^(false|no|off|0)$/i.test(raw)) return false;
  throw invalid(name, 'must be true or false', raw);
}

export function parseInteger(name: string, raw: string, range: { min: number; max: number }, fallback?: number): number {
  if (raw === '' && fallback !== undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw invalid(name, `must be a whole number from ${range.min} to ${range.max}`, raw);
  }
  return value;
}

/** `failure-log-lines` (action-deploy, -rollback, -healthgate): each failed container's last log lines in a failure report; 0 shows none. */
export const parseFailureLogLines = (input: InputSource): number => parseInteger('failure-log-lines', input('failure-log-lines'), { min: 0, max: 10_000 }, 100);

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `2m`, `1m30s`, `500ms`, `1h`, or a bare number of seconds. Returns milliseconds. */
export function parseDuration(name: string, raw: string, fallback?: string): number {
  const text = raw === '' && fallback !== undefined ? fallback : raw;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw invalid(name, "must be a duration like '30s', '2m', '1m30s' or '500ms'", raw);
  }
  return Math.round(parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * UNIT_MS[unit!]!, 0));
}

/** One value per line or comma separated; blanks dropped. */
export function parseList(raw: string, separators: RegExp = /[\n,]/): string[] {
  return raw
    .split(separators)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function oneOf<T extends string>(name: string, raw: string, allowed: readonly T[], fallback: T): T {
  if (raw === '') return fallback;
  if ((allowed as readonly string[]).includes(raw)) return raw as T;
  throw invalid(name, `must be one of ${allowed.join(', ')}`, raw);
}

/** Formats milliseconds for people: 1500 -> '1.5s', 120000 -> '2m'. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${Number((ms / 1000).toFixed(1))}s`;
  return `${ms / 60_000}m`;
}
