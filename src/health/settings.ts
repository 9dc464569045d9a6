import { InputSource, invalid, parseBoolean, parseDuration, parseInteger, parseList } from '../inputs/parse.js';
import { maskableParts, urlSecrets } from '../inputs/secrets.js';
import type { Masker } from '../ssh/settings.js';
import { parseStatusSpec } from './status.js';
import type { GateSettings } from './types.js';

/**
 * Reads the health inputs. action-healthgate names them plainly (`url`, `successes`...);
 * action-deploy and action-rollback prefix them with `health-`, and offer only the common
 * ones (the rest take their defaults). Returns undefined when no URL is given.
 */
export function readGateSettings(input: InputSource, mask: Masker, prefix: '' | 'health-'): GateSettings | undefined {
  const name = (base: string) => (prefix === '' ? base : `health-${base}`);
  const urlInput = prefix === '' ? 'url' : 'health-url';
  const urls = parseList(input(urlInput), /\n/);
  if (urls.length === 0) return undefined;
  for (const url of urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalid(urlInput, 'must hold http:// or https:// URLs, one per line', url);
    }
    // Masked before any check can fail: the password, a token as user name, query values (?token=...).
    for (const secret of urlSecrets(parsed)) mask(secret);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(urlInput, 'must hold http:// or https:// URLs', url);
  }
  const plain = (base: string) => (prefix === '' ? input(base) : '');
  const expectStatus = input(name('expect-status')) || '200-399';
  parseStatusSpec(name('expect-status'), expectStatus);
  const body = plain('expect-body');
  let expectBody: RegExp | undefined;
  if (body !== '') {
    try {
      expectBody = new RegExp(body);
    } catch (error) {
      throw invalid('expect-body', `must be a regular expression (${(error as Error).message})`, body);
    }
  }
  const headers: Record<string, string> = {};
  const headerLines = plain('headers').split('\n');
  for (const value of maskableParts(headerLines.map((line) => /:\s*(.*)$/.exec(line.trim())?.[1] ?? line.trim()))) mask(value);
  for (const [index, raw] of headerLines.entries()) {
    const line = raw.trim();
    if (line === '') continue;
    const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+):\s*(.*)$/.exec(line);
    if (!match) throw invalid('headers', `must hold 'Name: value' lines; line ${index + 1} is not one`);
    // What Node's HTTP client accepts in a header value (it throws on anything else, mid-gate).
    if (/[^\t\x20-\x7e\x80-\xff]/.test(match[2]!)) throw invalid('headers', `values must be one line of printable ASCII or Latin-1 characters; the value on line ${index + 1} is not`);
    headers[match[1]!] = match[2]!;
  }
  const maxLatency = plain('max-latency');
  return {
    urls,
    expectStatus,
    expectBody,
    headers,
    successes: parseInteger(name('successes'), input(name('successes')), { min: 1, max: 100 }, 3),
    intervalMs: parseDuration(name('interval'), input(name('interval')), '2s'),
    timeoutMs: parseDuration(name('timeout'), input(name('timeout')), '60s'),
    requestTimeoutMs: parseDuration('request-timeout', plain('request-timeout'), '5s'),
    maxLatencyMs: maxLatency === '' ? undefined : parseInteger('max-latency', maxLatency, { min: 1, max: 600_000 }),
    insecureTls: parseBoolean('insecure-tls', plain('insecure-tls')),
    viaHost: prefix === '' ? false : parseBoolean(name('via-host'), input(name('via-host'))),
  };
}
