import { createHash } from 'node:crypto';
import { invalid } from '../inputs/parse.js';

/** App names are Compose project names and folder names: at most 63 characters (names.ts in inputs/). */
export const MAX_APP_NAME = 63;

/**
 * The app name of pull request `pr`'s preview: `<app>-pr-<pr>`. When that is longer than 63
 * characters, the app part is cut and a 6-character hash of the whole app name is put before
 * `-pr-<pr>`, so two long names that share a beginning still get different previews:
 * `a-very-long-app…-3f9a1c-pr-12`. The suffix `-pr-<number>` is always whole.
 */
export function previewName(app: string, pr: number): string {
  const suffix = `-pr-${pr}`;
  const plain = `${app}${suffix}`;
  if (plain.length <= MAX_APP_NAME) return plain;
  const hash = createHash('sha256').update(app).digest('hex').slice(0, 6);
  const room = MAX_APP_NAME - suffix.length - hash.length - 1;
  return `${app.slice(0, room).replace(/[-_]+$/, '')}-${hash}${suffix}`;
}

export function parsePrNumber(raw: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw invalid('pr-number', 'must be the pull request number (1 or more); on a pull_request event it is read from the event', raw);
  return Number(raw);
}

/**
 * `preview-domain`: the domain under which each preview gets `pr-<n>.<domain>`, optionally
 * with `:port` (a proxy that does not listen on 80/443).
 */
export function parsePreviewDomain(raw: string): string {
  const domain = raw.trim().toLowerCase();
  const label = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
  if (!new RegExp(`^${label}(\\.${label})+(:[1-9][0-9]{0,4})?$`).test(domain) || domain.length > 200) {
    throw invalid('preview-domain', "must be a domain like 'preview.example.com' (optionally with ':port'), under which each preview answers as pr-<number>.<domain>", raw);
  }
  return domain;
}

/** The host name a preview answers at, and its URL. */
export function previewHost(domain: string, pr: number): string {
  return `pr-${pr}.${domain}`;
}

export function previewUrl(scheme: 'https' | 'http', domain: string, pr: number): string {
  return `${scheme}://${previewHost(domain, pr)}`;
}

/** The PostgreSQL database of a preview: the preview's name with `_` for `-` (folded to 63 bytes by previewName already). */
export function previewDatabase(name: string): string {
  return name.replace(/-/g, '_');
}
